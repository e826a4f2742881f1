"""The harness's version, in a module of its own so that every layer can stamp its results with it
without importing the package's API (which sits at the top layer)."""

__version__ = "0.1.0"
