"""dagmesh: a data mesh on Dagster. Domains declare products; the platform builds, audits and governs them."""

from dagmesh.audit import AuditResult, CheckOutcome
from dagmesh.components import DataProductComponent, declared_products
from dagmesh.contract import Contract, read_contract
from dagmesh.domain import domain_definitions, products_in
from dagmesh.errors import (
    ContractShapeError,
    ContractViolation,
    DagmeshError,
    MissingUpstreamError,
    ProductDefinitionError,
)
from dagmesh.frames import query
from dagmesh.io_manager import MeshIOManager
from dagmesh.product import SLO, DataProduct, ProductRef, data_product
from dagmesh.settings import MeshSettings
from dagmesh.sources import TpchSource
from dagmesh.volume import Volume
from dagmesh.warehouse import MeshWarehouse, WarehouseLockedError

__all__ = [
    "SLO",
    "AuditResult",
    "CheckOutcome",
    "Contract",
    "ContractShapeError",
    "ContractViolation",
    "DagmeshError",
    "DataProduct",
    "DataProductComponent",
    "MeshIOManager",
    "MeshSettings",
    "MeshWarehouse",
    "MissingUpstreamError",
    "ProductDefinitionError",
    "ProductRef",
    "TpchSource",
    "Volume",
    "WarehouseLockedError",
    "data_product",
    "declared_products",
    "domain_definitions",
    "products_in",
    "query",
    "read_contract",
]
