"""Build an expensive session fixture once per test session, also when xdist runs the tests on several
workers (`make test`: ``pytest -n 2 --dist loadfile``).

With ``--dist loadfile`` the test files sharing a session fixture (the known-answer runs, the HR runs, the
demo pipeline) may be handed to different workers, and each worker process has its own session. This is
pytest-xdist's documented recipe for that ("Making session-scoped fixtures execute only once"): the first
worker to ask builds under a file lock in the directory all workers share (the parent of each worker's
base temp dir), writes the result as JSON, and the others wait for the lock and read it. Only public
pytest / pytest-xdist API: ``tmp_path_factory`` and the ``PYTEST_XDIST_WORKER`` variable.

The built directory is then read by several processes at once, so what is built must only be read
(read-only DuckDB connections coexist); a test that writes copies it first.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], dict]) -> tuple[Path, dict]:
    """``build(root)`` once per session; returns ``root`` and what ``build`` returned (JSON-able)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        root = tmp_path_factory.mktemp(name)
        return root, build(root)
    shared = tmp_path_factory.getbasetemp().parent / f"once-{name}"
    with (shared.parent / f"once-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = shared / "built.json"
        if done.exists():
            return shared, json.loads(done.read_text(encoding="utf-8"))
        shared.mkdir(exist_ok=True)
        result = build(shared)
        done.write_text(json.dumps(result), encoding="utf-8")
        return shared, result
