"""Stage timings and per-stage peak memory of an in-process `zengshou run`, without touching the
pipeline's code or environment: the benchmark wraps the functions each stage calls (monkeypatching
inside the benchmark's own process) and samples the process tree's memory while they run.

Time is *exclusive*: while a nested stage runs, its parent's clock stops, so the stages add up to the
wall time of the run. Anything no wrapper claims (Dagster's own bookkeeping, imports, planning) is
``other``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator

from bench.procmem import Sampler


class Tracker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stack: list[str] = ["other"]
        self._since = time.perf_counter()
        self.seconds: dict[str, float] = defaultdict(float)
        self.peak: dict[str, int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.seconds[self._stack[-1]] += now - self._since
        self._since = now

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        with self._lock:
            self._tick()
            parent = self._stack[-1]
            path = name if parent == "other" else f"{parent}/{name}"
            self._stack.append(path)
            self.calls[path] += 1
        try:
            yield
        finally:
            with self._lock:
                self._tick()
                self._stack.pop()

    def on_sample(self, rss: int) -> None:
        with self._lock:
            top = self._stack[-1]
            self.peak[top] = max(self.peak[top], rss)

    def finish(self) -> None:
        with self._lock:
            self._tick()

    def wrap(self, fn, name: str):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.stage(name):
                return fn(*args, **kwargs)
        return wrapper

    def wrap_generator(self, fn, name: str):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.stage(name):
                yield from fn(*args, **kwargs)
        return wrapper


def patch_pipeline(tracker: Tracker) -> None:
    """Wrap the functions of each stage of `zengshou run` (import-time names, where they are looked up)."""
    from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

    from dagster_project.assets import ge_checks, hr, monitoring, relief
    from dagster_project.ingest import batch_pipeline, file_batch

    monitoring.load_landed_file = tracker.wrap(monitoring.load_landed_file, "monitoring")
    relief.load_landed_file = tracker.wrap(relief.load_landed_file, "relief")
    monitoring.unusual_values_check = tracker.wrap(monitoring.unusual_values_check, "unusual_values")
    batch_pipeline.stage_file = tracker.wrap(batch_pipeline.stage_file, "stage")
    file_batch.stage_source_file = tracker.wrap(file_batch.stage_source_file, "read")
    file_batch.file_sha256 = tracker.wrap(file_batch.file_sha256, "sha256")
    batch_pipeline.validate = tracker.wrap(batch_pipeline.validate, "ge")  # files and (nested in hr_pull) HR
    batch_pipeline.finish_batch = tracker.wrap(batch_pipeline.finish_batch, "publish")
    hr.pull_hr_platform = tracker.wrap(hr.pull_hr_platform, "hr_pull")
    # GE suites run as checks on published tables: the marts and (since) the HR raw tables.
    ge_checks.validate = tracker.wrap(ge_checks.validate, "ge_marts")
    DbtCliInvocation.stream = tracker.wrap_generator(DbtCliInvocation.stream, "dbt_build")
    try:  # the marts published for BI and the KPI report (present in newer versions of the pipeline)
        from dagster_project.assets import report, serving

        serving.publish_serving_file = tracker.wrap(serving.publish_serving_file, "publish_marts")
        serving.publish_postgres = tracker.wrap(serving.publish_postgres, "publish_marts")
        report.write_report = tracker.wrap(report.write_report, "report")
        report.load_report_data = tracker.wrap(report.load_report_data, "report")
    except (ImportError, AttributeError):
        pass


# Stage path (exclusive time) -> the stages of the issue. "stage" is stage_file minus its parse: one
# statement that shapes the parsed rows (trim, rename), joins the county codes and computes the rule
# flags into the landing table — the loader's own work (its rule-flag share is measured apart, see
# BENCHMARKS.md). Validation is Great Expectations on every batch and on the marts plus the
# unusual-values warning check.
def category(path: str) -> str:
    leaf = path.rsplit("/", 1)[-1]
    if leaf in ("read", "sha256", "stage", "monitoring", "relief"):
        return "load"
    if leaf in ("ge", "ge_marts", "unusual_values"):
        return "validation"
    if leaf in ("publish", "publish_marts"):
        return "publish"
    if leaf in ("dbt_build", "hr_pull"):
        return leaf
    return "other"


CATEGORIES = ("load", "validation", "publish", "hr_pull", "dbt_build", "other")


def categorise(stages: dict[str, dict]) -> dict:
    """Roll stage paths ({path: {seconds, peak_bytes}}) up into the issue's stages and into leaves."""
    by_cat: dict[str, dict] = {c: {"seconds": 0.0, "peak_bytes": 0} for c in CATEGORIES}
    leaves: dict[str, dict] = {}
    for path, v in stages.items():
        for bucket in (by_cat[category(path)], leaves.setdefault(path.rsplit("/", 1)[-1],
                                                                   {"seconds": 0.0, "peak_bytes": 0})):
            bucket["seconds"] += v["seconds"]
            bucket["peak_bytes"] = max(bucket["peak_bytes"], v["peak_bytes"])
    return {"categories": by_cat, "leaves": leaves}


def summarise(tracker: Tracker) -> dict:
    stages = {p: {"seconds": round(s, 3), "peak_bytes": tracker.peak.get(p, 0), "calls": tracker.calls.get(p, 0)}
              for p, s in sorted(tracker.seconds.items())}
    return {"stages": stages, **categorise(stages)}


def sampled(tracker: Tracker, interval: float = 0.2) -> Sampler:
    return Sampler(os.getpid(), interval, on_sample=tracker.on_sample)
