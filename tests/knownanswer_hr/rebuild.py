"""Rebuild some marts of an existing warehouse the way a transform_marts run does, but only those:
``python -m tests.knownanswer_hr.rebuild marts/fct_system_reconciliation`` (in the scenario's environment:
ZENGSHOU_* and DAGSTER_HOME). Runs the job's subset in process on the instance of DAGSTER_HOME, so the
dbt build of the selected models (with their dbt tests) and their Great Expectations checks are recorded
there like any run's. Exit 0 when the run succeeded.

Why: a test of a setting that only one mart reads (ZENGSHOU_RECONCILIATION_TOLERANCE) needs that mart
rebuilt with the setting, not a whole `zengshou run` of the scenario again (a few seconds of dbt instead
of minutes).
"""

from __future__ import annotations

import sys

import dagster as dg

from tests.test_definitions import load_definitions

TRANSFORM_JOB = "transform_marts"


def main(argv: list[str]) -> int:
    keys = [dg.AssetKey.from_user_string(arg) for arg in argv]
    job = load_definitions().resolve_job_def(TRANSFORM_JOB)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=keys, raise_on_error=False)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
