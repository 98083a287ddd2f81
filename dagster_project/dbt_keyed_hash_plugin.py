"""dbt-duckdb plugin: defines ``zengshou_keyed_hash(text)`` (HMAC-SHA256 with ZENGSHOU_PII_SALT) as a
TEMP macro on every dbt connection and cursor.

Why a plugin: if the key pads were rendered into model SQL by Jinja, they would be written to
dbt/target (compiled SQL, manifest.json, docs) and to dbt's debug log — key material on disk next to
the data. Here the pads go from the environment straight into the DuckDB session; TEMP macros are
never stored in the warehouse file, so BI users who open it cannot read them either.

HMAC(K, m) = SHA256((K' xor opad) || SHA256((K' xor ipad) || m)); the pads are computed from the salt
by ``settings.hmac_pads`` and passed as ZENGSHOU_HMAC_INNER_PAD / ZENGSHOU_HMAC_OUTER_PAD (read back here
through ``settings.hmac_pads_from_environment``). The pads are key material: either one gives the salt
back (see ``settings.hmac_pads``).
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from dagster_project.settings import hmac_pads_from_environment

MACRO = "zengshou_keyed_hash"


def _pads() -> tuple[str, str]:
    """The pads dbt_env() put into this (dbt's) process's environment; settings.py reads them, checks
    them and raises a ConfigError naming both variables when they are missing or malformed."""
    return hmac_pads_from_environment()


def define_macro(conn) -> None:
    inner, outer = _pads()
    conn.execute(
        f"CREATE OR REPLACE TEMP MACRO {MACRO}(x) AS "
        f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(x))))"
    )


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        define_macro(conn)

    def configure_cursor(self, cursor) -> None:
        define_macro(cursor)
