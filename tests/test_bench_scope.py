"""bench/run.py's "(c)'s scope" figure: what `zengshou run` spends on the work the pandas baseline does.

The baseline reads, flags and validates the landed files; it reads no HR table. The benchmark's stage
paths (bench/instrument.py) nest the HR pull's GE gate as ``hr_pull/ge`` beside the files'
``monitoring/ge``; summing every "ge" leaf put the HR gate into the files' scope. The figures below are
one province run's stage paths (rounded), added up by hand.
"""

from bench.run import file_loads_seconds, summarise

STAGES = {
    "monitoring": {"seconds": 0.6},            # connect, county lookup
    "monitoring/stage": {"seconds": 23.2},
    "monitoring/stage/read": {"seconds": 15.5},
    "monitoring/stage/sha256": {"seconds": 0.0},
    "monitoring/ge": {"seconds": 12.1},
    "monitoring/publish": {"seconds": 13.3},
    "relief": {"seconds": 0.1},
    "relief/ge": {"seconds": 0.2},
    "hr_pull": {"seconds": 31.5},
    "hr_pull/ge": {"seconds": 3.4},            # not the baseline's work
    "unusual_values": {"seconds": 0.2},        # a warning check after the loads, not a load
    "dbt_build": {"seconds": 105.8},
}


def test_scope_is_the_file_loads_only() -> None:
    # 0.6 + 23.2 + 15.5 + 0.0 + 12.1 + 13.3 + 0.1 + 0.2 = 65.0
    assert round(file_loads_seconds({"stages": STAGES}), 6) == 65.0


def test_the_scope_ratio_uses_the_median_of_the_runs() -> None:
    slower = {path: {"seconds": v["seconds"] * 2} for path, v in STAGES.items()}
    runs = [{"wall": 240.0, "peak": 1, "stages": s} for s in (STAGES, slower, STAGES)]
    summary = summarise({"b": runs, "c": [{"wall": 130.0, "peak": 2}]})
    assert round(summary["b_file_loads"], 6) == 65.0  # median of 65, 130, 65
