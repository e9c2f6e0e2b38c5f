"""The marketing domain: who our customers are and how to reach the right ones."""
