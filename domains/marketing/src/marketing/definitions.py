"""The marketing code location."""

from dagmesh import domain_definitions
from marketing import products

defs = domain_definitions("marketing", [products])
