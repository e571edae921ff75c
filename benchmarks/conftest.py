"""Workloads shared by the benchmarks: the organ model on a reference day and a year."""

import numpy as np
import pytest

from glucosim.physiology.indices import STATE_NAMES
from glucosim.scenario.compile import ScenarioProgram
from glucosim.scenario.load import parse_scenario
from glucosim.simulation.initial_state import initial_state
from glucosim.solver.kernel import default_tolerances, organ_integrator

REFERENCE_DAY = {
    "name": "benchmark day",
    "duration_days": 365,
    "subject": {"preset": "insulin_resistant"},
    "routine": {
        "sleep_h": 7.0,
        "meals": [{"time_h": 7.5, "carbs_g": 60}, {"time_h": 12.5, "carbs_g": 80}, {"time_h": 19.0, "carbs_g": 80}],
        "exercise": [{"start_h": 17.0, "duration_min": 45, "intensity_pct_vo2max": 55}],
        "drift": {"whole_body_per_year": -0.04},
    },
}
"""Three meals and an exercise session every day; the workload issue 6 names."""


class Workload:
    """A schedule, its starting state and parameters, ready to integrate."""

    def __init__(self, days: int, output_step_min: float):
        loaded = parse_scenario(REFERENCE_DAY, "benchmark")
        program = ScenarioProgram(loaded)
        self.params = program.parameters
        self.y0 = initial_state(program)
        self.schedule, _, _ = program.schedule(0, days)
        self.t_out = np.arange(0.0, days * 1440.0 + 0.5, output_step_min)
        self.tolerances = default_tolerances()
        self.names = STATE_NAMES
        self.integrator = organ_integrator()


@pytest.fixture(scope="session")
def one_day():
    """One day with outputs every minute."""
    return Workload(days=1, output_step_min=1.0)


@pytest.fixture(scope="session")
def one_year():
    """A year with outputs every 5 minutes (what a progression run stores per chunk)."""
    return Workload(days=365, output_step_min=5.0)
