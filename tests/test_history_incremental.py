"""Incremental equals full over a simulated history (issue 12 item 2): 15 monthly snapshots of the
simulator (2022-01..2023-03, all 129 counties, with the HR platform tables and the monthly 以工代赈
ledgers), loaded into raw once by the real loaders, then fed step by step — 11 months first, months 13,
14 and 15 one at a time, and in between a restated 2022 ledger, a back-dated HR correction, an older
month arriving late and an earlier month re-exported with changed values — each step planned by
month_plan.plan_rebuild and built by `dbt run` with the planned months. After the last step every
marts.* table equals, row for row, a full refresh of the same raw tables.

Scale: the simulator's test scale (``_test``, scales.TEST_SCALE: ≈12,000 people, the demo's shape over
all 129 counties) rather than ``demo`` (≈20,000): a step's CPU is mostly dbt's fixed cost (parsing, and
per model its compilation and statements; dbt runs in the test process, incremental_build.run_dbt), while
simulating and loading grow with the people; the demo scale would add ≈ 40 % to those for the same
coverage of the rules.

Like tests/knownanswer_hr/test_incremental.py, the steps set the raw tables by SQL (tests/incremental_build.py):
the loaded final state is kept aside and each step restores what "arrived". The HR tables hold their final
state from the start (only the corrected service differs): HR rows dated after the latest snapshot do not
count in any built month.

The months expected of each step are worked out by hand from the change and month_plan's rules
(its module docstring); each list is exact, so it also says which months a step must NOT rebuild.
Ledgers arrive as the simulator writes them, one file a month in relief/<year>/: a new ledger file
changes its year's ledger state, so every snapshot of that year is rebuilt with it (the latest ledger
state of the year counts in each of them) — month 15 rebuilds 2023-01..03, and no month of 2022.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_project.ingest.batch_pipeline import load_landed_file, pull_hr_platform
from dagster_project.ingest.file_sources import (
    MONITORING_HOUSEHOLDS,
    MONITORING_MEMBERS,
    monitoring_file,
    monitoring_months,
    relief_files,
)
from dagster_project.month_plan import REBUILD_REQUEST_VARS, config_digest, plan_rebuild
from dagster_project.simulate.core import simulate
from tests.incremental_build import (
    RAW_MONTHLY,
    Change,
    build_step,
    keep,
    marts_differences,
    marts_tables,
    month_of,
    restore,
    run_dbt,
)

SALT = "history-test-salt"
DIGEST = config_digest(SALT, 0.05)
MONTHS_2022 = [f"2022-{m:02d}" for m in range(1, 13)]
LEDGER = "raw.relief_projects"
SERVICES = "raw.hr_employment_service"


def ledger_of(month: str) -> str:
    """The ledger file the simulator writes for a month: relief/<year>/<YYYY-MM>.csv or .xlsx."""
    return f"report_file LIKE '{month}.%'"


def arrives(month: str, *, ledger: bool = True) -> Change:
    """A month's members and households exports land (and, with ``ledger``, its 以工代赈 ledger file)."""
    def change(con: duckdb.DuckDBPyConnection) -> None:
        for t in RAW_MONTHLY:
            restore(con, t, month_of("as_of_month", month))
        if ledger:
            restore(con, LEDGER, ledger_of(month))
    return change


@dataclass(frozen=True)
class Step:
    name: str
    change: Change
    expected: list[tuple[str, str]] | None  # ('YYYY-MM', reason) as planned; None = every month


def steps(corrected_service: str) -> list[Step]:
    """The history, step by step; ``corrected_service``: the employment service whose date the HR
    platform first recorded as 2023-02-16 and later corrected back to its real date in 2022-11."""

    def first_state(con: duckdb.DuckDBPyConnection) -> None:
        # 2022-01..2022-12 without 2022-10 (it arrives late) and no 2023 month, no 2023 ledger yet
        late = month_of("as_of_month", "2022-10")
        for t in RAW_MONTHLY:
            con.execute(f"DELETE FROM {t} WHERE as_of_month >= DATE '2023-01-01' OR {late}")
        con.execute(f"DELETE FROM {LEDGER} WHERE report_year = 2023")
        # 2022-06 as first exported: another batch, and every 7th row's values different
        june = month_of("as_of_month", "2022-06")
        for t in RAW_MONTHLY:
            con.execute(f"UPDATE {t} SET batch_id = 'first-export-2022-06' WHERE {june}")
        con.execute(f"UPDATE raw.monitoring_members SET months_worked = '0' WHERE {june} AND source_row % 7 = 0")
        con.execute(f"UPDATE raw.monitoring_households SET wage_income_yuan = '1234'"
                    f" WHERE {june} AND source_row % 7 = 0")
        # the December 2022 ledger as first filed (restated later): half the 劳务报酬 reported
        con.execute(f"UPDATE {LEDGER} SET batch_id = 'first-filing-2022-12', labor_remuneration_wan ="
                    " coalesce(cast(try_cast(labor_remuneration_wan AS DOUBLE) / 2 AS VARCHAR), labor_remuneration_wan)"
                    f" WHERE {ledger_of('2022-12')}")
        # the service as first recorded, with the wrong date 2023-02-16
        con.execute(f"UPDATE {SERVICES} SET service_date = DATE '2023-02-16' WHERE service_id = ?", [corrected_service])

    def reexport_june_and_month_14(con: duckdb.DuckDBPyConnection) -> None:
        arrives("2022-06", ledger=False)(con)
        arrives("2023-02")(con)

    def correct_service(con: duckdb.DuckDBPyConnection) -> None:
        restore(con, SERVICES, f"service_id = '{corrected_service}'")

    def restate_2022_ledger(con: duckdb.DuckDBPyConnection) -> None:
        restore(con, LEDGER, ledger_of("2022-12"))

    ledger_2023 = "以工代赈 ledger 2023 changed"
    # The order matters for the final comparison: a step that rebuilds a month also repairs whatever an
    # earlier step left wrong in it, so the wide rebuilds (a whole 2022 ledger year, HR from 2022-11) come
    # before the narrow ones they would otherwise mask (2022-11 after the late 2022-10, 2022-07 after the
    # re-exported 2022-06), and every rule leaves months that no later step rebuilds.
    return [
        Step("11 months of 2022 (2022-10 late, 2022-06 as first exported): first build", first_state, None),
        Step("the 2022 ledger restated (December file)", restate_2022_ledger,
             [(m, "以工代赈 ledger 2022 changed") for m in MONTHS_2022 if m != "2022-10"]),
        Step("month 13 (2023-01) and its ledger", arrives("2023-01"), [("2023-01", "new month")]),
        Step("an HR service back-dated from 2023-02-16 to 2022-11", correct_service,
             [(m, "HR rows dated from 2022-11 changed") for m in ("2022-11", "2022-12", "2023-01")]),
        Step("2022-10 arrives late", arrives("2022-10", ledger=False),
             [("2022-10", "arrived after later months"),
              ("2022-11", "compares with 2022-10 (previous snapshot, early warnings)")]),
        Step("month 14 (2023-02) and its ledger; 2022-06 re-exported with changed values", reexport_june_and_month_14,
             [("2022-06", "re-exported"), ("2022-07", "compares with 2022-06 (previous snapshot, early warnings)"),
              ("2023-01", ledger_2023), ("2023-02", "new month")]),
        Step("month 15 (2023-03) and its ledger", arrives("2023-03"),
             [("2023-01", ledger_2023), ("2023-02", ledger_2023), ("2023-03", "new month")]),
    ]


@dataclass
class History:
    warehouse: Path  # after the last incremental step
    full: Path  # a copy of it rebuilt with --full-refresh
    planned: dict[str, list[tuple[str, str]] | None]
    expected: dict[str, list[tuple[str, str]] | None]


def _load(landing: Path, warehouse: Path) -> None:
    """Every landed file and the HR platform through the loaders (stage, flag, GE gate, publish), in process."""
    for month in monitoring_months(landing):
        for source in (MONITORING_MEMBERS, MONITORING_HOUSEHOLDS):
            landed = monitoring_file(landing, month, source)
            assert landed is not None
            assert load_landed_file(landed, warehouse, max_reject_rate=0.02).outcome.published, landed.path
    for landed in relief_files(landing):
        assert load_landed_file(landed, warehouse, max_reject_rate=0.02).outcome.published, landed.path
    pulled = pull_hr_platform(f"sqlite:///{landing / 'hr_platform.sqlite'}", warehouse)
    assert {p.status for p in pulled.values()} == {"published"}, pulled


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    root = tmp_path_factory.mktemp("history")
    landing, warehouse = root / "landing", root / "wh" / "zengshou.duckdb"
    warehouse.parent.mkdir()
    summary = simulate(landing, scale="_test")
    assert (summary["start"], summary["end"]) == ("2022-01", "2023-03")
    _load(landing, warehouse)
    env = {"ZENGSHOU_LANDING_DIR": str(landing), "ZENGSHOU_WAREHOUSE": str(warehouse), "ZENGSHOU_PII_SALT": SALT}
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("SELECT count(DISTINCT as_of_month), count(DISTINCT county_code)"
                           " FROM raw.monitoring_members").fetchone() == (15, 129)
        keep(con, (*RAW_MONTHLY, LEDGER, SERVICES))
        [(service,)] = con.execute(f"SELECT min(service_id) FROM {SERVICES}"
                                   f" WHERE {month_of('service_date', '2022-11')}").fetchall()
    assert service is not None
    history_steps = steps(service)
    # the first step (every month) also loads the seeds: `dbt build` of the seeds and models, no tests (a
    # `dbt seed` of its own cost one more dbt start-up and parse)
    first = ("build", "--resource-type", "seed", "--resource-type", "model")
    planned = {s.name: build_step(warehouse, env, root / "target", f"history-step-{i}", DIGEST, s.change,
                                  first if i == 0 else ("run",))
               for i, s in enumerate(history_steps)}

    # The steps' result set aside, then the full refresh in place, as `zengshou run --full-refresh` builds
    # (the constant var with --full-refresh; a full build reads no request table): the same warehouse
    # path (dbt's profile), target dir and vars as the steps, so dbt parses partially — on a copy with a
    # target dir of its own it parsed the whole project again.
    incremental = root / "incremental" / "zengshou.duckdb"
    incremental.parent.mkdir()
    shutil.copy(warehouse, incremental)
    run_dbt(env, root / "target", "run", "--full-refresh", *REBUILD_REQUEST_VARS)
    return History(incremental, warehouse, planned, {s.name: s.expected for s in history_steps})


@pytest.mark.parametrize("step", [s.name for s in steps("S")])
def test_each_step_rebuilds_exactly_the_months_its_change_reaches(history: History, step: str) -> None:
    assert history.planned[step] == history.expected[step]


def test_month_15_rebuilds_no_month_of_2022(history: History) -> None:
    """The point of the whole design: a new month costs its own year (the ledger), not the history."""
    [last] = [name for name in history.planned if name.startswith("month 15")]
    months = [m for m, _ in history.planned[last] or [("everything", "")]]
    assert months == ["2023-01", "2023-02", "2023-03"]


def test_the_history_equals_a_full_refresh(history: History) -> None:
    assert marts_differences(history.warehouse, history.full) == []
    with duckdb.connect(str(history.warehouse), read_only=True) as con:
        empty = [t for t in marts_tables(con) if con.execute(f"SELECT count(*) FROM marts.{t}").fetchone() == (0,)]
        snapshots = con.execute("SELECT count(DISTINCT as_of_month) FROM marts.kpi_scorecard").fetchone()[0]
    assert empty == []
    assert snapshots == 15


def test_nothing_new_plans_no_month(history: History) -> None:
    with duckdb.connect(str(history.warehouse), read_only=True) as con:
        plan = plan_rebuild(con, DIGEST)
    assert plan.months == [] and plan.summary() == "rebuilt no snapshot month (nothing monthly changed)"
