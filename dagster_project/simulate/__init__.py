"""Simulator of the landing dir (SPEC §3): monitoring exports, the HR platform database and the
以工代赈 ledgers for a synthetic but calibrated population of Yunnan's 脱贫人口.

Public API: ``simulate(out_dir, scale, seed, start, end, dirty_rate) -> dict`` and ``SCALES``.
"""

from dagster_project.simulate.core import simulate
from dagster_project.simulate.scales import SCALES

__all__ = ["SCALES", "simulate"]
