"""Settings of SPEC §5: the one module that reads a ``ZENGSHOU_*`` environment variable.

``load_settings()`` reads and checks every setting at once and returns a frozen ``Settings``; a malformed
one is a ``ConfigError`` naming it (``zengshou`` exits 2 with that line). Nothing here runs at import
time. The Dagster code location calls ``load_settings()`` once, when its definitions are loaded
(``definitions.py``), and hands the values to the resources (``resources.py``), which pass them on as
parameters to the code below them (a loader's connection, the warehouse lock, a GE validation, the
planner); ``zengshou`` and ``python -m dagster_project.dbt_cli`` call it once per command. The one other
reader of the environment is ``hmac_pads_from_environment``, for the dbt-duckdb plugin inside dbt's own
process (``dbt_env`` put the pads there). tests/test_settings_lookups.py fails when any other module calls
either of them outside those entry points.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
# Given to every dbt build and run: no dbt log file. dagster-dbt points dbt's log path at the build's own
# target dir, which the transform asset removes when the build ends, so the debug log (every statement) was
# written and never read; writing it cost ≈ 1 s of the ≈ 11 s a known-answer build takes (3 + 3 builds
# alternating, 2026-12-03). dbt's events still reach the run's log through its stdout.
DBT_NO_LOG_FILE = ("--log-level-file", "none")
SEEDS_DIR = REPO_ROOT / "seeds"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

DEV_PII_SALT = "zengshou-development-salt-not-for-production"
ALERT_FORMATS = ("dingtalk", "wecom", "slack", "generic")
# DuckDB's own default is 80 % of RAM *per database instance*; the Dagster process and the dbt
# subprocess each open one, so together they could claim far more than the machine has. With a cap,
# DuckDB spills sorts, joins and windows to <warehouse>.tmp instead (issue 5: peak memory <= 6 GiB).
# Measured on the province dbt build: 2GB -> 200 s / 2.2 GiB RSS, 1.5GB -> 196 s / 1.7 GiB, no cap -> 9.9 GiB.
DEFAULT_DUCKDB_MEMORY_LIMIT = "1.5GB"
_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)

# HR platform pull (dagster_project/ingest/hr_platform.py; README "HR platform pull").
DEFAULT_HR_RETRY_DELAY = 10.0  # first wait (s) before retrying an unreachable HR database, then x2
DEFAULT_HR_LOOKBACK_HOURS = 72.0  # re-read rows this far behind the watermark: late commits, back-dated fixes
# A full key comparison (primary key + updated_at of every source row) finds deletions and anything the
# look-back missed. Measured in hours since the table's last comparison; 20, not 24, so the daily 06:30
# schedule compares on every run although one run starts a few seconds earlier than the day before.
DEFAULT_HR_FULL_COMPARE_HOURS = 20.0
DEFAULT_HR_PULL_CRON = "30 6 * * *"  # 06:30 Asia/Shanghai every day
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# What each backend of SPEC §3.2 is read with. A plain URL (what DBAs write) gets the driver we install:
# SQLAlchemy's own default for mysql:// is mysqlclient (a C build against libmysqlclient), not installed.
HR_BACKENDS = {"sqlite": "pysqlite", "postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql"}
_CRON_NICKNAMES = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually")
_CRON_FIELDS = (  # (name, low, high, names)
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    ("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)
_ROLE_PREFIX = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
DEFAULT_UI_URL = "http://127.0.0.1:3000"
DEFAULT_ROLE_PREFIX = "zengshou"
DEFAULT_SETTLE_SECONDS = 30.0  # a landed file modified more recently may still be being copied
# How often each sensor of the daemon looks (landing dir, warehouse state, finished runs): Dagster's own
# default. A tick is cheap (meta read without waiting, unchanged files not re-hashed), so a shorter interval
# only makes a dropped file load, and the marts follow, sooner. The daemon's sensor loop runs every 5 s,
# so any value up to 4 means "every loop" (5 itself gives every other loop, ≈ 10 s: a tick is due only when
# 5 s have passed since the last one, and the loop comes round a moment earlier half the time).
DEFAULT_SENSOR_INTERVAL_SECONDS = 30
DEFAULT_WAREHOUSE_LOCK_TIMEOUT = 1800.0  # seconds a writer waits for another zengshou writer
# Settings that may hold a secret (a key, a password in a URL, a robot's access token). The resources
# show them in the Dagster UI as the variable's name, never the value (resources.build_resources).
SECRET_SETTINGS = ("ZENGSHOU_PII_SALT", "ZENGSHOU_HR_DB_URL", "ZENGSHOU_BI_DB_URL", "ZENGSHOU_ALERT_WEBHOOK_URL")
HMAC_INNER_PAD_ENV = "ZENGSHOU_HMAC_INNER_PAD"
HMAC_OUTER_PAD_ENV = "ZENGSHOU_HMAC_OUTER_PAD"
_HEX_PAD = re.compile(r"^[0-9a-f]{128}$")


class ConfigError(ValueError):
    """A setting is missing or malformed: `zengshou` exits 2 with this message."""


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    hr_db_url: str
    warehouse: Path
    pii_salt: str
    alert_webhook_url: str | None
    alert_format: str
    bi_db_url: str | None
    max_reject_rate: float
    reconciliation_tolerance: float = 0.05
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    hr_retry_delay: float = DEFAULT_HR_RETRY_DELAY
    hr_lookback_hours: float = DEFAULT_HR_LOOKBACK_HOURS
    hr_full_compare_hours: float = DEFAULT_HR_FULL_COMPARE_HOURS
    hr_pull_cron: str = DEFAULT_HR_PULL_CRON
    log_level: str = "WARNING"
    warehouse_lock_timeout: float = DEFAULT_WAREHOUSE_LOCK_TIMEOUT
    landing_settle_seconds: float = DEFAULT_SETTLE_SECONDS
    sensor_interval_seconds: int = DEFAULT_SENSOR_INTERVAL_SECONDS
    alert_attempts: int = 3
    alert_retry_delay: float = 1.0
    alert_timeout: float = 5.0
    alert_state: Path | None = None        # ZENGSHOU_ALERT_STATE; None = alerts_sent.sqlite beside the warehouse
    ui_url: str = DEFAULT_UI_URL            # ZENGSHOU_UI_URL: where alert links point
    bi_role_prefix: str = DEFAULT_ROLE_PREFIX
    serving_file: Path | None = None       # ZENGSHOU_SERVING_FILE; None = <warehouse dir>/zengshou_serving.duckdb
    data_docs_dir: Path | None = None      # ZENGSHOU_DATA_DOCS_DIR; None = <warehouse dir>/data_docs
    # Secret settings (SECRET_SETTINGS) this object read from os.environ itself: the resources refer to
    # them by name (dg.EnvVar) so the UI never shows their values. Empty for settings read from a dict.
    secrets_in_environment: tuple[str, ...] = ()

    @property
    def salt_is_default(self) -> bool:
        return self.pii_salt == DEV_PII_SALT

    def require_landing_dir(self) -> Path:
        if not self.landing_dir.is_dir():
            raise ConfigError(f"landing dir {self.landing_dir} does not exist (set ZENGSHOU_LANDING_DIR)")
        return self.landing_dir

    def hmac_pads(self) -> tuple[str, str]:
        """Inner and outer HMAC-SHA256 key pads (hex) of ``ZENGSHOU_PII_SALT``: see ``hmac_pads``."""
        return hmac_pads(self.pii_salt)

    def dbt_env(self) -> dict[str, str]:
        """Environment for the dbt subprocess: warehouse path and the HMAC pads (not the salt as written,
        but key material all the same: see ``hmac_pads``)."""
        return dbt_env(self.warehouse, self.pii_salt, self.reconciliation_tolerance, self.duckdb_memory_limit)


def hmac_pads(salt: str) -> tuple[str, str]:
    """Inner and outer HMAC-SHA256 key pads (hex) so SQL can compute HMAC without a UDF.

    HMAC(K, m) = H((K' xor opad) || H((K' xor ipad) || m)), K' = K padded with zero bytes to 64 bytes
    (or H(K) when K is longer than the block).

    What the pads reveal: everything. Each pad is K' xor a public constant, so either pad xor 0x36 (or
    0x5c) gives K' back: the salt itself, followed by zero bytes, for a salt of at most 64 bytes (and
    SHA-256 of the salt for a longer one, which is just as good a key). Whoever holds a pad can compute
    ``person_key`` for any 证件号码 and so re-identify people by hashing candidate IDs (the ID space is
    small enough to enumerate). Treat the pads exactly like ``ZENGSHOU_PII_SALT``: they go to the dbt
    subprocess in its environment only, and the dbt-duckdb plugin turns them into a TEMP macro, so they
    are in no compiled SQL, manifest, log, or the warehouse file (dbt/README.md, "Personal data").
    """
    key = salt.encode("utf-8")
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key).hex(), bytes(b ^ 0x5C for b in key).hex()


def dbt_env(warehouse: Path, salt: str, reconciliation_tolerance: float, memory_limit: str) -> dict[str, str]:
    """Environment for the dbt subprocess (profiles.yml and the keyed-hash plugin read it there)."""
    inner, outer = hmac_pads(salt)
    return {
        "ZENGSHOU_WAREHOUSE": str(warehouse),
        HMAC_INNER_PAD_ENV: inner,
        HMAC_OUTER_PAD_ENV: outer,
        "ZENGSHOU_RECONCILIATION_TOLERANCE": repr(reconciliation_tolerance),
        "ZENGSHOU_DUCKDB_MEMORY_LIMIT": memory_limit,
    }


def hmac_pads_from_environment(env: dict[str, str] | None = None) -> tuple[str, str]:
    """The pads as the dbt-duckdb plugin finds them in dbt's own process (``dbt_env`` put them there).
    Raises ConfigError when either is missing or not 128 hex characters: no hash without the key."""
    env = os.environ if env is None else env
    inner = (env.get(HMAC_INNER_PAD_ENV) or "").strip().lower()
    outer = (env.get(HMAC_OUTER_PAD_ENV) or "").strip().lower()
    if not (_HEX_PAD.match(inner) and _HEX_PAD.match(outer)):
        raise ConfigError(f"{HMAC_INNER_PAD_ENV} and {HMAC_OUTER_PAD_ENV} must each be 128 hex characters; "
                          "run dbt through zengshou/Dagster, or export load_settings().dbt_env()")
    return inner, outer


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError with a one-line reason when one is bad.
    ``env`` (tests, a second configuration) replaces os.environ entirely."""
    from_environ = env is None
    env = dict(os.environ if env is None else env)
    landing = Path(env.get("ZENGSHOU_LANDING_DIR") or "data/landing").expanduser().resolve()
    hr_url = hr_db_url(env.get("ZENGSHOU_HR_DB_URL") or f"sqlite:///{landing / 'hr_platform.sqlite'}")
    bi_url = bi_db_url(env.get("ZENGSHOU_BI_DB_URL") or None)
    warehouse = Path(env.get("ZENGSHOU_WAREHOUSE") or "data/warehouse/zengshou.duckdb")
    warehouse = warehouse.expanduser().resolve()
    salt = env.get("ZENGSHOU_PII_SALT") or DEV_PII_SALT
    if salt == DEV_PII_SALT:
        _warn_dev_salt_once()
    fmt = (env.get("ZENGSHOU_ALERT_FORMAT") or "generic").strip().lower()
    if fmt not in ALERT_FORMATS:
        raise ConfigError(f"ZENGSHOU_ALERT_FORMAT must be one of {', '.join(ALERT_FORMATS)}, not {fmt!r}")
    rate = _fraction(env, "ZENGSHOU_MAX_REJECT_RATE", "0.02")
    tolerance = _fraction(env, "ZENGSHOU_RECONCILIATION_TOLERANCE", "0.05")
    prefix = (env.get("ZENGSHOU_BI_ROLE_PREFIX") or DEFAULT_ROLE_PREFIX).strip()
    if not _ROLE_PREFIX.match(prefix):
        raise ConfigError(f"ZENGSHOU_BI_ROLE_PREFIX must be lower-case letters, digits and _ (a PostgreSQL role "
                          f"name prefix, at most 40 characters), not {prefix!r}")
    return Settings(
        landing_dir=landing,
        hr_db_url=hr_url,
        warehouse=warehouse,
        pii_salt=salt,
        alert_webhook_url=webhook_url(env.get("ZENGSHOU_ALERT_WEBHOOK_URL") or None),
        alert_format=fmt,
        bi_db_url=bi_url,
        max_reject_rate=rate,
        reconciliation_tolerance=tolerance,
        duckdb_memory_limit=duckdb_memory_limit(env),
        hr_retry_delay=_number(env, "ZENGSHOU_HR_RETRY_DELAY", DEFAULT_HR_RETRY_DELAY),
        hr_lookback_hours=_number(env, "ZENGSHOU_HR_LOOKBACK_HOURS", DEFAULT_HR_LOOKBACK_HOURS),
        hr_full_compare_hours=_number(env, "ZENGSHOU_HR_FULL_COMPARE_HOURS", DEFAULT_HR_FULL_COMPARE_HOURS),
        hr_pull_cron=hr_pull_cron(env),
        log_level=log_level(env),
        warehouse_lock_timeout=warehouse_lock_timeout(env),
        landing_settle_seconds=_number(env, "ZENGSHOU_LANDING_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS),
        sensor_interval_seconds=int(_number(env, "ZENGSHOU_SENSOR_INTERVAL_SECONDS", DEFAULT_SENSOR_INTERVAL_SECONDS,
                                            integer=True, minimum=1)),
        alert_attempts=int(_number(env, "ZENGSHOU_ALERT_ATTEMPTS", 3, integer=True, minimum=1)),
        alert_retry_delay=_number(env, "ZENGSHOU_ALERT_RETRY_DELAY", 1),
        alert_timeout=_number(env, "ZENGSHOU_ALERT_TIMEOUT", 5, minimum=0.1),
        alert_state=_file_path(env, "ZENGSHOU_ALERT_STATE"),
        ui_url=ui_url(env.get("ZENGSHOU_UI_URL") or DEFAULT_UI_URL),
        bi_role_prefix=prefix,
        serving_file=_file_path(env, "ZENGSHOU_SERVING_FILE"),
        data_docs_dir=_dir_path(env, "ZENGSHOU_DATA_DOCS_DIR"),
        secrets_in_environment=tuple(n for n in SECRET_SETTINGS if from_environ and env.get(n)),
    )


def _http_url(name: str, raw: str, *, secret: bool) -> str:
    """An http(s) URL with a host, or a ConfigError naming the setting (the value is shown only when it
    cannot hold a secret: a webhook URL carries the robot's access token)."""
    from urllib.parse import urlsplit

    text = raw.strip()
    try:
        parts = urlsplit(text)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        ok = False
    if not ok:
        shown = "<hidden: it may contain a token>" if secret else repr(text)
        raise ConfigError(f"{name} must be an http:// or https:// URL with a host, not {shown}")
    return text


def ui_url(raw: str) -> str:
    """``ZENGSHOU_UI_URL`` (default http://127.0.0.1:3000): the Dagster UI the alerts link to."""
    return _http_url("ZENGSHOU_UI_URL", raw, secret=False).rstrip("/")


def webhook_url(raw: str | None) -> str | None:
    """``ZENGSHOU_ALERT_WEBHOOK_URL``: checked at start, so a typo is not found only when the first alert
    cannot be delivered."""
    return None if raw is None else _http_url("ZENGSHOU_ALERT_WEBHOOK_URL", raw, secret=True)


def _file_path(env: Mapping[str, str], name: str) -> Path | None:
    """An optional file setting: resolved, and not an existing directory."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser().resolve()
    if path.is_dir():
        raise ConfigError(f"{name} {path} is a directory: set it to a file path")
    return path


def _dir_path(env: Mapping[str, str], name: str) -> Path | None:
    """An optional folder setting: resolved, and not an existing file."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{name} {path} is a file: set it to a folder")
    return path


def log_level(env: Mapping[str, str]) -> str:
    """``ZENGSHOU_LOG_LEVEL`` (default WARNING), one of Python's level names, any case."""
    raw = (env.get("ZENGSHOU_LOG_LEVEL") or "WARNING").strip()
    if raw.upper() not in LOG_LEVELS:
        raise ConfigError(f"ZENGSHOU_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {raw!r}")
    return raw.upper()


def hr_pull_cron(env: Mapping[str, str]) -> str:
    """``ZENGSHOU_HR_PULL_CRON`` (default 30 6 * * *, Asia/Shanghai): a standard five-field cron string or
    a nickname such as @daily. Checked here because the schedule is defined when the code location loads,
    where a bad string would otherwise break the whole location with a Dagster error."""
    raw = " ".join((env.get("ZENGSHOU_HR_PULL_CRON") or DEFAULT_HR_PULL_CRON).split())
    problem = _cron_problem(raw)
    if problem:
        raise ConfigError(f"ZENGSHOU_HR_PULL_CRON must be a cron string such as '30 6 * * *' "
                          f"(minute hour day-of-month month day-of-week), not {raw!r}: {problem}")
    return raw


def _cron_problem(cron: str) -> str | None:
    """Why a cron string is not valid, or None. Accepts what standard cron accepts: numbers, ranges,
    lists, steps, month and weekday names, and the @ nicknames."""
    if cron.startswith("@"):
        return None if cron.lower() in _CRON_NICKNAMES else f"unknown nickname {cron}"
    fields = cron.split(" ")
    if len(fields) != 5:
        return f"{len(fields)} field(s) instead of 5"
    for text, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for item in text.split(","):
            base, _, step = item.partition("/")
            if step and not (step.isdigit() and int(step) > 0):
                return f"bad step {step!r} in the {name} field"
            if base == "*":
                continue
            for bound in base.split("-", 1):
                upper = bound.upper()
                if upper in names:
                    continue
                if not bound.isdigit() or not low <= int(bound) <= high:
                    return f"{bound!r} is out of range for the {name} field ({low}-{high})"
    return None


def hr_db_url(raw: str) -> str:
    """``ZENGSHOU_HR_DB_URL`` checked and with its driver made explicit (SPEC §3.2: SQLite, PostgreSQL or
    MySQL). A plain ``postgresql://`` reads with psycopg 3 and ``mysql://`` with PyMySQL, the drivers
    this project installs; an explicit driver (``postgresql+psycopg2://``) is kept if it is installed."""
    url = _parse_url("ZENGSHOU_HR_DB_URL", raw)
    dialect, _, driver = url.drivername.partition("+")
    backend = "postgresql" if dialect == "postgres" else dialect
    if backend not in HR_BACKENDS:
        raise ConfigError(f"ZENGSHOU_HR_DB_URL: the HR platform must be PostgreSQL, MySQL or SQLite "
                          f"(SPEC §3.2), not {url.drivername}:// ({_redact(url)})")
    if backend != dialect or (not driver and backend in ("mysql", "mariadb")):
        # Only a URL that needs a driver named is re-rendered; any other is kept exactly as written
        # (a plain postgresql:// already means psycopg 3 in SQLAlchemy 2.1, sqlite:// the stdlib driver).
        url = url.set(drivername=f"{backend}+{driver or HR_BACKENDS[backend]}")
        raw = url.render_as_string(hide_password=False)
    _require_driver("ZENGSHOU_HR_DB_URL", url)
    return raw.strip()


def bi_db_url(raw: str | None) -> str | None:
    """``ZENGSHOU_BI_DB_URL``: PostgreSQL only (roles and row-level security are PostgreSQL features);
    the publisher connects through libpq, so any ``postgresql[+driver]://`` form works."""
    if raw is None:
        return None
    url = _parse_url("ZENGSHOU_BI_DB_URL", raw)
    if url.drivername.split("+")[0] not in ("postgres", "postgresql"):
        raise ConfigError(f"ZENGSHOU_BI_DB_URL: only PostgreSQL is supported for publishing the marts, not "
                          f"{url.drivername}:// ({_redact(url)}); give a postgresql://user:password@host/db URL")
    return raw


def _parse_url(name: str, raw: str):
    """The URL parsed by SQLAlchemy, or a ConfigError that never shows the password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(raw.strip())
    except (ArgumentError, ValueError) as exc:
        shown = raw if "@" not in raw else "<hidden: it may contain a password>"
        raise ConfigError(f"{name} is not a database URL ({shown!r}): write it as "
                          f"dialect://user:password@host:port/database, e.g. postgresql://hr:…@db:5432/hr") from exc


def _redact(url) -> str:
    return url.render_as_string(hide_password=True)


def _require_driver(name: str, url) -> None:
    from sqlalchemy.exc import NoSuchModuleError

    try:
        dialect = url.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError as exc:
        raise ConfigError(f"{name}: SQLAlchemy has no dialect {url.drivername!r} ({_redact(url)})") from exc
    except ImportError as exc:
        raise ConfigError(f"{name}: the database driver for {url.drivername}:// is not installed "
                          f"({exc}); use the plain form {url.get_backend_name()}:// or install it") from exc


def duckdb_memory_limit(env: Mapping[str, str]) -> str:
    """``ZENGSHOU_DUCKDB_MEMORY_LIMIT`` (default 1.5GB): the cap on each DuckDB instance's memory, checked
    here so a typo fails at start (exit 2) rather than inside a load or the dbt build."""
    raw = (env.get("ZENGSHOU_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT).strip()
    if not _MEMORY_LIMIT.match(raw):
        raise ConfigError(f"ZENGSHOU_DUCKDB_MEMORY_LIMIT must be a size such as 2GB or 1500MB, not {raw!r}")
    return raw


def _number(env: Mapping[str, str], name: str, default: float, *, integer: bool = False,
            minimum: float = 0.0) -> float:
    """A non-negative number setting (seconds, hours, attempts), or a ConfigError naming it."""
    raw = (env.get(name) or "").strip() or str(default)
    kind = "a whole number" if integer else "a number"
    try:
        value = int(raw) if integer else float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be {kind} of at least {minimum:g}, not {raw!r}") from exc
    if not value >= minimum or value != value or value == float("inf"):
        raise ConfigError(f"{name} must be {kind} of at least {minimum:g}, not {raw!r}")
    return float(value)


def _fraction(env: Mapping[str, str], name: str, default: str) -> float:
    raw = env.get(name) or default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number between 0 and 1, not {raw!r}") from exc
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be a number between 0 and 1, not {value}")
    return value


_dev_salt_warned = False


def _warn_dev_salt_once() -> None:
    """The development-salt warning once per process, not once per settings read (a demo run read the
    settings 59 times and said it 59 times)."""
    global _dev_salt_warned
    if not _dev_salt_warned:
        _dev_salt_warned = True
        log.warning("ZENGSHOU_PII_SALT is not set: using the development salt; production must set one")


def warehouse_lock_timeout(env: Mapping[str, str]) -> float:
    """``ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT`` (seconds, default 1800): how long a step waits for another
    zengshou writer to release the warehouse before it fails (a province run takes about 10 minutes)."""
    raw = (env.get("ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT") or str(DEFAULT_WAREHOUSE_LOCK_TIMEOUT)).strip()
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT must be a number of seconds, not {raw!r}") from exc
    if value < 0:
        raise ConfigError(f"ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT must be >= 0, not {value}")
    return value
