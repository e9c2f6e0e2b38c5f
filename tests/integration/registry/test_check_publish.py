"""`dagmesh publish`, `check` and `export` over a temporary three-location workspace: the registry files
they write, breaking changes named with their consumers and owners, major versions and their deprecation,
custom checks, and new checks verified against the published data."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from dagmesh.tools.cli import app
from tests.helpers.odcs import schema_errors

PRODUCER = '''
from datetime import date, timedelta
import pandas as pd, pandera.pandas as pa
from pandera.typing import Series
from dagmesh import SLO, data_product, domain_definitions

class Orders(pa.DataFrameModel):
    """Every order."""
    order_id: Series[int] = pa.Field(unique=True, gt=0, description="Order id.")
    amount: Series[float] = pa.Field(ge=0, description="Order total.")
{extra}
@data_product(contract=Orders, owners=["team:shop"], access="public", version="{version}",
              slo=SLO(max_lag=timedelta(hours=26)){options})
def orders() -> pd.DataFrame:
    """Every order, as booked."""
    return pd.DataFrame({{"order_id": [1], "amount": [1.0]}})

defs = domain_definitions("shop", [orders])
'''


CONSUMER = '''
from datetime import timedelta
import pandas as pd, pandera.pandas as pa
from pandera.typing import Series
from dagmesh import SLO, data_product, domain_definitions

class Totals(pa.DataFrameModel):
    """Totals."""
    amount: Series[float] = pa.Field(description="Total.")

@data_product(contract=Totals, owners=["{owner}"], access="internal", version="1.0.0",
              slo=SLO(max_lag=timedelta(days=2)), inputs=["shop/orders{pin}"])
def {name}(orders: pd.DataFrame) -> pd.DataFrame:
    """Totals from the shop's orders."""
    return orders[["amount"]]

defs = domain_definitions("{domain}", [{name}])
'''


@pytest.fixture
def mesh(tmp_path, monkeypatch):
    """A three-location workspace: shop produces orders; web reads it unpinned, finance pins @1."""
    monkeypatch.setenv("DAGMESH_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "mesh"

    def write(domain: str, text: str) -> None:
        (root / "domains" / domain).mkdir(parents=True, exist_ok=True)
        (root / "domains" / domain / "definitions.py").write_text(textwrap.dedent(text))

    def producer(version: str = "1.0.0", extra: str = "", options: str = "") -> None:
        write("shop", PRODUCER.format(version=version, extra=extra, options=options))

    producer()
    write(
        "web",
        CONSUMER.format(owner="web-team@example.com", name="storefront", domain="web", pin=""),
    )
    write(
        "finance", CONSUMER.format(owner="team:finance", name="ledger", domain="finance", pin="@1")
    )
    (root / "workspace.yaml").write_text(
        "load_from:\n"
        + "".join(
            f"  - python_file: {{relative_path: domains/{d}/definitions.py, location_name: {d}}}\n"
            for d in ("shop", "web", "finance")
        )
    )
    yield root, producer
    for name in ("shop", "web", "finance"):
        sys.modules.pop(f"_dagmesh_location_{name}", None)


def dagmesh(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--workspace", str(root / "workspace.yaml")])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(result.output.split())


def test_check_fails_until_published(mesh):
    root, _ = mesh
    code, out = dagmesh(root, "check")
    assert code == 1 and "shop/orders is not in the contract registry" in out
    code, out = dagmesh(root, "publish")
    assert code == 0, out
    for domain, product in (("shop", "orders"), ("web", "storefront"), ("finance", "ledger")):
        assert (root / "domains" / domain / "contracts" / product / "v1.odcs.yaml").is_file()
    code, out = dagmesh(root, "check")
    assert code == 0 and "every contract matches the registry" in out


def test_breaking_change_without_bump_names_consumers_and_owners(mesh):
    root, _ = mesh
    assert dagmesh(root, "publish")[0] == 0
    published = (root / "domains/shop/contracts/orders/v1.odcs.yaml").read_text()

    # amount dropped (and a minor bump, which does not make a removal compatible)
    (root / "domains/shop/definitions.py").write_text(
        (root / "domains/shop/definitions.py")
        .read_text()
        .replace('    amount: Series[float] = pa.Field(ge=0, description="Order total.")\n', "")
        .replace('version="1.0.0"', 'version="1.1.0"')
    )
    code, out = dagmesh(root, "check")
    assert code == 1
    assert (
        "shop/orders (owners: team:shop) has 1 breaking change(s) without a major version bump"
        in out
    )
    assert "column_removed (amount: consumers reading it break)" in out
    assert "web/storefront (owners: web-team@example.com)" in out
    assert "finance/ledger (owners: team:finance)" in out
    assert "Bump the version to 2.0.0" in out

    # publish refuses to record the break: the registry still holds v1 as published
    code, out = dagmesh(root, "publish")
    assert code == 1 and "refused" in out
    assert (root / "domains/shop/contracts/orders/v1.odcs.yaml").read_text() == published


def test_compatible_change_passes_and_asks_to_publish(mesh):
    root, producer = mesh
    assert dagmesh(root, "publish")[0] == 0
    producer(
        version="1.1.0",
        extra='    channel: Series[str] = pa.Field(nullable=True, description="Sales channel.")\n',
    )
    code, out = dagmesh(root, "check")
    assert code == 0 and "unpublished changes" in out and "run `dagmesh publish`" in out
    assert dagmesh(root, "publish")[0] == 0
    doc = yaml.safe_load((root / "domains/shop/contracts/orders/v1.odcs.yaml").read_text())
    assert doc["version"] == "1.1.0"
    assert "up to date" in dagmesh(root, "check")[1]


def test_major_bump_keeps_the_old_major_and_warns_its_consumers(mesh):
    root, producer = mesh
    assert dagmesh(root, "publish")[0] == 0
    v1 = root / "domains/shop/contracts/orders/v1.odcs.yaml"

    producer(version="2.0.0", options=", deprecation_date=date(2999, 1, 31)")
    source = root / "domains/shop/definitions.py"
    source.write_text(
        source.read_text().replace(
            '    amount: Series[float] = pa.Field(ge=0, description="Order total.")\n', ""
        )
    )
    code, out = dagmesh(root, "check")
    assert code == 0, out
    assert "new major" in out and "v1 stays published until 2999-01-31" in out
    assert "finance/ledger (owners: team:finance) accepts shop/orders@1, which is deprecated" in out
    assert "web/storefront reads shop/orders without a major pin and follows it to v2" in out

    code, out = dagmesh(root, "publish")
    assert code == 0, out
    v2 = root / "domains/shop/contracts/orders/v2.odcs.yaml"
    assert v1.is_file() and v2.is_file()
    old = yaml.safe_load(v1.read_text())
    assert old["version"] == "1.0.0" and old["status"] == "deprecated"
    assert {"property": "deprecationDate", "value": "2999-01-31"} in old["customProperties"]
    assert [p["name"] for p in old["schema"][0]["properties"]] == ["order_id", "amount"]
    assert yaml.safe_load(v2.read_text())["version"] == "2.0.0"
    code, out = dagmesh(root, "check")
    assert code == 0 and "accepts shop/orders@1, which is deprecated" in out

    # After the deprecation date, a consumer still pinned to the old major is an error.
    source.write_text(source.read_text().replace("date(2999, 1, 31)", "date(2000, 1, 31)"))
    code, out = dagmesh(root, "check")
    assert code == 1
    assert (
        "finance/ledger (owners: team:finance) still accepts only shop/orders@1, deprecated since 2000-01-31"
        in out
    )


def test_export_writes_valid_odcs(mesh, tmp_path):
    root, _ = mesh
    code, out = dagmesh(root, "export", "--format", "odcs", "--out", str(tmp_path / "out"))
    assert code == 0, out
    files = sorted((tmp_path / "out").rglob("*.odcs.yaml"))
    assert [f.relative_to(tmp_path / "out").as_posix() for f in files] == [
        "finance/ledger.odcs.yaml",
        "shop/orders.odcs.yaml",
        "web/storefront.odcs.yaml",
    ]
    for path in files:
        assert schema_errors(yaml.safe_load(path.read_text())) == []
    code, out = dagmesh(root, "export", "--format", "csv", "--out", str(tmp_path / "out"))
    assert code == 2 and "csv" in out


def test_verify_data_lets_a_new_check_the_published_table_meets_pass(mesh, tmp_path):
    root, _ = mesh
    assert dagmesh(root, "publish")[0] == 0
    source = root / "domains/shop/definitions.py"
    source.write_text(source.read_text().replace("pa.Field(ge=0,", "pa.Field(ge=0, le=100,"))
    (tmp_path / "home").mkdir()
    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA shop")
        con.execute("CREATE TABLE shop.orders (order_id BIGINT, amount DOUBLE)")
        con.execute("INSERT INTO shop.orders VALUES (1, 42.0)")

    code, out = dagmesh(root, "check")
    assert code == 1 and "potentially breaking" in out
    code, out = dagmesh(root, "check", "--verify-data")
    assert code == 0 and "unpublished changes" in out

    with duckdb.connect(str(tmp_path / "home" / "warehouse.duckdb")) as con:
        con.execute("INSERT INTO shop.orders VALUES (2, 500.0)")
    code, out = dagmesh(root, "check", "--verify-data")
    assert (
        code == 1 and "less_than_or_equal_to(max_value=100): 1 published row(s) violate it" in out
    )


CAPPED = """
    @pa.check("amount", limit={limit})
    def capped(cls, series: pd.Series, limit: float) -> pd.Series:
        return series < limit
"""


def test_a_changed_custom_check_is_breaking_and_names_consumers(mesh):
    root, producer = mesh
    producer(extra=CAPPED.format(limit=1000))
    assert dagmesh(root, "publish")[0] == 0
    doc = yaml.safe_load((root / "domains/shop/contracts/orders/v1.odcs.yaml").read_text())
    (capped,) = [
        q["implementation"]
        for p in doc["schema"][0]["properties"]
        for q in p.get("quality", [])
        if q["name"] == "capped"
    ]
    assert capped["builtin"] is False and len(capped["fingerprint"]) == 16

    producer(version="1.1.0", extra=CAPPED.format(limit=500))
    code, out = dagmesh(root, "check")
    assert code == 1
    assert "custom_check_changed (amount: custom check capped changed its arguments" in out
    assert "web/storefront (owners: web-team@example.com)" in out
    assert "finance/ledger (owners: team:finance)" in out


def _draft_everything(root: Path) -> None:
    from dagmesh.registry.check import draft_mesh, load_mesh

    drafted = draft_mesh(load_mesh(root / "workspace.yaml"))
    assert {d.action for d in drafted} == {"drafted"} and len(drafted) == 3


def test_a_draft_changes_freely_until_its_first_publish(mesh):
    """What the scaffold writes: a contract with ODCS `status: draft`. It may change freely while no
    product reads it; the first `dagmesh publish` makes it the active contract, and from then on a
    breaking change needs a major bump."""
    root, producer = mesh
    _draft_everything(root)
    storefront = root / "domains/web/contracts/storefront/v1.odcs.yaml"
    assert yaml.safe_load(storefront.read_text())["status"] == "draft"
    code, out = dagmesh(root, "check")
    assert code == 0 and "draft" in out, out

    # web/storefront has no consumers: a breaking change to its draft is fine.
    web = root / "domains/web/definitions.py"
    web.write_text(web.read_text().replace("amount: Series[float]", "total: Series[int]"))
    code, out = dagmesh(root, "check")
    assert code == 0 and "breaking" not in out, out

    # shop/orders is read by web and finance: its draft is no longer free.
    shop = root / "domains/shop/definitions.py"
    shop.write_text(
        shop.read_text().replace(
            '    amount: Series[float] = pa.Field(ge=0, description="Order total.")\n', ""
        )
    )
    code, out = dagmesh(root, "check")
    assert code == 1 and "shop/orders (owners: team:shop) is a draft, but" in out, out
    assert "web/storefront" in out and "column_removed" in out
    producer()

    # The first publish makes every draft active ...
    code, out = dagmesh(root, "publish")
    assert code == 0 and "was a draft" in out, out
    assert yaml.safe_load(storefront.read_text())["status"] == "active"
    # ... and then a breaking change is refused without a major bump.
    web.write_text(web.read_text().replace("total: Series[int]", "total: Series[str]"))
    code, out = dagmesh(root, "check")
    assert code == 1 and "Bump the version to 2.0.0" in out, out


def test_lint_and_check_report_a_misspelled_input_with_the_closest_product(
    mesh, monkeypatch, capsys
):
    """Once the producer's registry holds its contracts, a consumer reading `shop/order` does not load:
    `dagmesh check` and `dagmesh lint` both say so, with "did you mean"."""
    from dagmesh.tools import cli

    root, _ = mesh
    assert dagmesh(root, "publish")[0] == 0
    web = root / "domains/web/definitions.py"
    web.write_text(web.read_text().replace('"shop/orders"', '"shop/order"'))
    for command in ("check", "lint"):
        sys.modules.pop("_dagmesh_location_web", None)
        monkeypatch.setattr(
            sys, "argv", ["dagmesh", command, "--workspace", str(root / "workspace.yaml")]
        )
        with pytest.raises(SystemExit) as exited:
            cli.main()
        said = capsys.readouterr()
        stderr = " ".join((said.err + said.out).split())
        # check cannot compare a location that does not load (2); lint reports it as a violation
        # of `location-loads` among the others (1)
        assert exited.value.code == {"check": 2, "lint": 1}[command], (command, stderr)
        assert "Traceback" not in stderr
        if (
            command == "lint"
        ):  # a table of violations, wrapped: its message is read from lint itself
            from dagmesh.tools.lint import lint_workspace

            assert "location-loads" in stderr
            (violation,) = lint_workspace(root / "workspace.yaml")
            stderr = violation.message
        assert "web/storefront (owners: web-team@example.com)" in stderr, stderr
        assert "reads shop/order, which is not in shop's contract registry; did you mean " in stderr
        assert "'shop/orders'?" in stderr
