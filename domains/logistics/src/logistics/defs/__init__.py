"""The logistics location's definitions: one folder per product (in Python, or in YAML with a defs.yaml),
and the source systems it reads."""
