"""The logistics (supply) domain: suppliers, parts, and how goods move to customers."""
