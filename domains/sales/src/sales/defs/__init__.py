"""The sales location's definitions: one folder per product, and the source systems it reads."""
