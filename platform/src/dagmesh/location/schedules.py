"""A domain's jobs and schedules, derived from its products' crons and named so the UI reads them.

One job and schedule per (cron, partitioning), so partitioned products get partitioned runs. Names say
the domain and what runs: a product alone in its group gives the job `sales__orders_daily`, several give
`sales__daily_products`; the schedule is the job's name with `_schedule`. A job is never named like a
product's op (`sales__orders`, which Dagster refuses as a conflicting definition). Jobs are
tagged `dagmesh/domain` (and `dagmesh/product` for one product), so their runs are too. Schedules start
RUNNING: a product's SLO assumes its schedule runs (`DAGMESH_SCHEDULES=stopped` turns them off).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import dagster as dg

from dagmesh.declare.product import DataProduct

DOMAIN_TAG = "dagmesh/domain"
PRODUCT_TAG = "dagmesh/product"
_NUMBER = re.compile(r"^\d+$")
_NAMED_CRONS = {
    "@hourly": "hourly",
    "@daily": "daily",
    "@midnight": "daily",
    "@weekly": "weekly",
    "@monthly": "monthly",
    "@yearly": "yearly",
    "@annually": "yearly",
}


def cadence(cron: str) -> str:
    """How often `cron` fires, as a word for names: hourly, daily, weekly, monthly, else `custom`."""
    cron = cron.strip().lower()
    if cron in _NAMED_CRONS:
        return _NAMED_CRONS[cron]
    fields = cron.split()
    if len(fields) != 5:
        return "custom"
    minute, hour, day, month, weekday = (bool(_NUMBER.match(f)) or f for f in fields)
    if minute is not True or month != "*":
        return "custom"
    if hour == day == weekday == "*":
        return "hourly"
    if hour is True and day == weekday == "*":
        return "daily"
    if hour is True and day == "*" and weekday is True:
        return "weekly"
    if hour is True and day is True and weekday == "*":
        return "monthly"
    return "custom"


def run_tags(keys: Iterable[dg.AssetKey]) -> dict[str, str]:
    """The tags of a job or run of `keys` (one domain): the domain, and the product when it is one."""
    keys = list(keys)
    domains = sorted({key.path[0] for key in keys})
    tags = {DOMAIN_TAG: ",".join(domains)}
    if len(keys) == 1:
        tags[PRODUCT_TAG] = keys[0].path[-1]
    return tags


def run_job_name(keys: Iterable[dg.AssetKey]) -> str:
    """The job of a `dagmesh run` (or rollback) of `keys` of one location: `sales__orders__run`, or
    `sales__3_products__run` (a product name starts with a letter, so never collides with it)."""
    keys = list(keys)
    domain = "_".join(sorted({key.path[0] for key in keys}))
    what = keys[0].path[-1] if len(keys) == 1 else f"{len(keys)}_products"
    return f"{domain}__{what}__run"


def _job_name(domain: str, members: list[DataProduct], when: str, partitioned: bool) -> str:
    if len(members) == 1:
        return f"{domain}__{members[0].name}_{when}"
    return f"{domain}__{when}{'_partitioned' if partitioned else ''}_products"


def product_schedules(
    domain: str, products: Iterable[DataProduct], *, running: bool = True
) -> list[dg.ScheduleDefinition]:
    """The jobs and schedules of `domain`'s scheduled products (see the module docstring)."""
    products = list(products)
    groups: dict[tuple[str, Any], list[DataProduct]] = defaultdict(list)
    for product in products:
        if product.schedule:
            groups[(product.schedule, product.partitions_def)].append(product)
    status = dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED
    # Op names (`domain__product`) are taken: a job of the same name is a conflicting definition.
    taken = {f"{domain}__{product.name}" for product in products}
    schedules = []
    for (cron, partitions_def), members in sorted(groups.items(), key=_group_order):
        members = sorted(members, key=lambda p: p.name)
        # A partitioned job runs as its partitions close, whatever the product's cron says.
        when = cadence(partitions_def.get_cron_schedule() if partitions_def is not None else cron)
        base = _job_name(domain, members, when, partitions_def is not None)
        job_name, number = base, 1
        while job_name in taken:  # two groups of one cadence (other minutes), or a product's op
            number += 1
            job_name = f"{base}_{number}"
        taken.add(job_name)
        schedule_name = f"{job_name}_schedule"
        keys = [p.key(domain) for p in members]
        job = dg.define_asset_job(
            name=job_name, selection=dg.AssetSelection.assets(*keys), tags=run_tags(keys)
        )
        if partitions_def is not None:
            # Dagster derives the cadence from the partitions: each new partition runs once it closes.
            schedules.append(
                dg.build_schedule_from_partitioned_job(
                    job, name=schedule_name, default_status=status
                )
            )
        else:
            schedules.append(
                dg.ScheduleDefinition(
                    name=schedule_name, job=job, cron_schedule=cron, default_status=status
                )
            )
    return schedules


def _group_order(group: tuple[tuple[str, Any], list[DataProduct]]) -> tuple:
    (cron, partitions_def), members = group
    return (cron, partitions_def is not None, sorted(p.name for p in members))
