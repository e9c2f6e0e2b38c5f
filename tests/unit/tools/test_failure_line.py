"""The line `dagmesh run` prints for a failed product: the platform's own message when it raised one,
else product, owners and the innermost cause; always saying nothing was published."""

from __future__ import annotations

import sys
from collections.abc import Callable

import dagster as dg
from dagster._utils.error import serializable_error_info_from_exc_info

from dagmesh.core.errors import ProductFailedError
from dagmesh.tools.failures import failure_line

KEY = dg.AssetKey(["shop", "orders"])
PLATFORM_MESSAGE = (
    "shop/orders (owners: team:shop) failed while computing: ValueError: [error] bad. "
    "Nothing was published; consumers keep the last good version."
)


def _error_info(raise_inner: Callable[[], None]):
    """The error as Dagster records a step failure: wrapped in an error of its own."""
    try:
        try:
            raise_inner()
        except Exception as error:
            raise RuntimeError("dagster's wrapper") from error
    except RuntimeError:
        return serializable_error_info_from_exc_info(sys.exc_info())


def _product_failed() -> None:
    try:
        raise ValueError("[error] bad")
    except ValueError as error:
        raise ProductFailedError(PLATFORM_MESSAGE) from error


def _lookup_failed() -> None:
    raise LookupError("no resource tpch")


def test_the_platform_message_is_kept_whole_and_without_its_class_name():
    assert failure_line(_error_info(_product_failed), KEY, ["team:shop"]) == PLATFORM_MESSAGE


def test_any_other_error_names_product_owners_cause_and_that_nothing_was_published():
    line = failure_line(_error_info(_lookup_failed), KEY, ["team:shop"])
    assert line == (
        "shop/orders (owners: team:shop) failed: LookupError: no resource tpch. Nothing was "
        "published; consumers keep the last good version."
    )
