"""The one planner: what is new or changed in the landing dir and the warehouse, and so what is to do.

``plan(state, landing_dir)`` decides, for every path that starts work — the landing sensors and the
marts sensor of the daemon, `zengshou run` and `make demo` — which monitoring months and which
ledgers are to load, whether the HR pull is due, whether the marts are outdated, and what was skipped
or is still being copied (with the reason). The callers only differ in what they do with a plan: the
sensors turn it into run requests (with backoff, orchestration/sensors.py), `zengshou run` into
in-process runs and the lines of its summary (runner.py). Both therefore agree on the one meaning of
"already loaded" (ingest/load_state.py): the latest attempt of each source partition read this very
content, published or rejected.

Which snapshot months a marts rebuild recomputes, and why, is ``month_plan.plan_rebuild`` (re-exported
here): the dbt asset calls it under the warehouse lock, so `zengshou run` and the marts sensor pass dbt
the same months.

``read_state(warehouse)`` is the only read the planner needs from the warehouse; it is separate so a
plan can be worked out by hand from a state written down in a test, and so the sensors can read the
warehouse without waiting (``wait=False`` raises WarehouseBusy while a run writes).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from dagster_project.assets.monitoring import MONTHLY
from dagster_project.ingest.file_sources import (
    MONITORING_HOUSEHOLDS,
    MONITORING_MEMBERS,
    LandedFile,
    LandingError,
    landing_skips,
    monitoring_file,
    monitoring_months,
    not_landed_reason,
    relief_files,
    settling,
    settling_note,
)
from dagster_project.ingest.load_state import file_hashes, loaded_shas, marts_outdated, raw_state
from dagster_project.ingest.readers import HashedFile, file_sha256, hash_file
from dagster_project.ingest.warehouse import warehouse_reader
from dagster_project.month_plan import plan_rebuild  # noqa: F401 (the marts' month plan, see the docstring)
from dagster_project.settings import DEFAULT_WAREHOUSE_LOCK_TIMEOUT

MONITORING, RELIEF, HR, MARTS = "monitoring", "relief", "hr", "marts"
EVERYTHING = frozenset({MONITORING, RELIEF, HR, MARTS})
NO_WAREHOUSE = "no warehouse yet"


@dataclass(frozen=True)
class WarehouseState:
    """What the planner reads from the warehouse (all of it from ``meta``)."""

    loaded: Mapping[tuple[str, str], str | None] = field(default_factory=dict)  # load_state.loaded_shas
    raw_state: str = "empty"                  # load_state.raw_state: digest of the published batches
    marts_outdated: str | None = NO_WAREHOUSE  # load_state.marts_outdated: why to rebuild, or None
    file_hashes: Mapping[Path, HashedFile] = field(default_factory=dict)  # load_state.file_hashes

    def is_loaded(self, landed: LandedFile, sha256: str) -> bool:
        return self.loaded.get((landed.source.name, landed.partition_key)) == sha256


def read_state(warehouse: Path, *, wait: bool = True,
               lock_timeout: float = DEFAULT_WAREHOUSE_LOCK_TIMEOUT) -> WarehouseState:
    """The warehouse's load and marts state, under the shared warehouse lock, waiting at most
    ``lock_timeout`` s (the setting, passed by the caller) for a run that writes. ``wait=False`` (the
    sensors) raises ``WarehouseBusy`` instead of waiting."""
    with warehouse_reader(warehouse, timeout=lock_timeout if wait else 0) as con:
        if con is None:
            return WarehouseState()
        return WarehouseState(loaded_shas(con), raw_state(con), marts_outdated(con), file_hashes(con))


@dataclass(frozen=True)
class MonthLoad:
    """One monitoring month with at least one file to load (new or changed)."""

    month: str
    files: tuple[LandedFile, ...]   # the files to load, members before households
    sha256: tuple[str, ...]         # of each file, in the same order
    complete: bool                  # both members and households have landed

    @property
    def asset_keys(self) -> list[dg.AssetKey]:
        return [dg.AssetKey(f.source.raw_table.split(".")) for f in self.files]


@dataclass(frozen=True)
class LedgerLoad:
    file: LandedFile
    sha256: str


@dataclass
class Plan:
    months: list[MonthLoad] = field(default_factory=list)       # to load, in month order
    up_to_date: list[str] = field(default_factory=list)         # months whose landed files are all loaded
    ledgers: list[LedgerLoad] = field(default_factory=list)     # to load now, in application order
    ledgers_waiting: list[LedgerLoad] = field(default_factory=list)  # to load, but still being copied
    hr_pull_due: bool = False
    marts_outdated: str | None = None  # why the marts must be rebuilt and republished, or None
    raw_state: str = "empty"
    skipped: list[str] = field(default_factory=list)   # not loaded, with the reason (landing_skips)
    problems: list[str] = field(default_factory=list)  # needs a person: ambiguous, missing or out-of-range files
    waiting: list[str] = field(default_factory=list)   # still being copied: loaded by a later run or tick
    hashed: dict[Path, HashedFile] = field(default_factory=dict)  # every file whose hash this plan needed

    @property
    def nothing_to_do(self) -> bool:
        return not (self.months or self.ledgers or self.hr_pull_due or self.marts_outdated)


def plan(state: WarehouseState, landing_dir: Path, *, scope: Collection[str] = EVERYTHING,
         settle: float, now: float | None = None,
         known: Mapping[Path, HashedFile] | None = None, sha256: Callable[[Path], str] = file_sha256) -> Plan:
    """What is to do, given what the warehouse has (``state``) and what has landed in ``landing_dir``.

    ``scope`` limits the plan to some of ``monitoring``, ``relief``, ``hr``, ``marts`` (a sensor looks at
    its own source only, so it reads no other file). ``settle``: seconds a file must be left alone
    before it is loaded (ZENGSHOU_LANDING_SETTLE_SECONDS, from the caller's settings or landing
    resource). ``known``: hashes recorded earlier under each file's stamp (readers.hash_file), reused
    for a file whose stamp is unchanged — the sensors pass their cursor's, by default the warehouse's
    (``state.file_hashes``, which `zengshou run` keeps); ``sha256`` reads a file that is new or changed.

    Monitoring: a month is to load when the sha256 of its members or households file differs from the
    latest attempt of that partition; only those files are listed. A month with a file still being
    copied waits as a whole (no hash read of a half-written file); a month whose file is ambiguous, or
    outside the monitoring partitions, is a problem and loads nothing; a month with one file missing is
    a problem and lists the file that has landed with ``complete=False`` (`zengshou run` loads it, the
    sensor waits for both). Ledgers: each new or changed file, in application order; one still being
    copied waits. HR: the pull is incremental (watermark on updated_at), so it is always due when asked
    for — only the source can say whether anything changed; the daemon asks on its schedule. Marts: as
    ``load_state.marts_outdated`` says (raw tables differ from what the published marts were built from).
    """
    out = Plan(hr_pull_due=HR in scope, raw_state=state.raw_state,
               marts_outdated=state.marts_outdated if MARTS in scope else None)
    if MONITORING in scope or RELIEF in scope:
        out.skipped = [n for n in landing_skips(landing_dir)
                       if n.startswith(tuple(f"{s}/" for s in (MONITORING, RELIEF) if s in scope))]

    remembered = state.file_hashes if known is None else known

    def hashed(path: Path) -> str:
        if path not in out.hashed:
            out.hashed[path] = hash_file(path, remembered.get(path), sha256)
        return out.hashed[path].sha256

    if MONITORING in scope:
        _plan_months(out, state, landing_dir, settle, now, hashed)
    if RELIEF in scope:
        for f in relief_files(landing_dir):
            busy = settling(f.path, now, settle)
            sha = hashed(f.path)
            if state.is_loaded(f, sha):
                continue
            if busy:
                out.ledgers_waiting.append(LedgerLoad(f, sha))
                out.waiting.append(settling_note(landing_dir, f.path, now, settle))
            else:
                out.ledgers.append(LedgerLoad(f, sha))
    return out


def _plan_months(out: Plan, state: WarehouseState, landing_dir: Path, settle: float, now: float | None,
                 hashed: Callable[[Path], str]) -> None:
    valid = set(MONTHLY.get_partition_keys())
    for month in monitoring_months(landing_dir):
        if month not in valid:
            out.problems.append(f"monitoring/{month}: not a partition of the monitoring assets "
                                "(2021-01 … next month)")
            continue
        try:
            landed = [(s, monitoring_file(landing_dir, month, s)) for s in (MONITORING_MEMBERS, MONITORING_HOUSEHOLDS)]
        except LandingError as exc:
            out.problems.append(str(exc))
            continue
        out.problems += [not_landed_reason(landing_dir, month, s) for s, f in landed if f is None]
        files = [f for _s, f in landed if f is not None]
        if busy := [f for f in files if settling(f.path, now, settle)]:
            out.waiting += [settling_note(landing_dir, f.path, now, settle) for f in busy]
            continue
        todo = [(f, sha) for f in files if not state.is_loaded(f, sha := hashed(f.path))]
        if todo:
            out.months.append(MonthLoad(month, tuple(f for f, _ in todo), tuple(s for _, s in todo),
                                        complete=len(files) == len(landed)))
        elif len(files) == len(landed):
            out.up_to_date.append(month)
