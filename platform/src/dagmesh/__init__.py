"""dagmesh: a data mesh on Dagster. Domains declare products; the platform builds, audits and governs them."""

from dagmesh.binding.io_manager import MeshIOManager
from dagmesh.core.errors import (
    ContractShapeError,
    ContractViolation,
    DagmeshError,
    MissingUpstreamError,
    ProductDefinitionError,
)
from dagmesh.declare.access import Access
from dagmesh.declare.contract import Contract, read_contract
from dagmesh.declare.interface import ColumnInterface, ProductInterface
from dagmesh.declare.product import (
    SLO,
    DataProduct,
    ProductKind,
    ProductRef,
    Relation,
    data_product,
)
from dagmesh.declare.volume import Volume
from dagmesh.location.components import DataProductComponent
from dagmesh.location.domain import domain_definitions, mesh_location, products_in
from dagmesh.location.project import load_domain
from dagmesh.storage.audit import AuditResult, CheckOutcome
from dagmesh.storage.frames import query
from dagmesh.storage.settings import MeshSettings
from dagmesh.storage.sources import TpchSource
from dagmesh.storage.warehouse import MeshWarehouse, WarehouseLockedError

__all__ = [
    "SLO",
    "Access",
    "AuditResult",
    "CheckOutcome",
    "ColumnInterface",
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
    "ProductInterface",
    "ProductKind",
    "ProductRef",
    "Relation",
    "TpchSource",
    "Volume",
    "WarehouseLockedError",
    "data_product",
    "domain_definitions",
    "load_domain",
    "mesh_location",
    "products_in",
    "query",
    "read_contract",
]
