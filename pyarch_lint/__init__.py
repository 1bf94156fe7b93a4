"""pyarch-lint: LibCST rules first, an architectural critique by Claude for the files they flag."""

__version__ = "0.1.0"
