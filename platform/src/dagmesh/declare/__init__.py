"""declare layer."""
