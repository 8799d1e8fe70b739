"""The binder, one module per clause: sqlglot trees -> plain relational plans."""
