"""The governance location's definitions: one folder per product, and the governance sensors."""
