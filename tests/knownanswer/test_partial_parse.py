"""dbt parses partially from the second build on a warehouse, and the months to rebuild reach dbt through
meta.dbt_rebuild_request (month_plan.request_build, dbt/macros/rebuild_months.sql).

Why it matters: a full parse of the project costs ≈ 4 s of CPU in every dbt invocation. dbt falls back
to one when the CLI vars or the profile (which names the warehouse) differ from those of the
partial-parse file it finds, and says so: "Unable to do partial parsing because …". The months used to
be the value of a var, different every build; now the var is constant and the months are in a table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project import dbt_manifest, dbt_partial_parse
from dagster_project.month_plan import MonthRebuild, RebuildPlan, months_rebuilt, request_build
from tests.incremental_build import run_dbt

from .conftest import Published

UNABLE = "Unable to do partial parsing"


def test_second_build_on_a_warehouse_parses_partially(main_run: Published, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The transform asset twice on a copy of the known-answer warehouse (in process, the real asset and
    resources): the first build of a new warehouse parses in full and keeps its partial-parse file, named
    by the warehouse path; the second, rebuilding another month, parses partially. dbt's log of each
    build (its stdout lines and the debug ones) is read from the run's target dir before the asset
    removes it."""
    from dagster_project.assets import transform
    from dagster_project.resources import build_resources
    from dagster_project.settings import load_settings

    main_run.require_ok()
    warehouse, env = main_run.scenario.warehouse_copy(tmp_path)
    monkeypatch.setattr(dbt_partial_parse, "PARTIAL_PARSE_DIR", tmp_path / "kept")
    logs: list[str] = []
    keep = transform.keep_partial_parse

    def read_log_then_keep(wh: Path, target: Path, warn) -> bool:
        logs.append((target / "dbt.log").read_text(encoding="utf-8"))
        return keep(wh, target, warn)

    monkeypatch.setattr(transform, "keep_partial_parse", read_log_then_keep)
    # the debug log file the build writes into its target dir only when asked (settings.DBT_NO_LOG_FILE)
    monkeypatch.setattr(transform, "BUILD_ARGS", [*transform.BUILD_ARGS, "--log-level-file", "debug"])
    resources = build_resources(load_settings(env))
    kept = tmp_path / "kept" / f"{hashlib.sha256(str(warehouse.resolve()).encode()).hexdigest()[:16]}.msgpack"

    assert dg.materialize([transform.zengshou_dbt], resources=resources).success
    assert UNABLE in logs[0]                      # a new warehouse: nothing to reuse
    assert kept.is_file() and list(kept.parent.iterdir()) == [kept]

    # 2023-03 re-exported (a new batch): the second build rebuilds another list of months than the first
    # (none), which as the value of a var made dbt parse in full
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE meta.load_batches SET batch_id = batch_id || '-again'"
                    " WHERE source = 'monitoring.members' AND partition_key = '2023-03'")
    assert dg.materialize([transform.zengshou_dbt], resources=resources).success
    assert UNABLE not in logs[1], [line for line in logs[1].splitlines() if UNABLE in line]
    assert "Partial parsing enabled" in logs[1]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert months_rebuilt(con) == [(dt.date(2023, 3, 1), "re-exported")]


def test_kept_files_are_at_most_sixteen_the_newest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """18 warehouses built one after the other: the files of the two built first are dropped."""
    monkeypatch.setattr(dbt_partial_parse, "PARTIAL_PARSE_DIR", tmp_path / "kept")
    target = tmp_path / "target"
    target.mkdir()
    warnings: list[str] = []
    for i in range(18):
        (target / "partial_parse.msgpack").write_bytes(f"parse {i}".encode())
        assert dbt_partial_parse.keep_partial_parse(tmp_path / f"wh{i}.duckdb", target, warnings.append)
        kept = dbt_partial_parse.kept_partial_parse(tmp_path / f"wh{i}.duckdb")
        # distinct mtimes, oldest first, whatever the file system's resolution
        mtime = 1_700_000_000 + i
        os.utime(kept, (mtime, mtime))
    left = sorted(p.read_text() for p in (tmp_path / "kept").iterdir())
    assert left == sorted(f"parse {i}" for i in range(2, 18)) and warnings == []

    # a temp file a killed process left two hours ago goes, one being written now stays
    stale, fresh = tmp_path / "kept" / ".abc.1.tmp", tmp_path / "kept" / ".abc.2.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (stale.stat().st_mtime - 7200,) * 2)
    assert dbt_partial_parse.keep_partial_parse(tmp_path / "wh17.duckdb", target, warnings.append)
    assert not stale.exists() and fresh.exists()
    fresh.unlink()

    run = tmp_path / "run"
    assert dbt_partial_parse.restore_partial_parse(tmp_path / "wh17.duckdb", run, warnings.append)
    assert (run / "partial_parse.msgpack").read_text() == "parse 17"
    assert not dbt_partial_parse.restore_partial_parse(tmp_path / "wh0.duckdb", tmp_path / "run0", warnings.append)
    assert not (tmp_path / "run0").exists() and warnings == []


def test_a_failed_copy_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept folder cannot be written (a file stands where it should be): the copy fails, says so."""
    (tmp_path / "kept").write_text("not a folder")
    monkeypatch.setattr(dbt_partial_parse, "PARTIAL_PARSE_DIR", tmp_path / "kept")
    (tmp_path / "partial_parse.msgpack").write_bytes(b"parse")
    warnings: list[str] = []
    assert not dbt_partial_parse.keep_partial_parse(tmp_path / "wh.duckdb", tmp_path, warnings.append)
    assert len(warnings) == 1 and "not kept" in warnings[0]


TAMPERED = "tampered"
MONTHS = {dt.date(2022, 3, 1), dt.date(2022, 12, 1), dt.date(2023, 1, 1), dt.date(2023, 3, 1)}


def test_the_request_table_rebuilds_exactly_its_months(main_run: Published, tmp_path: Path) -> None:
    """dbt-level, two by-month marts of the known-answer warehouse (kpi_scorecard by month,
    fct_employment_duration by year): every row is marked, then each `dbt run` below must restore
    exactly the months (years) it was asked for and leave the others' marks alone."""
    main_run.require_ok()
    warehouse, env = main_run.scenario.warehouse_copy(tmp_path)
    target = tmp_path / "target"
    models = ("--select", "kpi_scorecard", "fct_employment_duration")

    def mark_all_and_request(months: list[dt.date]) -> list[str]:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(f"UPDATE marts.kpi_scorecard SET kpi_label_zh = '{TAMPERED}'")
            con.execute("UPDATE marts.fct_employment_duration SET months_worked = -1")
            return request_build(con, RebuildPlan([MonthRebuild(m, "test") for m in months]))

    def restored() -> tuple[set[dt.date], set[int]]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert {r[0] for r in con.execute("SELECT DISTINCT as_of_month FROM marts.kpi_scorecard")
                    .fetchall()} == MONTHS
            months = {r[0] for r in con.execute(
                f"SELECT DISTINCT as_of_month FROM marts.kpi_scorecard WHERE kpi_label_zh <> '{TAMPERED}'")
                .fetchall()}
            years = {r[0] for r in con.execute(
                "SELECT DISTINCT year FROM marts.fct_employment_duration WHERE months_worked <> -1").fetchall()}
        return months, years

    # the months of the table
    args = mark_all_and_request([dt.date(2022, 12, 1), dt.date(2023, 3, 1)])
    assert args == ["--vars", '{"rebuild_months_from": "meta.dbt_rebuild_request"}']
    run_dbt(env, target, "run", *models, *args)
    assert restored() == ({dt.date(2022, 12, 1), dt.date(2023, 3, 1)}, {2022, 2023})
    args = mark_all_and_request([dt.date(2023, 1, 1)])
    run_dbt(env, target, "run", *models, *args)
    assert restored() == ({dt.date(2023, 1, 1)}, {2023})

    # an empty table: no month (as the empty list)
    run_dbt(env, target, "run", *models, *mark_all_and_request([]))
    assert restored() == (set(), set())

    # a hand-given list wins over the table
    mark_all_and_request([dt.date(2023, 1, 1)])
    run_dbt(env, target, "run", *models, "--vars",
            '{"rebuild_months": ["2022-03-01"], "rebuild_months_from": "meta.dbt_rebuild_request"}')
    assert restored() == ({dt.date(2022, 3, 1)}, {2022})

    # without either var the table (say, left behind by a killed run) is not read: every month
    mark_all_and_request([dt.date(2023, 1, 1)])
    run_dbt(env, target, "run", *models)
    assert restored() == (MONTHS, {2022, 2023})


def test_the_freshness_walk_never_enters_the_build_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ensure_manifest's walk over the project (is the manifest older than a source?) must not enter
    dbt/target or dbt/logs: every build removes its own target dir there when it ends, and a walk meeting
    one that vanished raised FileNotFoundError in a `zengshou run` loading the definitions (3 test workers).
    Here every listing under target/ or logs/ fails as a vanished folder would; the newest source is a
    model written by hand with a known mtime."""
    project = tmp_path / "dbt"
    (project / "models").mkdir(parents=True)
    (project / "target" / "run-gone" / "run").mkdir(parents=True)
    (project / "logs").mkdir()
    model = project / "models" / "m.sql"
    model.write_text("select 1")
    os.utime(model, (1_700_000_100, 1_700_000_100))
    (project / "target" / "run-gone" / "run" / "x.sql").write_text("select 2")  # newer, but not a source
    (tmp_path / "seeds").mkdir()
    seed = tmp_path / "seeds" / "s.csv"
    seed.write_text("a\n1\n")
    os.utime(seed, (1_700_000_000, 1_700_000_000))
    monkeypatch.setattr(dbt_manifest, "DBT_PROJECT_DIR", project)
    real_scandir = os.scandir

    def scandir(path=".") -> object:
        if {"target", "logs"} & set(Path(path).parts[len(project.parts):]):
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert dbt_manifest._newest_source_mtime() == 1_700_000_100
