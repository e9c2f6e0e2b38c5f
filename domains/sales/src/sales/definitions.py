"""The sales code location."""

from dagmesh import domain_definitions
from sales import products

defs = domain_definitions("sales", [products])
