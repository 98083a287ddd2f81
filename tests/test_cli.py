"""`zengshou` exit codes and one-line reasons for usage and configuration errors (SPEC §5)."""

import os
import subprocess
import sys
from pathlib import Path

ZENGSHOU = str(Path(sys.executable).with_name("zengshou"))


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZENGSHOU_")}
    base.update({"ZENGSHOU_LANDING_DIR": str(tmp_path / "landing"), "ZENGSHOU_WAREHOUSE": str(tmp_path / "w.duckdb")})
    base.update(env)
    return subprocess.run([ZENGSHOU, *args], env=base, capture_output=True, text=True, timeout=120)


def _one_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip() and not ln.startswith("WARNING")]
    assert len(lines) == 1, text
    return lines[0]


def test_bad_reject_rate_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    proc = _run(["run"], tmp_path, ZENGSHOU_MAX_REJECT_RATE="abc")
    assert proc.returncode == 2
    assert "ZENGSHOU_MAX_REJECT_RATE" in _one_line(proc.stderr)


def test_unknown_alert_format_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    proc = _run(["run"], tmp_path, ZENGSHOU_ALERT_FORMAT="telegram")
    assert proc.returncode == 2 and "ZENGSHOU_ALERT_FORMAT" in _one_line(proc.stderr)


def test_missing_landing_dir_is_a_configuration_error(tmp_path: Path) -> None:
    proc = _run(["run"], tmp_path)
    assert proc.returncode == 2 and "landing dir" in _one_line(proc.stderr)
    assert not (tmp_path / "w.duckdb").exists()  # nothing was created


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    for args in (["frobnicate"], ["simulate", "--out", str(tmp_path), "--start", "2023-13"],
                 ["simulate", "--out", str(tmp_path), "--scale", "planet"]):
        proc = _run(args, tmp_path)
        assert proc.returncode == 2, args
        assert "usage error" in _one_line(proc.stderr)


def test_start_after_end_is_refused(tmp_path: Path) -> None:
    proc = _run(["simulate", "--out", str(tmp_path / "x"), "--start", "2023-03", "--end", "2023-01"], tmp_path)
    assert proc.returncode == 2 and "after" in _one_line(proc.stderr)
    assert not (tmp_path / "x").exists()
