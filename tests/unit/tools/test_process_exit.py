"""`exit_now` ends the process with its status after everything a normal exit does: threads joined,
atexit handlers run, buffered output flushed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dagmesh.tools.process_exit import exit_code

PROGRAM = """
import atexit, sys, threading, time
from pathlib import Path
from dagmesh.tools.process_exit import exit_now
marker = Path(sys.argv[1])
atexit.register(lambda: marker.write_text(marker.read_text() + "atexit;"))
def late():
    time.sleep(0.3)
    marker.write_text(marker.read_text() + "thread;")
marker.write_text("")
threading.Thread(target=late).start()  # not a daemon: an exit waits for it
sys.stdout.write("unflushed output")  # no newline, no flush
sys.stderr.write("unflushed error")
exit_now({code})
"""


@pytest.mark.parametrize(("code", "status"), [(0, 0), (3, 3), (None, 0), (130, 130)])
def test_exit_now_keeps_the_status_and_what_a_normal_exit_does(tmp_path, code, status):
    marker = tmp_path / "marker"
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(code=code), str(marker)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == status, done.stderr
    assert done.stdout == "unflushed output"
    assert done.stderr == "unflushed error"
    assert marker.read_text() == "thread;atexit;"  # the thread was joined before the handlers ran


def test_a_message_as_exit_code_is_printed_and_exits_1(capsys):
    assert exit_code("something went wrong") == 1
    assert capsys.readouterr().err == "something went wrong\n"
    assert exit_code(256 + 2) == 2  # as the OS sees it


UNCLOSED = """
import sys
from dagmesh.tools.process_exit import exit_now
handle = open(sys.argv[1], "w")
handle.write("buffered, never closed")
print("last line")
exit_now(0)
"""


def test_a_file_left_open_is_flushed_and_a_failed_stdout_flush_exits_120(tmp_path):
    """What the freeing of the heap would do for an open file, and what the interpreter's exit does
    when stdout cannot be written (a full disk here)."""
    target = tmp_path / "unclosed.txt"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open(os.devnull, "w") as quiet:
        done = subprocess.run(
            [sys.executable, "-c", UNCLOSED, str(target)], stdout=quiet, env=env, timeout=60
        )
    assert done.returncode == 0
    assert target.read_text() == "buffered, never closed"
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", UNCLOSED, str(target)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
        )
    assert done.returncode == 120
    assert "No space left on device" in done.stderr
    assert target.read_text() == "buffered, never closed"
