"""The TPC-H sample source read as files: `TpchSource.query_files` sees the generated Parquet as it is,
wherever the files live (a quote in the folder name cannot break or inject into the view definitions)."""

from __future__ import annotations

from dagmesh import TpchSource


def test_query_files_reads_the_generated_tables_from_a_hostile_folder_name(tmp_path):
    source = TpchSource(scale=0.01, directory=str(tmp_path / "o'brien'); DROP TABLE x; --"))
    assert source.query_files("SELECT COUNT(*) FROM region") == [(5,)]
    (nations,) = source.query_files("SELECT COUNT(*) FROM nation")
    assert nations == (25,)
    # The same rows the product-facing read gives.
    assert source.query_files("SELECT COUNT(*) FROM orders")[0][0] == len(source.table("orders"))
