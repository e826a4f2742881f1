"""Models (core layer): loading a base model, token counts, examples as token ids with a loss mask, and
scoring sequences; shared by the trainer, the comparison and the audit's token counts."""
