"""Source systems a source-aligned product can ingest from."""

from dagmesh.storage.sources.tpch import TpchSource

__all__ = ["TpchSource"]
