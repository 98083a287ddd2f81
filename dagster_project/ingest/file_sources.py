"""The file-shaped sources of SPEC §3.1 and §3.3 and how their files are found in the landing dir."""

from __future__ import annotations

import re
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
                             {"report_year": "INTEGER", "report_file": "VARCHAR"}, ("report_year", "report_file"))

RULES: dict[str, list[Rule]] = {
    MONITORING_MEMBERS.name: member_rules(),
    MONITORING_HOUSEHOLDS.name: household_rules(),
    RELIEF_PROJECTS.name: relief_rules(),
}
SUITE_OF = {MONITORING_MEMBERS.name: "raw.monitoring_members",
            MONITORING_HOUSEHOLDS.name: "raw.monitoring_households",
            RELIEF_PROJECTS.name: "raw.relief_projects"}
FILE_SOURCES = (MONITORING_MEMBERS, MONITORING_HOUSEHOLDS, RELIEF_PROJECTS)

_MONTH_DIR = re.compile(r"^(\d{4})-(\d{2})$")
_SUFFIXES = (".csv", ".xlsx", ".xlsm")


class LandingError(ValueError):
    """The landing dir holds something ambiguous (e.g. members.csv and members.xlsx for one month)."""


@dataclass(frozen=True)
class LandedFile:
    source: FileSource
    partition_key: str        # 'YYYY-MM' for monitoring, 'YYYY/<file name>' for relief
    path: Path
    constants: dict[str, object]


def monitoring_months(landing_dir: Path) -> list[str]:
    """Snapshot months present in the landing dir, sorted ('YYYY-MM')."""
    root = landing_dir / "monitoring"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _MONTH_DIR.match(p.name))


def monitoring_file(landing_dir: Path, month: str, source: FileSource) -> LandedFile | None:
    """The members/households file of one snapshot, or None if it has not landed."""
    stem = source.name.split(".")[1]
    folder = landing_dir / "monitoring" / month
    found = [p for p in folder.glob(f"{stem}.*") if p.suffix.lower() in _SUFFIXES] if folder.is_dir() else []
    if len(found) > 1:
        raise LandingError(f"monitoring/{month}: more than one {stem} file ({', '.join(p.name for p in found)})")
    if not found:
        return None
    return LandedFile(source, month, found[0], {"as_of_month": f"{month}-01"})


def relief_files(landing_dir: Path) -> list[LandedFile]:
    """Every ledger file, in application order: by year, then file name (names carry report dates)."""
    root = landing_dir / "relief"
    if not root.is_dir():
        return []
    files = []
    for year_dir in sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}", p.name)):
        for path in sorted(p for p in year_dir.iterdir() if p.suffix.lower() in _SUFFIXES):
            files.append(LandedFile(RELIEF_PROJECTS, f"{year_dir.name}/{path.name}", path,
                                    {"report_year": int(year_dir.name), "report_file": path.name}))
    return files
