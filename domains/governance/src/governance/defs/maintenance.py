"""Lake maintenance in the governance location: the platform's `lake_maintenance` job (one run at a
time) and its nightly schedule, RUNNING on the lakehouse backend."""

from dagmesh.governance.maintenance import NIGHTLY, lake_maintenance, lake_maintenance_schedule

lake_maintenance_nightly = lake_maintenance_schedule(NIGHTLY)

__all__ = ["lake_maintenance", "lake_maintenance_nightly"]
