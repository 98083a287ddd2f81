"""Smoke test of the benchmark (issue 5): `bench/run.py --scale smoke --repeat 1 --no-write` runs every
part — (a) floor, (b) `zengshou run`, (c) the pandas baseline, (d) month N after a history — on a small
landing dir (the simulator's smoke scale, ≈ 3,000 people) and the KPI check between (b) and (c) passes,
with a value for each of the ten KPIs. The smoke's (d) is shortened to month 2 after month 1, and its
month 1 is (b)'s warehouse (2022-03, 2022-12, 2023-03, loaded by (b)'s `zengshou run`), so month 2 is the
next simulated month, 2023-04: two `zengshou run` processes instead of three. No timing
assertions: CI machines vary; the figures that matter are in BENCHMARKS.md, measured at province scale by
`make bench`. The smoke scale, not demo (20,000 people): the same code paths, ≈ 2 s instead of ≈ 8 s per
simulated landing dir and less to load, validate and compute in each of the two pipeline runs.

Marked ``slow`` like the other end-to-end tests (deselect with ``-m "not slow"``).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def test_bench_smoke(tmp_path: Path) -> None:
    work = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--scale", "smoke", "--repeat", "1", "--no-write",
         "--history-months", "2", "--work", str(work)],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "KPI check (b) vs (c): **equal**" in proc.stdout
    results = json.loads((work / "results.json").read_text())
    summary = results["summary"]
    for key in ("a_wall", "b_wall", "c_wall", "d_first", "d_last", "b_validation", "b_dbt_build"):
        assert summary[key] > 0, key
    assert results["check"]["equal"]
    # (d) ran on (b)'s warehouse and its run loaded exactly the one new month
    history = results["results"]["d"]
    assert history["months"] == ["2022-03", "2022-12", "2023-03", "2023-04"]
    month_2 = history["runs"]["2"][0]
    assert month_2["exit_code"] == 0 and "rebuilt 2023-04 (new month)" in month_2["summary"], month_2["summary"]
    assert len(results["check"]["kpis_with_values"]) == 10, results["check"]["kpis_with_values"]
