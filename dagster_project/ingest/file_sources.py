"""The file-shaped sources of SPEC §3.1 and §3.3 and how their files are found in the landing dir."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from dagster_project.ingest.file_batch import FileSource
from dagster_project.quality.rules import Rule, household_rules, member_rules, relief_rules
from dagster_project.source_shapes import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, RELIEF_COLUMNS

MONITORING_MEMBERS = FileSource("monitoring.members", "raw.monitoring_members", MEMBER_COLUMNS,
                                {"as_of_month": "DATE"}, ("as_of_month",))
MONITORING_HOUSEHOLDS = FileSource("monitoring.households", "raw.monitoring_households", HOUSEHOLD_COLUMNS,
                                   {"as_of_month": "DATE"}, ("as_of_month",))
RELIEF_PROJECTS = FileSource("relief.projects", "raw.relief_projects", RELIEF_COLUMNS,
                             {"report_year": "INTEGER", "report_file": "VARCHAR"}, ("report_year", "report_file"),
                             total_rows=True)

RULES: dict[str, list[Rule]] = {
    MONITORING_MEMBERS.name: member_rules(),
    MONITORING_HOUSEHOLDS.name: household_rules(),
    RELIEF_PROJECTS.name: relief_rules(),
}
SUITE_OF = {MONITORING_MEMBERS.name: "raw.monitoring_members",
            MONITORING_HOUSEHOLDS.name: "raw.monitoring_households",
            RELIEF_PROJECTS.name: "raw.relief_projects"}
FILE_SOURCES = (MONITORING_MEMBERS, MONITORING_HOUSEHOLDS, RELIEF_PROJECTS)

_MONTH_DIR = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR_DIR = re.compile(r"^\d{4}$")
# .xls (the old Excel format, still the default of many offices) is read by python-calamine like .xlsx.
_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls")
_STEMS = ("members", "households")


class LandingError(ValueError):
    """The landing dir holds something ambiguous (e.g. members.csv and members.xlsx for one month)."""


@dataclass(frozen=True)
class LandedFile:
    source: FileSource
    partition_key: str        # 'YYYY-MM' for monitoring, 'YYYY/<file name>' for relief
    path: Path
    constants: dict[str, object]


# --------------------------------------------------------------------------------------------------
# A file still being copied: the one definition the sensors, the assets and `zengshou run` share.
# --------------------------------------------------------------------------------------------------
def settling(path: Path, now: float | None, settle: float) -> bool:
    """True while ``path`` was modified less than ``settle`` seconds ago (it may still be being written).
    ``settle`` is ZENGSHOU_LANDING_SETTLE_SECONDS, passed down from the settings (``LandingResource``,
    ``Settings.landing_settle_seconds``); ``now`` None = the clock."""
    now = time.time() if now is None else now
    return settle > 0 and now - path.stat().st_mtime < settle


def settling_note(landing_dir: Path, path: Path, now: float | None, settle: float) -> str:
    age = (time.time() if now is None else now) - path.stat().st_mtime
    return (f"{path.relative_to(landing_dir).as_posix()}: still being written (modified {max(age, 0):.0f} s ago,"
            f" less than ZENGSHOU_LANDING_SETTLE_SECONDS={settle:g}); not loaded, run again once it is complete")


# --------------------------------------------------------------------------------------------------
# Finding files (names case-insensitive; Excel lock files ~$*.xlsx ignored)
# --------------------------------------------------------------------------------------------------
def _is_lock_file(path: Path) -> bool:
    return path.name.startswith("~$")


def monitoring_months(landing_dir: Path) -> list[str]:
    """Snapshot months present in the landing dir, sorted ('YYYY-MM'); see ``landing_skips`` for the rest."""
    root = landing_dir / "monitoring"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _MONTH_DIR.match(p.name))


def monitoring_file(landing_dir: Path, month: str, source: FileSource) -> LandedFile | None:
    """The members/households file of one snapshot (any case: Members.csv, MEMBERS.XLSX), or None."""
    stem = source.name.split(".")[1]
    folder = landing_dir / "monitoring" / month
    found = sorted(p for p in folder.iterdir() if p.is_file() and not _is_lock_file(p)
                   and p.stem.lower() == stem and p.suffix.lower() in _SUFFIXES) if folder.is_dir() else []
    if len(found) > 1:
        raise LandingError(f"monitoring/{month}: more than one {stem} file ({', '.join(p.name for p in found)});"
                           " keep one and run again")
    if not found:
        return None
    return LandedFile(source, month, found[0], {"as_of_month": f"{month}-01"})


def not_landed_reason(landing_dir: Path, month: str, source: FileSource) -> str:
    """Why a snapshot's file is missing: nothing there, or a file in a format that is not read."""
    stem = source.name.split(".")[1]
    folder = landing_dir / "monitoring" / month
    others = sorted(p.name for p in folder.iterdir() if p.is_file() and not _is_lock_file(p)
                    and p.stem.lower() == stem) if folder.is_dir() else []
    if others:
        return (f"monitoring/{month}: {', '.join(others)} is not a supported format"
                f" (save it as {stem}.csv, .xlsx or .xls)")
    return f"monitoring/{month}: the {stem} file has not landed ({stem}.csv, .xlsx or .xls)"


def relief_files(landing_dir: Path) -> list[LandedFile]:
    """Every ledger file, in application order: by year, then file name (names carry report dates)."""
    root = landing_dir / "relief"
    if not root.is_dir():
        return []
    files = []
    for year_dir in sorted(p for p in root.iterdir() if p.is_dir() and _YEAR_DIR.match(p.name)):
        for path in sorted(p for p in year_dir.iterdir()
                           if p.is_file() and p.suffix.lower() in _SUFFIXES and not _is_lock_file(p)):
            files.append(LandedFile(RELIEF_PROJECTS, f"{year_dir.name}/{path.name}", path,
                                    {"report_year": int(year_dir.name), "report_file": path.name}))
    return files


def landing_skips(landing_dir: Path) -> list[str]:
    """Everything under monitoring/ and relief/ that is not loaded, each with the reason: a month folder
    not named YYYY-MM (e.g. 2021-9), a year folder not named YYYY, a file that is neither members nor
    households, a format that is not read, an Excel lock file (the workbook is open in Excel)."""
    notes: list[str] = []
    root = landing_dir / "monitoring"
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        rel = f"monitoring/{entry.name}"
        if not entry.is_dir():
            notes.append(f"{rel}: skipped: files belong in a month folder monitoring/YYYY-MM/")
        elif not _MONTH_DIR.match(entry.name):
            hint = ""
            m = re.fullmatch(r"(\d{4})[-_.年]?(\d{1,2})月?", entry.name)
            if m and 1 <= int(m.group(2)) <= 12:
                hint = f", e.g. {m.group(1)}-{int(m.group(2)):02d}"
            notes.append(f"{rel}: skipped: not a month folder (the name must be YYYY-MM{hint})")
        else:
            notes.extend(_file_skips(entry, rel, _STEMS))
    root = landing_dir / "relief"
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        rel = f"relief/{entry.name}"
        if not entry.is_dir():
            notes.append(f"{rel}: skipped: ledgers belong in a year folder relief/YYYY/")
        elif not _YEAR_DIR.match(entry.name):
            notes.append(f"{rel}: skipped: not a year folder (the name must be YYYY)")
        else:
            notes.extend(_file_skips(entry, rel, None))
    return notes


def _file_skips(folder: Path, rel: str, stems: tuple[str, ...] | None) -> list[str]:
    notes = []
    for path in sorted(folder.iterdir()):
        where = f"{rel}/{path.name}"
        if path.is_dir():
            notes.append(f"{where}: skipped: a folder where files were expected")
        elif _is_lock_file(path):
            notes.append(f"{where}: ignored: an Excel lock file (the workbook is open in Excel)")
        elif path.suffix.lower() not in _SUFFIXES:
            notes.append(f"{where}: skipped: not a supported format (.csv, .xlsx, .xlsm, .xls)")
        elif stems is not None and path.stem.lower() not in stems:
            notes.append(f"{where}: skipped: a snapshot holds members.* and households.* only")
    return notes
