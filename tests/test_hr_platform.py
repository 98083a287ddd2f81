"""The HR platform loader against real databases: a hand-built SQLite file and a real PostgreSQL.

Every expected number below is worked out by hand from the rows inserted here, so a change in the
loader's counting, watermark or upsert rule shows up as a concrete wrong number.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from dagster_project import hr_schema
from dagster_project.ingest.batch_pipeline import HrTablePull, pull_hr_platform
from dagster_project.ingest.hr_platform import HrPlatformSchemaError, HrPlatformUnavailable
from dagster_project.settings import bi_db_url, hr_db_url
from tests.hr_source import (
    SEED_BOUNDARY,
    SEED_COUNTS,
    SEED_WATERMARKS,
    T0,
    Source,
    assert_balanced,
    batch,
    build_source,
    jobseeker,
    payment,
    quarantined,
    raw_rows,
    seed,
    service,
    talent,
    ts,
    watermark,
)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    yield c
    c.close()

# ---------------------------------------------------------------------------------------------------
# Incremental behaviour
# ---------------------------------------------------------------------------------------------------


def test_first_pull_loads_everything_with_native_types(source: Source, con: duckdb.DuckDBPyConnection) -> None:
    seed(source)
    pulls = pull_hr_platform(source.url, con, chunk_rows=2)  # chunk of 2: every 3-row table spans chunks

    assert list(pulls) == list(SEED_COUNTS)
    for table, pull in pulls.items():
        assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined) == (SEED_COUNTS[table],) * 2 + (0,)
        assert (pull.status, pull.watermark_before, pull.watermark_after) == ("published", None,
                                                                             SEED_WATERMARKS[table])
        assert len(raw_rows(con, table)) == SEED_COUNTS[table]
        assert watermark(con, table) == SEED_WATERMARKS[table]
        assert batch(con, pull.batch_id) == (f"hr_platform.{table}", SEED_COUNTS[table], SEED_COUNTS[table],
                                             0, "published")

    js = raw_rows(con, "jobseeker")
    assert [r[:8] for r in js] == [
        ("J1", "530102199001011234", "张三", "13800000001", "530102", dt.date(2023, 1, 5), True, ts(0)),
        ("J2", "530102199001011234", "张三", "13800000001", "530102", dt.date(2023, 1, 5), False, ts(10)),
        ("J3", "530102199001011234", "张三", None, "530102", dt.date(2023, 1, 5), None, ts(10)),
    ]
    assert all(isinstance(r[8], dt.datetime) for r in js)  # _loaded_at
    assert [r[:8] for r in raw_rows(con, "public_welfare_post")] == [
        ("P1", "530102199001011234", "530102", "乡村保洁", dt.date(2023, 1, 1), None, Decimal("800.50"), ts(5)),
        ("P2", "530102199202021111", "530102", "护林员", dt.date(2022, 6, 1), dt.date(2022, 12, 31),
         Decimal("600.00"), ts(5)),
    ]
    assert [r[:7] for r in raw_rows(con, "subsidy_payment")] == [
        ("S1", "P1", "2023-01", Decimal("800.50"), Decimal("800.50"), dt.date(2023, 2, 10), ts(1)),
        ("S2", "P1", "2023-02", Decimal("800.50"), Decimal("0.00"), None, ts(2)),
    ]
    types = dict(con.execute(
        "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'raw'").fetchall())
    assert types["hr_public_welfare_post.monthly_subsidy_yuan"] == "DECIMAL(12,2)"
    assert types["hr_jobseeker.registered_on"] == "DATE"
    assert types["hr_jobseeker.wants_employment"] == "BOOLEAN"
    assert types["hr_jobseeker.updated_at"] == "TIMESTAMP"
    assert types["hr_jobseeker._loaded_at"] == "TIMESTAMP"
    assert types["hr_jobseeker.id_number"] == "VARCHAR"
    assert con.execute("SELECT count(*) FROM quarantine.rejected_rows").fetchone() == (0,)


def test_second_pull_without_change_rereads_only_the_boundary(source: Source,
                                                               con: duckdb.DuckDBPyConnection) -> None:
    seed(source)
    pull_hr_platform(source.url, con)
    before = {t: raw_rows(con, t) for t in SEED_COUNTS}

    pulls = pull_hr_platform(source.url, con)

    for table, pull in pulls.items():
        assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined) == (SEED_BOUNDARY[table], 0, 0)
        assert pull.watermark_before == pull.watermark_after == SEED_WATERMARKS[table]
        assert pull.status == "unchanged"
        assert raw_rows(con, table) == before[table]  # values and _loaded_at untouched
    # Nothing new: the second pull records no batch, so the warehouse is exactly as before.
    assert con.execute("SELECT count(*) FROM meta.load_batches").fetchone() == (8,)


def test_correction_wins_and_late_boundary_row_is_not_missed(source: Source,
                                                             con: duckdb.DuckDBPyConnection) -> None:
    seed(source)
    pull_hr_platform(source.url, con, tables=["jobseeker"])
    j2_before = raw_rows(con, "jobseeker")[1]
    # A correction of J1, and J4 stamped with the watermark's own timestamp but committed after the pull.
    source.update("jobseeker", "J1", name="张三丰", county_code="530103", updated_at=ts(20))
    source.insert("jobseeker", jobseeker("J4", 10, id_number="530102199505052222"))

    pull = pull_hr_platform(source.url, con, tables=["jobseeker"])["jobseeker"]

    # Read: J2, J3, J4 (updated_at = watermark 10) and J1 (20).
    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined) == (4, 4, 0)
    assert (pull.watermark_before, pull.watermark_after) == (ts(10), ts(20))
    rows = raw_rows(con, "jobseeker")
    assert [r[0] for r in rows] == ["J1", "J2", "J3", "J4"]
    assert (rows[0][2], rows[0][4], rows[0][7]) == ("张三丰", "530103", ts(20))
    assert rows[1] == j2_before
    assert rows[3][1] == "530102199505052222"
    assert watermark(con, "jobseeker") == ts(20)


def test_older_copy_never_overwrites_newer(source: Source, con: duckdb.DuckDBPyConnection) -> None:
    seed(source)
    source.update("jobseeker", "J1", name="张三丰", updated_at=ts(20))
    pull_hr_platform(source.url, con, tables=["jobseeker"])
    # The platform is restored from a backup holding J1's older copy, and an operator resets the
    # watermark to re-pull everything: the older copy is read but must not win.
    source.update("jobseeker", "J1", name="张三", updated_at=ts(0))
    con.execute("DELETE FROM meta.hr_watermarks WHERE table_name = 'jobseeker'")

    pull = pull_hr_platform(source.url, con, tables=["jobseeker"])["jobseeker"]

    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined, pull.status) == (3, 3, 0, "published")
    j1 = raw_rows(con, "jobseeker")[0]
    assert (j1[2], j1[7]) == ("张三丰", ts(20))


# ---------------------------------------------------------------------------------------------------
# Row rules
# ---------------------------------------------------------------------------------------------------

RULE_CASES = [
    pytest.param(
        "jobseeker", jobseeker("JX", 30, id_number=""), "id_number_empty",
        "证件号码（id_number）为空，无法匹配到人员",
        {"reg_id": "JX", "id_number": "", "name": "张三", "phone": "13800000001", "county_code": "530102",
         "registered_on": "2023-01-05", "wants_employment": True, "updated_at": "2023-03-01 09:30:00"},
        id="empty-id_number"),
    pytest.param(
        "jobseeker", jobseeker("JX", 30, id_number="   "), "id_number_empty",
        "证件号码（id_number）为空，无法匹配到人员",
        {"reg_id": "JX", "id_number": "   ", "name": "张三", "phone": "13800000001", "county_code": "530102",
         "registered_on": "2023-01-05", "wants_employment": True, "updated_at": "2023-03-01 09:30:00"},
        id="blank-id_number"),
    pytest.param(
        "subsidy_payment", payment("SX", "2023-03", 30, assignment_id=""), "assignment_id_empty",
        "岗位分配编号（assignment_id）为空，无法关联到公益性岗位和人员",
        {"payment_id": "SX", "assignment_id": "", "period_month": "2023-03", "amount_due_yuan": "800.50",
         "amount_paid_yuan": "800.50", "paid_on": "2023-02-10", "updated_at": "2023-03-01 09:30:00"},
        id="empty-assignment_id"),
    pytest.param(
        "employment_service", service("EX", "job_fair", 30), "service_type_invalid",
        "服务类型（service_type）不是 career_guidance、job_referral、training_referral 之一",
        {"service_id": "EX", "id_number": "530102199001011234", "service_type": "job_fair",
         "service_date": "2023-02-01", "updated_at": "2023-03-01 09:30:00"},
        id="unknown-service_type"),
    pytest.param(
        "employment_service", service("EX", None, 30), "service_type_invalid",
        "服务类型（service_type）不是 career_guidance、job_referral、training_referral 之一",
        {"service_id": "EX", "id_number": "530102199001011234", "service_type": None,
         "service_date": "2023-02-01", "updated_at": "2023-03-01 09:30:00"},
        id="null-service_type"),
    pytest.param(
        "rural_talent", talent("RX", "village_doctor", 30), "talent_type_invalid",
        "人才类型（talent_type）不是 wealth_leader、rural_craftsman 之一",
        {"talent_id": "RX", "id_number": "530102199001011234", "talent_type": "village_doctor",
         "county_code": "530102", "township_name": "小板桥街道", "village_name": "云溪村",
         "certified_on": "2022-11-01", "updated_at": "2023-03-01 09:30:00"},
        id="unknown-talent_type"),
    *[pytest.param(
        "subsidy_payment", payment("SX", bad, 30), "period_month_format",
        "补贴所属月份（period_month）不是 YYYY-MM 格式的有效月份",
        {"payment_id": "SX", "assignment_id": "P1", "period_month": bad, "amount_due_yuan": "800.50",
         "amount_paid_yuan": "800.50", "paid_on": "2023-02-10", "updated_at": "2023-03-01 09:30:00"},
        id=f"period_month-{bad}") for bad in ("2023/03", "202303", "2023-13", "2023-3")],
]


@pytest.mark.parametrize(("table", "bad_row", "rule", "reason", "original"), RULE_CASES)
def test_each_rule_quarantines_with_reason_and_original_values(
    source: Source, con: duckdb.DuckDBPyConnection, table: str, bad_row: dict[str, Any], rule: str,
    reason: str, original: dict[str, Any],
) -> None:
    seed(source)
    source.insert(table, bad_row)  # updated_at 30: the last row read, so its source_row is the count

    pull = pull_hr_platform(source.url, con, tables=[table], max_reject_rate=1.0)[table]

    n = SEED_COUNTS[table] + 1
    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined, pull.status) == (n, n - 1, 1, "published")
    assert_balanced(pull)
    [(src, source_row, got_rule, got_reason, values)] = quarantined(con, pull.batch_id)
    assert (src, source_row, got_rule, got_reason) == (f"hr_platform.{table}", n, rule, reason)
    assert json.loads(values) == original
    assert list(json.loads(values)) == list(original)  # the platform's column order
    assert len(raw_rows(con, table)) == n - 1
    assert all(r[0] != bad_row[next(iter(bad_row))] for r in raw_rows(con, table))
    assert batch(con, pull.batch_id) == (f"hr_platform.{table}", n, n - 1, 1, "published")
    # The watermark still moves past the bad row: a fix at the source gets a newer updated_at.
    assert pull.watermark_after == ts(30)


def test_null_updated_at_is_quarantined_on_every_pull_without_blocking(loose_source: Source,
                                                                      con: duckdb.DuckDBPyConnection) -> None:
    seed(loose_source)
    loose_source.insert("employment_service", service("EN", "job_referral", 0, updated_at=None))

    first = pull_hr_platform(loose_source.url, con, tables=["employment_service"], max_reject_rate=0.5)
    pull = first["employment_service"]
    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined, pull.status) == (4, 3, 1, "published")
    [(src, source_row, rule, reason, values)] = quarantined(con, pull.batch_id)
    assert (src, source_row, rule) == ("hr_platform.employment_service", 4, "updated_at_null")
    assert reason == "更新时间（updated_at）为空，无法判断新旧、无法增量同步"
    assert json.loads(values) == {"service_id": "EN", "id_number": "530102199001011234",
                                  "service_type": "job_referral", "service_date": "2023-02-01",
                                  "updated_at": None}
    assert pull.watermark_after == ts(3)

    # No change at the source: the NULL row can't be placed after the watermark, so it is read again
    # and quarantined again, but it was judged before and must not fail the batch at the default 2%.
    # Nothing else changed, so the pull records nothing: the row stays in quarantine once, not twice.
    again = pull_hr_platform(loose_source.url, con, tables=["employment_service"])["employment_service"]
    assert (again.rows_read, again.rows_upserted, again.rows_quarantined, again.status) == (4, 0, 1, "unchanged")
    assert quarantined(con, again.batch_id) == []
    assert con.execute("SELECT count(*) FROM quarantine.rejected_rows").fetchone() == (1,)
    assert len(raw_rows(con, "employment_service")) == 3
    # A real change at the source records a batch again, re-quarantining the NULL row with a note.
    loose_source.insert("employment_service", service("EZ", "job_referral", 5))
    third = pull_hr_platform(loose_source.url, con, tables=["employment_service"])["employment_service"]
    assert (third.rows_quarantined, third.status) == (1, "published")
    assert len(raw_rows(con, "employment_service")) == 4  # EZ arrived
    assert third.reason == "隔离 1 行（其中 1 行此前已隔离）"
    assert [q[2] for q in quarantined(con, third.batch_id)] == ["updated_at_null"]


# ---------------------------------------------------------------------------------------------------
# Reject rate
# ---------------------------------------------------------------------------------------------------


def test_table_above_reject_rate_is_not_applied_and_keeps_its_watermark(source: Source,
                                                                        con: duckdb.DuckDBPyConnection) -> None:
    seed(source)
    pull_hr_platform(source.url, con)
    before = raw_rows(con, "employment_service")
    source.insert("employment_service", service("E4", "job_referral", 40), service("E5", "job_fair", 41))
    source.insert("jobseeker", jobseeker("J4", 40))

    pulls = pull_hr_platform(source.url, con, tables=["employment_service", "jobseeker"])

    # employment_service read E1-E3 (boundary 3) + E4 + E5 = 5, 1 bad: 20 % > 2 %.
    es = pulls["employment_service"]
    assert (es.rows_read, es.rows_upserted, es.rows_quarantined, es.status) == (5, 4, 1, "rejected")
    assert es.watermark_before == es.watermark_after == ts(3)
    assert es.reason is not None and "20.0%" in es.reason
    assert raw_rows(con, "employment_service") == before  # E4, although valid, not applied
    assert watermark(con, "employment_service") == ts(3)
    assert [q[1:3] for q in quarantined(con, es.batch_id)] == [(5, "service_type_invalid")]
    assert batch(con, es.batch_id) == ("hr_platform.employment_service", 5, 4, 1, "rejected")
    # The other table of the same pull is unaffected.
    js = pulls["jobseeker"]
    assert (js.rows_read, js.status, js.watermark_after) == (3, "published", ts(40))
    assert len(raw_rows(con, "jobseeker")) == 4

    # Fixed at the source (newer updated_at): the next pull applies everything it missed.
    source.update("employment_service", "E5", service_type="job_referral", updated_at=ts(50))
    es = pull_hr_platform(source.url, con, tables=["employment_service"])["employment_service"]
    assert (es.rows_read, es.rows_upserted, es.rows_quarantined, es.status) == (5, 5, 0, "published")
    assert [r[0] for r in raw_rows(con, "employment_service")] == ["E1", "E2", "E3", "E4", "E5"]
    assert watermark(con, "employment_service") == ts(50)


def test_reject_rate_equal_to_the_limit_is_published(source: Source, con: duckdb.DuckDBPyConnection) -> None:
    source.insert("employment_service", *[service(f"E{i:02d}", "career_guidance", i) for i in range(49)],
                  service("E99", "job_fair", 60))
    pull = pull_hr_platform(source.url, con, tables=["employment_service"], chunk_rows=7)["employment_service"]
    # 1 of 50 = 2 %: "above the limit" is what fails, so this publishes.
    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined, pull.status) == (50, 49, 1, "published")
    assert len(raw_rows(con, "employment_service")) == 49
    assert quarantined(con, pull.batch_id)[0][1:3] == (50, "service_type_invalid")


def test_bad_boundary_row_does_not_fail_a_no_change_pull(source: Source, con: duckdb.DuckDBPyConnection) -> None:
    source.insert("employment_service", *[service(f"E{i:02d}", "career_guidance", i) for i in range(60)],
                  service("E99", "job_fair", 59))
    first = pull_hr_platform(source.url, con, tables=["employment_service"])["employment_service"]
    assert (first.rows_read, first.rows_quarantined, first.status) == (61, 1, "published")
    # Re-read: E59 and E99 share the watermark; E99 was judged before, so 0 new rejects of 1.
    again = pull_hr_platform(source.url, con, tables=["employment_service"])["employment_service"]
    assert (again.rows_read, again.rows_upserted, again.rows_quarantined, again.status) == (2, 0, 1, "unchanged")


# ---------------------------------------------------------------------------------------------------
# Failures
# ---------------------------------------------------------------------------------------------------


def test_failure_mid_table_rolls_the_table_back(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    # SQLite stores any number in NUMERIC(12,2); 10^12 does not fit DECIMAL(12,2), so the load fails.
    src = build_source(f"sqlite:///{tmp_path / 'hr.sqlite'}", nullable_updated_at=False)
    seed(src)
    pull_hr_platform(src.url, con, tables=["public_welfare_post"])
    before = raw_rows(con, "public_welfare_post")
    src.update("public_welfare_post", "P1", monthly_subsidy_yuan=Decimal("1000000000000"), updated_at=ts(30))

    with pytest.raises(duckdb.Error):
        pull_hr_platform(src.url, con, tables=["public_welfare_post"])

    assert raw_rows(con, "public_welfare_post") == before
    assert watermark(con, "public_welfare_post") == ts(5)
    assert con.execute("SELECT count(*) FROM meta.load_batches").fetchone() == (1,)
    pull_hr_platform(src.url, con, tables=["jobseeker"])  # the connection is usable again


def test_unreachable_postgres_raises_hr_platform_unavailable(con: duckdb.DuckDBPyConnection) -> None:
    url = "postgresql+psycopg2://zs:s3cret-pw@127.0.0.1:1/hr"  # nothing listens on port 1
    with pytest.raises(HrPlatformUnavailable) as err:
        pull_hr_platform(url, con)
    assert "127.0.0.1:1" in str(err.value) and "s3cret-pw" not in str(err.value)
    # An outage leaves the warehouse untouched.
    assert con.execute("SELECT count(*) FROM information_schema.tables").fetchone() == (0,)


def test_missing_sqlite_file_raises_instead_of_creating_an_empty_db(tmp_path: Path,
                                                                    con: duckdb.DuckDBPyConnection) -> None:
    missing = tmp_path / "nope" / "hr_platform.sqlite"
    with pytest.raises(HrPlatformUnavailable, match="not found"):
        pull_hr_platform(f"sqlite:///{missing}", con)
    assert not missing.exists()


def test_unknown_table_name_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="jobseekers"):
        pull_hr_platform("sqlite://", con, tables=["jobseekers"])


# ---------------------------------------------------------------------------------------------------
# Reconciliation: what the watermark never sees (issue 13 #3)
# ---------------------------------------------------------------------------------------------------

DAY = dt.timedelta(days=1)
LOOKBACK = dt.timedelta(hours=72)
EVERY_PULL = dt.timedelta(0)


def source_rows(src: Source, table: str) -> list[tuple]:
    """The source table as the warehouse should hold it, ordered by key (SQLAlchemy's own types)."""
    t = hr_schema.metadata.tables[table]
    with src.engine.connect() as c:
        return [tuple(r) for r in c.execute(sa.select(t).order_by(next(iter(t.primary_key.columns))))]


def converged(con: duckdb.DuckDBPyConnection, src: Source, table: str) -> bool:
    width = len(hr_schema.metadata.tables[table].columns)
    return [r[:width] for r in raw_rows(con, table)] == source_rows(src, table)


def kinds(pull: HrTablePull) -> tuple[int, int, int, int]:
    return pull.rows_inserted, pull.rows_corrected, pull.rows_late, pull.rows_deleted


def test_lookback_catches_a_backdated_correction_and_a_late_commit(source: Source,
                                                                  con: duckdb.DuckDBPyConnection) -> None:
    seed(source)  # jobseeker J1 at 0, J2 and J3 at 10 (the watermark)
    first = pull_hr_platform(source.url, con, tables=["jobseeker"], lookback=LOOKBACK)["jobseeker"]
    assert kinds(first) == (3, 0, 0, 0)
    # Both behind the watermark: J1 corrected with updated_at 5 (a back-dated fix, still newer than the
    # 0 the warehouse holds), J5 committed late with updated_at 8.
    source.update("jobseeker", "J1", name="张三丰", updated_at=ts(5))
    source.insert("jobseeker", jobseeker("J5", 8, id_number="530102199505052222"))

    # The plain watermark pull (no look-back) reads only J2, J3 (updated_at >= 10) and misses both.
    blind = pull_hr_platform(source.url, con, tables=["jobseeker"])["jobseeker"]
    assert (blind.rows_read, blind.status, kinds(blind)) == (2, "unchanged", (0, 0, 0, 0))
    assert not converged(con, source, "jobseeker")

    pull = pull_hr_platform(source.url, con, tables=["jobseeker"], lookback=LOOKBACK)["jobseeker"]

    # Window 10 - 72 h: J1, J2, J3, J5 read; J1 corrected, J5 late; J2, J3 unchanged.
    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined, pull.status) == (4, 4, 0, "published")
    assert kinds(pull) == (0, 1, 1, 0)
    assert (pull.watermark_before, pull.watermark_after) == (ts(10), ts(10))  # late rows do not move it
    assert converged(con, source, "jobseeker")
    assert batch(con, pull.batch_id) == ("hr_platform.jobseeker", 4, 4, 0, "published")
    # Re-pulling changes nothing more.
    again = pull_hr_platform(source.url, con, tables=["jobseeker"], lookback=LOOKBACK)["jobseeker"]
    assert (again.rows_read, again.status, kinds(again)) == (4, "unchanged", (0, 0, 0, 0))


def _far_apart(src: Source) -> None:
    """Jobseekers days apart, so a 72 h look-back does not reach the old ones: K1 at T0-30 d, K2 at
    T0-20 d, K3 at T0-10 d, K4 at T0 (the watermark)."""
    src.insert("jobseeker", *[jobseeker(f"K{i}", 0, id_number=f"53010219900101{i:04d}",
                                        updated_at=T0 - d * DAY) for i, d in ((1, 30), (2, 20), (3, 10), (4, 0))])


def test_full_compare_finds_corrections_late_rows_and_deletions_beyond_the_lookback(
        source: Source, con: duckdb.DuckDBPyConnection) -> None:
    _far_apart(source)
    first = pull_hr_platform(source.url, con, tables=["jobseeker"], lookback=LOOKBACK,
                             full_compare_every=EVERY_PULL)["jobseeker"]
    assert (first.rows_read, first.full_compare, kinds(first)) == (4, True, (4, 0, 0, 0))
    # K1 corrected at T0-5 d (newer than its T0-30 d, far behind the watermark), K5 committed late at
    # T0-15 d, K3 deleted, K4 given a newer updated_at (an ordinary update), K6 new.
    source.update("jobseeker", "K1", county_code="530103", updated_at=T0 - 5 * DAY)
    source.insert("jobseeker", jobseeker("K5", 0, id_number="530102199001010005", updated_at=T0 - 15 * DAY),
                  jobseeker("K6", 0, id_number="530102199001010006", updated_at=T0 + DAY))
    with source.engine.begin() as c:
        c.execute(hr_schema.jobseeker.delete().where(hr_schema.jobseeker.c.reg_id == "K3"))
    source.update("jobseeker", "K4", phone="13900000000", updated_at=T0 + DAY)

    # The look-back alone (T0 - 72 h on): K4 corrected and K6 inserted; K1, K5 and the deletion unseen.
    window = pull_hr_platform(source.url, con, tables=["jobseeker"], lookback=LOOKBACK)["jobseeker"]
    assert (window.rows_read, window.full_compare, kinds(window)) == (2, False, (1, 1, 0, 0))
    assert not converged(con, source, "jobseeker")

    pull = pull_hr_platform(source.url, con, tables=["jobseeker"], lookback=LOOKBACK,
                            full_compare_every=EVERY_PULL)["jobseeker"]

    # Window from T0+1 d - 72 h: K4, K6 (unchanged now); fetched by key: K1 (newer at the source), K5
    # (missing); K3 deleted. Read 4 = loaded 4 + quarantined 0.
    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined, pull.status) == (4, 4, 0, "published")
    assert (pull.full_compare, kinds(pull)) == (True, (0, 1, 1, 1))
    assert converged(con, source, "jobseeker")
    assert batch(con, pull.batch_id) == ("hr_platform.jobseeker", 4, 4, 0, "published")
    assert pull.reason is not None and "源端已删除 1 行" in pull.reason
    assert con.execute("SELECT table_name, primary_key, updated_at, batch_id FROM meta.hr_deleted_rows"
                       ).fetchall() == [("jobseeker", "K3", T0 - 10 * DAY, pull.batch_id)]
    assert watermark(con, "jobseeker") == T0 + DAY


def test_full_compare_runs_only_when_due(source: Source, con: duckdb.DuckDBPyConnection) -> None:
    _far_apart(source)
    every_20h = dt.timedelta(hours=20)
    first = pull_hr_platform(source.url, con, tables=["jobseeker"], full_compare_every=every_20h)["jobseeker"]
    assert first.full_compare  # never compared before
    with source.engine.begin() as c:
        c.execute(hr_schema.jobseeker.delete().where(hr_schema.jobseeker.c.reg_id == "K1"))

    soon = pull_hr_platform(source.url, con, tables=["jobseeker"], full_compare_every=every_20h)["jobseeker"]
    assert (soon.full_compare, soon.status, soon.rows_deleted) == (False, "unchanged", 0)
    assert len(raw_rows(con, "jobseeker")) == 4
    # 21 hours later (the comparison's clock set back by hand): due again, and the deletion is applied.
    con.execute("UPDATE meta.hr_full_compares SET compared_at = compared_at - INTERVAL 21 HOUR")
    later = pull_hr_platform(source.url, con, tables=["jobseeker"], full_compare_every=every_20h)["jobseeker"]
    assert (later.full_compare, later.status, kinds(later)) == (True, "published", (0, 0, 0, 1))
    assert converged(con, source, "jobseeker")
    # A no-change comparison records no batch, only when it compared.
    none = pull_hr_platform(source.url, con, tables=["jobseeker"], full_compare_every=EVERY_PULL)["jobseeker"]
    assert (none.full_compare, none.status, kinds(none)) == (True, "unchanged", (0, 0, 0, 0))
    assert con.execute("SELECT count(*) FROM meta.load_batches").fetchone() == (2,)


def test_full_compare_never_applies_an_older_copy(source: Source, con: duckdb.DuckDBPyConnection) -> None:
    _far_apart(source)
    pull_hr_platform(source.url, con, tables=["jobseeker"], full_compare_every=EVERY_PULL)
    # The platform restored from a backup: K2 back at an older updated_at with an older value.
    source.update("jobseeker", "K2", name="旧名", updated_at=T0 - 25 * DAY)
    pull = pull_hr_platform(source.url, con, tables=["jobseeker"], lookback=LOOKBACK,
                            full_compare_every=EVERY_PULL)["jobseeker"]
    assert (pull.rows_read, pull.status, kinds(pull)) == (1, "unchanged", (0, 0, 0, 0))  # K4 (window) only
    k2 = raw_rows(con, "jobseeker")[1]
    assert (k2[0], k2[2], k2[7]) == ("K2", "张三", T0 - 20 * DAY)


def test_a_table_emptied_at_the_source_is_not_applied(source: Source, con: duckdb.DuckDBPyConnection) -> None:
    _far_apart(source)
    pull_hr_platform(source.url, con, tables=["jobseeker"], full_compare_every=EVERY_PULL)
    before = raw_rows(con, "jobseeker")
    with source.engine.begin() as c:
        c.execute(hr_schema.jobseeker.delete())

    pull = pull_hr_platform(source.url, con, tables=["jobseeker"], full_compare_every=EVERY_PULL)["jobseeker"]

    # A truncated table or the wrong database looks like this: nothing deleted, the check fails.
    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined, pull.status) == (0, 0, 0, "rejected")
    assert pull.reason is not None and "已无任何行" in pull.reason and "4 行" in pull.reason
    assert raw_rows(con, "jobseeker") == before
    assert batch(con, pull.batch_id) == ("hr_platform.jobseeker", 0, 0, 0, "rejected")


def test_full_compare_rejudges_a_quarantined_row_without_failing(source: Source,
                                                                 con: duckdb.DuckDBPyConnection) -> None:
    _far_apart(source)
    source.insert("employment_service", *[service(f"E{i}", "career_guidance", 0, updated_at=T0 - i * DAY)
                                          for i in range(1, 10)],
                  service("EBAD", "job_fair", 0, updated_at=T0 - 30 * DAY))
    first = pull_hr_platform(source.url, con, tables=["employment_service"], max_reject_rate=0.1,
                             full_compare_every=EVERY_PULL)["employment_service"]
    assert (first.rows_read, first.rows_upserted, first.rows_quarantined, first.status) == (10, 9, 1, "published")
    # EBAD is not in raw, so every comparison fetches it again; it was judged before: no new reject.
    again = pull_hr_platform(source.url, con, tables=["employment_service"], lookback=LOOKBACK,
                             full_compare_every=EVERY_PULL)["employment_service"]
    # Watermark T0-1 d (E1); window from T0-4 d: E1-E4; by key: EBAD. Nothing new, so, as for any
    # unchanged pull, no batch is recorded and nothing counts as upserted.
    assert (again.rows_read, again.rows_upserted, again.rows_quarantined, again.status) == (5, 0, 1, "unchanged")
    assert con.execute("SELECT count(*) FROM quarantine.rejected_rows").fetchone() == (1,)


# ---------------------------------------------------------------------------------------------------
# The source's schema, and production URLs (issue 13 #7, #10)
# ---------------------------------------------------------------------------------------------------


def test_missing_table_and_renamed_column_are_named_before_anything_is_pulled(
        backend_url: str, con: duckdb.DuckDBPyConnection) -> None:
    src = build_source(backend_url, nullable_updated_at=False)
    seed(src)
    with src.engine.begin() as c:
        c.execute(sa.text("DROP TABLE training_record"))
        c.execute(sa.text("ALTER TABLE jobseeker RENAME COLUMN county_code TO county"))
    try:
        with pytest.raises(HrPlatformSchemaError) as err:
            pull_hr_platform(src.url, con)
    finally:
        src.engine.dispose()
    message = str(err.value)
    assert "table jobseeker has no column county_code" in message
    assert "table training_record is missing" in message
    assert "renamed back" in message and "ZENGSHOU_HR_DB_URL" in message
    assert "\n" not in message
    # Nothing was written: not even the raw tables of the healthy ones.
    assert con.execute("SELECT count(*) FROM information_schema.tables").fetchone() == (0,)


@pytest.mark.postgres
def test_plain_postgresql_url_pulls_with_psycopg3(postgres_url: str, con: duckdb.DuckDBPyConnection) -> None:
    plain = sa.make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    assert plain.startswith("postgresql://")
    assert hr_db_url(plain) == plain  # SQLAlchemy 2.1 reads a plain URL with psycopg 3, now installed
    src = build_source(postgres_url, nullable_updated_at=False)
    seed(src)
    src.engine.dispose()

    pulls = pull_hr_platform(plain, con)

    for table, pull in pulls.items():
        assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined) == (SEED_COUNTS[table],) * 2 + (0,)
        assert pull.watermark_after == SEED_WATERMARKS[table]
    assert [r[6:8] for r in raw_rows(con, "public_welfare_post")] == [(Decimal("800.50"), ts(5)),
                                                                       (Decimal("600.00"), ts(5))]
    assert con.execute("SELECT max(_loaded_at) IS NOT NULL FROM raw.hr_jobseeker").fetchone() == (True,)


@pytest.mark.postgres
def test_bi_publisher_connects_with_a_plain_postgresql_url(postgres_url: str) -> None:
    import psycopg2

    from dagster_project.serving.postgres import libpq_dsn

    for driver in ("postgresql", "postgresql+psycopg", "postgresql+psycopg2"):
        url = sa.make_url(postgres_url).set(drivername=driver).render_as_string(hide_password=False)
        assert bi_db_url(url) == url
        conn = psycopg2.connect(libpq_dsn(url))
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                assert cur.fetchone() == (1,)
        finally:
            conn.close()


def test_unreachable_plain_postgresql_url_raises_hr_platform_unavailable(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(HrPlatformUnavailable) as err:
        pull_hr_platform("postgresql://zs:s3cret-pw@127.0.0.1:1/hr", con)  # psycopg 3
    assert "127.0.0.1:1" in str(err.value) and "s3cret-pw" not in str(err.value)
    assert "\n" not in str(err.value)


def test_plain_mysql_url_reads_with_pymysql(con: duckdb.DuckDBPyConnection) -> None:
    """No MySQL server runs here; what a plain mysql:// URL used to fail with was the import of
    mysqlclient (`No module named 'MySQLdb'`). Mapped to PyMySQL, it gets as far as the network."""
    url = hr_db_url("mysql://zs:s3cret-pw@127.0.0.1:1/hr")
    assert url == "mysql+pymysql://zs:s3cret-pw@127.0.0.1:1/hr"
    with pytest.raises(HrPlatformUnavailable) as err:
        pull_hr_platform(url, con)
    message = str(err.value)
    assert "127.0.0.1" in message and "s3cret-pw" not in message and "MySQLdb" not in message
    assert con.execute("SELECT count(*) FROM information_schema.tables").fetchone() == (0,)


# ---------------------------------------------------------------------------------------------------
# The GE gate (the one batch pipeline: an HR table's pull is validated before it is published)
# ---------------------------------------------------------------------------------------------------


def test_a_pull_failing_its_ge_suite_is_not_published_and_nothing_is_lost(
        source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stored suite gone stale (written when training_referral was not yet a service type, and not
    regenerated): GE counts E3 as breaking service_type_invalid, the pipeline's rule does not. The two
    counts disagree, so the table's batch is rejected whole; the next pull, with the suite regenerated,
    reads the same rows again (the watermark did not move) and publishes them."""
    import great_expectations as gx
    from great_expectations import expectations as gxe

    from dagster_project.quality import ge_runner
    from dagster_project.quality.rules import Rule, hr_rules
    from dagster_project.quality.suites import _rule_expectation, active_context

    name = "raw.hr_employment_service"
    current = ge_runner.stored_suite(name)
    active_context()
    stale = gx.ExpectationSuite(name=name)
    stale.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="service_id"))
    for rule in hr_rules("employment_service"):
        if rule.name == "service_type_invalid":
            rule = Rule(rule.name, rule.reason,
                        "(\"service_type\" IS NULL OR \"service_type\" NOT IN ('career_guidance', 'job_referral'))")
        stale.add_expectation(_rule_expectation(rule))
    monkeypatch.setitem(ge_runner._stored_suites(), name, stale)
    warehouse = tmp_path / "wh" / "zengshou.duckdb"
    source.insert("employment_service", service("E1", "career_guidance", 1), service("E2", "job_referral", 2),
                  service("E3", "training_referral", 3))

    pull = pull_hr_platform(source.url, warehouse, tables=["employment_service"])["employment_service"]

    # 3 read, none breaks a rule (the loader's count 0, GE's 1): rejected, nothing applied.
    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined, pull.status) == (3, 3, 0, "rejected")
    assert pull.reason == ("隔离规则计数与 Great Expectations 不一致 (loader, GE): {'service_type_invalid': (0, 1)}"
                           "：本批未写入 raw，水位线保持不变")
    assert pull.watermark_before is None and pull.watermark_after is None
    with duckdb.connect(str(warehouse)) as con:
        assert raw_rows(con, "employment_service") == []
        assert watermark(con, "employment_service") is None
        assert batch(con, pull.batch_id) == ("hr_platform.employment_service", 3, 3, 0, "rejected")
        assert con.execute("SELECT reason FROM meta.load_batches WHERE batch_id = ?",
                           [pull.batch_id]).fetchone() == (pull.reason,)
        assert quarantined(con, pull.batch_id) == []
        assert con.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_schema = 'landing'").fetchone() == (0,)  # no staged rows left behind

    # `make expectations` run: the same rows, plus a bad one, pass the gate and are published.
    monkeypatch.setitem(ge_runner._stored_suites(), name, current)
    source.insert("employment_service", service("E4", "job_fair", 4))
    pull = pull_hr_platform(source.url, warehouse, tables=["employment_service"],
                            max_reject_rate=0.5)["employment_service"]
    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined, pull.status) == (4, 3, 1, "published")
    assert pull.validation is not None and pull.validation.rule_counts() == {
        "primary_key_empty": 0, "id_number_empty": 0, "service_type_invalid": 1, "updated_at_null": 0}
    assert_balanced(pull)
    with duckdb.connect(str(warehouse)) as con:
        assert [r[0] for r in raw_rows(con, "employment_service")] == ["E1", "E2", "E3"]
        assert watermark(con, "employment_service") == ts(4)
        assert [q[1:3] for q in quarantined(con, pull.batch_id)] == [(4, "service_type_invalid")]
        assert batch(con, pull.batch_id) == ("hr_platform.employment_service", 4, 3, 1, "published")
