"""Built-in scalar functions, one module per family, each function defined once (see catalog.py)."""
