"""No personal value in marts (SPEC §4), and every export variation loads the same values (SPEC §3.1)."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from . import scenario as sc
from .checks import mismatches, report
from .conftest import Published
from .pipeline import TEST_SALT, query, scorecard, scorecard_rows

pytestmark = pytest.mark.slow


def _pii_hits(warehouse, extra: set[str] = frozenset()) -> list[str]:
    cols = query(warehouse, "select table_name, column_name from information_schema.columns "
                            "where table_schema = 'marts' and data_type = 'VARCHAR' "
                            "order by table_name, column_name")
    assert cols, "schema marts has no VARCHAR column at all?"
    secrets = sorted(sc.pii_values() | {TEST_SALT} | set(extra))
    hits = []
    for c in cols:
        values = query(warehouse, f'select distinct "{c["column_name"]}" as v from marts."{c["table_name"]}" '
                                  f'where "{c["column_name"]}" is not null')
        for v in (r["v"] for r in values):
            for s in secrets:
                if s in v:
                    hits.append(f"marts.{c['table_name']}.{c['column_name']} contains {s!r}")
    return sorted(set(hits))


@pytest.mark.parametrize("run_name", ["main_run", "mixed_run"])
def test_no_personal_value_in_marts(request: pytest.FixtureRequest, run_name: str) -> None:
    run: Published = request.getfixturevalue(run_name)
    run.require_ok()
    hits = _pii_hits(run.warehouse)
    assert not hits, "\n".join(hits[:40])


def test_mixed_exports_run_exits_0(mixed_run: Published) -> None:
    mixed_run.require_ok()


@pytest.mark.parametrize("as_of", sorted(sc.AS_OF.values()))
def test_mixed_exports_give_the_paper_values(mixed_run: Published, as_of: str) -> None:
    """GB18030 + half-width headers (2022-03), UTF-8 BOM + reordered + extra column (2022-12),
    xlsx (2023-01), xlsx with numeric cells (2023-03), xlsx + GB18030 ledgers."""
    mixed_run.require_ok()
    card = scorecard(mixed_run.warehouse)
    lines = [ln for k in sc.KPIS for ln in mismatches(card, as_of, k)]
    assert not lines, report(lines)


def test_mixed_exports_same_scorecard_as_utf8(main_run: Published, mixed_run: Published) -> None:
    main_run.require_ok()
    mixed_run.require_ok()
    a, b = scorecard_rows(main_run.warehouse), scorecard_rows(mixed_run.warehouse)
    only_a, only_b = sorted(set(a) - set(b), key=repr), sorted(set(b) - set(a), key=repr)
    assert not only_a and not only_b, f"utf8 only: {only_a[:10]}\nmixed only: {only_b[:10]}"


RAW_MEMBER_COLS = ("id_number", "name", "county_code", "months_worked", "work_location", "is_abroad",
                   "employment_channel", "yulu_graduation_year", "household_id", "year", "labor_skill")
RAW_HOUSEHOLD_COLS = ("household_id", "head_id_number", "household_type", "household_size", "year",
                      "wage_income_yuan", "county_code")


@pytest.mark.parametrize(("table", "cols"), [("monitoring_members", RAW_MEMBER_COLS),
                                              ("monitoring_households", RAW_HOUSEHOLD_COLS)])
@pytest.mark.parametrize("month", sc.MONTHS)
def test_mixed_exports_load_same_raw_values(main_run: Published, mixed_run: Published, table: str,
                                            cols: tuple[str, ...], month: str) -> None:
    """raw keeps values exactly as exported: GB18030 / xlsx / BOM must not change a single value."""
    main_run.require_ok()
    mixed_run.require_ok()
    sql = f"select {', '.join(cols)} from raw.{table} where as_of_month = ?"
    a = sorted((tuple(r.values()) for r in query(main_run.warehouse, sql, [sc.AS_OF[month]])), key=repr)
    b = sorted((tuple(r.values()) for r in query(mixed_run.warehouse, sql, [sc.AS_OF[month]])), key=repr)
    assert a, f"raw.{table} has no rows for {month} in the UTF-8 run"
    assert a == b, f"utf8 only: {sorted(set(a) - set(b))[:5]}\nmixed only: {sorted(set(b) - set(a))[:5]}"


def test_extra_column_kept_aside(mixed_run: Published) -> None:
    """docs/architecture.md: unknown columns go to raw.*.extra_fields as JSON."""
    mixed_run.require_ok()
    rows = query(mixed_run.warehouse, "select extra_fields from raw.monitoring_members "
                                      "where as_of_month = '2022-12-01'")
    assert rows and all(r["extra_fields"] for r in rows)
    assert json.loads(rows[0]["extra_fields"]) == {"备注": "核实无误"}
    others = query(mixed_run.warehouse, "select count(*) n from raw.monitoring_members "
                                        "where as_of_month <> '2022-12-01' and extra_fields is not null")
    assert others[0]["n"] == 0


def test_person_keys_stable_across_loads(main_run: Published, mixed_run: Published) -> None:
    """Same salt, same 证件号码, different warehouse and file formats -> the same person_key / household_key."""
    main_run.require_ok()
    mixed_run.require_ok()
    for table, key in (("fct_employment_duration", "person_key"), ("fct_income_growth", "household_key")):
        sql = f"select {key} k from marts.{table}"
        a = {r["k"] for r in query(main_run.warehouse, sql)}
        b = {r["k"] for r in query(mixed_run.warehouse, sql)}
        assert a and a == b, table


def test_the_run_keeps_each_landed_files_hash_for_the_next(mixed_run: Published) -> None:
    """meta.file_hashes after `zengshou run`: every landed export (CSV in three encodings, xlsx, the
    ledgers) with the sha256 of its bytes and the stamp it has now (untouched since) — what the next run's
    planner reuses instead of reading the file again (tests/test_planning.py)."""
    root = mixed_run.scenario.landing_dir
    landed = sorted(p for p in [*root.glob("monitoring/*/*"), *root.glob("relief/*/*")] if p.is_file())
    assert len(landed) == 10  # 4 months × members, households; 2 ledgers
    want = {}
    for p in landed:
        st = os.stat(p)
        want[str(p)] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev,
                        hashlib.sha256(p.read_bytes()).hexdigest())
    rows = query(mixed_run.warehouse, "select file_path, size, mtime_ns, ctime_ns, inode, device, sha256 "
                                      "from meta.file_hashes")
    assert {r["file_path"]: tuple(list(r.values())[1:]) for r in rows} == want
