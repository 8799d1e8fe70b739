"""sqlstream: Flink SQL semantics (event time, watermarks, windows, changelogs) in Python over Arrow."""
__version__ = "0.1.0"
