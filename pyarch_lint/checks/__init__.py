"""The rule families. Rules are registered in `registry.py`, the one place that lists them."""
