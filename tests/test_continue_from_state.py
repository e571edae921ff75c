"""simulation.run.continue_from_state: a run continued from a state, under the same or other parameters."""

import numpy as np
import pytest

import glucosim
from glucosim._toml import load_toml
from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH
from glucosim.physiology.indices import QUADRATURES, STATE_NAMES
from glucosim.scenario.load import parse_scenario
from glucosim.simulation.run import continue_from_state


def _healthy(days: int, **parameters):
    routine = load_toml(REFERENCE_ROUTINE_PATH)
    routine.pop("duration_days", None)
    data = {"name": "t", "duration_days": days, "routine": routine}
    if parameters:
        data["subject"] = {"preset": "healthy", "parameters": parameters}
    return parse_scenario(data, "<test>")


def test_continuing_a_run_from_its_own_state_gives_the_runs_later_state():
    loaded = _healthy(4)
    run = glucosim.simulate(loaded, progress=False, state_days=(1, 3), resolution="full")
    continued = continue_from_state(loaded, run.midnight_states[1], 2, first_day=1)
    # the same days from the same state: only the first step size differs from the run's, so the steps fall
    # elsewhere and the two agree to about the integrator's tolerance (DEFAULT_RTOL 1e-6 per step; 1.05e-6 measured
    # on one state), not to rounding. The quadratures, the day's running sums, start again at 0 in every stretch
    # integrated and are left out
    dynamic = np.ones(len(STATE_NAMES), dtype=bool)
    dynamic[QUADRATURES] = False
    np.testing.assert_allclose(continued[dynamic], run.midnight_states[3][dynamic], rtol=1e-5, atol=1e-9)


def test_a_lower_sensitivity_from_an_adapted_state_raises_glucose_before_the_beta_cells_catch_up():
    before = _healthy(4)
    lower = _healthy(4, insulin_sensitivity_whole_body=0.5)
    start = glucosim.simulate(before, progress=False, until_day=1, state_days=(0,)).midnight_states[0]
    after = continue_from_state(lower, start, 3)
    adapted = glucosim.simulate(lower, progress=False, state_days=(3,), resolution="full").midnight_states[3]
    glucose = STATE_NAMES.index("glucose_plasma_mg_kg")
    # started adapted to the lower sensitivity, the run holds glucose near where it was; stepped into it, it rises
    assert after[glucose] > 1.05 * adapted[glucose]
    assert after[glucose] > 1.05 * start[glucose]


@pytest.mark.parametrize(
    ("n_days", "first_day", "length", "message"),
    [
        (0, 0, None, "n_days must be at least 1"),
        (2, 3, None, "not within the scenario's 4"),
        (1, -1, None, "first_day must be 0 or later"),
        (1, 0, 3, "state has 3 entries"),
    ],
)
def test_bad_arguments_are_refused(n_days, first_day, length, message):
    state = np.zeros(len(STATE_NAMES) if length is None else length)
    with pytest.raises(ValueError, match=message):
        continue_from_state(_healthy(4), state, n_days, first_day=first_day)
