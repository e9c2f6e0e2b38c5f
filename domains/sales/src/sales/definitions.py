"""The sales code location."""

from dagmesh import TpchSource, domain_definitions
from sales import products

defs = domain_definitions("sales", [products], resources={"tpch": TpchSource.from_settings()})
