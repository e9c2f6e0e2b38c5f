"""The marketing location's definitions: one folder per product, each built from sales' public products."""
