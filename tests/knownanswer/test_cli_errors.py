"""Usage and configuration errors exit 2 with a one-line reason and write nothing (SPEC §5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import scenario as sc
from .conftest import new_scenario
from .pipeline import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    scenario, landing = new_scenario(tmp_path_factory.mktemp("cli"))
    sc.build(landing, months=("2023-01",), relief=False)
    return scenario


def _assert_usage_error(res, needle: str, warehouse: Path) -> None:
    assert res.returncode == 2, res.tail()
    out = res.lines()
    assert out, "no reason printed"
    assert "Traceback" not in res.stdout + res.stderr, res.tail()
    assert any(needle in ln for ln in out), f"no line names {needle!r}:\n{res.tail()}"
    assert not warehouse.exists(), "a configuration error must not start a run"


@pytest.mark.parametrize(("var", "value"), [
    ("ZENGSHOU_MAX_REJECT_RATE", "abc"),
    ("ZENGSHOU_MAX_REJECT_RATE", "1.5"),
    ("ZENGSHOU_ALERT_FORMAT", "carrier-pigeon"),
])
def test_bad_setting_exits_2(small, var: str, value: str) -> None:
    res = run_cli(["run"], small.env(**{var: value}), timeout=300)
    _assert_usage_error(res, var, small.warehouse)


def test_unknown_command_exits_2(small) -> None:
    res = run_cli(["no-such-command"], small.env(), timeout=300)
    assert res.returncode == 2, res.tail()
    assert "Traceback" not in res.stdout + res.stderr


def test_help_lists_commands(small) -> None:
    res = run_cli(["--help"], small.env(), timeout=300)
    assert res.returncode == 0, res.tail()
    for cmd in ("run", "simulate", "demo"):
        assert cmd in res.stdout, res.stdout
