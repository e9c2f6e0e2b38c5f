"""`dagmesh run`'s plan: every product's run starts after the runs that publish its inputs."""

from __future__ import annotations

import dagster as dg

from dagmesh.tools.runner import plan

MONTHS = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2024-04-01")


@dg.asset(key=["sales", "orders"])
def orders() -> None: ...


@dg.asset(key=["sales", "monthly"], deps=[orders], partitions_def=MONTHS)
def monthly() -> None: ...


@dg.asset(key=["sales", "outlook"], deps=[monthly])
def outlook() -> None: ...


@dg.asset(key=["marketing", "digest"], deps=[outlook])
def digest() -> None: ...


def test_a_product_reading_another_partitioning_of_its_own_location_runs_after_it():
    """Dagster runs a location's partitioned and unpartitioned products separately: an unpartitioned
    product reading a partitioned one of the same domain must get a later run, not the first one."""
    groups = plan(
        {
            "sales": dg.Definitions(assets=[orders, monthly, outlook]),
            "marketing": dg.Definitions(assets=[digest]),
        }
    )
    order = {key.to_user_string(): i for i, group in enumerate(groups) for key in group.keys}
    assert order["sales/orders"] < order["sales/monthly"] < order["sales/outlook"]
    assert order["sales/outlook"] < order["marketing/digest"]
    runs = [(g.location, {k.to_user_string() for k in g.keys}) for g in groups]
    assert runs == [
        ("sales", {"sales/orders"}),
        ("sales", {"sales/monthly"}),
        ("sales", {"sales/outlook"}),
        ("marketing", {"marketing/digest"}),
    ]
