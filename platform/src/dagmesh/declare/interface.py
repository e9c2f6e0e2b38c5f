"""A product's interface: the one typed record of what it promises, written once onto its Dagster asset.

Everything that reasons about products without running them reads this record back: the governance
policies (at load, in lint, in the governance location), the catalog, the IO manager's access check and
the registry. It travels as asset metadata, so it is visible in the Dagster UI and survives the process
boundary between code locations; the columns travel as Dagster's own `dagster/column_schema`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import dagster as dg

INTERFACE_METADATA = "dagmesh/interface"
COLUMN_SCHEMA_METADATA = "dagster/column_schema"
TABLE_NAME_METADATA = "dagster/table_name"
# Set on the `AssetIn` of every product input: who is reading, for the IO manager's access check.
CONSUMER_METADATA = "dagmesh/consumer"
# On an input: the producer's major the consumer pinned (`sales/orders@1`), which the read serves.
PINNED_MAJOR_METADATA = "dagmesh/pinned_major"
CONSUMER_OWNERS_METADATA = "dagmesh/consumer_owners"


def metadata_value(metadata: Mapping[str, object] | None, name: str, default: object = None):
    """The plain value of metadata entry `name` (unwrapping `MetadataValue`), or `default`."""
    raw = (metadata or {}).get(name, default)
    return getattr(raw, "value", raw)


@dataclass(frozen=True)
class ColumnInterface:
    """One published column: its storage type and what holds for it after masking."""

    name: str
    type: str
    description: str = ""
    nullable: bool = True
    unique: bool = False
    checks: tuple[str, ...] = ()
    pii: bool | None = None  # None: not declared (see `dagmesh.governance.pii`)
    mask: str | None = None

    @classmethod
    def from_table_column(cls, column: dg.TableColumn) -> ColumnInterface:
        tags = column.tags or {}
        constraints = column.constraints
        return cls(
            name=column.name,
            type=column.type,
            description=column.description or "",
            nullable=constraints.nullable,
            unique=constraints.unique,
            checks=tuple(constraints.other or ()),
            pii={"true": True, "false": False}.get(str(tags.get("pii", "")).lower()),
            mask=tags.get("mask") or None,
        )


@dataclass(frozen=True)
class ProductInterface:
    """What a product promises its consumers. Empty fields mean "not declared" (a plain Dagster asset)."""

    key: dg.AssetKey
    owners: tuple[str, ...] = ()
    description: str = ""
    access: str = ""
    version: str = ""
    contract: str = ""
    slo: str = ""
    inputs: tuple[dg.AssetKey, ...] = ()
    # Products of the producer's own domain that read it (known when its location loads).
    consumers: tuple[str, ...] = ()
    allowed_consumers: tuple[str, ...] = ()
    partition_column: str = ""
    table: str = ""
    volume: str = ""
    columns: tuple[ColumnInterface, ...] = ()
    table_checks: tuple[str, ...] = ()
    is_product: bool = True
    # For a product given as SQL: each column and the upstream columns (`domain/product.column`) it
    # is computed from, as far as the SQL can be traced.
    lineage: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def name(self) -> str:
        return self.key.to_user_string()

    @property
    def domain(self) -> str:
        return self.key.path[0]

    @property
    def has_slo(self) -> bool:
        return bool(self.slo)

    @property
    def major_version(self) -> int | None:
        head = self.version.split(".")[0]
        return int(head) if head.isdigit() else None

    def with_consumers(self, consumers: tuple[str, ...]) -> ProductInterface:
        return replace(self, consumers=consumers)

    # ------------------------------------------------------------------ onto the asset and back

    def to_metadata(self, column_schema: dg.TableSchema | None = None) -> dict[str, Any]:
        """The asset metadata carrying this record (columns as Dagster's column schema)."""
        fields = {
            name: getattr(self, name)
            for name in (
                "owners", "description", "access", "version", "contract", "slo", "consumers",
                "allowed_consumers", "partition_column", "table", "volume",
            )
        }  # fmt: skip
        fields = {name: list(v) if isinstance(v, tuple) else v for name, v in fields.items()}
        fields["inputs"] = [key.to_user_string() for key in self.inputs]
        if self.lineage:
            fields["lineage"] = {column: list(refs) for column, refs in self.lineage}
        metadata: dict[str, Any] = {INTERFACE_METADATA: dg.MetadataValue.json(fields)}
        if column_schema is not None:
            metadata[COLUMN_SCHEMA_METADATA] = column_schema
        if self.table:
            metadata[TABLE_NAME_METADATA] = self.table
        return metadata

    @classmethod
    def from_metadata(
        cls, key: dg.AssetKey, metadata: Mapping[str, Any] | None
    ) -> ProductInterface | None:
        """The record on an asset's metadata; None for an asset that is not a data product."""
        raw = metadata_value(metadata, INTERFACE_METADATA)
        if isinstance(raw, str):
            raw = json.loads(raw)
        if not isinstance(raw, Mapping):
            return None
        columns, table_checks = _columns(metadata_value(metadata, COLUMN_SCHEMA_METADATA))
        return cls(
            key=key,
            owners=_strings(raw.get("owners")),
            description=str(raw.get("description") or ""),
            access=str(raw.get("access") or ""),
            version=str(raw.get("version") or ""),
            contract=str(raw.get("contract") or ""),
            slo=str(raw.get("slo") or ""),
            inputs=tuple(dg.AssetKey.from_user_string(i) for i in _strings(raw.get("inputs"))),
            consumers=_strings(raw.get("consumers")),
            allowed_consumers=_strings(raw.get("allowed_consumers")),
            partition_column=str(raw.get("partition_column") or ""),
            table=str(raw.get("table") or ""),
            volume=str(raw.get("volume") or ""),
            columns=columns,
            table_checks=table_checks,
            lineage=_lineage(raw.get("lineage")),
        )

    @classmethod
    def of_plain_asset(cls, spec: dg.AssetSpec) -> ProductInterface:
        """An asset that is not a declared product, as governance sees it: only what Dagster itself
        knows (owners, description, freshness policy, deps, column schema). A `dagmesh/interface`
        entry on it is ignored: a record is only believed where the platform wrote it from a declaration."""
        columns, table_checks = _columns(metadata_value(spec.metadata, COLUMN_SCHEMA_METADATA))
        return cls(
            key=spec.key,
            owners=tuple(spec.owners or ()),
            description=(spec.description or "").strip(),
            slo="declared" if spec.freshness_policy is not None else "",
            inputs=tuple(dep.asset_key for dep in spec.deps),
            columns=columns,
            table_checks=table_checks,
            is_product=False,
        )


def asset_specs(defs: dg.Definitions) -> list[dg.AssetSpec]:
    """The specs of every asset `defs` materializes, without resolving the repository (no resources
    needed). Specs of assets it does not materialize (other domains' products, drawn for lineage) are
    not its own, whatever their metadata says."""
    specs: list[dg.AssetSpec] = []
    for item in defs.assets or ():
        if isinstance(item, dg.AssetsDefinition) and item.is_materializable:
            specs += list(item.specs)
    return specs


def map_asset_specs(
    defs: dg.Definitions, func: Callable[[dg.AssetSpec], dg.AssetSpec]
) -> dg.Definitions:
    """`Definitions.map_asset_specs`, the post-processing Dagster's projects use, without its preview
    warning on every load: dagster is pinned, and the tests exercise what we rely on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return defs.map_asset_specs(func=func)


def _lineage(raw: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(raw, Mapping):
        return ()
    return tuple((str(column), _strings(refs)) for column, refs in raw.items())


def _strings(raw: object) -> tuple[str, ...]:
    return tuple(str(item) for item in raw) if isinstance(raw, list | tuple) else ()


def _columns(schema: object) -> tuple[tuple[ColumnInterface, ...], tuple[str, ...]]:
    if not isinstance(schema, dg.TableSchema):
        return (), ()
    columns = tuple(ColumnInterface.from_table_column(column) for column in schema.columns)
    checks = tuple(schema.constraints.other or ()) if schema.constraints else ()
    return columns, checks
