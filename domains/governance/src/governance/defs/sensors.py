"""The governance sensors, watching every code location through the instance and the warehouse."""

from dagmesh.governance.sensors import (
    drift_sensor,
    quality_sensor,
    run_failure_sensor,
    slo_sensor,
    versions_sensor,
)

__all__ = ["drift_sensor", "quality_sensor", "run_failure_sensor", "slo_sensor", "versions_sensor"]
