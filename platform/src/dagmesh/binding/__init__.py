"""binding layer."""
