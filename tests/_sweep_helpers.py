"""Small sweeps for the tests: a two-year base scenario and designs of a few runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

from glucosim.sweep.worker import TIMING_COLUMNS

BASE_SCENARIO = """
name = "sweep test base"
duration_years = 2

[subject]
preset = "insulin_resistant_low_reserve"

[routine]
sleep_h = 8
meals = [{ time_h = 7.5, carbs_g = 60 }, { time_h = 12.5, carbs_g = 80 }, { time_h = 19.0, carbs_g = 80 }]

[routine.drift]
whole_body_per_year = -0.04
"""

GRID_SWEEP = """
name = "test grid"
base_scenario = "base.toml"
seed = 7

[design]
kind = "grid"

[[variables]]
parameter = "insulin_sensitivity_whole_body"
unit = "1"
values = [0.25, 0.6]

[[variables]]
parameter = "beta_function_max"
unit = "1"
values = [1.2, 3.0]

[[arms]]
name = "control"

[[arms]]
name = "exercise"
[[arms.changes]]
from_day = 0
label = "training"
exercise = [{ start_h = 18.0, duration_min = 45, intensity_pct_vo2max = 60 }]
"""


def write_sweep(directory: Path, sweep_text: str = GRID_SWEEP, base_text: str = BASE_SCENARIO) -> Path:
    """Write base.toml and sweep.toml into ``directory``; returns the sweep path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "base.toml").write_text(textwrap.dedent(base_text))
    path = directory / "sweep.toml"
    path.write_text(textwrap.dedent(sweep_text))
    return path


def comparable(results):
    """Results without the columns that measure machine speed."""
    return results.drop(columns=list(TIMING_COLUMNS)).reset_index(drop=True)
