"""The drift of the beta cells' reserve (routine.drift.beta_reserve_per_year; physiology/beta_cells.reserve_caps).

It lowers the caps of function and mass whatever the glucose, so it changes cells that work at their reserve and
leaves cells working below it alone; the course's UKPDS protocol keeps it through diet therapy, where it stops the
drift of sensitivity; a decline the model cannot represent is refused.
"""

from __future__ import annotations

import math

import pytest

import glucosim
from glucosim.errors import ScenarioError
from glucosim.physiology.indices import Par

YEARS = 4
MEALS = [{"time_h": 7.5, "carbs_g": 60}, {"time_h": 12.5, "carbs_g": 80}, {"time_h": 19.0, "carbs_g": 80}]


def _run(preset: str, reserve_per_year: float, whole_body_per_year: float = 0.0):
    scenario = {
        "name": f"{preset}, reserve {reserve_per_year:+g}/year",
        "duration_years": YEARS,
        "subject": {"preset": preset},
        "routine": {
            "meals": MEALS,
            "drift": {"whole_body_per_year": whole_body_per_year, "beta_reserve_per_year": reserve_per_year},
        },
    }
    return glucosim.simulate(scenario, progress=False, resolution="envelope")


def test_cells_at_their_reserve_lose_function_with_it_and_glucose_rises():
    """Scenario 03's subject works at its low reserve (1.3) from the start: a 5 %-a-year drift of the reserve takes
    its function down with the cap (1.3 x 0.95^4 = 1.06), and fasting glucose up, against the same years without."""
    held = _run("insulin_resistant_low_reserve", 0.0, -0.035)
    drifting = _run("insulin_resistant_low_reserve", -0.05, -0.035)
    cap = held.loaded.parameters[Par.beta_function_max] * 0.95**YEARS
    function = drifting.final_state_dict()["beta_function_rel"]
    assert held.final_state_dict()["beta_function_rel"] > 1.25  # at its reserve without the drift
    assert function == pytest.approx(cap, rel=0.03)
    assert drifting.final_state_dict()["drift_log_reserve"] == pytest.approx(YEARS * math.log(0.95), rel=1e-3)
    last_month = slice(-30, None)
    fasting = [run.daily["fasting_glucose_mg_dl"].iloc[last_month].mean() for run in (held, drifting)]
    assert fasting[1] - fasting[0] > 5.0  # mg/dl (99.1 -> 105.6 on 2026-12-07)


def test_cells_working_below_their_reserve_do_not_feel_its_drift():
    """A healthy subject's function (~1) works far below its reserve (4): four years of the same drift bring the cap
    to 3.3, still far above it, and change neither function nor fasting glucose."""
    held = _run("healthy", 0.0)
    drifting = _run("healthy", -0.05)
    assert drifting.final_state_dict()["beta_function_rel"] == pytest.approx(
        held.final_state_dict()["beta_function_rel"], rel=1e-3
    )
    assert drifting.daily["fasting_glucose_mg_dl"].iloc[-1] == pytest.approx(
        held.daily["fasting_glucose_mg_dl"].iloc[-1], abs=0.05
    )


def test_the_ukpds_diet_stops_the_drift_of_sensitivity_but_not_of_the_reserve():
    """UKPDS 16 found beta-cell function falling on every therapy: the course's diet-therapy protocol holds sensitivity
    and keeps the reserve's drift in force on the day it starts (calibration.course.diet_therapy_scenario)."""
    from glucosim.calibration.course import diet_therapy_scenario

    routine = {"meals": MEALS, "drift": {"whole_body_per_year": -0.03, "beta_reserve_per_year": -0.04}}
    subject = {"preset": "insulin_resistant_low_reserve"}
    steady = {"name": "drifting reserve", "duration_years": 2, "subject": subject, "routine": routine}
    faster = steady | {"changes": [{"from_year": 1, "label": "faster", "drift": {"beta_reserve_per_year": -0.06}}]}
    for scenario, from_day, reserve in ((steady, 100, -0.04), (faster, 400, -0.06)):
        loaded = glucosim.load_scenario(scenario)
        changes = diet_therapy_scenario(loaded, from_day).scenario.changes
        run_in = next(change for change in changes if change.start_day == from_day)
        assert run_in.drift.whole_body_per_year == 0.0
        assert run_in.drift.beta_reserve_per_year == reserve


@pytest.mark.parametrize(
    ("reserve_per_year", "years", "named"),
    [
        (0.01, 2, ("routine.drift.beta_reserve_per_year", "less than or equal to 0")),
        # 1.3 x 0.9^10 = 0.45, below the function's floor (0.5)
        (-0.1, 10, ("beta_reserve_per_year", "beta_function_max", "beta_function_floor", "0.5")),
    ],
)
def test_a_reserve_drift_the_model_cannot_represent_is_refused_by_name(tmp_path, reserve_per_year, years, named):
    path = tmp_path / "reserve.toml"
    path.write_text(
        f'name = "reserve"\nduration_years = {years}\n[subject]\npreset = "insulin_resistant_low_reserve"\n'
        f"[routine.drift]\nbeta_reserve_per_year = {reserve_per_year}\n"
    )
    with pytest.raises(ScenarioError) as error:
        glucosim.load_scenario(path)
    message = str(error.value)
    assert "reserve.toml" in message
    for text in named:
        assert text in message
