"""The load-time interface lookup finds a producer's published contract wherever its package lives (one
registry path rule, `dagmesh.registry.store`), without importing the producer's code, and refuses a
cross-domain read of an internal product when the consumer's location loads."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest

from dagmesh.governance import PolicyViolationError
from dagmesh.governance.interfaces import published_interfaces
from dagmesh.registry.odcs import ContractDocumentError
from dagmesh.registry.store import producer_folder

ROOT = Path(__file__).resolve().parents[3]
LEDGER = dg.AssetKey(["finance", "ledger"])


def test_the_governance_scorecard_is_found_in_its_own_package():
    scorecard = dg.AssetKey(["governance", "scorecard"])
    found = published_interfaces([scorecard], ROOT)
    assert scorecard in found
    interface = found[scorecard]
    assert interface.access == "public" and "team:platform" in interface.owners
    assert producer_folder(ROOT, "governance") == ROOT / "domains" / "governance"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project whose `finance` location lives in `teams/finance`, not under `domains/`; importing its
    definitions would raise, so a lookup that imported producer code would fail loudly."""
    package = tmp_path / "teams" / "finance"
    (package / "src" / "finance").mkdir(parents=True)
    (package / "pyproject.toml").write_text('[project]\nname = "finance"\n')
    (package / "src" / "finance" / "__init__.py").write_text("")
    (package / "src" / "finance" / "definitions.py").write_text(
        'raise RuntimeError("the producer\'s code was imported")\n'
    )
    registry = package / "contracts" / "ledger"
    registry.mkdir(parents=True)
    shutil.copy(ROOT / "domains/sales/contracts/pricing_summary/v1.odcs.yaml", registry)
    (tmp_path / "workspace.yaml").write_text(
        textwrap.dedent(
            """\
            load_from:
              - python_module: {module_name: finance.definitions, location_name: finance}
            """
        )
    )
    monkeypatch.syspath_prepend(str(package / "src"))
    yield tmp_path
    for name in [m for m in sys.modules if m == "finance" or m.startswith("finance.")]:
        sys.modules.pop(name)


def test_a_producer_outside_domains_is_found_without_importing_it(project):
    assert producer_folder(project, "finance") == project / "teams" / "finance"
    found = published_interfaces([LEDGER], project)
    assert found[LEDGER].access == "internal"  # what the copied contract publishes
    assert "team:sales" in found[LEDGER].owners
    assert "finance.definitions" not in sys.modules


CONSUMER = """
from datetime import timedelta

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from dagmesh import SLO, data_product, domain_definitions


class View(pa.DataFrameModel):
    amount: Series[int] = pa.Field(description="Amount.")


@data_product(contract=View, owners=["team:web"], access="internal", version="1.0.0",
              slo=SLO(max_lag=timedelta(days=1)), inputs=["finance/ledger"])
def ledger_view(ledger: pd.DataFrame) -> pd.DataFrame:
    '''The ledger, for the shop.'''
    return ledger


defs = domain_definitions("web", [ledger_view])
"""


def _refused_at_load(module_file: Path, source: str, monkeypatch) -> str:
    """Write a consumer location's module beside its project and import it: it must refuse to load."""
    module_file.write_text(source)
    monkeypatch.setenv("DAGMESH_HOME", str(module_file.parent / "home"))
    spec = importlib.util.spec_from_file_location(module_file.stem, module_file)
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(PolicyViolationError) as raised:
        spec.loader.exec_module(module)
    return str(raised.value)


def test_reading_it_from_another_domain_is_refused_at_load(project, monkeypatch):
    """The consumer's location stops loading: the producer's interface (internal) came from its
    registry in `teams/finance`, found through workspace.yaml."""
    text = _refused_at_load(project / "web_view.py", CONSUMER, monkeypatch)
    assert "access-allowed" in text and "finance/ledger" in text and "internal" in text
    assert "finance.definitions" not in sys.modules


CONSUMER_MODULE = '''
from datetime import timedelta
import pandas as pd, pandera.pandas as pa
from pandera.typing import Series
from dagmesh import SLO, data_product, domain_definitions

class Summary(pa.DataFrameModel):
    l_returnflag: Series[str] = pa.Field(description="Flag.")

@data_product(contract=Summary, owners=["team:marketing"], access="internal", version="1.0.0",
              slo=SLO(max_lag=timedelta(days=1)), inputs=["sales/pricing_summary"])
def pricing_view(pricing_summary: pd.DataFrame) -> pd.DataFrame:
    """Marketing's view of sales' internal pricing summary."""
    return pricing_summary[["l_returnflag"]]

defs = domain_definitions("marketing", [pricing_view])
'''


def test_cross_domain_read_of_an_internal_product_fails_at_load_time(tmp_path, monkeypatch):
    """The consumer location knows sales/pricing_summary is internal from sales' published contract,
    without importing sales' code."""
    (tmp_path / "workspace.yaml").write_text("load_from: []\n")
    registry = tmp_path / "domains" / "sales" / "contracts" / "pricing_summary"
    registry.mkdir(parents=True)
    shutil.copy(ROOT / "domains/sales/contracts/pricing_summary/v1.odcs.yaml", registry)
    text = _refused_at_load(tmp_path / "marketing_consumer.py", CONSUMER_MODULE, monkeypatch)
    for part in (
        "access-allowed",
        "marketing/pricing_view",
        "team:marketing",
        "sales/pricing_summary",
        "team:sales",
        "internal",
    ):
        assert part in text, part


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- access: public\n- owners: []\n", "expected a mapping"),
        ("apiVersion: v3.0.2\ncustomProperties: public\n", "not a list of {property, value}"),
        ("apiVersion: v3.0.2\ncustomProperties: [{property: owners, value: []}]\n", "None"),
        ("customProperties: [{property: access, value: open}]\n", "'open'"),
    ],
)
def test_a_registry_file_that_is_not_a_published_contract_stops_its_consumers(
    project, monkeypatch, text, problem
):
    """Read as public, a malformed registry file would let every consumer past the load-time check:
    the lookup refuses it, naming the product, the file and what to do."""
    (project / "teams/finance/contracts/ledger/v1.odcs.yaml").write_text(text)
    with pytest.raises(ContractDocumentError) as raised:
        published_interfaces([LEDGER], project)
    message = str(raised.value)
    for part in ("finance/ledger", "v1.odcs.yaml", problem, "dagmesh publish"):
        assert part in message, part
    # The consumer's location stops too, with the same line.
    (project / "web_view.py").write_text(CONSUMER)
    monkeypatch.setenv("DAGMESH_HOME", str(project / "home"))
    spec = importlib.util.spec_from_file_location("web_view", project / "web_view.py")
    with pytest.raises(ContractDocumentError):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
