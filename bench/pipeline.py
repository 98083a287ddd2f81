"""(b) `zengshou run`, end to end and in-process, with wall time and peak memory per stage.

This is what ``zengshou run`` does (``dagster_project.runner.run`` with the settings from the
environment), on an ephemeral Dagster instance the benchmark keeps so it can read the step timings of
every run from the event log afterwards. The stage split (load / validation / publish / HR pull / dbt
build) comes from wrapping the functions each stage calls (bench/instrument.py); peak memory is the
RSS of this process plus its children (the dbt subprocess), sampled every 0.2 s.

Run: ``python -m bench.pipeline --json OUT`` with ZENGSHOU_LANDING_DIR / ZENGSHOU_WAREHOUSE /
ZENGSHOU_PII_SALT set, exactly as for `zengshou run`.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from bench.instrument import Tracker, patch_pipeline, sampled, summarise


def _step_stats(instance) -> list[dict]:
    out = []
    for record in instance.get_run_records():
        run = record.dagster_run
        for step in instance.get_run_step_stats(run.run_id):
            if step.start_time and step.end_time:
                out.append({"job": run.job_name, "partition": run.tags.get("dagster/partition"),
                            "step": step.step_key, "seconds": round(step.end_time - step.start_time, 3),
                            "status": str(step.status.value if step.status else None)})
    return out


def _dbt_timings(instance, top: int = 15) -> list[dict]:
    """The slowest dbt models of the run (dagster-dbt's "Execution Duration" on each materialization)."""
    out = []
    try:
        for record in instance.get_run_records():
            if record.dagster_run.job_name != "transform_marts":
                continue
            for entry in instance.all_logs(record.dagster_run.run_id):
                event = entry.dagster_event
                if event is None or not event.is_step_materialization:
                    continue
                mat = event.event_specific_data.materialization
                duration = mat.metadata.get("Execution Duration")
                if duration is not None:
                    out.append({"node": mat.asset_key.to_user_string(), "seconds": round(float(duration.value), 3)})
    except Exception as exc:  # timings are a nicety: never fail the benchmark on them
        return [{"node": f"unavailable: {exc}", "seconds": 0.0}]
    return sorted(out, key=lambda n: -n["seconds"])[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    tracker = Tracker()
    with sampled(tracker) as sampler:
        with tracker.stage("import"):
            import dagster as dg

            from dagster_project.runner import run
            from dagster_project.settings import load_settings

            patch_pipeline(tracker)
            settings = load_settings()
            instance = dg.DagsterInstance.ephemeral()
        report = run(settings, instance=instance)
        tracker.finish()
    wall = time.perf_counter() - t0
    result = {
        "wall_seconds": round(wall, 3),
        "peak_bytes": sampler.peak,
        "maxrss_self_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "maxrss_children_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
        "exit_code": report.exit_code,
        "summary": report.summary(),
        "failures": report.failures,
        "steps": _step_stats(instance),
        "dbt_nodes": _dbt_timings(instance),
        **summarise(tracker),
    }
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
