"""Products the logistics team declares in YAML (one folder per product, each with a defs.yaml)."""
