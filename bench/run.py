"""`make bench`: province scale on one machine, measured side by side on the same files (issue 5).

  (a) floor     DuckDB reads every source file of the landing dir into tables, nothing else
  (b) pipeline  `zengshou run` end to end on a fresh warehouse, with wall time and peak memory per
                stage (load, validation, publish, HR pull, dbt build)
  (c) baseline  pandas read_csv/read_excel + Great Expectations (pandas datasource) + KPIs in pandas
  (d) history   `zengshou run` for month 2 and for month N (24) of a long monthly history

Targets (issue 12; ratios of medians): (b) <= 3 x (a); on the baseline's own scope (read, flag, validate,
publish to raw) (b) >= 3 x faster than (c), with <= 1/4 of its peak memory (the whole-pipeline ratios
are reported beside them); month N <= 1.1 x month 2; peak memory of (b) <= 3 GiB. Issue 12 asks for
month 12 of a province-scale history; the history here is still county scale, 24 months by default
(--history-scale, --history-months), and bench/month_growth.py measures the dbt build of month 12 against
month 2 at province scale, on warehouses padded from one real province month (a real 12-month province
history does not fit this machine's disk). The validation share of (b) (<= 30 %, issue 5) is still shown.
The benchmark also checks that (b) and (c) give the same values for the ten KPIs of marts.kpi_scorecard.

Every measured run is a fresh child process whose process tree (the dbt subprocess included) is
sampled for memory. The code under test is copied once per benchmark into the work dir and run from
there, so edits other people make to the working tree during a benchmark do not leak into it.

  python bench/run.py --scale province --repeat 3 --notes bench/NOTES.md   # writes BENCHMARKS.md
  python bench/run.py --scale demo --repeat 1 --no-write # a quick look at demo scale
  python bench/run.py --scale smoke --repeat 1 --no-write --history-months 2
                                                         # CI smoke test (tests/test_bench_smoke.py): every
                                                         # part at ≈ 3,000 people, no timing checks; its (d)
                                                         # continues (b)'s warehouse with one more month
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.instrument import categorise  # noqa: E402
from bench.procmem import run_sampled  # noqa: E402
from dagster_project.serving.duckdb_file import serving_file_path  # noqa: E402

GIB = 1024 ** 3
SALT = "bench-salt-not-for-production"
PY = sys.executable
KPI_CODES = (
    "employment_vs_prior_year", "q1_progress", "avg_employment_months", "wage_income_per_capita_growth",
    "out_of_province_share", "organized_outflow_share", "yulu_graduate_employment_rate",
    "relief_ratio_central_budget", "relief_ratio_bridging_funds", "relief_project_compliance",
)
# Months of the (a)-(c) landing dir per scale. Province: the simulator's one snapshot (2023-03).
# Demo, county and smoke: 2022-03, 2022-12 and 2023-03, so every one of the ten KPIs has a value to compare
# (prior year-end, March, the same month a year before).
SCALES = ("demo", "county", "province", "smoke")
# Smoke: simulated one month further (2023-04, moved aside, not in the (a)-(c) landing dir): the new month
# of its (d), which continues (b)'s warehouse instead of loading a history of its own (see main).
SNAPSHOTS = {"demo": ("2022-03", "2023-03", ["2022-03", "2022-12", "2023-03"]),
             "smoke": ("2022-03", "2023-04", ["2022-03", "2022-12", "2023-03"]),
             "county": ("2022-03", "2023-03", ["2022-03", "2022-12", "2023-03"]),
             "province": (None, None, None)}
HISTORY_START = "2021-04"


def log(msg: str) -> None:
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


# ------------------------------------------------------------------------------------------------
# preparation: landing dirs and a frozen copy of the code
# ------------------------------------------------------------------------------------------------

def simulate(scale: str, out: Path, start: str | None, end: str | None, keep: list[str] | None = None,
             later: Path | None = None) -> None:
    """`zengshou simulate` into ``out``; of its monitoring months only ``keep`` stay (all when None). The
    months after the last kept one go to ``later`` when given (the smoke's (d)), else they are removed."""
    if (out / ".complete").exists():
        return
    shutil.rmtree(out, ignore_errors=True)
    if later is not None:
        shutil.rmtree(later, ignore_errors=True)
    cmd = [str(Path(PY).with_name("zengshou")), "simulate", "--scale", scale, "--out", str(out)]
    if start:
        cmd += ["--start", start, "--end", end]
    log(f"simulating: {' '.join(cmd[1:])}")
    subprocess.run(cmd, check=True)
    if keep:
        for folder in (out / "monitoring").iterdir():
            if later is not None and folder.name > max(keep):
                later.mkdir(parents=True, exist_ok=True)
                shutil.move(folder, later / folder.name)
            elif folder.name not in keep:
                shutil.rmtree(folder)
    (out / ".complete").write_text(dt.datetime.now().isoformat())


def _month_add(month: str, n: int) -> str:
    y, m = map(int, month.split("-"))
    i = y * 12 + m - 1 + n
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def snapshot_code(dest: Path) -> Path:
    """Copy what `zengshou run` needs (package, dbt project, seeds, suites, bench) into ``dest``."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("target", "logs", "__pycache__", "*.pyc", ".user.yml", "dbt_packages")
    for name in ("dagster_project", "dbt", "seeds", "expectations", "bench"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "workspace.yaml"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, dest / name)
    return dest


def child_env(code: Path, landing: Path | None = None, warehouse: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENGSHOU_", "DAGSTER_HOME"))}
    env["PYTHONPATH"] = str(code)
    env["ZENGSHOU_PII_SALT"] = SALT
    env["ZENGSHOU_LOG_LEVEL"] = "ERROR"
    env["ZENGSHOU_LANDING_SETTLE_SECONDS"] = "0"  # the simulated files are complete when the run starts
    env["GX_ANALYTICS_ENABLED"] = "false"
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    if landing:
        env["ZENGSHOU_LANDING_DIR"] = str(landing)
    if warehouse:
        env["ZENGSHOU_WAREHOUSE"] = str(warehouse)
    return env


def warm_up(code: Path, landing: Path, warehouse: Path) -> None:
    """Parse the dbt project of the copy (once) and pull the landing files into the page cache.

    The parse uses the settings of the measured runs (same warehouse path, so the same dbt profile):
    as in production, where the code location parses once and every run's `dbt build` re-uses that
    parse (dbt's partial parsing), rather than re-parsing because the profile differs.
    """
    env = child_env(code, landing, warehouse)
    proc = subprocess.run([PY, "-c", "import dagster_project.definitions as d; print(d.__file__)"],
                          env=env, cwd=code, capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip().startswith(str(code)):
        raise SystemExit(f"the code copy does not import: {proc.stdout[-500:]}{proc.stderr[-2000:]}")
    for path in sorted(landing.rglob("*")):
        if path.is_file():
            with path.open("rb") as fh:
                while fh.read(16 * 1024 * 1024):
                    pass


def remove_db(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------
# the measured runs
# ------------------------------------------------------------------------------------------------

def measure(argv: list[str], env: dict[str, str], cwd: Path, result: Path | None, ok_codes=(0,)) -> dict:
    if result:
        result.unlink(missing_ok=True)
    code, wall, peak = run_sampled(argv, env=env, cwd=str(cwd))
    if code not in ok_codes:
        raise RuntimeError(f"{' '.join(argv)} exited {code}")
    if result and not result.exists():
        raise RuntimeError(f"{' '.join(argv)} exited {code} without writing {result}")
    out = json.loads(result.read_text()) if result else {}
    if "stages" in out:  # re-derive the stage roll-up with this benchmark's definitions
        out.update(categorise(out["stages"]))
    out.update({"wall": wall, "peak": peak, "exit_code": code})
    return out


def run_floor(code: Path, work: Path, landing: Path) -> dict:
    db = work / "floor.duckdb"
    remove_db(db)
    res = measure([PY, "-m", "bench.floor", "--landing", str(landing), "--db", str(db), "--json",
                   str(work / "floor.json")], child_env(code), code, work / "floor.json")
    remove_db(db)
    return res


def run_pipeline(code: Path, work: Path, landing: Path, warehouse: Path, tag: str) -> dict:
    out = work / f"pipeline-{tag}.json"
    res = measure([PY, "-m", "bench.pipeline", "--json", str(out)], child_env(code, landing, warehouse), code, out,
                  ok_codes=(0, 1))
    if res["exit_code"] != 0:
        log(f"  zengshou run reported: {res.get('summary')}")
    return res


def run_baseline(code: Path, work: Path, landing: Path) -> dict:
    out = work / "baseline.json"
    return measure([PY, "-m", "bench.baseline", "--landing", str(landing), "--out", str(work / "baseline_kpis.parquet"),
                    "--json", str(out)], child_env(code), code, out)


# ------------------------------------------------------------------------------------------------
# (b) == (c): the same KPI values from both on the same files
# ------------------------------------------------------------------------------------------------

def compare_kpis(warehouse: Path, baseline: Path, rel_tol: float = 1e-9) -> dict:
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(warehouse), read_only=True)
    codes = ", ".join(f"'{c}'" for c in KPI_CODES)
    b = con.execute(
        "SELECT strftime(as_of_month, '%Y-%m-%d') AS as_of_month, region_code, kpi_code, numerator, denominator,"
        f" actual_value, status FROM marts.kpi_scorecard WHERE kpi_code IN ({codes})").df()
    con.close()
    c = pd.read_parquet(baseline)[["as_of_month", "region_code", "kpi_code", "numerator", "denominator",
                                   "actual_value", "status"]]
    keys = ["as_of_month", "region_code", "kpi_code"]
    m = b.merge(c, on=keys, how="outer", suffixes=("_b", "_c"), indicator=True)
    missing = int((m["_merge"] != "both").sum())
    both = m[m["_merge"] == "both"]
    bad = pd.Series(False, index=both.index)
    worst = 0.0
    for col in ("numerator", "denominator", "actual_value"):
        x, y = both[f"{col}_b"].astype(float), both[f"{col}_c"].astype(float)
        null_diff = x.isna() != y.isna()
        diff = (x - y).abs() / y.abs().clip(lower=1.0)
        worst = max(worst, float(diff.max()) if len(diff.dropna()) else 0.0)
        bad |= null_diff | (diff > rel_tol)
    bad |= both["status_b"] != both["status_c"]
    examples = both[bad].head(5)[[*keys, "actual_value_b", "actual_value_c", "status_b", "status_c"]]
    non_null = int(both["actual_value_b"].notna().sum())
    return {"rows": len(m), "rows_with_value": non_null, "missing_rows": missing, "mismatches": int(bad.sum()),
            "max_rel_diff": worst, "equal": missing == 0 and not bad.any() and len(m) > 0,
            "examples": examples.astype(str).to_dict("records"),
            "kpis_with_values": sorted(both.loc[both["actual_value_b"].notna(), "kpi_code"].unique().tolist())}


# ------------------------------------------------------------------------------------------------
# (d) month N after a long history
# ------------------------------------------------------------------------------------------------

def history_landing(full: Path, dest: Path, months: list[str]) -> Path:
    """A landing dir holding the first ``months`` of ``full`` (symlinks; HR database and ledgers shared)."""
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "monitoring").mkdir(parents=True)
    for month in months:
        (dest / "monitoring" / month).symlink_to(full / "monitoring" / month)
    for name in ("relief", "hr_platform.sqlite"):
        if (full / name).exists():
            (dest / name).symlink_to(full / name)
    return dest


def run_history(code: Path, work: Path, full: Path, n: int, repeat: int, first: int = 1,
                seed: Path | None = None) -> dict:
    """Month 2 and month ``n`` of the history in ``full``, each a `zengshou run` on a copy of the warehouse
    holding the months before it (``repeat`` runs each).

    Month 1 is the first ``first`` monitoring months of ``full`` (1: one month; the smoke: the three
    months of (b)), loaded into a fresh warehouse — or, when ``seed`` is given, a copy of ``seed``, a
    warehouse that already holds exactly month 1 of these same files (the smoke: (b)'s), so the same
    `zengshou run` is not done twice. Month k adds the k-th month after them."""
    months = sorted(p.name for p in (full / "monitoring").iterdir() if p.is_dir())
    if len(months) < first + n - 1:
        raise SystemExit(f"{full} holds {len(months)} months, the history needs {first + n - 1}")
    months = months[:first + n - 1]
    hist = work / "history"
    hist.mkdir(parents=True, exist_ok=True)
    landing = hist / "landing"
    base = hist / "base.duckdb"
    trial = hist / "trial.duckdb"

    def copy(src: Path, dst: Path) -> None:
        remove_db(dst)
        shutil.copyfile(src, dst)

    # The serving file sits beside the warehouse (serving_file_path), so base and trial share it. Each
    # trial starts from the serving file its warehouse copy published — the same file, kept as a hard
    # link: a publish recognises the file it left by inode, size and mtime (serving.duckdb_file.file_mark)
    # and replaces it by renaming a new file over it, so the kept link is never written. A copy, or the
    # file the trial before wrote, would make every trial publish all marts whole.
    serving = serving_file_path(base)
    base_serving = hist / "base-serving.duckdb"

    def link(src: Path, dst: Path) -> None:
        remove_db(dst)
        if src.exists():
            os.link(src, dst)

    def keep_serving() -> None:
        link(serving, base_serving)

    def restore_serving() -> None:
        link(base_serving, serving)

    def upto(k: int) -> list[str]:  # the monitoring months of the landing dir whose new month is month k
        return months[:first + k - 1]

    if seed is not None:
        log(f"(d) history: month 1 ({', '.join(upto(1))}) is a copy of {seed} (not measured)")
        copy(seed, base)
    else:
        log(f"(d) history: month 1 ({', '.join(upto(1))}) into a fresh warehouse (not measured)")
        remove_db(base)
        run_pipeline(code, hist, history_landing(full, landing, upto(1)), base, "h1")
    keep_serving()
    out: dict = {"months": months, "runs": {}}
    for k in sorted({2, n}):  # n == 2 (the CI smoke) measures month 2 once
        if k > 3:
            # history up to month k-1 (not measured): continue from the month-2 warehouse
            log(f"(d) history: months 3..{k - 1} (not measured)")
            restore_serving()
            run_pipeline(code, hist, history_landing(full, landing, upto(k - 1)), base, "hbuild")
            keep_serving()
        runs = []
        for i in range(repeat):
            copy(base, trial)
            restore_serving()
            log(f"(d) month {k} ({upto(k)[-1]}), run {i + 1}/{repeat}")
            runs.append(run_pipeline(code, hist, history_landing(full, landing, upto(k)), trial, f"m{k}-{i}"))
        out["runs"][k] = runs
        if k == 2:
            copy(trial, base)  # the month-2 warehouse is where the long history continues from
            keep_serving()
    remove_db(trial)
    return out


# ------------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------------

LEAF_LABELS = {
    "import": "imports, definitions, Dagster instance", "other": "Dagster runs and checks outside the stages",
    "sha256": "content hash of each file", "read": "parse each file into a staging table",
    "stage": "shape + county join + rule flags (one statement)", "monitoring": "connect, county lookup (monitoring)",
    "relief": "connect, county lookup (relief)", "ge": "GE suite on each landing batch",
    "publish": "quarantine + publish to raw", "unusual_values": "unusual-values warning check",
    "hr_pull": "HR platform pull (SQLAlchemy)", "dbt_build": "dbt build (subprocess)",
    "ge_marts": "GE suites on the marts", "publish_marts": "marts published for BI (serving file)",
    "report": "KPI report",
}


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def cat(run: dict, name: str, field: str = "seconds") -> float:
    return run.get("categories", {}).get(name, {}).get("seconds" if field == "seconds" else "peak_bytes", 0.0)


def machine() -> str:
    mem = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    model = ""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} cores ({model}), {mem / GIB:.1f} GiB RAM, {platform.system()} {platform.release()},"
            f" Python {platform.python_version()}; CPU probe {cpu_probe():.2f} s")


def cpu_probe() -> float:
    """Seconds one core takes for a fixed pure-Python loop (best of 3): the interpreter's speed, which the
    imports, Dagster and dbt's Python side of every run depend on. The CPU's model name does not say how fast
    the machine is: two machines both named "AMD EPYC" ran the test suite in 2,430 and 770 CPU-seconds
    (2026-12-03, 2026-12-04). Figures of two benchmarks compare only with this probe beside them."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - start)
    return best


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def file_loads_seconds(run: dict) -> float:
    """(b)'s time on the baseline's scope: every landed file's batch (hashed, parsed, flagged,
    GE-validated, published to raw or rejected), i.e. the stages under the monitoring and relief loads
    (`load_landed_file`, wrapped whole), connecting and the county lookup included. Not the HR pull's
    own GE gate, which a sum of the "ge" leaves counted too (the baseline reads no HR table)."""
    return sum(v.get("seconds", 0.0) for path, v in run.get("stages", {}).items()
               if path.split("/", 1)[0] in ("monitoring", "relief"))


def summarise(results: dict) -> dict:
    a, b, c = results.get("a", []), results.get("b", []), results.get("c", [])
    s: dict = {}
    if a:
        s["a_wall"], s["a_peak"] = med([r["wall"] for r in a]), med([r["peak"] for r in a])
    if b:
        s["b_wall"], s["b_peak"] = med([r["wall"] for r in b]), med([r["peak"] for r in b])
        for name in ("load", "validation", "publish", "hr_pull", "dbt_build", "other"):
            s[f"b_{name}"] = med([cat(r, name) for r in b])
            s[f"b_{name}_peak"] = med([cat(r, name, "peak") for r in b])
        leaves = sorted({k for r in b for k in r.get("leaves", {})})
        s["b_leaves"] = {k: (med([r.get("leaves", {}).get(k, {}).get("seconds", 0.0) for r in b]),
                             med([r.get("leaves", {}).get(k, {}).get("peak_bytes", 0) for r in b])) for k in leaves}
        s["b_file_loads"] = med([file_loads_seconds(r) for r in b])
    if c:
        s["c_wall"], s["c_peak"] = med([r["wall"] for r in c]), med([r["peak"] for r in c])
        for name in ("read", "ge", "rules", "kpis"):
            s[f"c_{name}"] = med([r.get("seconds", {}).get(name, 0.0) for r in c])
    d = results.get("d")
    if d:
        runs = d["runs"]
        first, last = min(runs, key=int), max(runs, key=int)
        s["d_first"], s["d_last"] = med([r["wall"] for r in runs[first]]), med([r["wall"] for r in runs[last]])
        s["d_first_n"], s["d_last_n"] = int(first), int(last)
        for name in ("load", "validation", "publish", "hr_pull", "dbt_build", "other"):
            s[f"d_first_{name}"] = med([cat(r, name) for r in runs[first]])
            s[f"d_last_{name}"] = med([cat(r, name) for r in runs[last]])
    return s


def targets(s: dict) -> list[tuple[str, str, str, bool | None]]:
    rows = []

    def add(name: str, value: float | None, fmt: str, limit: str, ok: bool | None) -> None:
        rows.append((name, "n/a" if value is None else fmt.format(value), limit, ok))

    if "a_wall" in s and "b_wall" in s:
        r = s["b_wall"] / s["a_wall"]
        add("(b) / (a) wall", r, "{:.1f}x", "<= 3x", r <= 3)
    if "b_wall" in s and "c_wall" in s:
        scope = s.get("b_file_loads", 0.0)
        if scope:
            r = s["c_wall"] / scope
            add("(c) / (b) wall on (c)'s scope: files hashed, parsed, flagged, GE-validated, published to raw",
                r, "{:.1f}x", ">= 3x", r >= 3)
        loader_peak = max((p for k, (_, p) in s["b_leaves"].items() if k != "dbt_build"), default=0)
        if loader_peak:
            r = s["c_peak"] / loader_peak
            add("(c) / (b) peak memory on (c)'s scope ((b) without its dbt subprocess)", r, "{:.1f}x", ">= 4x",
                r >= 4)
        add("(info) (c) / (b) wall, whole pipeline", s["c_wall"] / s["b_wall"], "{:.1f}x", "", None)
        add("(info) (c) / (b) peak memory, whole pipeline", s["c_peak"] / s["b_peak"], "{:.1f}x", "", None)
    if "d_last" in s:
        r = s["d_last"] / s["d_first"]
        add(f"month {s['d_last_n']} / month {s['d_first_n']} wall", r, "{:.2f}x", "<= 1.1x", r <= 1.1)
        if s.get("d_first_dbt_build"):
            add(f"(info) month {s['d_last_n']} / month {s['d_first_n']}, dbt build alone",
                s["d_last_dbt_build"] / s["d_first_dbt_build"], "{:.2f}x", "", None)
            rest = [sum(s[f"d_{k}_{c}"] for c in ("load", "validation", "publish")) for k in ("last", "first")]
            if rest[1] > 0:
                add(f"(info) month {s['d_last_n']} / month {s['d_first_n']}, load + validation + publish",
                    rest[0] / rest[1], "{:.2f}x", "", None)
    if "b_wall" in s:
        r = s["b_validation"] / s["b_wall"]
        add("validation share of (b)", r * 100, "{:.0f} %", "<= 30 %", r <= 0.30)
        add("peak memory of (b)", s["b_peak"] / GIB, "{:.2f} GiB", "<= 3 GiB", s["b_peak"] <= 3 * GIB)
    return rows


def table(s: dict, check: dict | None) -> str:
    def sec(x: float) -> str:
        return f"{x:8.1f} s"

    def gib(x: float) -> str:
        return f"{x / GIB:6.2f} GiB"

    lines = ["| measurement | wall (median) | peak memory (median) |", "|---|---:|---:|"]
    if "a_wall" in s:
        lines.append(f"| (a) floor: DuckDB reads the files | {sec(s['a_wall'])} | {gib(s['a_peak'])} |")
    if "b_wall" in s:
        lines.append(f"| (b) `zengshou run`, end to end | {sec(s['b_wall'])} | {gib(s['b_peak'])} |")
        for name, label in (("load", "load (hash, parse, shape + county join + rule flags)"),
                            ("validation", "validation (GE on every batch and on the marts, unusual values)"),
                            ("publish", "publish (quarantine + raw; marts for BI)"),
                            ("hr_pull", "HR platform pull"),
                            ("dbt_build", "dbt build (subprocess)"),
                            ("other", "other (Dagster, imports, planning)")):
            lines.append(f"| &nbsp;&nbsp;(b) {label} | {sec(s['b_' + name])} | {gib(s['b_' + name + '_peak'])} |")
    for leaf, (secs, peak) in s.get("b_leaves", {}).items():
        if leaf in ("dbt_build", "hr_pull"):
            continue
        label = LEAF_LABELS.get(leaf, leaf)
        lines.append(f"| &nbsp;&nbsp;&nbsp;&nbsp;(b) detail: {label} | {sec(secs)} | {gib(peak)} |")
    if "c_wall" in s:
        lines.append(f"| (c) baseline: pandas + GE pandas + KPIs in pandas | {sec(s['c_wall'])} | {gib(s['c_peak'])} |")
        for name in ("read", "ge", "rules", "kpis"):
            lines.append(f"| &nbsp;&nbsp;(c) {name} | {sec(s['c_' + name])} | |")
    if "d_last" in s:
        for k in ("first", "last"):
            n = s[f"d_{k}_n"]
            parts = ", ".join(f"{name} {s[f'd_{k}_{name}']:.1f}" for name in
                              ("load", "validation", "publish", "hr_pull", "dbt_build", "other"))
            lines.append(f"| (d) `zengshou run` for month {n} ({parts}) | {sec(s[f'd_{k}'])} | |")
    lines += ["", "| target | measured | limit | met |", "|---|---:|---:|---|"]
    for name, value, limit, ok in targets(s):
        lines.append(f"| {name} | {value} | {limit} | {'yes' if ok else 'NO' if ok is not None else '—'} |")
    if check is not None:
        verdict = "equal" if check["equal"] else "DIFFERENT"
        lines += ["", f"KPI check (b) vs (c): **{verdict}** — {check['rows']} scorecard rows of the ten KPIs, "
                  f"{check['rows_with_value']} with a value, {check['mismatches']} mismatches, "
                  f"{check['missing_rows']} rows missing on one side, max relative difference "
                  f"{check['max_rel_diff']:.2e}; KPIs with values: {', '.join(check['kpis_with_values'])}."]
    return "\n".join(lines)


def write_markdown(path: Path, args: argparse.Namespace, s: dict, check: dict | None, meta: dict) -> None:
    runs = meta.get("runs", {})
    text = f"""# Benchmarks (issues 5 and 12): province scale on one machine

Written by `make bench` (`bench/run.py`); numbers are medians of {runs.get('a', 0)} runs of (a),
{runs.get('b', 0)} of (b) and {runs.get('c', 0)} of (c), measured side by side in one session on the same
files. Re-run: `make bench`
(`.venv/bin/python bench/run.py --scale province --repeat 3`).

- Machine: {meta['machine']}
- When: {meta['started']} – {meta['finished']} UTC; load average at start {meta['load_start']},
  at end {meta['load_end']} (check `uptime` before a run: other work on the machine inflates every wall time)
- Landing dir (a)–(c): `{meta['landing']}` — {meta['landing_desc']}
- History (d): `{meta.get('history_landing', 'not run')}` — {meta.get('history_desc', '')}
- Code under test: a copy of the working tree taken at the start ({meta['code']}), dbt project parsed once
  before the measurements; every measured run is a fresh process (memory = RSS of its process tree,
  dbt subprocess included, sampled every 0.2 s)

## Commands measured
- (a) `python -m bench.floor --landing L --db F.duckdb` — DuckDB `read_csv` of every CSV (GB18030 transcoded
  first), xlsx via python-calamine → Arrow → DuckDB, the HR SQLite database via sqlite3 → Arrow → DuckDB
  (DuckDB's excel/sqlite extensions cannot be downloaded here)
- (b) `ZENGSHOU_LANDING_DIR=L ZENGSHOU_WAREHOUSE=<fresh file> ZENGSHOU_PII_SALT=… python -m bench.pipeline` —
  `dagster_project.runner.run` (what `zengshou run` runs), stages timed by wrapping the functions each stage
  calls; step times from the Dagster event log are in the JSON of each run
- (c) `python -m bench.baseline --landing L` — pandas `read_csv`/`read_excel`, GE 1.x pandas datasource
  (the raw suites' expectations where expressible on a DataFrame), the SPEC §3 rules and the ten KPIs in pandas
- (d) `zengshou run` (as in b) when month 2, and when month {s.get('d_last_n', 'N')}, is the new month of
  the landing dir, on a copy of the warehouse holding the months before it

## Results

{table(s, check)}

## Notes

{meta.get('notes', '')}
"""
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="zengshou benchmark (issue 5)")
    parser.add_argument("--scale", choices=SCALES, default="province",
                        help="province (the benchmark), county, demo, or smoke: ≈ 3,000 people, every part run"
                             " once to see that it works (tests/test_bench_smoke.py), its times mean nothing")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-baseline", type=int,
                        help="runs of (c) (default --repeat); (c) is the slowest part, its median needs fewer runs"
                             " to be far from (b)")
    parser.add_argument("--parts", default="a,b,c,d",
                        help="comma-separated subset of a,b,c,d to measure ('' = only report what --reuse names)")
    parser.add_argument("--work", type=Path, help="work dir (default data/bench/<scale>)")
    parser.add_argument("--landing", type=Path, help="landing dir for (a)-(c) (default <work>/landing, simulated)")
    parser.add_argument("--history-scale", choices=SCALES,
                        help="scale of the (d) history (default county; demo at demo scale, smoke at smoke scale)")
    parser.add_argument("--history-months", type=int,
                        help="N of month N vs month 2 (default 24; 3 at demo and smoke scale)")
    parser.add_argument("--history-landing", type=Path, help="landing dir holding the history's months")
    parser.add_argument("--keep-code", action="store_true",
                        help="reuse the code copy of a previous benchmark in the work dir (development only)")
    parser.add_argument("--reuse", default="",
                        help="comma-separated parts whose results are taken from an earlier benchmark in the same work"
                             " dir (e.g. --parts a,b,c --reuse d, when the history was measured before)")
    parser.add_argument("--no-write", action="store_true", help="print the table, do not write BENCHMARKS.md")
    parser.add_argument("--notes", type=Path, help="markdown file appended to BENCHMARKS.md as notes")
    args = parser.parse_args(argv)
    parts = {p for p in args.parts.split(",") if p}
    reuse = {p for p in args.reuse.split(",") if p}
    started = dt.datetime.now(dt.UTC)
    meta: dict = {"machine": machine(), "started": f"{started:%Y-%m-%d %H:%M}", "load_start": load_avg()}

    work = (args.work or REPO / "data" / "bench" / args.scale).resolve()
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"a": [], "b": [], "c": []}
    check = None
    # The smoke's months after its (a)-(c) landing dir: the new months of its (d) (see below).
    later = work / "landing-later" if args.scale == "smoke" and args.landing is None else None

    def save(part: str) -> None:  # after every measurement, so a stopped benchmark still reports
        (work / f"part-{part}.json").write_text(json.dumps(results[part], indent=1, ensure_ascii=False, default=str))
        if part != "d":
            meta.update(finished=f"{dt.datetime.now(dt.UTC):%H:%M}", load_end=load_avg())
            keys = ("machine", "landing", "landing_desc", "code", "repeat", "repeat_baseline", "started", "finished",
                    "load_start", "load_end")
            (work / "landing-meta.json").write_text(json.dumps({k: meta[k] for k in keys if k in meta}))

    for part in sorted(reuse):  # a part both reused and measured gets the new runs appended
        saved = work / f"part-{part}.json"
        if saved.exists():
            results[part] = json.loads(saved.read_text())
            if part == "d":
                results["d"]["runs"] = {int(k): v for k, v in results["d"]["runs"].items()}
                meta.update(json.loads((work / "history-meta.json").read_text()))
            else:
                kept = {k: v for k, v in json.loads((work / "landing-meta.json").read_text()).items()
                        if k not in ("finished", "load_end") or not parts}
                meta.update(kept)
        if part in ("b", "c") and (work / "check.json").exists():
            check = json.loads((work / "check.json").read_text())

    if parts & {"a", "b", "c", "d"}:
        landing = (args.landing or work / "landing").resolve()
        if args.landing is None:
            start, end, keep = SNAPSHOTS[args.scale]
            simulate(args.scale, landing, start, end, keep, later=later)
        months = sorted(p.name for p in (landing / "monitoring").iterdir() if p.is_dir())
        code = work / "code"
        if not (args.keep_code and (code / "dagster_project").is_dir()):
            snapshot_code(code)
        else:
            shutil.rmtree(code / "bench")
            shutil.copytree(REPO / "bench", code / "bench", ignore=shutil.ignore_patterns("__pycache__"))
        if parts & {"a", "b", "c"}:
            meta.update(landing=str(landing), landing_desc=f"{args.scale} scale, snapshot month(s) {', '.join(months)}",
                        code=str(code), repeat=args.repeat, repeat_baseline=args.repeat_baseline or args.repeat)
        log(f"code copied to {code}; parsing the dbt project and warming the page cache")
        warm_up(code, landing, work / "pipeline.duckdb")

    for i in range(args.repeat if parts & {"a", "b", "c"} else 0):
        if "a" in parts:
            log(f"(a) floor, run {i + 1}/{args.repeat} (load {load_avg()})")
            results["a"].append(run_floor(code, work, landing))
            save("a")
            log(f"    {results['a'][-1]['wall']:.1f} s, {results['a'][-1]['peak'] / GIB:.2f} GiB")
        if "b" in parts:
            warehouse = work / "pipeline.duckdb"
            remove_db(warehouse)
            log(f"(b) zengshou run, run {i + 1}/{args.repeat} (load {load_avg()})")
            results["b"].append(run_pipeline(code, work, landing, warehouse, str(i)))
            save("b")
            log(f"    {results['b'][-1]['wall']:.1f} s, {results['b'][-1]['peak'] / GIB:.2f} GiB")
        if "c" in parts and i < (args.repeat_baseline or args.repeat):
            log(f"(c) pandas baseline, run {i + 1}/{args.repeat_baseline or args.repeat} (load {load_avg()})")
            results["c"].append(run_baseline(code, work, landing))
            save("c")
            log(f"    {results['c'][-1]['wall']:.1f} s, {results['c'][-1]['peak'] / GIB:.2f} GiB")
        if i == 0 and "b" in parts and "c" in parts:
            check = compare_kpis(work / "pipeline.duckdb", work / "baseline_kpis.parquet")
            (work / "check.json").write_text(json.dumps(check, indent=1, ensure_ascii=False, default=str))
            log(f"KPI check (b) vs (c): {'equal' if check['equal'] else 'DIFFERENT'} "
                f"({check['mismatches']} mismatches, {check['missing_rows']} missing)")
            if not check["equal"]:
                log(f"    examples: {check['examples']}")

    if "d" in parts:
        small = args.scale in ("demo", "smoke")
        hscale = args.history_scale or (args.scale if small else "county")
        n = args.history_months or (3 if small else 24)
        hwork = work / f"history-{hscale}"
        hwork.mkdir(exist_ok=True)
        # The smoke (CI: every part works, its times mean nothing) does not load a history of its own: its
        # month 1 is (b)'s warehouse — the three months of the (a)-(c) landing dir, just loaded by the same
        # `zengshou run` — and month k adds the k-th simulated month after them (2023-04, ...), so the
        # smoke runs `zengshou run` twice instead of three times and simulates once. This needs the (b) of
        # this invocation and enough simulated months after it (one: --history-months 2, as CI runs it).
        # Otherwise, and at every other scale, month 1 is loaded from a monthly history simulated from
        # HISTORY_START (the province figures of BENCHMARKS.md: month 2 and month 24 of a county-scale
        # history, unchanged).
        later_months = sorted(p.name for p in later.iterdir()) if later is not None and later.is_dir() else []
        if (later is not None and "b" in parts and results["b"] and args.history_landing is None
                and hscale == "smoke" and len(later_months) >= n - 1):
            full = hwork / "landing"
            shutil.rmtree(full, ignore_errors=True)
            (full / "monitoring").mkdir(parents=True)
            for month in months:
                (full / "monitoring" / month).symlink_to(landing / "monitoring" / month)
            for month in later_months[:n - 1]:
                (full / "monitoring" / month).symlink_to(later / month)
            for name in ("relief", "hr_platform.sqlite"):
                if (landing / name).exists():
                    (full / name).symlink_to(landing / name)
            meta["history_landing"] = str(full)
            meta["history_desc"] = (f"smoke scale: month 1 is (b)'s warehouse (months {', '.join(months)}), month k "
                                    f"adds the k-th of {', '.join(later_months[:n - 1])}; month 2 vs month {n}, "
                                    f"{args.repeat} run(s) each")
            (work / "history-meta.json").write_text(
                json.dumps({k: meta[k] for k in ("history_landing", "history_desc")}))
            results["d"] = run_history(code, hwork, full, n, args.repeat, first=len(months),
                                       seed=work / "pipeline.duckdb")
        else:
            full = (args.history_landing or work.parent / f"history-{hscale}" / "landing").resolve()
            if args.history_landing is None:
                simulate(hscale, full, HISTORY_START, _month_add(HISTORY_START, n - 1))
            meta["history_landing"] = str(full)
            meta["history_desc"] = (f"{hscale} scale, monthly snapshots from {HISTORY_START}; month 2 vs month {n}, "
                                    f"{args.repeat} run(s) each")
            (work / "history-meta.json").write_text(
                json.dumps({k: meta[k] for k in ("history_landing", "history_desc")}))
            results["d"] = run_history(code, hwork, full, n, args.repeat)
        save("d")
    s = summarise(results)
    meta["runs"] = {part: len(results.get(part) or []) for part in ("a", "b", "c")}
    meta.setdefault("finished", f"{dt.datetime.now(dt.UTC):%H:%M}")
    meta.setdefault("load_end", load_avg())
    (work / "results.json").write_text(json.dumps({"meta": meta, "summary": s, "check": check, "results": results},
                                                  indent=1, ensure_ascii=False, default=str))
    print()
    print(table(s, check))
    if args.notes and args.notes.exists():
        meta["notes"] = args.notes.read_text()
    if not args.no_write:
        write_markdown(REPO / "BENCHMARKS.md", args, s, check, meta)
        log(f"wrote {REPO / 'BENCHMARKS.md'}")
    if check is not None and not check["equal"]:
        log("FAILED: (b) and (c) disagree on the KPI values")
        return 1
    failed = [r.get("summary") for r in results["b"] if r.get("exit_code")]
    if failed:
        log(f"FAILED: zengshou run did not pass: {failed[0]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
