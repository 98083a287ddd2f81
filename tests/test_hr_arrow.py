"""Which path reads the HR platform (issue 12 #4), and that both land the same values.

SQLite files and PostgreSQL are read Arrow-natively through ADBC; every other dialect through
SQLAlchemy. The expected values below are written out by hand from the rows inserted here.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from dagster_project.ingest.batch_pipeline import pull_hr_platform
from dagster_project.ingest.hr_platform import (
    READER_ADBC_POSTGRESQL,
    READER_ADBC_SQLITE,
    READER_SQLALCHEMY,
    arrow_reader_of,
    libpq_uri,
    open_hr_platform,
)
from tests.hr_source import SEED_COUNTS, SEED_WATERMARKS, T0, Source, build_source, jobseeker, raw_rows, seed, ts


def _warehouse() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


# ---------------------------------------------------------------------------------------------------
# Which path
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "reader"), [
    ("sqlite:///data/landing/hr_platform.sqlite", READER_ADBC_SQLITE),
    ("sqlite:////abs/path/hr.sqlite", READER_ADBC_SQLITE),
    ("sqlite+pysqlite:///hr.sqlite", READER_ADBC_SQLITE),
    ("sqlite://", None),                          # in-memory: exists only inside SQLAlchemy's connection
    ("sqlite:///:memory:", None),
    ("sqlite:///file:hr.sqlite?mode=ro&uri=true", None),  # a URI with its own options
    ("postgresql://zs:pw@db:5432/hr", READER_ADBC_POSTGRESQL),
    ("postgresql+psycopg://zs:pw@db/hr", READER_ADBC_POSTGRESQL),
    ("postgresql+psycopg2://zs:pw@db/hr", READER_ADBC_POSTGRESQL),
    ("postgres://zs:pw@db/hr", READER_ADBC_POSTGRESQL),
    ("mysql+pymysql://zs:pw@db/hr", None),
    ("duckdb:///hr.duckdb", None),
])
def test_reader_of_each_url_spelling(url: str, reader: str | None) -> None:
    assert arrow_reader_of(url) == reader


def test_libpq_uri_keeps_the_password_and_adds_the_connect_timeout() -> None:
    assert libpq_uri("postgres://zs:p%40ss@db:5433/hr?sslmode=require") == (
        "postgresql://zs:p%40ss@db:5433/hr?connect_timeout=10&sslmode=require")
    assert libpq_uri("postgresql+psycopg2://zs:pw@db/hr?connect_timeout=3") == (
        "postgresql://zs:pw@db/hr?connect_timeout=3")


def test_a_sqlite_file_is_read_through_adbc(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    src = build_source(f"sqlite:///{tmp_path / 'hr.sqlite'}", nullable_updated_at=False)
    seed(src)
    src.engine.dispose()
    con = _warehouse()
    with caplog.at_level(logging.INFO, logger="dagster_project.ingest.batch_pipeline"):
        pulls = pull_hr_platform(src.url, con)
    for table, pull in pulls.items():
        assert pull.reader == READER_ADBC_SQLITE
        assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined) == (SEED_COUNTS[table],) * 2 + (0,)
        assert pull.watermark_after == SEED_WATERMARKS[table]
    assert "HR pull jobseeker (read with adbc-sqlite)" in caplog.text
    # Forced the other way, the same source reads through SQLAlchemy (what the bench compares).
    again = pull_hr_platform(src.url, _warehouse(), tables=["jobseeker"], reader="sqlalchemy")["jobseeker"]
    assert (again.reader, again.rows_read) == (READER_SQLALCHEMY, 3)


@pytest.mark.postgres
@pytest.mark.parametrize("spelling", ["postgresql", "postgresql+psycopg", "postgresql+psycopg2", "postgres"])
def test_every_postgresql_spelling_is_read_through_adbc(postgres_url: str, spelling: str) -> None:
    src = build_source(postgres_url, nullable_updated_at=False)
    seed(src)
    src.engine.dispose()
    url = sa.make_url(postgres_url).set(drivername=spelling).render_as_string(hide_password=False)
    assert url.startswith(f"{spelling}://")

    pulls = pull_hr_platform(url, _warehouse())

    for table, pull in pulls.items():
        assert pull.reader == READER_ADBC_POSTGRESQL
        assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined) == (SEED_COUNTS[table],) * 2 + (0,)
        assert pull.watermark_after == SEED_WATERMARKS[table]


def test_another_dialect_is_read_through_sqlalchemy(tmp_path: Path) -> None:
    """No MySQL or 达梦 server runs here; DuckDB's SQLAlchemy dialect (duckdb-engine, installed) is a
    real third dialect that reaches the same Core path they take."""
    url = f"duckdb:///{tmp_path / 'hr_platform.duckdb'}"
    src = build_source(url, nullable_updated_at=False)
    seed(src)
    src.engine.dispose()

    pulls = pull_hr_platform(url, _warehouse())

    for table, pull in pulls.items():
        assert pull.reader == READER_SQLALCHEMY
        assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined) == (SEED_COUNTS[table],) * 2 + (0,)
        assert pull.watermark_after == SEED_WATERMARKS[table]
    with pytest.raises(ValueError, match="no ADBC reader"), open_hr_platform(url, ["jobseeker"], reader="adbc"):
        pass


# ---------------------------------------------------------------------------------------------------
# Same values both ways
# ---------------------------------------------------------------------------------------------------

MICRO = dt.timedelta(microseconds=7)
POSTS = [
    # The first two rows are NULL in every nullable column: with chunks of 2 rows a column's first
    # batch holds nothing but NULLs (the ADBC SQLite driver would take such a column for integers).
    {"assignment_id": "P1", "id_number": "530102199001011234", "county_code": None, "post_type": None,
     "start_date": None, "end_date": None, "monthly_subsidy_yuan": None, "updated_at": ts(1)},
    {"assignment_id": "P2", "id_number": "530102199001011234", "county_code": None, "post_type": None,
     "start_date": None, "end_date": None, "monthly_subsidy_yuan": None, "updated_at": ts(2) + MICRO},
    {"assignment_id": "P3", "id_number": "530102199202021111", "county_code": "530102",
     "post_type": "乡村保洁（云溪村）", "start_date": dt.date(2024, 2, 29), "end_date": dt.date(2024, 12, 31),
     "monthly_subsidy_yuan": Decimal("1234567890.12"), "updated_at": ts(3)},
    {"assignment_id": "P'4\\", "id_number": "53010219920202111X", "county_code": "530103",
     "post_type": "护林员 — “生态” '引号' \\ 反斜杠", "start_date": dt.date(1999, 12, 31), "end_date": None,
     "monthly_subsidy_yuan": Decimal("0.10"), "updated_at": ts(4)},
    {"assignment_id": "P5", "id_number": "530102199303033333", "county_code": "", "post_type": "",
     "start_date": dt.date(2023, 1, 1), "end_date": dt.date(2023, 1, 1),
     "monthly_subsidy_yuan": Decimal("0"), "updated_at": ts(5)},
]
# Worked by hand: NUMERIC(12,2) lands as DECIMAL(12,2) (0 -> 0.00, 0.10 stays 0.10, the largest value
# keeps its cents), dates as DATE, the microsecond survives, '' stays '' (not NULL), and NULL stays NULL.
POSTS_EXPECTED = sorted([
    ("P1", "530102199001011234", None, None, None, None, None, ts(1)),
    ("P2", "530102199001011234", None, None, None, None, None, ts(2) + MICRO),
    ("P3", "530102199202021111", "530102", "乡村保洁（云溪村）", dt.date(2024, 2, 29), dt.date(2024, 12, 31),
     Decimal("1234567890.12"), ts(3)),
    ("P'4\\", "53010219920202111X", "530103", "护林员 — “生态” '引号' \\ 反斜杠", dt.date(1999, 12, 31), None,
     Decimal("0.10"), ts(4)),
    ("P5", "530102199303033333", "", "", dt.date(2023, 1, 1), dt.date(2023, 1, 1), Decimal("0.00"), ts(5)),
])
JOBSEEKERS = [jobseeker("J1", 1, wants_employment=None, name=None, phone=None, registered_on=None),
              jobseeker("J2", 2, wants_employment=True, name="欧阳·娜娜"),
              jobseeker("J3", 3, wants_employment=False, name="Ａｌｉ 全角")]
JOBSEEKERS_EXPECTED = [
    ("J1", "530102199001011234", None, None, "530102", None, None, ts(1)),
    ("J2", "530102199001011234", "欧阳·娜娜", "13800000001", "530102", dt.date(2023, 1, 5), True, ts(2)),
    ("J3", "530102199001011234", "Ａｌｉ 全角", "13800000001", "530102", dt.date(2023, 1, 5), False, ts(3)),
]


def test_nulls_chinese_text_decimals_and_dates_read_identically_both_ways(source: Source) -> None:
    source.insert("public_welfare_post", *POSTS)
    source.insert("jobseeker", *JOBSEEKERS)
    landed = {}
    for reader in ("sqlalchemy", "adbc"):
        con = _warehouse()
        pulls = pull_hr_platform(source.url, con, tables=["public_welfare_post", "jobseeker"],
                                 chunk_rows=2, reader=reader)
        assert {p.reader for p in pulls.values()} == (
            {READER_SQLALCHEMY} if reader == "sqlalchemy"
            else {READER_ADBC_SQLITE if source.url.startswith("sqlite") else READER_ADBC_POSTGRESQL})
        assert [(p.rows_read, p.rows_quarantined) for p in pulls.values()] == [(5, 0), (3, 0)]
        landed[reader] = {t: [r[:8] for r in raw_rows(con, t)] for t in ("public_welfare_post", "jobseeker")}
        types = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = 'hr_public_welfare_post' ORDER BY ordinal_position").fetchall()
        assert [t for _, t in types][:8] == ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "DATE", "DATE",
                                            "DECIMAL(12,2)", "TIMESTAMP"]
    assert landed["adbc"]["public_welfare_post"] == POSTS_EXPECTED
    assert landed["adbc"]["jobseeker"] == JOBSEEKERS_EXPECTED
    assert landed["sqlalchemy"] == landed["adbc"]


def test_key_comparison_fetches_a_late_key_with_a_quote_and_a_backslash(source: Source) -> None:
    """The by-key fetch inlines the keys in the SQL the ADBC path sends: a key with ' and \\ must come
    back as itself (a wrong escape would miss it silently, on every comparison)."""
    day = dt.timedelta(days=1)
    source.insert("jobseeker", jobseeker("K1", 0, updated_at=T0 - 30 * day), jobseeker("K2", 0, updated_at=T0))
    con = _warehouse()
    lookback, every = dt.timedelta(hours=72), dt.timedelta(0)
    first = pull_hr_platform(source.url, con, tables=["jobseeker"], lookback=lookback,
                             full_compare_every=every)["jobseeker"]
    assert (first.rows_read, first.rows_inserted) == (2, 2)
    # Committed late, 20 days behind the watermark: only the key comparison finds it.
    source.insert("jobseeker", jobseeker("K'3\\", 0, name="李四", updated_at=T0 - 20 * day))

    pull = pull_hr_platform(source.url, con, tables=["jobseeker"], lookback=lookback,
                            full_compare_every=every)["jobseeker"]

    # Window from T0 - 72 h: K2 (unchanged); by key: K'3\ (late). Read 2 = loaded 2.
    assert (pull.rows_read, pull.rows_upserted, pull.rows_quarantined, pull.status) == (2, 2, 0, "published")
    assert (pull.rows_inserted, pull.rows_corrected, pull.rows_late, pull.rows_deleted) == (0, 0, 1, 0)
    assert [(r[0], r[2], r[7]) for r in raw_rows(con, "jobseeker")] == [
        ("K'3\\", "李四", T0 - 20 * day), ("K1", "张三", T0 - 30 * day), ("K2", "张三", T0)]
