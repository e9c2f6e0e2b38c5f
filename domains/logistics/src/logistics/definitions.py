"""The logistics code location: products in Python (products.py) and in YAML (defs/)."""

from dagmesh import declared_products, domain_definitions
from logistics import defs as declared
from logistics import products

defs = domain_definitions("logistics", [products, *declared_products(declared)])
