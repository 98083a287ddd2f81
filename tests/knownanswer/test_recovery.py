"""Faults during `zengshou run` (issue 13 #1): the next run converges to what a clean run gives.

run 1   2022-03, 2022-12, 2023-01                                  -> exit 0
run 2   2023-03 lands; the run is killed (SIGKILL to its whole process group, as an OOM kill or a
        power cut would) while dbt builds                            -> marts still without 2023-03
run 3   nothing new in the landing dir                                -> exit 0, marts rebuilt: 2023-03
        is in marts.kpi_scorecard and in the serving file, values as on paper
run 4   started while run 3 holds the warehouse (two `zengshou run` at once) -> says in one line that the
        warehouse is in use and exits 1; run 3 finishes normally (all four months in the marts)
run 5   nothing new                                                   -> exit 0, nothing to do: nothing lost
full disk: another copy of run 1, 2023-03 landed, the disk fills during dbt -> exit 1; space freed, the
        next run converges
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from . import scenario as sc
from .checks import mismatches, report
from .conftest import Published, copy_of
from .landing import Landing
from .pipeline import REPO_ROOT, ZENGSHOU, RunResult, Scenario, _locked, query, run_pipeline, scorecard

pytestmark = pytest.mark.slow

MARCH = sc.AS_OF["2023-03"]


def _descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process below ``pid`` (from /proc, no extra package needed)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                cmd = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                cmd = ""
            out.append((child, cmd))
            todo.append(child)
    return out


def _start_run(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(ZENGSHOU), "run"], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def _holds(lock_file: Path, proc: subprocess.Popen) -> bool:
    """``proc`` holds the warehouse lock: its pid in the lock file (the holder writes it there). Not just
    "zengshou run": a copied scenario's lock file names the process of the template's last run."""
    return lock_file.exists() and f"pid {proc.pid}, zengshou run" in lock_file.read_text()


def _serving_months(warehouse: Path) -> set[str]:
    serving = warehouse.with_name("zengshou_serving.duckdb")
    if not serving.exists():
        return set()
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return {str(r[0]) for r in con.execute("select distinct as_of_month from marts.kpi_scorecard").fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def three_months_loaded(three_months: Published) -> Path:
    """Run 1 (2022-03, 2022-12, 2023-01 -> exit 0): the scenario root (landing dir + warehouse dir) that
    the kill and the full-disk tests each copy and go on from (conftest.copy_of). It is the session's
    ``three_months``, run 1 of test_lifecycle too (each of these tests ran this same first run itself
    before). Run 1 is on an in-memory Dagster instance, as in test_lifecycle, no longer a persistent one:
    the copies never saw run 1's instance (each has a new Dagster home), only its landing and warehouse
    files, which the instance does not change."""
    assert three_months.run.returncode == 0, three_months.run.tail()
    return three_months.scenario.root


def _copy_of(template: Path, root: Path, warehouse_dir: Path | None = None) -> tuple[Scenario, Landing]:
    """A copy of the template with a Dagster home of its own: the fault runs and their reruns are on
    a persistent instance, as `make demo` and the daemon run."""
    return copy_of(template, root, keep_runs=True, warehouse_dir=warehouse_dir)


@pytest.fixture(scope="module")
def killed_then_rerun(three_months_loaded: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run 2 killed during dbt; run 3, the rerun, with run 4 started while run 3 holds the warehouse (two
    runs at once); run 5 after them. The two-runs test had a copy of its own to go on from, with the same
    2023-03 landing: its first run loaded the month and rebuilt the marts while the second tried, and a
    third run followed (≈ 25 s more); here the rerun is that first run, and run 5 the third of both tests."""
    scenario, landing = _copy_of(three_months_loaded, tmp_path_factory.mktemp("recovery"))

    sc.build(landing, months=("2023-03",))
    proc = _start_run(scenario.env())
    try:
        _wait_for(lambda: proc.poll() is not None or any(" build" in cmd and "dbt" in cmd
                                                         for _, cmd in _descendants(proc.pid)),
                  600, "`zengshou run` to start dbt build")
        assert proc.poll() is None, f"the run ended before dbt started: {proc.communicate()}"
        time.sleep(1.0)  # dbt has opened the warehouse and is building
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    after_kill = {str(r["m"]) for r in query(scenario.warehouse,
                                             "select distinct as_of_month m from marts.kpi_scorecard")}

    lock_file = scenario.warehouse.with_name(scenario.warehouse.name + ".lock")
    first = _start_run(scenario.env())
    try:
        _wait_for(lambda: first.poll() is not None or _holds(lock_file, first), 300,
                  "the rerun to hold the warehouse")
        second = subprocess.run([str(ZENGSHOU), "run"], env=scenario.env(), cwd=REPO_ROOT, capture_output=True,
                                text=True, timeout=300)
        out, err = first.communicate(timeout=900)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    rerun = RunResult(first.returncode, out, err)
    # as run_pipeline: nothing outlives the CLI holding the warehouse (run 5 would find it locked)
    _wait_for(lambda: not _locked(scenario.warehouse), 300, "the warehouse to be released after the rerun")
    third = run_pipeline(scenario)
    return {"scenario": scenario, "after_kill": after_kill, "rerun": rerun, "second": second, "third": third}


def test_kill_during_dbt_left_the_marts_without_the_month(killed_then_rerun: dict) -> None:
    # The premise: the kill happened before the new month reached the marts.
    assert MARCH not in killed_then_rerun["after_kill"]


def test_the_next_run_rebuilds_and_publishes_what_was_loaded_but_not_transformed(killed_then_rerun: dict) -> None:
    rerun, scenario = killed_then_rerun["rerun"], killed_then_rerun["scenario"]
    assert rerun.returncode == 0, rerun.tail()
    assert "marts rebuilt" in rerun.stdout, rerun.tail()
    card = scorecard(scenario.warehouse)
    assert MARCH in {k[0] for k in card}
    lines = [ln for k in sc.KPIS for ln in mismatches(card, MARCH, k)]
    assert not lines, report(lines)
    assert MARCH in _serving_months(scenario.warehouse)


def test_a_third_run_finds_nothing_to_do(killed_then_rerun: dict) -> None:
    again = killed_then_rerun["third"]
    assert again.returncode == 0, again.tail()
    assert "nothing new or changed" in again.stdout


def test_two_runs_at_once_the_second_says_so_and_nothing_is_lost(killed_then_rerun: dict) -> None:
    """The rerun above is the first run, a `zengshou run` started while it held the warehouse the second."""
    first, second = killed_then_rerun["rerun"], killed_then_rerun["second"]
    assert first.returncode == 0, first.tail(60)
    assert second.returncode == 1, second.stdout + second.stderr
    said = [ln for ln in (second.stdout + second.stderr).splitlines() if ln.strip()]
    assert len(said) == 1 and "in use by another zengshou run" in said[0] and "pid" in said[0], said
    assert "Traceback" not in second.stderr
    card = scorecard(killed_then_rerun["scenario"].warehouse)
    assert {k[0] for k in card} == {sc.AS_OF[m] for m in ("2022-03", "2022-12", "2023-01", "2023-03")}
    # what the first run did is complete: a run after it has nothing to do
    third = killed_then_rerun["third"]
    assert third.returncode == 0 and "nothing new or changed" in third.stdout, third.tail()


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 256 MiB tmpfs to fill up (needs root, as CI and the developers' machines run; skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256M", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_during_dbt_then_space_freed_the_next_run_converges(three_months_loaded: Path, tmp_path: Path,
                                                                        small_disk: Path) -> None:
    scenario, landing = _copy_of(three_months_loaded, tmp_path / "scenario", small_disk / "warehouse")

    sc.build(landing, months=("2023-03",))
    filler = small_disk / "filler.bin"
    proc = _start_run(scenario.env())
    try:
        _wait_for(lambda: proc.poll() is not None or any(" build" in cmd and "dbt" in cmd
                                                         for _, cmd in _descendants(proc.pid)),
                  600, "`zengshou run` to start dbt build")
        with filler.open("wb") as fh:  # the disk fills up while dbt writes
            try:
                while True:
                    fh.write(b"\0" * (1 << 20))
                    fh.flush()
            except OSError:
                pass
        out, err = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 1, out + err
    failed = [ln for ln in (out + err).splitlines() if ln.startswith("FAILED:")]
    assert failed and "Traceback" not in out + err, (out + err)[-3000:]

    filler.unlink()  # space freed
    rerun = run_pipeline(scenario)
    assert rerun.returncode == 0, rerun.tail()
    assert "marts rebuilt" in rerun.stdout
    card = scorecard(scenario.warehouse)
    lines = [ln for k in sc.KPIS for ln in mismatches(card, MARCH, k)]
    assert not lines, report(lines)
    assert MARCH in _serving_months(scenario.warehouse)
