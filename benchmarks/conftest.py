"""Workloads shared by the benchmarks: the organ model on a reference day, a year, and an ensemble of patients."""

import numpy as np
import pytest

from glucosim.physiology.indices import STATE_NAMES
from glucosim.scenario.compile import ScenarioProgram
from glucosim.scenario.load import parse_scenario
from glucosim.simulation.initial_state import initial_state
from glucosim.simulation.organ import default_tolerances, organ_integrator

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

MINUTES_PER_DAY = 1440.0
ENSEMBLE_SENSITIVITY_RANGE = (0.5, 1.5)
"""Ensemble patients' whole-body insulin sensitivity, as multiples of the preset's (evenly spread)."""


class Workload:
    """A schedule, its starting state and parameters, ready to integrate."""

    def __init__(self, days: int, output_step_min: float):
        loaded = parse_scenario(REFERENCE_DAY, "benchmark")
        program = ScenarioProgram(loaded)
        self.params = program.parameters
        self.y0 = initial_state(program)
        self.schedule = program.schedule(0, days)
        self.t_out = np.arange(0.0, days * MINUTES_PER_DAY + 0.5, output_step_min)
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


class Ensemble(Workload):
    """``n_patients`` copies of the workload whose insulin sensitivities differ (rows of y0 and params)."""

    def __init__(self, n_patients: int, days: int, output_step_min: float = MINUTES_PER_DAY):
        from glucosim.physiology.indices import Par

        super().__init__(days, output_step_min)
        self.n_patients = n_patients
        self.days = days
        self.y0 = np.tile(self.y0, (n_patients, 1))
        self.params = np.tile(self.params, (n_patients, 1))
        self.params[:, Par.insulin_sensitivity_whole_body] *= np.linspace(*ENSEMBLE_SENSITIVITY_RANGE, n_patients)


@pytest.fixture(scope="session")
def one_year_daily():
    """A year with daily outputs (what a progression keeps)."""
    return Workload(days=365, output_step_min=MINUTES_PER_DAY)


@pytest.fixture(scope="session")
def ensemble():
    """Eight patients for 30 days with daily outputs (issue 6's 10,000 x 1 year, scaled down to fit a benchmark run)."""
    return Ensemble(n_patients=8, days=30)
