"""Reading data (core layer): file formats, row formats and shapes as registered readers, row validation,
the data spec every stage shares, and eval rows written in another shape."""
