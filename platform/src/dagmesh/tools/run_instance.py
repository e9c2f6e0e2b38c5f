"""The Dagster instance `dagmesh run --parallel N` runs on: the user's instance (same storage, same
history in the UI), made safe for several in-process runs at once.

Two things in stock in-process execution assume one run per process:
- compute-log capture swaps the process's stdout and stderr file descriptors for the run's files, so
  concurrent runs would write into each other's logs and restore the wrong descriptors. These runs
  capture none (their structured event logs are kept; print() output goes to the terminal);
- every run start calls `logging.config.dictConfig` whenever the instance has any settings (telemetry
  off is one), even with no `python_logs` handlers configured. dictConfig takes the logging module's
  lock and then every handler's, while another run's event handler holds its own lock and waits for
  the event log's: a deadlock (seen with 3 runs at TPC-H SF 1). Without configured handlers there is
  nothing to build, so none is built.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import dagster as dg
from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
from dagster._serdes import ConfigurableClassData


class ConcurrentRunsInstance(dg.DagsterInstance):
    """A `DagsterInstance` whose run starts build python_logs handlers only when some are configured."""

    def get_yaml_python_handlers(self) -> Sequence[logging.Handler]:
        if not self.get_python_log_dagster_handler_config():
            return []
        return super().get_yaml_python_handlers()


def captures_logs(instance: dg.DagsterInstance) -> bool:
    """Whether runs on `instance` redirect the process's stdout and stderr (Dagster's compute logs)."""
    return not isinstance(instance.compute_log_manager, NoOpComputeLogManager)


def for_concurrent_runs(instance: dg.DagsterInstance) -> dg.DagsterInstance:
    """`instance` for several in-process runs at once (see the module docstring)."""
    if isinstance(instance, ConcurrentRunsInstance) and not captures_logs(instance):
        return instance
    if instance.get_ref().custom_instance_class_data is not None:
        raise dg.DagsterInvariantViolationError(
            "dagmesh run --parallel needs Dagster's own instance class; this DAGSTER_HOME names "
            "another (instance_class in dagster.yaml): run with --parallel 1"
        )
    ref = instance.get_ref()._replace(
        compute_logs_data=ConfigurableClassData(
            NoOpComputeLogManager.__module__, NoOpComputeLogManager.__name__, "{}"
        ),
        custom_instance_class_data=ConfigurableClassData(
            ConcurrentRunsInstance.__module__, ConcurrentRunsInstance.__name__, "{}"
        ),
    )
    return dg.DagsterInstance.from_ref(ref)
