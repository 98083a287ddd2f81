"""Scales of the simulator and month arithmetic.

A scale fixes how many people the province holds and which months are written by default; the
population targets come from the notice (2022 year-end: ≈3.45M employed 脱贫人口 out of ≈9.3M people
in ≈2.9M households), shrunk for the demo and county scales so a laptop run stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

SCALES: dict[str, dict[str, object]] = {
    "demo": {
        "people": 20_000,
        "default_start": "2022-01",
        "default_end": "2023-03",
        "relief_projects_per_county": 3,
        "description": "≈20,000 people over all 129 counties, 15 monthly snapshots (2022-01..2023-03)",
    },
    "county": {
        "people": 300_000,
        "default_start": "2022-01",
        "default_end": "2023-03",
        "relief_projects_per_county": 4,
        "description": "≈300,000 people (the size of a large county's caseload) over all 129 counties",
    },
    # The benchmark's smoke test (tests/test_bench_smoke.py: bench/run.py --scale smoke) runs every part of
    # the benchmark, three pipeline runs, where only "does it work" is asked: ≈ 3,000 people still give every
    # one of the ten KPIs a value in each county's province roll-up, and the landing dir is written in ≈ 2 s
    # (demo: ≈ 8 s).
    "smoke": {
        "people": 3_000,
        "default_start": "2022-01",
        "default_end": "2023-03",
        "relief_projects_per_county": 1,
        "description": "≈3,000 people over all 129 counties: the benchmark's smoke test, not a demo",
    },
    "province": {
        "people": 9_300_000,
        "default_start": "2023-03",
        "default_end": "2023-03",
        "relief_projects_per_county": 8,
        "description": "≈9.3M people / 2.9M households (Yunnan's 脱贫人口), one snapshot 2023-03",
    },
}

# Tests use a smaller scale than demo so the suite stays well under a minute.
TEST_SCALE = {"people": 12_000, "default_start": "2022-01", "default_end": "2023-03",
              "relief_projects_per_county": 2, "description": "internal, for tests"}


@dataclass(frozen=True)
class Month:
    """A calendar month as an integer index (year*12 + month-1), so ranges are plain aranges."""

    index: int

    @classmethod
    def parse(cls, text: str) -> Month:
        year, month = text.strip().split("-")
        if not 1 <= int(month) <= 12:
            raise ValueError(f"bad month {text!r}: expected YYYY-MM")
        return cls(int(year) * 12 + int(month) - 1)

    @property
    def year(self) -> int:
        return self.index // 12

    @property
    def month(self) -> int:
        return self.index % 12 + 1

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_range(start: str, end: str) -> list[Month]:
    """Every month from start to end inclusive (YYYY-MM strings)."""
    a, b = Month.parse(start), Month.parse(end)
    if b.index < a.index:
        raise ValueError(f"end {end} is before start {start}")
    return [Month(i) for i in range(a.index, b.index + 1)]
