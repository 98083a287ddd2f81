"""Memory of a process tree, read from /proc (Linux): the sum of the resident set sizes of a process
and all its descendants (dbt runs as a subprocess of `zengshou run`, so its memory counts too).

A sum of RSS counts pages shared between processes twice; for this pipeline (one Python process plus
a dbt subprocess) that overstates by the shared libraries only, a few tens of MiB.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # comm may contain spaces and parentheses: the fields after the last ')' are fixed
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def tree_pids(root: int) -> list[int]:
    children = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> int:
    return sum(rss_bytes(p) for p in tree_pids(root))


class Sampler:
    """Samples the RSS of a process tree every ``interval`` seconds in a daemon thread.

    ``on_sample(rss)`` is called with each sample (e.g. to attribute it to the current stage).
    """

    def __init__(self, root: int, interval: float = 0.2, on_sample: Callable[[int], None] | None = None):
        self.root, self.interval, self.on_sample = root, interval, on_sample
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> int:
        rss = tree_rss(self.root)
        self.peak = max(self.peak, rss)
        self.samples += 1
        if self.on_sample:
            self.on_sample(rss)
        return rss

    def __enter__(self) -> Sampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def run_sampled(argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None,
                interval: float = 0.2) -> tuple[int, float, int]:
    """Run a command; return (exit code, wall seconds, peak RSS of its process tree in bytes)."""
    import subprocess

    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd)
    sampler = Sampler(proc.pid, interval)
    with sampler:
        code = proc.wait()
    return code, time.perf_counter() - t0, sampler.peak
