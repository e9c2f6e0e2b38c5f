"""The logistics code location."""

from dagmesh import TpchSource, domain_definitions
from logistics import products

defs = domain_definitions("logistics", [products], resources={"tpch": TpchSource.from_settings()})
