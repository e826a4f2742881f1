"""The application: the `harness` command, the pipeline, the demo and the files every command writes. Only
this layer (and the Python API in harness/__init__.py) imports reports/."""
