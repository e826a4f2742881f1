"""All rendering lives here: terminal tables now; HTML and Markdown read the same JSON results."""
