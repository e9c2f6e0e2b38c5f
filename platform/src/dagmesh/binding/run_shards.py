"""A new run's event-log file, copied from a template instead of built by Alembic.

Dagster's SQLite event log keeps one database file per run and builds each one anew: create the tables,
then read its Alembic scripts to check and stamp the revision. That is 65 ms per run on a quiet machine
(250 ms under load), paid by every run of `dagmesh run` and of the UI. The template is built that same
way, once per Dagster version and storage folder, and each new run's file is a copy of it. The copy is
linked into place, so it never replaces a file another process (the UI, a second run) has just made;
then the stock path checks that file as before.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from dagster.version import __version__ as dagster_version
from sqlalchemy.engine import Engine

from dagmesh.binding.sqlite_engines import local_engine

# Not `*.db`: Dagster lists a storage folder's `*.db` files as its runs.
_TEMPLATE_NAME = f".run-template-dagster-{dagster_version}.sqlite"


def copied_from_template(base_dir: str, shard_path: str, build: Callable[[Engine], None]) -> bool:
    """Make `shard_path` a copy of the template (built by `build` when missing), unless it exists:
    whether it is the copy, so already at Dagster's current revision."""
    shard = Path(shard_path)
    if shard.exists():
        return False
    template = _template(Path(base_dir), build)
    staged = shard.with_name(f".{shard.name}.{os.getpid()}.{threading.get_ident()}.copy")
    try:
        shutil.copyfile(template, staged)
        os.link(staged, shard)
    except FileExistsError:
        return False
    finally:
        staged.unlink(missing_ok=True)
    return True


def _template(base_dir: Path, build: Callable[[Engine], None]) -> Path:
    template = base_dir / _TEMPLATE_NAME
    if template.exists():
        return template
    staged = base_dir / f".{_TEMPLATE_NAME}.{os.getpid()}.{threading.get_ident()}.build"
    engine = local_engine(f"sqlite:///{staged}")
    try:
        build(engine)
        with engine.connect() as conn:
            # Everything into the file itself: the copy is of the one file, not its write-ahead log.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        os.replace(staged, template)
    finally:
        engine.dispose()
        for leftover in (staged, Path(f"{staged}-wal"), Path(f"{staged}-shm")):
            leftover.unlink(missing_ok=True)
    return template
