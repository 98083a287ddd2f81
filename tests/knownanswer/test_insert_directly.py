"""An incremental build of a month-partitioned model inserts its query's rows straight into its table
(dbt/macros/materialization_incremental.sql, meta zengshou_insert_directly; issue 12: month 60 costs
what month 2 costs). On a copy of the known-answer warehouse (snapshots 2022-03, 2022-12, 2023-01,
2023-03), raw's 2023-03 member rows get a new batch, as a re-export would, and `dbt run` stages the
months the request names (meta.dbt_rebuild_request, as the transform asset asks):

- only 2023-03 is staged again (its rows carry the new batch), and every month keeps the rows it had:
  the pre-hook deleted the month before the insert, nothing is doubled, no other month is touched;
- what dbt ran is one INSERT ... BY NAME of the query (no temp table copied afterwards), reading raw for
  2023-03 only (a literal list of months, macros/months_to_stage.sql);
- a column added to the table by hand (schema drift) fails the build naming the model, and the table is
  left as it was, the month's rows included (on_schema_change='fail', checked on the query's columns
  before the pre-hook deletes anything);
- another HMAC key (ZENGSHOU_PII_SALT) restages every month under the new key, with the rows each had
  (macro key_fingerprint; checked to fail without the fingerprint's clause in months_to_stage).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import duckdb

from dagster_project.month_plan import MonthRebuild, RebuildPlan, request_build
from tests.incremental_build import run_dbt

from .conftest import Published

STAGING = "staging.stg_monitoring__members"
RUN_SQL = Path("run", "zengshou", "models", "staging", "stg_monitoring__members.sql")


def _months(warehouse: Path) -> dict[str, tuple[int, str]]:
    """Per month of staging: (rows, the batch staged)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"SELECT strftime(as_of_month, '%Y-%m'), count(*), min(batch_id), max(batch_id)"
                           f" FROM {STAGING} GROUP BY 1 ORDER BY 1").fetchall()
    assert all(low == high for _, _, low, high in rows), rows  # one batch a month
    return {month: (n, batch) for month, n, batch, _ in rows}


def _new_batch_for_march(warehouse: Path, suffix: str) -> tuple[str, list[str]]:
    """Give raw's 2023-03 member rows a new batch id and ask for 2023-03 as the transform asset asks
    (month_plan.request_build); return the new id and the dbt arguments of the request."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE raw.monitoring_members SET batch_id = batch_id || ? WHERE as_of_month = DATE '2023-03-01'",
                    [suffix])
        request = request_build(con, RebuildPlan([MonthRebuild(dt.date(2023, 3, 1), "re-exported")]))
        (batch,) = con.execute("SELECT DISTINCT batch_id FROM raw.monitoring_members"
                               " WHERE as_of_month = DATE '2023-03-01'").fetchall()
    return batch[0], request


def test_a_restaged_month_is_inserted_once_and_drift_fails_before_any_delete(main_run: Published,
                                                                           tmp_path: Path) -> None:
    main_run.require_ok()
    warehouse, env = main_run.scenario.warehouse_copy(tmp_path)
    target = tmp_path / "target"
    before = _months(warehouse)
    assert sorted(before) == ["2022-03", "2022-12", "2023-01", "2023-03"]

    batch, request = _new_batch_for_march(warehouse, "-again")
    run_dbt(env, target, "run", "--select", "stg_monitoring__members", *request)
    after = _months(warehouse)
    assert after == {**before, "2023-03": (before["2023-03"][0], batch)}

    ran = (target / RUN_SQL).read_text(encoding="utf-8")
    assert 'insert into "zengshou"."staging"."stg_monitoring__members" by name' in ran, ran[:400]
    assert "__dbt_tmp" not in ran
    assert "where (as_of_month in (cast(null as date), cast('2023-03-01' as date)))" in ran

    # schema drift: a column the model does not have
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"ALTER TABLE {STAGING} ADD COLUMN drifted VARCHAR")
    _, request = _new_batch_for_march(warehouse, "-third")
    failed = run_dbt(env, target, "run", "--select", "stg_monitoring__members", *request, check=False)
    assert len(failed) == 1 and failed[0].startswith("model.zengshou.stg_monitoring__members: error:"), failed
    assert "out of sync" in failed[0], failed
    assert _months(warehouse) == after  # 2023-03 still there, under the batch staged before


def test_a_key_change_restages_every_month_under_the_new_key(main_run: Published, tmp_path: Path) -> None:
    """Another ZENGSHOU_PII_SALT on a warehouse staged under the old one (macro key_fingerprint): an
    incremental build with no new batch stages every month again, each with the rows it had, and no row
    keeps a key of the old salt — keys of two salts never mix in one table."""
    main_run.require_ok()
    warehouse, env = main_run.scenario.warehouse_copy(tmp_path)
    before = _months(warehouse)
    new_salt = "another-salt-after-a-key-rotation-0123456789"
    run_dbt({**env, "ZENGSHOU_PII_SALT": new_salt}, tmp_path / "target", "run", "--select", "stg_monitoring__members")
    assert _months(warehouse) == before  # every month, the same rows and batches

    fingerprint = hmac.new(new_salt.encode(), b"zengshou-key-fingerprint", hashlib.sha256).hexdigest()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(f"SELECT DISTINCT key_fingerprint FROM {STAGING}").fetchall() == [(fingerprint,)]
        pairs = con.execute(f"""SELECT r.id_number, s.person_key FROM raw.monitoring_members AS r
                                JOIN {STAGING} AS s USING (as_of_month, source_row)
                                WHERE r.id_number IS NOT NULL""").fetchall()
    assert len(pairs) == sum(n for n, _ in before.values())
    for id_number, person_key in pairs:  # the key of each 证件号码 under the new salt, worked out in Python
        assert person_key == hmac.new(new_salt.encode(), id_number.strip().upper().encode(),
                                      hashlib.sha256).hexdigest()
