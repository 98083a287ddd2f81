"""The resource seam (issue 11, item 2): asset code takes its warehouse, landing dir and limits from the
resources built from one ``Settings``, so it runs in process against a temporary warehouse — no
environment variable, no `zengshou run`, no code location.

Known answers from tests/knownanswer/scenario.py: the 2023-01 export has 15 members (A1–A7, B1–B5,
C1–C3) in 6 households. One extra member row with a broken ID checksum makes 16 rows, of which 1 breaks
a rule: 1/16 = 6.25 %, above the default limit of 2 % and within a limit of 10 %."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.assets.monitoring import monitoring_households, monitoring_members
from dagster_project.resources import build_resources
from dagster_project.settings import load_settings
from tests.knownanswer.landing import Landing, break_checksum
from tests.knownanswer.scenario import households_rows, members_rows

MONTH = "2023-01"


def _settings(root: Path, landing: Path, **extra: str):
    """Settings from a dict: os.environ plays no part (the test below points it somewhere else)."""
    return load_settings({"ZENGSHOU_LANDING_DIR": str(landing), "ZENGSHOU_WAREHOUSE": str(root / "zengshou.duckdb"),
                          "ZENGSHOU_PII_SALT": "resource-seam-salt", "ZENGSHOU_LANDING_SETTLE_SECONDS": "0",
                          **extra})


def _batches(warehouse: Path) -> dict[str, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT source, rows_read, rows_loaded, rows_quarantined, status, reason "
                           "FROM meta.load_batches WHERE partition_key = ? ORDER BY source", [MONTH]).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_a_monitoring_month_loads_in_process_through_the_resources(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    landing = Landing(tmp_path / "landing")
    members = members_rows(MONTH)
    assert len(members) == 15
    members.append(dict(members[4], 姓名="坏号", 人口编号="bad-1", 证件号码=break_checksum(members[4]["证件号码"])))
    landing.write_members(MONTH, members)
    landing.write_households(MONTH, households_rows(MONTH))
    # What the environment says must not matter: the resources carry the settings.
    elsewhere = tmp_path / "not-this" / "zengshou.duckdb"
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(elsewhere))
    monkeypatch.setenv("ZENGSHOU_MAX_REJECT_RATE", "0")

    # A limit of 10 %: the batch is published with its one bad row quarantined.
    lenient = _settings(tmp_path / "lenient", landing.root, ZENGSHOU_MAX_REJECT_RATE="0.10")
    result = dg.materialize([monitoring_members, monitoring_households], partition_key=MONTH,
                            resources=build_resources(lenient), instance=dg.DagsterInstance.ephemeral(),
                            raise_on_error=False)
    assert result.success
    checks = {(c.asset_key.path[-1], c.check_name): c.passed for c in result.get_asset_check_evaluations()}
    assert checks[("monitoring_members", "batch_accepted")] and checks[("monitoring_households", "batch_accepted")]
    assert _batches(lenient.warehouse) == {
        "monitoring.households": (6, 6, 0, "published", None),
        "monitoring.members": (16, 15, 1, "published", None),
    }
    with duckdb.connect(str(lenient.warehouse), read_only=True) as con:
        assert con.execute("SELECT rule, count(*) FROM quarantine.rejected_rows GROUP BY rule").fetchall() \
            == [("id_checksum", 1)]
        assert con.execute("SELECT count(*) FROM raw.monitoring_members").fetchone() == (15,)
        assert con.execute("SELECT count(*) FROM raw.monitoring_households").fetchone() == (6,)

    # The default limit of 2 %, on a warehouse of its own: the same file is rejected, every row quarantined.
    strict = _settings(tmp_path / "strict", landing.root)
    result = dg.materialize([monitoring_members], partition_key=MONTH, resources=build_resources(strict),
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success  # the blocking check failed
    [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == "batch_accepted"]
    assert not check.passed
    [(read, loaded, quarantined, status, reason)] = _batches(strict.warehouse).values()
    assert (read, loaded, quarantined, status) == (16, 0, 16, "rejected") and read == loaded + quarantined
    assert reason == "隔离比例 6.25% 超过上限 2.00%（1/16 行）"
    assert not elsewhere.parent.exists()  # the environment's warehouse was never touched


def test_the_resources_show_secrets_by_name_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A secret read from the environment reaches the resources as dg.EnvVar (the UI shows the name)."""
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("ZENGSHOU_PII_SALT", "a-production-salt")
    monkeypatch.setenv("ZENGSHOU_BI_DB_URL", "postgresql://bi:Secr3t@db/bi")
    monkeypatch.delenv("ZENGSHOU_ALERT_WEBHOOK_URL", raising=False)
    resources = build_resources(load_settings())
    assert resources["warehouse"].pii_salt == dg.EnvVar("ZENGSHOU_PII_SALT")
    assert resources["publishing"].bi_db_url == dg.EnvVar("ZENGSHOU_BI_DB_URL")
    assert resources["alerts"].webhook_url is None
    # Dagster resolves them from the same environment when a run starts.
    with dg.build_resources({"warehouse": resources["warehouse"]}) as built:
        assert built.warehouse.pii_salt == "a-production-salt"
    # Read from a dict (a test's settings), the values are passed as they are.
    plain = build_resources(load_settings({"ZENGSHOU_WAREHOUSE": str(tmp_path / "w.duckdb"),
                                           "ZENGSHOU_PII_SALT": "dict-salt"}))
    assert plain["warehouse"].pii_salt == "dict-salt"


def test_only_settings_py_reads_a_zengshou_variable():
    """No module but settings.py looks a ZENGSHOU_* variable up in the environment (issue 11)."""
    import re

    package = Path(__file__).resolve().parents[1] / "dagster_project"
    lookup = re.compile(r"(os\.environ|getenv|env_var)\b[^\n]*ZENGSHOU_|ZENGSHOU_\w+[\"']\s*\]?\s*(in\s+os\.environ)")
    offenders = [f"{path.relative_to(package)}:{n}" for path in sorted(package.rglob("*.py"))
                 if path.name != "settings.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if lookup.search(line)]
    assert offenders == []


def test_importing_the_code_location_reads_no_setting(tmp_path: Path):
    """Import reads nothing; loading the definitions reads every setting once and names a bad one."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENGSHOU_")}
    env.update(ZENGSHOU_HR_PULL_CRON="every day at 6", ZENGSHOU_WAREHOUSE=str(tmp_path / "w.duckdb"))
    code = ("import dagster_project.definitions as d, dagster_project.resources, dagster_project.runner\n"
            "from dagster_project.settings import ConfigError\n"
            "try:\n    d.defs()\nexcept ConfigError as exc:\n    print('LOAD:', exc)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "LOAD: ZENGSHOU_HR_PULL_CRON must be a cron string" in proc.stdout


def test_values_below_the_resources_come_from_the_settings_not_the_environment(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch):
    """The settle time reaches the asset's settle check, the Data Docs folder the GE validation inside the
    loader: from the Settings the resources were built from, whatever the environment says at run time."""
    landing = Landing(tmp_path / "landing")
    landing.write_members(MONTH, members_rows(MONTH))  # just written: modified 0 s ago
    monkeypatch.setenv("ZENGSHOU_LANDING_SETTLE_SECONDS", "0")
    monkeypatch.setenv("ZENGSHOU_DATA_DOCS_DIR", str(tmp_path / "not-these-docs"))

    waiting = _settings(tmp_path / "waiting", landing.root, ZENGSHOU_LANDING_SETTLE_SECONDS="3600")
    result = dg.materialize([monitoring_members], partition_key=MONTH, resources=build_resources(waiting),
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "still being written" in str(failure.step_failure_data.error)
    assert "ZENGSHOU_LANDING_SETTLE_SECONDS=3600" in str(failure.step_failure_data.error)
    assert not waiting.warehouse.exists()  # nothing loaded

    docs = tmp_path / "docs-here"
    loading = _settings(tmp_path / "loading", landing.root, ZENGSHOU_DATA_DOCS_DIR=str(docs))
    result = dg.materialize([monitoring_members], partition_key=MONTH, resources=build_resources(loading),
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    assert _batches(loading.warehouse) == {"monitoring.members": (15, 15, 0, "published", None)}
    assert (docs / "index.html").is_file() and list((docs / "validations").rglob("*.html"))
    assert not (loading.warehouse.parent / "data_docs").exists() and not (tmp_path / "not-these-docs").exists()


def test_the_dbt_resource_asks_no_version_subprocess_and_opens_no_adapter() -> None:
    """resources.ZengshouDbtCliResource overrides two private methods of dagster-dbt's resource (a `dbt
    --version` subprocess and an in-process adapter, ≈ 5 s of every build). If an upgrade renames them the
    overrides would silently do nothing: this fails first."""
    import importlib.metadata

    from dagster_dbt import DbtCliResource

    from dagster_project.resources import DBT, ZengshouDbtCliResource

    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), f"dagster-dbt no longer has DbtCliResource.{name}"
    dbt = build_resources(load_settings({}))[DBT]
    assert isinstance(dbt, ZengshouDbtCliResource)
    assert str(dbt._cli_version) == importlib.metadata.version("dbt-core")
    assert dbt._initialize_dbt_core_adapter(["build"]) is None
