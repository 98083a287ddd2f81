"""Simulator of the landing dir (SPEC §3): monitoring exports, the HR platform database and the
以工代赈 ledgers for a synthetic but calibrated population of Yunnan's 脱贫人口.

Public API: ``simulate(out_dir, scale, seed, start, end, dirty_rate) -> dict`` and ``SCALES``.

``simulate`` is imported on first use (PEP 562): the CLI builds its ``--scale`` choices from ``SCALES``
on every start, and importing the simulator itself costs ≈ 0.4 s (pandas, numpy) that a `zengshou run`
or a configuration error should not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagster_project.simulate.scales import SCALES

if TYPE_CHECKING:
    from dagster_project.simulate.core import simulate

__all__ = ["SCALES", "simulate"]


def __getattr__(name: str) -> Any:
    if name == "simulate":
        from dagster_project.simulate.core import simulate

        return simulate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
