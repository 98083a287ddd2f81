"""Damaged and unusual real exports (issue 13 #2, #4, #8), loaded in process on a temporary warehouse:
the loader, real DuckDB and the real Great Expectations suites — what `zengshou run` does per file, minus
dbt, which adds nothing here. Every case checks the reason and that rows read = loaded + quarantined;
where a batch fails, that the last good data of the partition stays.

Known answers come from the hand-written scenario (15 members and 6 households in 2023-03, the 2023-06
ledger of 4 projects) plus the damaged rows each test adds.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from dagster_project.ingest.batch_pipeline import load_landed_file
from dagster_project.ingest.file_batch import BatchOutcome
from dagster_project.ingest.file_sources import (
    MONITORING_HOUSEHOLDS,
    MONITORING_MEMBERS,
    LandingError,
    landing_skips,
    monitoring_file,
    not_landed_reason,
    relief_files,
)
from dagster_project.settings import Settings, load_settings

from . import scenario as sc
from .landing import HOUSEHOLD_HEADERS, MEMBER_HEADERS, FileStyle, Landing

MONTH = "2023-03"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAMAGED_ID = "530627199101019024"  # 镇雄县; Excel turns it into 530627199101019008 — both pass GB 11643


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ZENGSHOU_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(tmp_path / "warehouse" / "zengshou.duckdb"))
    monkeypatch.setenv("ZENGSHOU_PII_SALT", "damaged-exports-test")
    monkeypatch.setenv("ZENGSHOU_MAX_REJECT_RATE", "0.5")  # so a batch with one bad row still publishes
    monkeypatch.setenv("ZENGSHOU_LANDING_SETTLE_SECONDS", "0")
    (tmp_path / "landing").mkdir()
    return load_settings()


@pytest.fixture
def landing(settings: Settings) -> Landing:
    return Landing(settings.landing_dir)


def _load_month(settings: Settings, source=MONITORING_MEMBERS) -> BatchOutcome:
    landed = monitoring_file(settings.landing_dir, MONTH, source)
    assert landed is not None, f"{source.name} of {MONTH} not found"
    return _load(settings, landed)


def _load_relief(settings: Settings) -> list[BatchOutcome]:
    return [_load(settings, f) for f in relief_files(settings.landing_dir)]


def _load(settings: Settings, landed) -> BatchOutcome:
    """What the assets pass the loader (resources.WarehouseResource), here from the test's settings."""
    return load_landed_file(landed, settings.warehouse, max_reject_rate=settings.max_reject_rate,
                            memory_limit=settings.duckdb_memory_limit, lock_timeout=settings.warehouse_lock_timeout,
                            data_docs_dir=settings.data_docs_dir).outcome


def _rows(settings: Settings, sql: str, params: list | None = None) -> list[dict]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        cur = con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def _batch(settings: Settings, outcome: BatchOutcome) -> dict:
    (row,) = _rows(settings, "SELECT * FROM meta.load_batches WHERE batch_id = ?", [outcome.batch_id])
    return row


def _quarantine(settings: Settings, outcome: BatchOutcome) -> list[dict]:
    return _rows(settings, "SELECT source_row, rule, reason, original_values FROM quarantine.rejected_rows"
                           " WHERE batch_id = ? ORDER BY source_row", [outcome.batch_id])


def _accounted(settings: Settings, outcome: BatchOutcome, read: int, loaded: int, quarantined: int) -> dict:
    """The batch record says read / loaded / quarantined, they add up, and the quarantine holds them."""
    b = _batch(settings, outcome)
    assert (b["rows_read"], b["rows_loaded"], b["rows_quarantined"]) == (read, loaded, quarantined), b
    assert b["rows_read"] == b["rows_loaded"] + b["rows_quarantined"], b
    assert len(_quarantine(settings, outcome)) == quarantined
    return b


def _raw_members(settings: Settings) -> int:
    return _rows(settings, "SELECT count(*) n FROM raw.monitoring_members WHERE as_of_month = ?",
                 [f"{MONTH}-01"])[0]["n"]


def _csv_text(headers, rows, delimiter: str = ",") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows([[r.get(h, "") for h in headers] for r in rows])
    return buf.getvalue()


def _extra_member(**override: str) -> dict[str, str]:
    """A 16th person (镇雄县, household H6) not in the scenario, so the paper values of the 15 hold."""
    return sc.member_row(sc.PEOPLE["C2"], MONTH, 姓名="钱九号", 人口编号="5306270040020006909", **override)


# --------------------------------------------------------------------------------------------------
# #2 a file cut off while being copied
# --------------------------------------------------------------------------------------------------
def test_truncated_last_row_is_quarantined_as_malformed(settings: Settings, landing: Landing) -> None:
    """The copy stopped at a field boundary: the last line has 25 of 26 fields. It is not padded into a
    valid-looking row: it is quarantined as malformed_row with its line; the 15 complete rows load."""
    path = landing.month_dir(MONTH) / "members.csv"
    path.parent.mkdir(parents=True)
    last = _csv_text(MEMBER_HEADERS, [_extra_member()]).splitlines()[1]
    cut = last.rsplit(",", 1)[0]  # 25 fields, no line end
    assert len(next(csv.reader([cut]))) == 25
    path.write_text(_csv_text(MEMBER_HEADERS, sc.members_rows(MONTH)) + cut, encoding="utf-8")
    out = _load_month(settings)
    assert out.status == "published", out.reason
    _accounted(settings, out, read=16, loaded=15, quarantined=1)
    (q,) = _quarantine(settings, out)
    assert (q["source_row"], q["rule"]) == (16, "malformed_row"), q
    assert cut in q["original_values"]
    assert _raw_members(settings) == 15


def test_asset_refuses_a_file_still_being_written(settings: Settings, landing: Landing,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """No path loads a file modified less than ZENGSHOU_LANDING_SETTLE_SECONDS ago: materialising the
    month from the UI (here in process) fails with the reason and writes nothing."""
    import dagster as dg

    from dagster_project.assets.monitoring import monitoring_members

    landing.write_members(MONTH, sc.members_rows(MONTH))
    from dagster_project.resources import build_resources

    monkeypatch.setenv("ZENGSHOU_LANDING_SETTLE_SECONDS", "3600")
    result = dg.materialize([monitoring_members], partition_key=MONTH, raise_on_error=False,
                            resources=build_resources(load_settings()))
    assert not result.success
    messages = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    assert any("members.csv: still being written" in m for m in messages), messages
    assert not settings.warehouse.exists() or not _rows(
        settings, "SELECT * FROM information_schema.tables WHERE table_name = 'monitoring_members'")


# --------------------------------------------------------------------------------------------------
# #4 IDs damaged by Excel
# --------------------------------------------------------------------------------------------------
def test_numeric_id_cell_in_xlsx_is_quarantined_not_repaired(settings: Settings, landing: Landing) -> None:
    """证件号码 530627199101019024 stored as a number (openpyxl writes it as Excel would: a double) comes
    back as 5.30627199101019e+17 = 530627199101019008, which passes the check digit. The row is quarantined
    as id_damaged_by_excel, and neither number reaches raw."""
    path = landing.write_members(MONTH, [*sc.members_rows(MONTH), _extra_member(证件号码=DAMAGED_ID)],
                                 FileStyle(fmt="xlsx"))
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    col = MEMBER_HEADERS.index("证件号码") + 1
    cell = ws.cell(row=17, column=col)  # header + 15 rows + the 16th person
    assert cell.value == DAMAGED_ID
    cell.value, cell.number_format = int(DAMAGED_ID), "0"
    wb.save(path)
    out = _load_month(settings)
    assert out.status == "published", out.reason
    _accounted(settings, out, read=16, loaded=15, quarantined=1)
    (q,) = _quarantine(settings, out)
    assert (q["source_row"], q["rule"]) == (16, "id_damaged_by_excel"), q
    assert "Excel" in q["reason"]
    assert '"证件号码":"5.30627199101019e+17"' in q["original_values"].replace(" ", ""), q
    raw_ids = {r["id_number"] for r in _rows(settings, "SELECT id_number FROM raw.monitoring_members")}
    assert not raw_ids & {DAMAGED_ID, "530627199101019008"}
    assert len(raw_ids) == 15


def test_id_in_scientific_notation_in_csv_is_quarantined(settings: Settings, landing: Landing) -> None:
    """A CSV saved from Excel shows the damaged ID as 5.30627E+17: quarantined with the same reason."""
    landing.write_members(MONTH, [*sc.members_rows(MONTH), _extra_member(证件号码="5.30627E+17")])
    out = _load_month(settings)
    _accounted(settings, out, read=16, loaded=15, quarantined=1)
    assert [q["rule"] for q in _quarantine(settings, out)] == ["id_damaged_by_excel"]


def test_numeric_head_id_in_households_xlsx_is_quarantined(settings: Settings, landing: Landing) -> None:
    extra = sc.household_row("H6", MONTH, 户编号="5306270040029999", 户主姓名="钱九号", 户主证件号码=DAMAGED_ID)
    path = landing.write_households(MONTH, [*sc.households_rows(MONTH), extra], FileStyle(fmt="xlsx"))
    wb = openpyxl.load_workbook(path)
    cell = wb.active.cell(row=8, column=HOUSEHOLD_HEADERS.index("户主证件号码") + 1)
    assert cell.value == DAMAGED_ID
    cell.value = float(DAMAGED_ID)
    wb.save(path)
    out = _load_month(settings, MONITORING_HOUSEHOLDS)
    _accounted(settings, out, read=7, loaded=6, quarantined=1)
    assert [(q["source_row"], q["rule"]) for q in _quarantine(settings, out)] == [(7, "id_damaged_by_excel")]


# --------------------------------------------------------------------------------------------------
# #8 real exports
# --------------------------------------------------------------------------------------------------
def test_title_rows_above_the_header_in_csv(settings: Settings, landing: Landing) -> None:
    """Two title lines (in GB18030, as the national system writes them): the header is found on line 3
    and recorded; all 15 rows load."""
    path = landing.month_dir(MONTH) / "members.csv"
    path.parent.mkdir(parents=True)
    title = "五华区脱贫人口信息表,,,\r\n导出日期：2023-04-01\r\n"
    path.write_bytes((title + _csv_text(MEMBER_HEADERS, sc.members_rows(MONTH))).encode("gb18030"))
    out = _load_month(settings)
    assert out.status == "published", out.reason
    b = _accounted(settings, out, read=15, loaded=15, quarantined=0)
    assert (b["header_row"], b["delimiter"], b["encoding"]) == (3, "comma", "gb18030")
    assert out.header_row == 3


def test_title_rows_above_the_header_in_xlsx(settings: Settings, landing: Landing) -> None:
    path = landing.write_households(MONTH, sc.households_rows(MONTH), FileStyle(fmt="xlsx"))
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.insert_rows(1, amount=2)
    ws["A1"] = "五华区、盘龙区、镇雄县脱贫户信息表"
    ws["A2"] = "导出日期："
    ws["B2"] = "2023-04-01"
    wb.save(path)
    out = _load_month(settings, MONITORING_HOUSEHOLDS)
    assert out.status == "published", out.reason
    b = _accounted(settings, out, read=6, loaded=6, quarantined=0)
    assert b["header_row"] == 3


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "tab"), (";", "semicolon")])
def test_tab_and_semicolon_delimited_csv(settings: Settings, landing: Landing, delimiter: str, name: str) -> None:
    path = landing.month_dir(MONTH) / "members.csv"
    path.parent.mkdir(parents=True)
    path.write_text(_csv_text(MEMBER_HEADERS, sc.members_rows(MONTH), delimiter), encoding="utf-8-sig")
    out = _load_month(settings)
    assert out.status == "published", out.reason
    b = _accounted(settings, out, read=15, loaded=15, quarantined=0)
    assert b["delimiter"] == name
    ids = {r["id_number"] for r in _rows(settings, "SELECT id_number FROM raw.monitoring_members")}
    assert ids == {r["证件号码"] for r in sc.members_rows(MONTH)}


def test_old_excel_xls_ledger_is_read(settings: Settings) -> None:
    """A genuine BIFF8 .xls (tests/fixtures/make_xls.py): title row, header on row 2, the four projects
    of the 2023-06 ledger with number cells, a blank row and a 合计 row — 4 loaded, 2 skipped and counted."""
    target = settings.landing_dir / "relief" / "2023" / "2023-06.xls"
    target.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / "relief_2023-06.xls", target)
    (out,) = _load_relief(settings)
    assert out.status == "published", out.reason
    b = _accounted(settings, out, read=4, loaded=4, quarantined=0)
    assert (b["encoding"], b["header_row"], b["rows_skipped_blank"], b["rows_skipped_total"]) == ("xls", 2, 1, 1)
    got = {r["project_id"]: (r["central_funds_wan"], r["labor_remuneration_wan"], r["county_name"])
           for r in _rows(settings, "SELECT * FROM raw.relief_projects")}
    assert got == {"YGDZ-2023-001": ("100", "30", "五华区"), "YGDZ-2023-002": ("200", "50", "盘龙区"),
                   "YGDZ-2023-003": ("50", "8", "五华区"), "YGDZ-2023-005": ("30", "3", "盘龙区")}


def test_blank_and_total_rows_of_a_ledger_are_skipped_and_counted(settings: Settings, landing: Landing) -> None:
    """A CSV ledger with a fully blank row between projects and a 合 计 row at the end: neither is a
    project, neither is quarantined; both are counted in the batch record."""
    rows = [*sc.RELIEF_2023_06[:2], {}, *sc.RELIEF_2023_06[2:],
            {"年度": "合 计", "中央资金（万元）": "380", "劳务报酬发放金额（万元）": "91"}]
    landing.write_relief(2023, "2023-06", rows)
    (out,) = _load_relief(settings)
    assert out.status == "published", out.reason
    b = _accounted(settings, out, read=4, loaded=4, quarantined=0)
    assert (b["rows_skipped_blank"], b["rows_skipped_total"]) == (1, 1)
    assert [r["source_row"] for r in _rows(settings, "SELECT source_row FROM raw.relief_projects ORDER BY 1")] \
        == [1, 2, 4, 5]


def test_case_insensitive_names_lock_files_and_odd_folders(settings: Settings, landing: Landing) -> None:
    """Members.csv and HOUSEHOLDS.XLSX are the month's files; an Excel lock file beside them is ignored
    (not a second households file); a folder 2021-9 and a stray file are reported as skipped, with why."""
    folder = landing.month_dir(MONTH)
    landing.write_members(MONTH, sc.members_rows(MONTH)).rename(folder / "Members.csv")
    landing.write_households(MONTH, sc.households_rows(MONTH), FileStyle(fmt="xlsx")).rename(
        folder / "HOUSEHOLDS.XLSX")
    (folder / "~$HOUSEHOLDS.XLSX").write_bytes(b"\x00lock")
    (folder / "说明.txt").write_text("导出说明", encoding="utf-8")
    landing.write_members("2021-9", sc.members_rows("2022-03"))
    (settings.landing_dir / "relief" / "2023").mkdir(parents=True)
    (settings.landing_dir / "relief" / "2023" / "~$2023-06.xlsx").write_bytes(b"\x00lock")
    assert relief_files(settings.landing_dir) == []
    members = _load_month(settings)
    households = _load_month(settings, MONITORING_HOUSEHOLDS)
    assert (members.status, households.status) == ("published", "published")
    _accounted(settings, members, read=15, loaded=15, quarantined=0)
    _accounted(settings, households, read=6, loaded=6, quarantined=0)
    skips = landing_skips(settings.landing_dir)
    assert "monitoring/2021-9: skipped: not a month folder (the name must be YYYY-MM, e.g. 2021-09)" in skips
    assert any(s.startswith(f"monitoring/{MONTH}/~$HOUSEHOLDS.XLSX: ignored: an Excel lock file") for s in skips)
    assert any(s.startswith(f"monitoring/{MONTH}/说明.txt: skipped") for s in skips)
    assert any(s.startswith("relief/2023/~$2023-06.xlsx: ignored") for s in skips)


def test_two_members_files_for_one_month_are_ambiguous(landing: Landing, settings: Settings) -> None:
    landing.write_members(MONTH, sc.members_rows(MONTH))
    (landing.month_dir(MONTH) / "members.xlsx").write_bytes(b"")
    with pytest.raises(LandingError, match=r"monitoring/2023-03: more than one members file"):
        monitoring_file(settings.landing_dir, MONTH, MONITORING_MEMBERS)


def test_unsupported_format_is_named_not_said_missing(landing: Landing, settings: Settings) -> None:
    landing.month_dir(MONTH).mkdir(parents=True)
    (landing.month_dir(MONTH) / "members.et").write_bytes(b"WPS")
    assert monitoring_file(settings.landing_dir, MONTH, MONITORING_MEMBERS) is None
    assert not_landed_reason(settings.landing_dir, MONTH, MONITORING_MEMBERS) == (
        "monitoring/2023-03: members.et is not a supported format (save it as members.csv, .xlsx or .xls)")


def test_duplicate_header_rejects_the_batch_and_keeps_the_last_good_one(settings: Settings,
                                                                       landing: Landing) -> None:
    """Two 证件号码 columns: the loader will not choose one. The batch is rejected with the reason, all
    its rows are quarantined as batch_rejected, and the month's previous batch stays published."""
    landing.write_members(MONTH, sc.members_rows(MONTH))
    assert _load_month(settings).status == "published"
    headers = [*MEMBER_HEADERS, "证件号码"]
    path = landing.month_dir(MONTH) / "members.csv"
    rows = [[*(r[h] for h in MEMBER_HEADERS), "530102199001010000"] for r in sc.members_rows(MONTH)]
    path.write_text(_csv_text(headers, []) + "".join(",".join(r) + "\r\n" for r in rows), encoding="utf-8")
    out = _load_month(settings)
    assert out.status == "rejected"
    assert "重复列" in out.reason and "证件号码（第12、27列）" in out.reason, out.reason
    _accounted(settings, out, read=15, loaded=0, quarantined=15)
    assert {q["rule"] for q in _quarantine(settings, out)} == {"batch_rejected"}
    assert _raw_members(settings) == 15


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_header_only_file_is_an_empty_batch_rejected(settings: Settings, landing: Landing, fmt: str) -> None:
    """A file with the header and no rows: an empty batch, rejected with reason empty_file (publishing it
    would empty the month), recorded in meta.load_batches; the last good batch stays. No TypeError."""
    landing.write_households(MONTH, sc.households_rows(MONTH))
    assert _load_month(settings, MONITORING_HOUSEHOLDS).status == "published"
    landing.write_households(MONTH, [], FileStyle(fmt=fmt))
    out = _load_month(settings, MONITORING_HOUSEHOLDS)
    assert out.status == "rejected" and out.reason.startswith("empty_file"), out.reason
    _accounted(settings, out, read=0, loaded=0, quarantined=0)
    n = _rows(settings, "SELECT count(*) n FROM raw.monitoring_households")[0]["n"]
    assert n == 6


def test_sensor_notes_say_what_was_skipped(landing: Landing, settings: Settings) -> None:
    """The landing sensor's notes (its skip message in the UI) carry the same skip reasons as the run."""
    from dagster_project.orchestration.sensors import monitoring_requests

    landing.write_members("2021-9", sc.members_rows("2022-03"))
    landing.write_members(MONTH, sc.members_rows(MONTH))
    landing.write_households(MONTH, sc.households_rows(MONTH))
    (landing.month_dir(MONTH) / "~$members.xlsx").write_bytes(b"\x00lock")
    requests, _cursor, notes = monitoring_requests(settings.landing_dir, None, loaded={}, settle=0)
    assert [r.partition_key for r in requests] == [MONTH]  # the lock file is no second members file
    assert "monitoring/2021-9: skipped: not a month folder (the name must be YYYY-MM, e.g. 2021-09)" in notes
    assert any(n.startswith(f"monitoring/{MONTH}/~$members.xlsx: ignored") for n in notes), notes


def test_run_plan_fails_an_ambiguous_month_alone_and_waits_for_a_file_being_copied(
        landing: Landing, settings: Settings) -> None:
    """What `zengshou run` plans before loading (#2, #9): 2023-03 with members.csv and members.xlsx fails
    with its reason, 2022-12 whose households file was just written waits with a note, 2023-01 loads."""
    import dataclasses
    import os
    import time

    from dagster_project.runner import RunReport, _plan_months

    for month in ("2023-01", "2022-12"):
        landing.write_members(month, sc.members_rows(month))
        landing.write_households(month, sc.households_rows(month))
    landing.write_members(MONTH, sc.members_rows(MONTH)).with_suffix(".xlsx").write_bytes(b"")  # two files
    landing.write_households(MONTH, sc.households_rows(MONTH))
    old = time.time() - 3600
    for path in settings.landing_dir.rglob("*"):
        if path.is_file() and path != landing.month_dir("2022-12") / "households.csv":
            os.utime(path, (old, old))
    settings = dataclasses.replace(settings, landing_settle_seconds=600)  # settings are read once, at start
    report = RunReport()
    months = _plan_months(settings, report)  # an empty warehouse: all to load
    assert [(m, sorted(k.path[-1] for k in keys)) for m, keys in months] == [
        ("2023-01", ["monitoring_households", "monitoring_members"])]
    assert report.failures == ["monitoring/2023-03: more than one members file (members.csv, members.xlsx);"
                               " keep one and run again"]
    assert len(report.waiting) == 1 and report.waiting[0].startswith(
        "monitoring/2022-12/households.csv: still being written"), report.waiting
    assert report.exit_code == 1
    summary = report.summary().splitlines()
    assert summary[0].startswith("note: monitoring/2022-12/households.csv: still being written")
    assert summary[-1].startswith("FAILED: monitoring/2023-03: more than one members file")
