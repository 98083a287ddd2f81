"""Settings of SPEC §5, read from the environment once per call so tests can change them freely."""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
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
    warehouse_lock_timeout: float = 1800.0

    @property
    def salt_is_default(self) -> bool:
        return self.pii_salt == DEV_PII_SALT

    def require_landing_dir(self) -> Path:
        if not self.landing_dir.is_dir():
            raise ConfigError(f"landing dir {self.landing_dir} does not exist (set ZENGSHOU_LANDING_DIR)")
        return self.landing_dir

    def hmac_pads(self) -> tuple[str, str]:
        """Inner and outer HMAC-SHA256 key pads (hex) so SQL can compute HMAC without a UDF.

        HMAC(K, m) = H((K' xor opad) || H((K' xor ipad) || m)), K' = K padded to 64 bytes
        (or H(K) when K is longer than the block).
        """
        key = self.pii_salt.encode("utf-8")
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        return bytes(b ^ 0x36 for b in key).hex(), bytes(b ^ 0x5C for b in key).hex()

    def dbt_env(self) -> dict[str, str]:
        """Environment for the dbt subprocess: warehouse path and the HMAC pads (never the salt)."""
        inner, outer = self.hmac_pads()
        return {
            "ZENGSHOU_WAREHOUSE": str(self.warehouse),
            "ZENGSHOU_HMAC_INNER_PAD": inner,
            "ZENGSHOU_HMAC_OUTER_PAD": outer,
            "ZENGSHOU_RECONCILIATION_TOLERANCE": repr(self.reconciliation_tolerance),
            "ZENGSHOU_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
        }


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError with a one-line reason when one is bad."""
    env = dict(os.environ if env is None else env)
    landing = Path(env.get("ZENGSHOU_LANDING_DIR") or "data/landing").expanduser().resolve()
    hr_url = env.get("ZENGSHOU_HR_DB_URL") or f"sqlite:///{landing / 'hr_platform.sqlite'}"
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
    return Settings(
        landing_dir=landing,
        hr_db_url=hr_url,
        warehouse=warehouse,
        pii_salt=salt,
        alert_webhook_url=env.get("ZENGSHOU_ALERT_WEBHOOK_URL") or None,
        alert_format=fmt,
        bi_db_url=env.get("ZENGSHOU_BI_DB_URL") or None,
        max_reject_rate=rate,
        reconciliation_tolerance=tolerance,
        duckdb_memory_limit=duckdb_memory_limit(env),
        warehouse_lock_timeout=warehouse_lock_timeout(env),
    )


def duckdb_memory_limit(env: dict[str, str] | None = None) -> str:
    """``ZENGSHOU_DUCKDB_MEMORY_LIMIT`` (default 1.5GB): the cap on each DuckDB instance's memory, checked
    here so a typo fails at start (exit 2) rather than inside a load or the dbt build."""
    env = os.environ if env is None else env
    raw = (env.get("ZENGSHOU_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT).strip()
    if not _MEMORY_LIMIT.match(raw):
        raise ConfigError(f"ZENGSHOU_DUCKDB_MEMORY_LIMIT must be a size such as 2GB or 1500MB, not {raw!r}")
    return raw


def _fraction(env: dict[str, str], name: str, default: str) -> float:
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


DEFAULT_WAREHOUSE_LOCK_TIMEOUT = 1800.0


def warehouse_lock_timeout(env: dict[str, str] | None = None) -> float:
    """``ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT`` (seconds, default 1800): how long a step waits for another
    zengshou writer to release the warehouse before it fails (a province run takes about 10 minutes)."""
    env = os.environ if env is None else env
    raw = (env.get("ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT") or str(DEFAULT_WAREHOUSE_LOCK_TIMEOUT)).strip()
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT must be a number of seconds, not {raw!r}") from exc
    if value < 0:
        raise ConfigError(f"ZENGSHOU_WAREHOUSE_LOCK_TIMEOUT must be >= 0, not {value}")
    return value
