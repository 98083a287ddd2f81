"""Run dbt by hand with the warehouse and HMAC pads of the current settings:
``python -m dagster_project.dbt_cli docs generate`` (used by ``make docs``).

The key pads reach dbt only through the environment of this process (the dbt-duckdb plugin reads
them), never on a command line or in a file.
"""

from __future__ import annotations

import os
import sys

from dagster_project.assets.transform import dbt_executable
from dagster_project.settings import DBT_PROJECT_DIR, ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings()
    except ConfigError as exc:  # the same one line and exit 2 as `zengshou`
        print(f"zengshou: configuration error: {exc}", file=sys.stderr)
        return 2
    env = {**os.environ, **settings.dbt_env()}
    cmd = [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    os.execvpe(cmd[0], cmd, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
