"""What `dagmesh run` says about a failed step: one line for the person running the mesh, from the
error Dagster recorded (a chain of `SerializableErrorInfo`), never its stack trace."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import dagster as dg

from dagmesh.core.errors import DagmeshError


def root_message(error) -> str:
    """The user-facing message of a step failure: the innermost cause, not Dagster's wrappers."""
    while error is not None and error.cause is not None:
        error = error.cause
    message = error.message if error is not None else "unknown error"
    return message.strip().removeprefix("dagster._core.definitions.events.Failure: ")


def _platform_error_names() -> set[str]:
    names, pending = set(), [DagmeshError]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names


def _chain(error) -> Iterator:
    while error is not None:
        yield error
        error = error.cause


def interrupted(error) -> bool:
    """Whether the step failed because the run was stopped."""
    return any(
        e.cls_name
        in ("DagsterExecutionInterruptedError", "KeyboardInterrupt", "InterruptException")
        for e in _chain(error)
    )


def failure_line(error, key: dg.AssetKey, owners: Iterable[str] = ()) -> str:
    """What failed, for the person running the mesh: the platform's own message when it raised one
    (it names the product, its owners and what to do), else the product, its owners and the innermost
    cause; always saying that nothing was published. No stack trace: the Dagster UI keeps it."""
    platform = _platform_error_names()
    own = next((e for e in _chain(error) if e.cls_name in platform), None)
    if own is not None:
        # Dagster stores it as "<module>.<class>: <message>"
        message = re.sub(rf"^[\w.]*{own.cls_name}: ", "", own.message.strip())
    else:
        message = (
            f"{key.to_user_string()} (owners: {', '.join(owners) or 'no owner declared'}) failed: "
            f"{root_message(error)}"
        )
    if not any(
        said in message.lower() for said in ("nothing was published", "nothing was written")
    ):
        message = (
            message.rstrip(".") + ". Nothing was published; consumers keep the last good version."
        )
    return message
