"""The warehouse itself is unusable or held (issue 13 #10): `zengshou run` ends with the documented exit
code and one line naming the cause and the fix — never DuckDB's raw IOException or a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from . import scenario as sc
from .conftest import new_scenario
from .pipeline import run_cli

HOLD_OPEN = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])          # a DuckDB CLI / BI tool holding the warehouse read-write
con.execute("CREATE TABLE IF NOT EXISTS held (x INTEGER)")
print("open", flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    scenario, landing = new_scenario(tmp_path_factory.mktemp("warehouse_errors"))
    sc.build(landing, months=("2023-01",), relief=False)
    return scenario


def _one_reason(res) -> str:
    lines = [ln for ln in res.lines() if not ln.startswith("WARNING")]
    assert "Traceback" not in res.stdout + res.stderr, res.tail()
    assert len(lines) == 1, res.tail()
    return lines[0]


def test_warehouse_path_is_a_directory(small, tmp_path: Path) -> None:
    res = run_cli(["run"], small.env(ZENGSHOU_WAREHOUSE=str(tmp_path)), timeout=300)
    assert res.returncode == 2, res.tail()
    line = _one_reason(res)
    assert "ZENGSHOU_WAREHOUSE" in line and "is a directory" in line and "zengshou.duckdb" in line


def test_warehouse_path_is_not_a_duckdb_file(small, tmp_path: Path) -> None:
    not_duckdb = tmp_path / "zengshou.duckdb"
    not_duckdb.write_text("证件号码,姓名\n", encoding="utf-8")  # someone saved a CSV under the name
    res = run_cli(["run"], small.env(ZENGSHOU_WAREHOUSE=str(not_duckdb)), timeout=300)
    assert res.returncode == 2, res.tail()
    line = _one_reason(res)
    assert "not a DuckDB database file" in line and str(not_duckdb) in line
    assert not_duckdb.read_text(encoding="utf-8") == "证件号码,姓名\n"  # left as it was


def test_warehouse_folder_not_writable(small, tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1M", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:  # root ignores permission bits: a read-only filesystem is the honest case
        pytest.skip(f"cannot mount a read-only filesystem here: {mounted.stderr.strip()}")
    try:
        res = run_cli(["run"], small.env(ZENGSHOU_WAREHOUSE=str(folder / "w" / "zengshou.duckdb")), timeout=300)
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
    assert res.returncode == 2, res.tail()
    line = _one_reason(res)
    assert "not writable" in line and str(folder) in line


def test_warehouse_held_open_by_another_program(small) -> None:
    small.warehouse.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_OPEN, str(small.warehouse)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        res = run_cli(["run"], small.env(ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT="3"), timeout=300)
    finally:
        holder.kill()
        holder.wait()
    assert res.returncode == 1, res.tail()
    line = _one_reason(res)
    assert line.startswith("FAILED:") and f"process {holder.pid}" in line and "close it" in line, line
    assert "serving file" in line  # what to point BI tools at instead
