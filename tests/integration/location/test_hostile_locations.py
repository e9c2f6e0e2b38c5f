"""A domain team trying to get past governance from inside its own code location: forged interface
records, assets claiming to be another domain's, a policy loosened in lint, two declarations of one
product, a product declared outside defs/, a defs/ module that raises. Each is refused, or seen as it is."""

from __future__ import annotations

import sys
import textwrap
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Series

from dagmesh import SLO, ProductInterface, data_product, load_domain, mesh_location
from dagmesh.binding.asset import product_definitions
from dagmesh.core.errors import ProductDefinitionError
from dagmesh.declare.interface import INTERFACE_METADATA
from dagmesh.governance import PolicyViolationError, Severity
from dagmesh.storage.settings import MeshSettings
from dagmesh.tools.lint import _stricter
from tests.helpers.component_projects import _project

# What older platform versions marked other domains' products with; a hostile asset may still claim it.
EXTERNAL_METADATA = "dagmesh/external"


class Emails(pa.DataFrameModel):
    email: Series[str] = pa.Field(description="Email.", metadata={"pii": True})


@data_product(
    contract=Emails,
    owners=["team:shop"],
    access="public",
    version="1.0.0",
    slo=SLO(max_lag=timedelta(days=1)),
)
def emails() -> pd.DataFrame:
    """Customer emails, published to everyone (unmasked PII: refused)."""
    return pd.DataFrame({"email": ["a@b.c"]})


@pytest.fixture
def settings(tmp_path) -> MeshSettings:
    return MeshSettings(home=tmp_path, warehouse_path=tmp_path / "w.duckdb", tpch_scale=0.01)


def _forged(spec: dg.AssetSpec) -> dg.AssetSpec:
    """What a hostile post-processing step writes: a compliant-looking record, and 'not mine'."""
    record = ProductInterface(
        key=spec.key,
        owners=("team:shop",),
        description="Nothing to see.",
        access="internal",
        version="1.0.0",
        contract="Emails",
        slo="fresh within 1d",
    )
    return spec.replace_attributes(
        metadata={**spec.metadata, **record.to_metadata(), EXTERNAL_METADATA: True}
    )


def test_a_forged_record_on_a_product_does_not_hide_its_violation(settings):
    defs = product_definitions(emails, "shop").map_asset_specs(func=_forged)
    with pytest.raises(PolicyViolationError) as raised:
        mesh_location("shop", defs, settings=settings)
    assert "pii-not-public" in str(raised.value) and "shop/emails" in str(raised.value)


def test_a_plain_asset_with_a_forged_record_is_held_to_every_rule(settings):
    class Fine(pa.DataFrameModel):
        n: Series[int] = pa.Field(description="N.")

    @data_product(
        contract=Fine,
        owners=["team:shop"],
        access="internal",
        version="1.0.0",
        slo=SLO(max_lag=timedelta(days=1)),
    )
    def fine() -> pd.DataFrame:
        """A compliant product, so the location has one."""
        return pd.DataFrame({"n": [1]})

    record = ProductInterface(
        key=dg.AssetKey(["shop", "side"]),
        owners=("team:shop",),
        description="Claims to be governed.",
        access="internal",
        version="1.0.0",
        contract="Side",
        slo="fresh within 1d",
    )

    @dg.asset(key=["shop", "side"], metadata={**record.to_metadata(), EXTERNAL_METADATA: True})
    def side() -> None: ...

    defs = dg.Definitions.merge(product_definitions(fine, "shop"), dg.Definitions(assets=[side]))
    with pytest.raises(PolicyViolationError) as raised:
        mesh_location("shop", defs, settings=settings)
    text = str(raised.value)
    for policy in ("owners-required", "contract-required", "slo-required", "version-required"):
        assert f"{policy}: shop/side" in text, policy


def test_the_location_writes_the_record_from_the_declaration(settings):
    """The UI and the catalog read the record: after the location, it is the declaration's."""
    fixed = replace(emails, access="internal")  # a compliant twin
    defs = mesh_location(
        "shop", product_definitions(fixed, "shop").map_asset_specs(func=_forged), settings=settings
    )
    spec = next(
        s for s in defs.resolve_all_asset_specs() if s.key == dg.AssetKey(["shop", "emails"])
    )
    record = ProductInterface.from_metadata(spec.key, spec.metadata)
    assert record is not None and record.description.startswith("Customer emails")
    assert [c.pii for c in record.columns] == [True]
    assert INTERFACE_METADATA in spec.metadata


def test_lint_never_counts_a_central_error_as_a_warning():
    assert _stricter(Severity.ERROR, Severity.WARN) is Severity.ERROR
    assert _stricter(Severity.WARN, Severity.ERROR) is Severity.ERROR
    assert _stricter(Severity.WARN, None) is Severity.WARN


PRODUCT = '''
from datetime import timedelta
import pandas as pd, pandera.pandas as pa
from pandera.typing import Series
from dagmesh import SLO, data_product


class Row(pa.DataFrameModel):
    n: Series[int] = pa.Field(description="N.")


@data_product(contract=Row, owners=["team:shop"], access="internal", version="1.0.0",
              slo=SLO(max_lag=timedelta(days=1)), name="{name}")
def _p() -> pd.DataFrame:
    """A product."""
    return pd.DataFrame({{"n": [1]}})
'''


def _write(project: Path, relative: str, text: str) -> None:
    path = project / "src" / project.name / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


@pytest.fixture
def cleanup():
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        sys.modules.pop(name, None)


def test_two_folders_declaring_one_product_stop_the_location(tmp_path, cleanup):
    project = _project(tmp_path, "shoptwice", {})
    _write(project, "defs/one/product.py", PRODUCT.format(name="twin"))
    _write(project, "defs/two/product.py", PRODUCT.format(name="twin"))
    with pytest.raises(ProductDefinitionError, match="declares 'twin' twice") as raised:
        load_domain(project / "src" / "shoptwice")
    assert "one/product.py" in str(raised.value) and "two/product.py" in str(raised.value)


def test_a_product_declared_outside_defs_is_refused_with_where_it_is(tmp_path, cleanup):
    project = _project(tmp_path, "shopoutside", {})
    _write(project, "shared.py", PRODUCT.format(name="shared"))
    _write(project, "defs/shared/product.py", "from shopoutside.shared import _p\n")
    with pytest.raises(ProductDefinitionError, match="outside defs/") as raised:
        load_domain(project / "src" / "shopoutside")
    assert "shared.py" in str(raised.value) and "defs/shared/product.py" in str(raised.value)


def test_a_defs_module_that_raises_is_named_with_its_line(tmp_path, cleanup):
    project = _project(tmp_path, "shopboom", {})
    _write(
        project, "defs/boom/product.py", 'x = 1\nraise RuntimeError("source bucket unreachable")\n'
    )
    with pytest.raises(ProductDefinitionError) as raised:
        load_domain(project / "src" / "shopboom")
    text = str(raised.value)
    assert "defs/boom/product.py:2" in text and "source bucket unreachable" in text
