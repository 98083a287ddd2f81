"""The one planner (dagster_project/planning.py), in process: a landing dir and a warehouse state worked
out by hand, and which months and ledgers are planned, and why. The sensors and `zengshou run` both
act on this plan (tests/test_orchestration.py, tests/knownanswer/test_damaged_exports.py)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.ingest.load_state import SERVING_STEP, record_state, remember_file_hashes
from dagster_project.ingest.readers import FileStamp, HashedFile
from dagster_project.ingest.warehouse import connect
from dagster_project.planning import HR, MARTS, MONITORING, RELIEF, WarehouseState, plan, read_state

NOW = time.time()
OLD = NOW - 3600  # written an hour ago: settled
SETTLE = 600.0
MEMBERS = dg.AssetKey(["raw", "monitoring_members"])
HOUSEHOLDS = dg.AssetKey(["raw", "monitoring_households"])


def _write(landing: Path, rel: str, content: bytes, mtime: float = OLD) -> str:
    """Write a landed file (the planner never parses it) and return its sha256."""
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def landing(tmp_path: Path) -> tuple[Path, WarehouseState]:
    """The landing dir, and what the warehouse's latest attempts read:

    monitoring/2023-01  members loaded as is, households changed since  → households only
    monitoring/2023-02  both loaded as they are                         → up to date
    monitoring/2023-03  members only (never loaded)                     → problem; members, complete=False
    monitoring/2023-04  members.csv and members.xlsx                    → problem (ambiguous), nothing
    monitoring/2023-05  households written just now                     → waiting, nothing (not hashed)
    monitoring/2019-05  before the first partition (2021-01)            → problem, nothing
    monitoring/2021-9   not a month folder                              → skipped
    relief/2023/2023-06.csv  loaded as is (rejected then: still loaded) → nothing
    relief/2023/2023-09.csv  new                                        → ledger
    relief/2024/2024-01.csv  new, written just now                      → waiting ledger
    """
    root = tmp_path / "landing"
    m01 = _write(root, "monitoring/2023-01/members.csv", b"m 2023-01")
    _write(root, "monitoring/2023-01/households.csv", b"h 2023-01 restated")
    m02 = _write(root, "monitoring/2023-02/members.csv", b"m 2023-02")
    h02 = _write(root, "monitoring/2023-02/households.csv", b"h 2023-02")
    _write(root, "monitoring/2023-03/members.csv", b"m 2023-03")
    _write(root, "monitoring/2023-04/members.csv", b"m 2023-04")
    _write(root, "monitoring/2023-04/members.xlsx", b"m 2023-04 again")
    _write(root, "monitoring/2023-04/households.csv", b"h 2023-04")
    _write(root, "monitoring/2023-05/members.csv", b"m 2023-05")
    _write(root, "monitoring/2023-05/households.csv", b"h 2023-05", mtime=NOW - 5)
    _write(root, "monitoring/2019-05/members.csv", b"m 2019-05")
    _write(root, "monitoring/2019-05/households.csv", b"h 2019-05")
    _write(root, "monitoring/2021-9/members.csv", b"m 2021-9")
    r06 = _write(root, "relief/2023/2023-06.csv", b"ledger 2023-06")
    _write(root, "relief/2023/2023-09.csv", b"ledger 2023-09")
    _write(root, "relief/2024/2024-01.csv", b"ledger 2024-01", mtime=NOW - 5)
    state = WarehouseState(
        loaded={("monitoring.members", "2023-01"): m01,
                ("monitoring.households", "2023-01"): hashlib.sha256(b"h 2023-01").hexdigest(),
                ("monitoring.members", "2023-02"): m02, ("monitoring.households", "2023-02"): h02,
                ("relief.projects", "2023/2023-06.csv"): r06},
        raw_state="5:0123456789abcdef",
        marts_outdated="raw tables changed since the marts were last published")
    return root, state


def _hashes_read(root: Path) -> tuple[list[str], object]:
    """A ``sha256`` for ``plan`` that records which files it read."""
    read: list[str] = []

    def sha256(path: Path) -> str:
        read.append(path.relative_to(root).as_posix())
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return read, sha256


def test_the_plan_of_a_landing_dir_worked_by_hand(landing: tuple[Path, WarehouseState]) -> None:
    root, state = landing
    hashed, sha256 = _hashes_read(root)
    todo = plan(state, root, settle=SETTLE, now=NOW, sha256=sha256)

    assert [(m.month, m.asset_keys, m.complete) for m in todo.months] == [
        ("2023-01", [HOUSEHOLDS], True),
        ("2023-03", [MEMBERS], False),
    ]
    assert todo.months[0].sha256 == (hashlib.sha256(b"h 2023-01 restated").hexdigest(),)
    assert todo.up_to_date == ["2023-02"]
    assert todo.problems == [
        "monitoring/2019-05: not a partition of the monitoring assets (2021-01 … next month)",
        "monitoring/2023-03: the households file has not landed (households.csv, .xlsx or .xls)",
        "monitoring/2023-04: more than one members file (members.csv, members.xlsx); keep one and run again",
    ]
    assert todo.skipped == ["monitoring/2021-9: skipped: not a month folder (the name must be YYYY-MM, e.g. 2021-09)"]
    assert [ld.file.partition_key for ld in todo.ledgers] == ["2023/2023-09.csv"]
    assert [ld.file.partition_key for ld in todo.ledgers_waiting] == ["2024/2024-01.csv"]
    assert len(todo.waiting) == 2
    assert todo.waiting[0].startswith("monitoring/2023-05/households.csv: still being written (modified 5 s ago")
    assert todo.waiting[1].startswith("relief/2024/2024-01.csv: still being written")
    assert todo.hr_pull_due  # incremental: always due when asked for
    assert todo.marts_outdated == "raw tables changed since the marts were last published"
    assert todo.raw_state == "5:0123456789abcdef"
    # A month with a file still being copied is not read at all; each other file once.
    assert "monitoring/2023-05/members.csv" not in hashed and "monitoring/2023-05/households.csv" not in hashed
    assert len(hashed) == len(set(hashed)) == 8  # 2023-01, -02: 2 each; 2023-03: 1; 3 ledgers


def test_a_scope_reads_only_its_own_source(landing: tuple[Path, WarehouseState]) -> None:
    """A sensor asks about its own source: the monitoring sensor hashes no ledger, the marts sensor no file."""
    root, state = landing
    monitoring = plan(state, root, scope={MONITORING}, settle=SETTLE, now=NOW)
    assert [m.month for m in monitoring.months] == ["2023-01", "2023-03"]
    assert not monitoring.ledgers and not monitoring.ledgers_waiting
    assert not monitoring.hr_pull_due and monitoring.marts_outdated is None
    assert all(p.parts[len(root.parts)] == "monitoring" for p in monitoring.hashed)

    relief = plan(state, root, scope={RELIEF}, settle=SETTLE, now=NOW)
    assert not relief.months and not relief.problems and not relief.skipped
    assert [ld.file.partition_key for ld in relief.ledgers] == ["2023/2023-09.csv"]

    marts = plan(state, root, scope={MARTS}, settle=SETTLE, now=NOW)
    assert marts.hashed == {} and not marts.months and not marts.ledgers and not marts.hr_pull_due
    assert marts.marts_outdated == state.marts_outdated

    assert plan(state, root, scope={HR}, settle=SETTLE, now=NOW).hr_pull_due


def test_once_everything_is_loaded_and_published_nothing_is_to_do(landing: tuple[Path, WarehouseState]) -> None:
    root, state = landing
    loaded = dict(state.loaded)
    for rel, key in (("monitoring/2023-01/households.csv", ("monitoring.households", "2023-01")),
                     ("monitoring/2023-03/members.csv", ("monitoring.members", "2023-03")),
                     ("relief/2023/2023-09.csv", ("relief.projects", "2023/2023-09.csv"))):
        loaded[key] = hashlib.sha256((root / rel).read_bytes()).hexdigest()
    current = WarehouseState(loaded, state.raw_state, marts_outdated=None)
    todo = plan(current, root, scope={MONITORING, RELIEF, MARTS}, settle=0, now=NOW)
    # settle=0: 2023-05 and the 2024 ledger are no longer being copied, and were never loaded.
    assert [(m.month, m.asset_keys) for m in todo.months] == [("2023-05", [MEMBERS, HOUSEHOLDS])]
    assert [ld.file.partition_key for ld in todo.ledgers] == ["2024/2024-01.csv"]
    assert todo.up_to_date == ["2023-01", "2023-02"] and not todo.waiting
    assert todo.problems[1].startswith("monitoring/2023-03: the households file has not landed")

    (root / "monitoring/2023-05").rename(root / "2023-05-elsewhere")
    (root / "relief/2024/2024-01.csv").unlink()
    assert plan(current, root, scope={MONITORING, RELIEF, MARTS}, settle=0, now=NOW).nothing_to_do


def test_read_state_of_a_real_warehouse(tmp_path: Path) -> None:
    """What read_state takes from meta: the latest attempt per partition (published or rejected), the
    digest of the published batches, and whether the marts were published from that digest."""
    warehouse = tmp_path / "wh" / "zengshou.duckdb"
    assert read_state(warehouse) == WarehouseState()  # no warehouse: nothing loaded, marts to build
    assert read_state(warehouse).marts_outdated == "no warehouse yet"

    insert = ("INSERT INTO meta.load_batches (batch_id, source, partition_key, file_sha256, rows_read, rows_loaded,"
              " rows_quarantined, status, loaded_at) VALUES (?, ?, ?, ?, 1, 1, 0, ?, ?)")
    with connect(warehouse) as con:
        con.execute(insert, ["b1", "monitoring.members", "2023-01", "aaa", "published", "2024-01-01 10:00"])
        con.execute(insert, ["b2", "monitoring.members", "2023-01", "bbb", "rejected", "2024-02-01 10:00"])
        con.execute(insert, ["b3", "relief.projects", "2023/2023-06.csv", "ccc", "published", "2024-01-05 10:00"])
    state = read_state(warehouse)
    assert state.loaded == {("monitoring.members", "2023-01"): "bbb", ("relief.projects", "2023/2023-06.csv"): "ccc"}
    digest = hashlib.md5(b"b1,b3").hexdigest()[:16]  # published batches, by id
    assert state.raw_state == f"2:{digest}"
    assert state.marts_outdated == "the marts have not been built and published from this warehouse yet"

    with connect(warehouse) as con:
        record_state(con, SERVING_STEP, f"2:{digest}")
    assert read_state(warehouse, wait=False).marts_outdated is None


def test_a_file_whose_stamp_is_unchanged_is_not_read_again(landing: tuple[Path, WarehouseState]) -> None:
    """What `zengshou run` keeps in meta.file_hashes (and a sensor in its cursor) is reused while the
    file's stamp is the one recorded: month 60 reads month 60's files, not the 59 months before. A file
    rewritten with another content of the same size, its mtime set back (`cp -p`, `rsync -a`), has
    another ctime: it is read, and its month planned as the re-export it is."""
    root, state = landing
    first = plan(state, root, scope={MONITORING}, settle=SETTLE, now=NOW)
    assert all(h.stamp == FileStamp.of(p) for p, h in first.hashed.items())
    assert {p.relative_to(root).as_posix() for p in first.hashed} == {
        "monitoring/2023-01/members.csv", "monitoring/2023-01/households.csv", "monitoring/2023-02/members.csv",
        "monitoring/2023-02/households.csv", "monitoring/2023-03/members.csv"}

    remembered = WarehouseState(state.loaded, file_hashes=first.hashed)
    read, sha256 = _hashes_read(root)
    again = plan(remembered, root, scope={MONITORING}, settle=SETTLE, now=NOW, sha256=sha256)
    assert read == []
    assert [(m.month, m.asset_keys) for m in again.months] == [("2023-01", [HOUSEHOLDS]), ("2023-03", [MEMBERS])]
    assert again.up_to_date == ["2023-02"] and again.hashed == first.hashed

    # 2023-02's households re-exported: "h 2023-02" → "h 2023-0X" (9 bytes both), the old mtime put back.
    path = root / "monitoring/2023-02/households.csv"
    before = FileStamp.of(path)
    time.sleep(0.01)  # a later ctime, also on file systems that keep it in coarse steps
    _write(root, "monitoring/2023-02/households.csv", b"h 2023-0X", mtime=OLD)
    after = FileStamp.of(path)
    assert (after.size, after.mtime_ns) == (before.size, before.mtime_ns) and after.ctime_ns != before.ctime_ns
    read, sha256 = _hashes_read(root)
    changed = plan(remembered, root, scope={MONITORING}, settle=SETTLE, now=NOW, sha256=sha256)
    assert read == ["monitoring/2023-02/households.csv"]
    assert [(m.month, m.asset_keys) for m in changed.months] == [
        ("2023-01", [HOUSEHOLDS]), ("2023-02", [HOUSEHOLDS]), ("2023-03", [MEMBERS])]
    assert changed.months[1].sha256 == (hashlib.sha256(b"h 2023-0X").hexdigest(),)


def test_a_file_that_changes_while_it_is_read_is_not_remembered(landing: tuple[Path, WarehouseState]) -> None:
    """Its hash is of the content read, but no stamp goes with it: the next plan reads it again."""
    root, state = landing
    target = root / "monitoring/2023-02/members.csv"

    def sha256(path: Path) -> str:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if path == target:
            path.write_bytes(b"m 2023-02 and more")  # the copy goes on while the planner reads
        return digest

    todo = plan(state, root, scope={MONITORING}, settle=SETTLE, now=NOW, sha256=sha256)
    assert todo.hashed[target].stamp is None
    assert todo.hashed[target].sha256 == hashlib.sha256(b"m 2023-02").hexdigest()
    assert all(h.stamp is not None for p, h in todo.hashed.items() if p != target)


def test_file_hashes_kept_in_the_warehouse(tmp_path: Path, landing: tuple[Path, WarehouseState]) -> None:
    """remember_file_hashes replaces meta.file_hashes with a plan's hashes (without the unstamped ones);
    read_state gives them back as the planner takes them."""
    root, state = landing
    todo = plan(state, root, scope={MONITORING, RELIEF}, settle=SETTLE, now=NOW)
    unstamped = root / "monitoring/2023-01/members.csv"
    kept = {p: h for p, h in todo.hashed.items() if p != unstamped}
    warehouse = tmp_path / "wh" / "zengshou.duckdb"
    with connect(warehouse) as con:
        assert remember_file_hashes(con, {**kept, unstamped: HashedFile(None, "0" * 64)}) == 7
    assert read_state(warehouse).file_hashes == kept
    with connect(warehouse) as con:
        assert remember_file_hashes(con, {}) == 0  # replaced, not added to
    assert read_state(warehouse).file_hashes == {}
