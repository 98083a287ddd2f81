"""`simulate()`: write a complete landing dir (SPEC §3) for one scale and seed."""

from __future__ import annotations

import time
from pathlib import Path

from dagster_project.simulate.hr import HRWriter
from dagster_project.simulate.monitoring import HOUSEHOLD_DIRT, MEMBER_DIRT, SnapshotBuilder, vary_headers
from dagster_project.simulate.population import build_population
from dagster_project.simulate.relief import write_relief
from dagster_project.simulate.scales import SCALES, TEST_SCALE, month_range
from dagster_project.simulate.work import build_timeline
from dagster_project.simulate.writers import KINDS, write_table

# Encoding rotation by calendar month (index = year*12 + month-1); households are shifted by one
# so the two files of a month usually differ. 2023-03 lands on plain UTF-8 for members, which keeps
# the province snapshot free of the slower GB18030 transcoding.
ROTATION = ("utf-8-sig", "gb18030", "utf-8", "xlsx", "utf-8-sig", "gb18030")
assert set(ROTATION) <= set(KINDS)


def simulate(out_dir: Path, scale: str = "demo", seed: int = 2023, start: str | None = None,
             end: str | None = None, dirty_rate: float = 0.005) -> dict:
    """Write monitoring exports, the HR platform database and relief ledgers into `out_dir`.

    Scales (see SCALES): ``demo`` ≈20,000 people and ``county`` ≈300,000 people default to the 15
    months 2022-01..2023-03; ``province`` ≈9.3M people defaults to the single month 2023-03.
    `start` / `end` ('YYYY-MM') override the months written. The same seed always yields the same
    people, so runs with different months describe the same population (the years 2022 onwards are
    always drawn, whatever the months written). `dirty_rate` is the share of member rows made dirty
    (split over MEMBER_DIRT kinds); households get the same share of HOUSEHOLD_DIRT kinds.

    Returns a summary: scale, seed, months, people/households, rows per month, files written (path
    relative to out_dir -> rows), the encoding per file, dirty rows per kind (total and per month),
    HR rows per table and elapsed seconds.
    """
    t0 = time.perf_counter()
    cfg = TEST_SCALE if scale == "_test" else SCALES.get(scale)
    if cfg is None:
        raise ValueError(f"unknown scale {scale!r}: expected one of {', '.join(SCALES)}")
    if not 0 <= dirty_rate < 0.02:
        raise ValueError("dirty_rate must be in [0, 0.02): above the reject threshold batches fail")
    months = month_range(start or str(cfg["default_start"]), end or str(cfg["default_end"]))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    pop = build_population(int(cfg["people"]), seed)  # type: ignore[call-overload]
    years = list(range(min(2022, months[0].year), max(2022, months[-1].year) + 1))
    tl = build_timeline(pop, years, seed)
    builder = SnapshotBuilder(tl, seed)
    phases = {"population": round(time.perf_counter() - t0, 1)}

    files: dict[str, int] = {}
    encodings: dict[str, str] = {}
    per_month: dict[str, dict] = {}
    member_dirt = dict.fromkeys(MEMBER_DIRT, 0)
    household_dirt = dict.fromkeys(HOUSEHOLD_DIRT, 0)
    for month in months:  # one iteration per snapshot
        snap = builder.build(month.year, month.month, dirty_rate)
        folder = out_dir / "monitoring" / str(month)
        for name, table, shift in (("members", snap.members, 0), ("households", snap.households, 1)):
            table = vary_headers(table, month.year, month.month, seed)
            path, kind = write_table(table, folder / name, ROTATION[(month.index + shift) % len(ROTATION)])
            rel = str(path.relative_to(out_dir))
            files[rel], encodings[rel] = table.num_rows, kind
        per_month[str(month)] = {"members": snap.members.num_rows, "households": snap.households.num_rows,
                                 "member_dirt": snap.member_dirt, "household_dirt": snap.household_dirt}
        for k, v in snap.member_dirt.items():
            member_dirt[k] += v
        for k, v in snap.household_dirt.items():
            household_dirt[k] += v
        del snap

    phases["monitoring"] = round(time.perf_counter() - t0 - sum(phases.values()), 1)
    hr_counts = HRWriter(tl, seed, months[0].index, months[-1].index).write(out_dir / "hr_platform.sqlite")
    files["hr_platform.sqlite"] = sum(hr_counts.values())
    phases["hr"] = round(time.perf_counter() - t0 - sum(phases.values()), 1)
    relief = write_relief(out_dir, pop.counties, months, int(cfg["relief_projects_per_county"]),  # type: ignore[call-overload]
                          seed)
    files.update(relief)
    phases["relief"] = round(time.perf_counter() - t0 - sum(phases.values()), 1)
    return {
        "scale": scale, "seed": seed, "start": str(months[0]), "end": str(months[-1]),
        "people": pop.n, "households": len(pop.hh_county),
        "counts_per_month": per_month, "files": files, "encodings": encodings,
        "dirty_rows": {"members": member_dirt, "households": household_dirt},
        "hr_rows": hr_counts, "seconds": round(time.perf_counter() - t0, 1), "phase_seconds": phases,
    }
