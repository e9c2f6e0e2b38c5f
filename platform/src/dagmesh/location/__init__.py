"""location layer."""
