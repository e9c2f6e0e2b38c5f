"""The platform's standard policies. Each names what it requires and how to fix a violation."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from dagmesh.declare.access import Access, access_message, may_read
from dagmesh.declare.interface import ProductInterface
from dagmesh.declare.names import MASKS, NAME_PATTERN, SEMVER_PATTERN
from dagmesh.governance.pii import pii_origin
from dagmesh.governance.policy import MeshView, Policy, Severity


def access_problem(
    consumer: dg.AssetKey, consumer_owners: tuple[str, ...], producer: ProductInterface
) -> str | None:
    if may_read(consumer, producer.key, producer.access, producer.allowed_consumers):
        return None
    return access_message(
        consumer, consumer_owners, producer.key, producer.owners, producer.access or "unknown"
    )


def _has_owners(product: ProductInterface, _: MeshView) -> Iterator[tuple[str, str]]:
    if not product.owners:
        yield "has no owners", "declare owners=['team:<name>'] or an email"


def _has_description(product: ProductInterface, _: MeshView) -> Iterator[tuple[str, str]]:
    if not product.description:
        yield "has no description", "add a docstring saying what the product is and who it is for"


def _has_contract(product: ProductInterface, _: MeshView) -> Iterator[tuple[str, str]]:
    if not product.contract or not product.columns:
        yield "has no contract", "declare it with @data_product(contract=<pandera DataFrameModel>)"


def _has_slo(product: ProductInterface, _: MeshView) -> Iterator[tuple[str, str]]:
    if not product.has_slo:
        yield "has no SLO (freshness policy)", "declare slo=SLO(max_lag=timedelta(...))"


def _has_version(product: ProductInterface, _: MeshView) -> Iterator[tuple[str, str]]:
    if not product.version or not SEMVER_PATTERN.match(product.version):
        yield (
            f"has no semantic version (got {product.version!r})",
            "declare version='MAJOR.MINOR.PATCH'",
        )


def _public_columns_documented(product: ProductInterface, _: MeshView) -> Iterator[tuple[str, str]]:
    if product.access != Access.PUBLIC:
        return
    missing = [c.name for c in product.columns if not (c.description or "").strip()]
    if missing:
        yield (
            f"is public but column(s) {', '.join(missing)} have no description",
            "add pa.Field(description=...) to every column of a public contract",
        )


def _pii_not_public(product: ProductInterface, mesh: MeshView) -> Iterator[tuple[str, str]]:
    if product.access != Access.PUBLIC:
        return
    exposed = []
    for column in product.columns:
        if column.mask in MASKS:
            continue
        origin = None if column.pii else pii_origin(product, column, mesh)
        if column.pii:
            exposed.append(column.name)
        elif origin is not None:
            exposed.append(f"{column.name} (from PII column {origin})")
    if exposed:
        yield (
            f"is public but exposes PII column(s) {', '.join(exposed)} unmasked",
            "declare a masking rule (pa.Field(metadata={'pii': True, 'mask': 'sha256'})), "
            "drop the column, or make the product internal; a column derived from PII that no "
            "longer holds personal data is declared so: pa.Field(metadata={'pii': False})",
        )


def _naming(product: ProductInterface, _: MeshView) -> Iterator[tuple[str, str]]:
    bad = [part for part in product.key.path if not NAME_PATTERN.match(part)]
    if bad:
        yield (
            f"name part(s) {', '.join(map(repr, bad))} break the convention",
            "use lower_snake_case",
        )
    columns = [c.name for c in product.columns if not NAME_PATTERN.match(c.name)]
    if columns:
        yield (
            f"column(s) {', '.join(map(repr, columns))} break the naming convention",
            "rename columns to lower_snake_case (a breaking change: bump the major version)",
        )


def _reads_allowed(product: ProductInterface, mesh: MeshView) -> Iterator[tuple[str, str]]:
    for upstream in product.inputs:
        producer = mesh.lookup(upstream)
        if producer is None:
            continue  # unknown producers are reported by `dagmesh check` / the mesh plan
        problem = access_problem(product.key, product.owners, producer)
        if problem:
            yield (
                problem,
                (
                    f"read only public products of other domains; ask {', '.join(producer.owners)} "
                    "to publish what you need as a public product"
                ),
            )


STANDARD_POLICIES: tuple[Policy, ...] = (
    Policy("owners-required", "Every product names its owners.", Severity.ERROR, _has_owners),
    Policy(
        "description-required", "Every product says what it is.", Severity.ERROR, _has_description
    ),
    Policy(
        "contract-required", "Every product has a pandera contract.", Severity.ERROR, _has_contract
    ),
    Policy("slo-required", "Every product promises a freshness SLO.", Severity.ERROR, _has_slo),
    Policy(
        "version-required", "Every product has a semantic version.", Severity.ERROR, _has_version
    ),
    Policy(
        "public-columns-documented",
        "Every column of a public product has a description.",
        Severity.ERROR,
        _public_columns_documented,
    ),
    Policy(
        "pii-not-public",
        "Columns classified as PII, or derived from a PII column (lineage by column name and traced "
        "SQL) and not declared otherwise, are never in a public product unless masked by a declared "
        "rule.",
        Severity.ERROR,
        _pii_not_public,
    ),
    Policy(
        "naming-convention",
        "Product and column names are lower_snake_case.",
        Severity.ERROR,
        _naming,
    ),
    Policy(
        "access-allowed",
        "A product only reads products it may read: public ones, its own domain's internal ones, "
        "and private ones that name it as an allowed consumer.",
        Severity.ERROR,
        _reads_allowed,
    ),
)
