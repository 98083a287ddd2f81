"""A hand-built HR platform source database (hr_schema's tables on SQLite or a real PostgreSQL) and the
rows the HR loader tests insert into it: shared by tests/test_hr_platform.py and tests/test_hr_arrow.py.
The fixtures ``backend_url`` / ``source`` / ``loose_source`` that build one per test are in tests/conftest.py.
Every expected count in those tests is worked out by hand from the rows below."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import sqlalchemy as sa

from dagster_project import hr_schema
from dagster_project.ingest.batch_pipeline import HrTablePull

T0 = dt.datetime(2023, 3, 1, 9, 0, 0)


def ts(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


# ---------------------------------------------------------------------------------------------------
# The source database
# ---------------------------------------------------------------------------------------------------


def source_schema(nullable_updated_at: bool) -> sa.MetaData:
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


def build_source(url: str, nullable_updated_at: bool) -> Source:
    engine = sa.create_engine(url)
    md = source_schema(nullable_updated_at)
    md.drop_all(engine)
    md.create_all(engine)
    return Source(url, engine)


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
