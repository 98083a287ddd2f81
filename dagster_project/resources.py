"""The Dagster resources of zengshou, built once from the validated ``Settings`` (``build_resources``).

Asset, check and sensor code takes what it needs as parameters — ``warehouse``, ``landing``,
``hr_platform``, ``publishing``, ``alerts`` (and dagster-dbt's ``dbt``) — instead of reading settings
itself, so a test can run any of them in process against a temporary warehouse:

    dg.materialize([monitoring_members], partition_key="2023-01",
                   resources=build_resources(load_settings({"ZENGSHOU_WAREHOUSE": str(tmp / "w.duckdb"), …})))

Secret settings (``settings.SECRET_SETTINGS``: the PII salt, database URLs that may carry a password, a
webhook URL with a robot's token) are passed as ``dg.EnvVar`` when they came from the environment, so
the Dagster UI's resource page shows the variable's name, never its value; Dagster resolves them from
the same environment ``load_settings`` already checked.

No ``from __future__ import annotations`` here: Dagster reads the fields' annotations at class creation.
"""

import contextlib
import dataclasses
import importlib.metadata
import sys
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from dagster_project.settings import (
    DBT_PROJECT_DIR,
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    DEFAULT_ROLE_PREFIX,
    DEFAULT_SETTLE_SECONDS,
    DEFAULT_UI_URL,
    DEFAULT_WAREHOUSE_LOCK_TIMEOUT,
    Settings,
    dbt_env,
    hr_db_url,
)

WAREHOUSE, LANDING, HR_PLATFORM, PUBLISHING, ALERTS, DBT = (
    "warehouse", "landing", "hr_platform", "publishing", "alerts", "dbt")


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse: where it is, how it is opened (memory cap, how long a step waits for another
    writer), what may enter it (the reject rate), how people are keyed in it (the PII salt) and where
    the GE validations' Data Docs go. Code below it (ingest/, quality/) gets these values as parameters
    (``loader_options``), never from the environment."""

    path: str
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    lock_timeout: float = DEFAULT_WAREHOUSE_LOCK_TIMEOUT
    max_reject_rate: float = 0.02
    reconciliation_tolerance: float = 0.05
    pii_salt: str
    data_docs_dir: str | None = None

    @property
    def file(self) -> Path:
        return Path(self.path)

    @contextlib.contextmanager
    def lock(self, purpose: str, *, exclusive: bool = True) -> Iterator[None]:
        """The warehouse lock (ingest/warehouse_lock.py), waiting at most ``lock_timeout`` seconds."""
        from dagster_project.ingest.warehouse_lock import warehouse_lock

        with warehouse_lock(self.file, exclusive=exclusive, timeout=self.lock_timeout, purpose=purpose):
            yield

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """A read-write connection (ingest/warehouse.connect: lock, memory cap, shared schemas)."""
        from dagster_project.ingest.warehouse import connect

        with connect(self.file, memory_limit=self.memory_limit, lock_timeout=self.lock_timeout) as con:
            yield con

    def loader_options(self) -> dict[str, Any]:
        """What a loader (``batch_pipeline.load_landed_file``, ``pull_hr_platform``) or a GE validation
        (``ge_runner.validate``) needs besides the warehouse path and the reject rate: the memory cap and
        lock timeout of the connections it opens, and the Data Docs folder (None: beside the warehouse)."""
        return {"memory_limit": self.memory_limit, "lock_timeout": self.lock_timeout,
                "data_docs_dir": Path(self.data_docs_dir) if self.data_docs_dir else None}

    def dbt_env(self) -> dict[str, str]:
        """What the dbt subprocess needs in its environment: the path, the HMAC pads, the tolerance."""
        return dbt_env(self.file, self.pii_salt, self.reconciliation_tolerance, self.memory_limit)


class LandingResource(dg.ConfigurableResource):
    """The landing dir the exports arrive in, and how long a file must be left alone before it counts as
    completely copied (``ZENGSHOU_LANDING_SETTLE_SECONDS``)."""

    path: str
    settle_seconds: float = DEFAULT_SETTLE_SECONDS

    @property
    def dir(self) -> Path:
        return Path(self.path)

    def exists(self) -> bool:
        return self.dir.is_dir()

    def settling(self, path: Path, now: float | None = None) -> bool:
        from dagster_project.ingest.file_sources import settling

        return settling(path, now, self.settle_seconds)

    def settling_note(self, path: Path) -> str:
        from dagster_project.ingest.file_sources import settling_note

        return settling_note(self.dir, path, None, self.settle_seconds)


class HrPlatformResource(dg.ConfigurableResource):
    """The HR platform database (人社 就业信息系统) and how it is pulled (README "HR platform pull")."""

    db_url: str
    retry_delay: float = 10.0
    lookback_hours: float = 72.0
    full_compare_hours: float = 20.0

    def url(self) -> str:
        """The SQLAlchemy URL with its driver made explicit (settings.hr_db_url; checked at start)."""
        return hr_db_url(self.db_url)


class PublishingResource(dg.ConfigurableResource):
    """Where the marts are published for BI: the serving DuckDB file (always) and PostgreSQL (when
    ``ZENGSHOU_BI_DB_URL`` is set), with the prefix of its reader roles."""

    serving_file: str | None = None
    bi_db_url: str | None = None
    role_prefix: str = DEFAULT_ROLE_PREFIX


class AlertsResource(dg.ConfigurableResource):
    """Where data-quality and run-failure alerts go (alerts/), how hard delivery is tried, and where
    what was sent is remembered."""

    webhook_url: str | None = None
    format: str = "generic"
    attempts: int = 3
    retry_delay: float = 1.0
    timeout: float = 5.0
    ui_url: str = DEFAULT_UI_URL
    state_path: str

    def config(self) -> Any:
        from dagster_project.alerts.dispatch import AlertConfig
        from dagster_project.alerts.webhook import RetryPolicy

        return AlertConfig(webhook_url=self.webhook_url, format=self.format, state=Path(self.state_path),
                           ui_url=self.ui_url,
                           policy=RetryPolicy(attempts=self.attempts, delay=self.retry_delay, timeout=self.timeout))


def _secret(settings: Settings, name: str, value: str | None) -> Any:
    """``dg.EnvVar(name)`` for a secret read from the environment, else the value (a default, or a value
    a test passed in a dict)."""
    return dg.EnvVar(name) if name in settings.secrets_in_environment else value


def dbt_executable() -> str:
    """The dbt of this virtual environment, so runs never pick up another dbt from PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


class ZengshouDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource without two costs it pays in-process before every build, for things
    zengshou never uses (cProfile of a known-answer run, 2026-12-02: 5.7 s of its 53 s):

    - the dbt version, which dagster-dbt asks by running `dbt --version` in a subprocess (a second dbt
      start-up, ≈ 2 s of CPU): here it is the installed dbt-core's, the same package the executable of
      this environment runs (``dbt_executable``; pinned in uv.lock);
    - a dbt adapter opened in this process (profile, project and macros loaded again, ≈ 3 s), which
      dagster-dbt needs only for ``fetch_column_metadata()`` / ``fetch_row_counts()``: zengshou calls
      neither (the marts' columns and counts come from the manifest and the serving step). Without it,
      dagster-dbt proceeds as it does for dbt Fusion, which has no in-process adapter either.

    Both are private methods of dagster-dbt's resource: tests/test_resources.py fails when an upgrade
    renames them, rather than letting the saving silently vanish."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> Any:
        return None


def dbt_resource() -> DbtCliResource:
    """dagster-dbt's CLI resource for the project in ``dbt/`` (its profile reads the warehouse path from
    the environment the dbt asset gives the subprocess)."""
    return ZengshouDbtCliResource(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR),
                                  dbt_executable=dbt_executable())


def build_resources(settings: Settings) -> dict[str, Any]:
    """Every resource of the code location from one validated ``Settings``."""
    from dagster_project.alerts.state import state_path

    return {
        WAREHOUSE: WarehouseResource(
            path=str(settings.warehouse), memory_limit=settings.duckdb_memory_limit,
            lock_timeout=settings.warehouse_lock_timeout, max_reject_rate=settings.max_reject_rate,
            reconciliation_tolerance=settings.reconciliation_tolerance,
            pii_salt=_secret(settings, "ZENGSHOU_PII_SALT", settings.pii_salt),
            data_docs_dir=str(settings.data_docs_dir) if settings.data_docs_dir else None),
        LANDING: LandingResource(path=str(settings.landing_dir), settle_seconds=settings.landing_settle_seconds),
        HR_PLATFORM: HrPlatformResource(
            db_url=_secret(settings, "ZENGSHOU_HR_DB_URL", settings.hr_db_url), retry_delay=settings.hr_retry_delay,
            lookback_hours=settings.hr_lookback_hours, full_compare_hours=settings.hr_full_compare_hours),
        PUBLISHING: PublishingResource(
            serving_file=str(settings.serving_file) if settings.serving_file else None,
            bi_db_url=_secret(settings, "ZENGSHOU_BI_DB_URL", settings.bi_db_url),
            role_prefix=settings.bi_role_prefix),
        ALERTS: AlertsResource(
            webhook_url=_secret(settings, "ZENGSHOU_ALERT_WEBHOOK_URL", settings.alert_webhook_url),
            format=settings.alert_format, attempts=settings.alert_attempts, retry_delay=settings.alert_retry_delay,
            timeout=settings.alert_timeout, ui_url=settings.ui_url,
            state_path=str(state_path(settings.warehouse, settings.alert_state))),
        DBT: dbt_resource(),
    }


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    """``settings`` with some fields changed (the demo's log level and settle time, a test's warehouse)."""
    return dataclasses.replace(settings, **changes)
