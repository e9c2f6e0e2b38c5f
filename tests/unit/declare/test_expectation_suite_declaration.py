"""A product's GX suite given as GX's suite JSON file or as configurations: read at declaration (a bad
file is refused naming the product, the file and the line), and kept as configurations for the check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dagmesh import ProductDefinitionError
from tests.unit.shipments_declaration import declare, shipments

NOT_NULL = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "shipment_id"}}


def _suite_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "expectations.json"
    path.write_text(text)
    return path


def test_a_suite_file_becomes_its_configurations(tmp_path):
    path = _suite_file(tmp_path, json.dumps({"name": "s", "expectations": [NOT_NULL]}))
    product = declare(expectations=path)(shipments)
    assert product.expectations == (NOT_NULL,)


def test_a_relative_suite_file_is_read_beside_the_products_module():
    """`expectations="expectations.json"` means the file next to the module declaring the product."""
    with pytest.raises(ProductDefinitionError) as error:
        declare(expectations="no-such-suite.json")(shipments)
    expected = Path(__file__).resolve().parents[1] / "no-such-suite.json"
    assert str(expected) in str(error.value)
    assert "'shipments'" in str(error.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"expectations": [\n  {"type": "x",}\n]}', "expectations.json:2: not valid JSON"),
        ('["not", "a", "suite"]', "an object with an 'expectations' list"),
        ('{"expectations": {"type": "x"}}', "an object with an 'expectations' list"),
        ('{"expectations": ["expect_x"]}', "expectation 1 is not an object"),
        ('{"expectations": [{"kwargs": {}}]}', "expectation 1: an expectation needs a 'type'"),
        ('{"expectations": [{"type": ""}]}', "needs a 'type'"),
        ('{"expectations": [{"type": "x", "kwargs": [1]}]}', "'kwargs' of x must be a mapping"),
    ],
)
def test_a_broken_suite_file_is_refused_with_file_and_reason(tmp_path, text, says):
    path = _suite_file(tmp_path, text)
    with pytest.raises(ProductDefinitionError) as error:
        declare(expectations=path)(shipments)
    assert says in str(error.value)
    assert "'shipments'" in str(error.value)


def test_configurations_given_in_python_are_checked_the_same_way():
    with pytest.raises(
        ProductDefinitionError, match="expectation 2: an expectation needs a 'type'"
    ):
        declare(expectations=[NOT_NULL, {"kwargs": {"column": "a"}}])(shipments)
    product = declare(expectations=[NOT_NULL])(shipments)
    assert product.expectations == (NOT_NULL,)
