"""The one batch pipeline seen from Dagster: a rejected batch is observed, never materialized, so
nothing downstream (automation, lineage, "last updated" in the UI) takes it for new data, while its
blocking check still fails and the batch is accounted for in meta.load_batches."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.definitions import build_definitions
from dagster_project.orchestration.jobs import HR_PULL_JOB, MONITORING_JOB
from dagster_project.settings import load_settings
from tests.knownanswer.landing import FileStyle, Landing
from tests.knownanswer.scenario import households_rows, members_rows

MEMBERS = dg.AssetKey(["raw", "monitoring_members"])
HOUSEHOLDS = dg.AssetKey(["raw", "monitoring_households"])


def _defs() -> dg.Definitions:
    """The code location for the settings the test has just put in the environment."""
    return build_definitions(load_settings())


def test_a_rejected_file_batch_is_an_observation_not_a_materialization(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = tmp_path / "warehouse" / "zengshou.duckdb"
    monkeypatch.setenv("ZENGSHOU_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("ZENGSHOU_LANDING_SETTLE_SECONDS", "0")
    monkeypatch.delenv("ZENGSHOU_ALERT_WEBHOOK_URL", raising=False)
    landing = Landing(tmp_path / "landing")
    members = members_rows("2023-01")
    # The members export lost its 证件号码 column: rejected whole. The households export is fine.
    landing.write_members("2023-01", members, FileStyle(drop_columns=("证件号码",)))
    landing.write_households("2023-01", households_rows("2023-01"))

    result = _defs().resolve_job_def(MONITORING_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), partition_key="2023-01", raise_on_error=False)

    assert not result.success  # the members' blocking check fails the run, as before
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    observed = {e.asset_key: e.event_specific_data.asset_observation for e in result.get_asset_observation_events()}
    assert materialized == {HOUSEHOLDS}
    assert set(observed) == {MEMBERS}
    meta = {k: getattr(v, "value", v) for k, v in observed[MEMBERS].metadata.items()}
    assert meta["status"] == "rejected" and meta["reason"] == "缺少必需列: 证件号码"
    assert observed[MEMBERS].partition == "2023-01"
    checks = {(e.asset_key, e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks[(MEMBERS, "batch_accepted")] is False
    assert checks[(HOUSEHOLDS, "batch_accepted")] is True
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("SELECT rows_read, rows_loaded, rows_quarantined, status FROM meta.load_batches "
                          "WHERE source = 'monitoring.members'").fetchone()
        raw_members = con.execute("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_schema = 'raw' AND table_name = 'monitoring_members'").fetchone()
    # Every row of the export is accounted for: none loaded, all quarantined (batch_rejected).
    assert row == (len(members), 0, len(members), "rejected")
    assert raw_members == (0,)  # never published, so the raw table was never created


def test_a_rejected_hr_table_is_an_observation_and_its_check_carries_the_ge_summary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    import sqlalchemy as sa

    from dagster_project import hr_schema

    hr_db = tmp_path / "hr.sqlite"
    engine = sa.create_engine(f"sqlite:///{hr_db}")
    hr_schema.metadata.create_all(engine)
    stamp = dt.datetime(2023, 3, 1, 9, 0)
    with engine.begin() as c:  # 2 rows, 1 with a service type outside the code list: 50 % > 2 %
        c.execute(hr_schema.metadata.tables["employment_service"].insert(), [
            {"service_id": "E1", "id_number": "530102199001011234", "service_type": "job_referral",
             "service_date": dt.date(2023, 2, 1), "updated_at": stamp},
            {"service_id": "E2", "id_number": "530102199001011234", "service_type": "job_fair",
             "service_date": dt.date(2023, 2, 1), "updated_at": stamp}])
    engine.dispose()
    warehouse = tmp_path / "warehouse" / "zengshou.duckdb"
    monkeypatch.setenv("ZENGSHOU_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("ZENGSHOU_HR_DB_URL", f"sqlite:///{hr_db}")
    monkeypatch.delenv("ZENGSHOU_ALERT_WEBHOOK_URL", raising=False)
    service, seeker = dg.AssetKey(["raw", "hr_employment_service"]), dg.AssetKey(["raw", "hr_jobseeker"])

    result = _defs().resolve_job_def(HR_PULL_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=[service, seeker], raise_on_error=False)

    assert not result.success
    # jobseeker read nothing: "unchanged", materialized as before
    assert {e.asset_key for e in result.get_asset_materialization_events()} == {seeker}
    [observation] = [e.event_specific_data.asset_observation for e in result.get_asset_observation_events()]
    assert observation.asset_key == service
    assert getattr(observation.metadata["status"], "value", None) == "rejected"
    [check] = [e for e in result.get_asset_check_evaluations()
               if e.asset_key == service and e.check_name == "pull_accepted"]
    assert check.passed is False
    meta = {k: getattr(v, "value", v) for k, v in check.metadata.items()}
    assert meta["reason"] == "隔离 1/2 行（50.0%），超过上限 2.0%：本批未写入 raw，水位线保持不变"
    assert meta["ge_suite"] == "raw.hr_employment_service"  # the gate ran and agreed with the quarantine
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.hr_employment_service").fetchone() == (0,)
        assert con.execute("SELECT rows_read, rows_loaded, rows_quarantined, status FROM meta.load_batches "
                           "WHERE source = 'hr_platform.employment_service'").fetchone() == (2, 1, 1, "rejected")
