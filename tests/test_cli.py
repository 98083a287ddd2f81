"""`zengshou` exit codes and one-line reasons for usage and configuration errors (SPEC §5)."""

import os
import subprocess
import sys
from pathlib import Path

ZENGSHOU = str(Path(sys.executable).with_name("zengshou"))


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZENGSHOU_")}
    base.update({"ZENGSHOU_LANDING_DIR": str(tmp_path / "landing"), "ZENGSHOU_WAREHOUSE": str(tmp_path / "w.duckdb")})
    base.update(env)
    return subprocess.run([ZENGSHOU, *args], env=base, capture_output=True, text=True, timeout=120)


def _one_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip() and not ln.startswith("WARNING")]
    assert len(lines) == 1, text
    return lines[0]


def test_bad_reject_rate_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    proc = _run(["run"], tmp_path, ZENGSHOU_MAX_REJECT_RATE="abc")
    assert proc.returncode == 2
    assert "ZENGSHOU_MAX_REJECT_RATE" in _one_line(proc.stderr)


def test_unknown_alert_format_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    proc = _run(["run"], tmp_path, ZENGSHOU_ALERT_FORMAT="telegram")
    assert proc.returncode == 2 and "ZENGSHOU_ALERT_FORMAT" in _one_line(proc.stderr)


def test_missing_landing_dir_is_a_configuration_error(tmp_path: Path) -> None:
    proc = _run(["run"], tmp_path)
    assert proc.returncode == 2 and "landing dir" in _one_line(proc.stderr)
    assert not (tmp_path / "w.duckdb").exists()  # nothing was created


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    for args in (["frobnicate"], ["simulate", "--out", str(tmp_path), "--start", "2023-13"],
                 ["simulate", "--out", str(tmp_path), "--scale", "planet"]):
        proc = _run(args, tmp_path)
        assert proc.returncode == 2, args
        assert "usage error" in _one_line(proc.stderr)


def test_start_after_end_is_refused(tmp_path: Path) -> None:
    proc = _run(["simulate", "--out", str(tmp_path / "x"), "--start", "2023-03", "--end", "2023-01"], tmp_path)
    assert proc.returncode == 2 and "after" in _one_line(proc.stderr)
    assert not (tmp_path / "x").exists()


def test_simulate_says_how_many_months_it_wrote(tmp_path: Path) -> None:
    """2023-01..2023-03 is three snapshot months (the line said "0 snapshot month(s)" whatever it wrote)."""
    proc = _run(["simulate", "--scale", "smoke", "--out", str(tmp_path / "sim"), "--start", "2023-01",
                 "--end", "2023-03"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("(3 snapshot month(s), 2023-01..2023-03)"), proc.stdout
    assert sorted(p.name for p in (tmp_path / "sim" / "monitoring").iterdir()) == ["2023-01", "2023-02", "2023-03"]


def test_run_on_a_warehouse_in_use_stops_before_the_pipeline_is_imported(tmp_path: Path) -> None:
    """Another `zengshou run` (here: this test process) holds the warehouse: exit 1, the one line naming
    the holder's pid, and neither Dagster nor GE imported (the run said so only after ≈ 5 s of imports)."""
    from dagster_project.ingest.warehouse_lock import warehouse_lock

    (tmp_path / "landing").mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZENGSHOU_")}
    base.update({"ZENGSHOU_LANDING_DIR": str(tmp_path / "landing"), "ZENGSHOU_WAREHOUSE": str(tmp_path / "w.duckdb"),
                 "ZENGSHOU_PII_SALT": "a-test-salt"})
    with warehouse_lock(tmp_path / "w.duckdb", timeout=0, purpose="zengshou run"):
        proc = subprocess.run([sys.executable, "-X", "importtime", ZENGSHOU, "run"], env=base, capture_output=True,
                              text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    said = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("import time:")]
    assert len(said) == 1, said
    assert said[0].startswith(f"FAILED: warehouse {tmp_path / 'w.duckdb'} is in use by another zengshou run "
                              f"(pid {os.getpid()}, zengshou run, since "), said
    imported = {ln.rsplit("|", 1)[-1].strip() for ln in proc.stderr.splitlines() if ln.startswith("import time:")}
    assert "duckdb" in imported  # the listing is real: the warehouse checks did import DuckDB
    assert not {"dagster", "great_expectations", "dagster_dbt"} & imported
    assert not (tmp_path / "w.duckdb").exists()


# Every malformed setting stops `zengshou run` before anything is created, exit 2, one line naming it
# (issue 13 #7, #10). Each value here is what a person could really type.
BAD_SETTINGS = [
    ("ZENGSHOU_HR_RETRY_DELAY", "abc", "ZENGSHOU_HR_RETRY_DELAY must be a number"),
    ("ZENGSHOU_HR_RETRY_DELAY", "-5", "ZENGSHOU_HR_RETRY_DELAY must be a number of at least 0"),
    ("ZENGSHOU_LOG_LEVEL", "LOUD", "ZENGSHOU_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("ZENGSHOU_HR_LOOKBACK_HOURS", "3 days", "ZENGSHOU_HR_LOOKBACK_HOURS must be a number"),
    ("ZENGSHOU_HR_FULL_COMPARE_HOURS", "daily", "ZENGSHOU_HR_FULL_COMPARE_HOURS must be a number"),
    ("ZENGSHOU_HR_PULL_CRON", "every day at 6", "ZENGSHOU_HR_PULL_CRON must be a cron string"),
    ("ZENGSHOU_HR_PULL_CRON", "30 25 * * *", "'25' is out of range for the hour field (0-23)"),
    ("ZENGSHOU_LANDING_SETTLE_SECONDS", "30s", "ZENGSHOU_LANDING_SETTLE_SECONDS must be a number"),
    ("ZENGSHOU_SENSOR_INTERVAL_SECONDS", "30s", "ZENGSHOU_SENSOR_INTERVAL_SECONDS must be a whole number of at"),
    ("ZENGSHOU_SENSOR_INTERVAL_SECONDS", "0", "ZENGSHOU_SENSOR_INTERVAL_SECONDS must be a whole number of at least 1"),
    ("ZENGSHOU_ALERT_ATTEMPTS", "three", "ZENGSHOU_ALERT_ATTEMPTS must be a whole number of at least 1"),
    ("ZENGSHOU_ALERT_RETRY_DELAY", "1m", "ZENGSHOU_ALERT_RETRY_DELAY must be a number"),
    ("ZENGSHOU_ALERT_TIMEOUT", "0", "ZENGSHOU_ALERT_TIMEOUT must be a number of at least 0.1"),
    ("ZENGSHOU_BI_ROLE_PREFIX", "Zeng-Shou", "ZENGSHOU_BI_ROLE_PREFIX must be lower-case letters"),
    ("ZENGSHOU_RECONCILIATION_TOLERANCE", "5%", "ZENGSHOU_RECONCILIATION_TOLERANCE must be a number between"),
    ("ZENGSHOU_DUCKDB_MEMORY_LIMIT", "lots", "ZENGSHOU_DUCKDB_MEMORY_LIMIT must be a size"),
    ("ZENGSHOU_HR_DB_URL", "not a url", "ZENGSHOU_HR_DB_URL is not a database URL ('not a url'): write it as"),
    ("ZENGSHOU_HR_DB_URL", "mssql://hr:pw@db/hr",
     "ZENGSHOU_HR_DB_URL: the HR platform must be PostgreSQL, MySQL or SQLite (SPEC §3.2), not mssql://"),
    ("ZENGSHOU_HR_DB_URL", "mysql+mysqldb://hr:pw@db/hr",
     "ZENGSHOU_HR_DB_URL: the database driver for mysql+mysqldb:// is not installed"),
    ("ZENGSHOU_HR_DB_URL", "oracel://hr@db/hr", "not oracel://"),
    ("ZENGSHOU_BI_DB_URL", "mysql://bi:pw@db/bi",
     "ZENGSHOU_BI_DB_URL: only PostgreSQL is supported for publishing the marts, not mysql://"),
    # Issue 11: the settings that were read where they were used, unchecked (a bad UI URL gave broken
    # links, a bad webhook URL failed only at the first alert, a folder as the serving file or alert
    # state failed deep inside a step).
    ("ZENGSHOU_MAX_REJECT_RATE", "2%", "ZENGSHOU_MAX_REJECT_RATE must be a number between 0 and 1"),
    ("ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT", "30 min", "ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT must be a number of seconds"),
    ("ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT", "-1", "ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT must be >= 0"),
    ("ZENGSHOU_UI_URL", "dagster.example.gov.cn:3000",
     "ZENGSHOU_UI_URL must be an http:// or https:// URL with a host, not 'dagster.example.gov.cn:3000'"),
    ("ZENGSHOU_ALERT_WEBHOOK_URL", "oapi.dingtalk.com/robot/send?access_token=Secr3t-token",
     "ZENGSHOU_ALERT_WEBHOOK_URL must be an http:// or https:// URL with a host, not <hidden"),
    ("ZENGSHOU_ALERT_WEBHOOK_URL", "https://oapi.dingtalk.com:port/robot/send",
     "ZENGSHOU_ALERT_WEBHOOK_URL must be an http:// or https:// URL"),
    ("ZENGSHOU_SERVING_FILE", "/", "ZENGSHOU_SERVING_FILE / is a directory: set it to a file path"),
    ("ZENGSHOU_ALERT_STATE", "/", "ZENGSHOU_ALERT_STATE / is a directory: set it to a file path"),
    ("ZENGSHOU_DATA_DOCS_DIR", str(Path(__file__).resolve()), "ZENGSHOU_DATA_DOCS_DIR"),
]


# The cases issue 13 names run the installed console script; the rest call the same `main` in process
# (each subprocess costs seconds of start-up on a loaded machine).
SUBPROCESS_CASES = {("ZENGSHOU_HR_RETRY_DELAY", "abc"), ("ZENGSHOU_LOG_LEVEL", "LOUD"),
                    ("ZENGSHOU_HR_DB_URL", "not a url"), ("ZENGSHOU_BI_DB_URL", "mysql://bi:pw@db/bi"),
                    ("ZENGSHOU_HR_PULL_CRON", "every day at 6"), ("ZENGSHOU_HR_LOOKBACK_HOURS", "3 days")}


def test_each_malformed_setting_exits_2_naming_it(tmp_path: Path, monkeypatch, capsys) -> None:
    from dagster_project import cli

    (tmp_path / "landing").mkdir()
    for var, value, reason in BAD_SETTINGS:
        if (var, value) in SUBPROCESS_CASES:
            proc = _run(["run"], tmp_path, **{var: value})
            code, stderr = proc.returncode, proc.stderr
        else:
            for name in [k for k in os.environ if k.startswith("ZENGSHOU_")]:
                monkeypatch.delenv(name)
            monkeypatch.setenv("ZENGSHOU_LANDING_DIR", str(tmp_path / "landing"))
            monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(tmp_path / "w.duckdb"))
            monkeypatch.setenv(var, value)
            code = cli.main(["run"])
            stderr = capsys.readouterr().err
            monkeypatch.delenv(var)
        assert code == 2, (var, value, stderr)
        line = _one_line(stderr)
        assert line.startswith("zengshou: configuration error: ") and reason in line, (var, value, line)
        assert "Traceback" not in stderr
        assert "Secr3t-token" not in stderr  # a webhook URL carries the robot's token
        assert not (tmp_path / "w.duckdb").exists()  # nothing was started
    assert {(v, x) for v, x, _ in BAD_SETTINGS} >= SUBPROCESS_CASES


def test_every_command_checks_every_setting_first(tmp_path: Path, monkeypatch, capsys) -> None:
    """`demo`, `report` and `simulate` stop on a malformed setting as `run` does: exit 2, the one line."""
    from dagster_project import cli

    for name in [k for k in os.environ if k.startswith("ZENGSHOU_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ZENGSHOU_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("ZENGSHOU_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("ZENGSHOU_HR_RETRY_DELAY", "abc")
    for args in (["demo"], ["report"], ["simulate", "--out", str(tmp_path / "sim")]):
        code = cli.main(args)
        line = _one_line(capsys.readouterr().err)
        assert code == 2 and line.startswith("zengshou: configuration error: ZENGSHOU_HR_RETRY_DELAY"), (args, line)
    assert not (tmp_path / "landing").exists() and not (tmp_path / "sim").exists()


def test_passwords_never_appear_in_a_url_error(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    for var, url in (("ZENGSHOU_BI_DB_URL", "mysql://bi:Secr3t-pw@db/bi"),
                     ("ZENGSHOU_HR_DB_URL", "mssql://hr:Secr3t-pw@db/hr"),
                     ("ZENGSHOU_HR_DB_URL", "hr:Secr3t-pw@db/hr")):
        proc = _run(["run"], tmp_path, **{var: url})
        assert proc.returncode == 2 and var in _one_line(proc.stderr)
        assert "Secr3t-pw" not in proc.stderr + proc.stdout, url


def test_plain_production_urls_get_the_installed_drivers() -> None:
    """What `zengshou` hands SQLAlchemy for each URL form a DBA writes (SPEC §3.2; STACK.md)."""
    from dagster_project.settings import bi_db_url, hr_db_url

    assert hr_db_url("mysql://hr:pw@db:3306/hr") == "mysql+pymysql://hr:pw@db:3306/hr"
    assert hr_db_url("mariadb://hr:pw@db/hr") == "mariadb+pymysql://hr:pw@db/hr"
    assert hr_db_url("postgres://hr:pw@db/hr") == "postgresql+psycopg://hr:pw@db/hr"
    for kept in ("postgresql://hr:p%40ss@db:5432/hr", "postgresql+psycopg2://hr@db/hr",
                 "mysql+pymysql://hr@db/hr", "sqlite:////srv/hr_platform.sqlite"):
        assert hr_db_url(kept) == kept
    assert bi_db_url("postgresql://bi:pw@db/bi") == "postgresql://bi:pw@db/bi"
