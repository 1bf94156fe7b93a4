"""The rule families. Each rule declares itself on its class; `registry.py` indexes them."""
