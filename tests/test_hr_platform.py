"""The HR platform loader against real databases: a hand-built SQLite file and a real PostgreSQL.

Every expected number below is worked out by hand from the rows inserted here, so a change in the
loader's counting, watermark or upsert rule shows up as a concrete wrong number.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from dagster_project import hr_schema
from dagster_project.ingest.hr_platform import HrPlatformUnavailable, HrTablePull, pull_hr_platform

T0 = dt.datetime(2023, 3, 1, 9, 0, 0)


def ts(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


# ---------------------------------------------------------------------------------------------------
# The source database
# ---------------------------------------------------------------------------------------------------


def _schema(nullable_updated_at: bool) -> sa.MetaData:
    """hr_schema's tables; optionally without NOT NULL on updated_at, as a sloppy production DB is."""
    md = sa.MetaData()
    for table in hr_schema.metadata.tables.values():
        copy = table.to_metadata(md)
        if nullable_updated_at:
            copy.c.updated_at.nullable = True
    return md


@dataclass
class Source:
    """One HR platform database, emptied and rebuilt for each test."""

    url: str
    engine: sa.Engine

    def insert(self, table: str, *rows: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            c.execute(hr_schema.metadata.tables[table].insert(), list(rows))

    def update(self, table: str, key: str, **values: Any) -> None:
        t = hr_schema.metadata.tables[table]
        pk = next(iter(t.primary_key.columns))
        with self.engine.begin() as c:
            assert c.execute(t.update().where(pk == key).values(**values)).rowcount == 1


def _build(url: str, nullable_updated_at: bool) -> Source:
    engine = sa.create_engine(url)
    md = _schema(nullable_updated_at)
    md.drop_all(engine)
    md.create_all(engine)
    return Source(url, engine)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hr_platform.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def source(backend_url: str) -> Iterator[Source]:
    src = _build(backend_url, nullable_updated_at=False)
    yield src
    src.engine.dispose()


@pytest.fixture
def loose_source(backend_url: str) -> Iterator[Source]:
    """A source whose updated_at may be NULL (the schema constraint is not guaranteed in production)."""
    src = _build(backend_url, nullable_updated_at=True)
    yield src
    src.engine.dispose()


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    yield c
    c.close()


def jobseeker(reg_id: str, minutes: int, **over: Any) -> dict[str, Any]:
    row = {"reg_id": reg_id, "id_number": "530102199001011234", "name": "张三", "phone": "13800000001",
           "county_code": "530102", "registered_on": dt.date(2023, 1, 5), "wants_employment": True,
           "updated_at": ts(minutes)}
    return row | over


def service(service_id: str, service_type: str | None, minutes: int, **over: Any) -> dict[str, Any]:
    row = {"service_id": service_id, "id_number": "530102199001011234", "service_type": service_type,
           "service_date": dt.date(2023, 2, 1), "updated_at": ts(minutes)}
    return row | over


def payment(payment_id: str, period_month: str, minutes: int, **over: Any) -> dict[str, Any]:
    row = {"payment_id": payment_id, "assignment_id": "P1", "period_month": period_month,
           "amount_due_yuan": Decimal("800.50"), "amount_paid_yuan": Decimal("800.50"),
           "paid_on": dt.date(2023, 2, 10), "updated_at": ts(minutes)}
    return row | over


def talent(talent_id: str, talent_type: str, minutes: int) -> dict[str, Any]:
    return {"talent_id": talent_id, "id_number": "530102199001011234", "talent_type": talent_type,
            "county_code": "530102", "township_name": "小板桥街道", "village_name": "云溪村",
            "certified_on": dt.date(2022, 11, 1), "updated_at": ts(minutes)}


def seed(src: Source) -> None:
    """The base data set. Max updated_at and the rows on it, per table (the boundary rows):
    jobseeker 10 (J2, J3) | employment_service 3 (E1-E3) | training_record 4 (T1) |
    skill_certificate 4 (C1) | public_welfare_post 5 (P1, P2) | subsidy_payment 2 (S2) |
    labor_brand_member 6 (L1) | rural_talent 7 (R2)."""
    src.insert("jobseeker", jobseeker("J1", 0), jobseeker("J2", 10, wants_employment=False),
               jobseeker("J3", 10, wants_employment=None, phone=None))
    src.insert("employment_service", service("E1", "career_guidance", 3), service("E2", "job_referral", 3),
               service("E3", "training_referral", 3))
    src.insert("training_record", {"training_id": "T1", "id_number": "530102199001011234",
                                   "program_name": "电工", "training_mode": "线下", "start_date": dt.date(2023, 1, 3),
                                   "end_date": dt.date(2023, 1, 20), "completed": True, "updated_at": ts(4)})
    src.insert("skill_certificate", {"certificate_no": "C1", "id_number": "530102199001011234",
                                     "certificate_type": "职业技能等级证书", "occupation": "电工",
                                     "issued_on": dt.date(2023, 2, 1), "updated_at": ts(4)})
    src.insert("public_welfare_post",
               {"assignment_id": "P1", "id_number": "530102199001011234", "county_code": "530102",
                "post_type": "乡村保洁", "start_date": dt.date(2023, 1, 1), "end_date": None,
                "monthly_subsidy_yuan": Decimal("800.50"), "updated_at": ts(5)},
               {"assignment_id": "P2", "id_number": "530102199202021111", "county_code": "530102",
                "post_type": "护林员", "start_date": dt.date(2022, 6, 1), "end_date": dt.date(2022, 12, 31),
                "monthly_subsidy_yuan": Decimal("600.00"), "updated_at": ts(5)})
    src.insert("subsidy_payment", payment("S1", "2023-01", 1),
               payment("S2", "2023-02", 2, amount_paid_yuan=Decimal("0.00"), paid_on=None))
    src.insert("labor_brand_member", {"member_id": "L1", "id_number": "530102199001011234",
                                      "brand_name": "云南石匠", "county_code": "530102",
                                      "joined_on": dt.date(2022, 5, 1), "updated_at": ts(6)})
    src.insert("rural_talent", talent("R1", "wealth_leader", 1), talent("R2", "rural_craftsman", 7))


SEED_COUNTS = {"jobseeker": 3, "employment_service": 3, "training_record": 1, "skill_certificate": 1,
               "public_welfare_post": 2, "subsidy_payment": 2, "labor_brand_member": 1, "rural_talent": 2}
SEED_BOUNDARY = {"jobseeker": 2, "employment_service": 3, "training_record": 1, "skill_certificate": 1,
                 "public_welfare_post": 2, "subsidy_payment": 1, "labor_brand_member": 1, "rural_talent": 1}
SEED_WATERMARKS = {"jobseeker": ts(10), "employment_service": ts(3), "training_record": ts(4),
                   "skill_certificate": ts(4), "public_welfare_post": ts(5), "subsidy_payment": ts(2),
                   "labor_brand_member": ts(6), "rural_talent": ts(7)}


def raw_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM raw.hr_{table} ORDER BY 1").fetchall()


def watermark(con: duckdb.DuckDBPyConnection, table: str) -> dt.datetime | None:
    row = con.execute("SELECT max_updated_at FROM meta.hr_watermarks WHERE table_name = ?", [table]).fetchone()
    return row[0] if row else None


def quarantined(con: duckdb.DuckDBPyConnection, batch_id: str) -> list[tuple]:
    return con.execute(
        "SELECT source, source_row, rule, reason, original_values FROM quarantine.rejected_rows "
        "WHERE batch_id = ? ORDER BY source_row", [batch_id]).fetchall()


def batch(con: duckdb.DuckDBPyConnection, batch_id: str) -> tuple:
    return con.execute(
        "SELECT source, rows_read, rows_loaded, rows_quarantined, status FROM meta.load_batches "
        "WHERE batch_id = ?", [batch_id]).fetchone()


def assert_balanced(pull: HrTablePull) -> None:
    assert pull.rows_read == pull.rows_upserted + pull.rows_quarantined


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
    src = _build(f"sqlite:///{tmp_path / 'hr.sqlite'}", nullable_updated_at=False)
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
