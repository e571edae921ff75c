"""Whole-run properties: mass balance, determinism, chunk invariance, starting state, short runs."""

import numpy as np
import pytest

import glucosim
from glucosim.errors import SolverError
from glucosim.physiology.indices import Par, St
from glucosim.scenario.compile import ScenarioProgram
from glucosim.simulation.initial_state import initial_state
from glucosim.validation.cases import GLUCOSE_USE_TISSUES
from tests.conftest import THREE_MEALS


def test_day_of_glucose_mass_balance_closes(make_scenario):
    loaded = make_scenario(
        routine={"meals": THREE_MEALS, "exercise": [{"start_h": 17, "duration_min": 40, "intensity_pct_vo2max": 60}]}
    )
    result = glucosim.simulate(loaded, progress=False)
    day = result.daily.iloc[0]
    start, end = result.initial_state, result.final_state
    body_change = (end[St.glucose_plasma_mg_kg] + end[St.glucose_tissue_mg_kg]) - (
        start[St.glucose_plasma_mg_kg] + start[St.glucose_tissue_mg_kg]
    )
    inflow = day["liver_output_mg_kg_day"] + day["gut_appearance_mg_kg_day"]
    outflow = (
        day["muscle_uptake_mg_kg_day"]
        + day["adipose_uptake_mg_kg_day"]
        + day["brain_uptake_mg_kg_day"]
        + day["splanchnic_uptake_mg_kg_day"]
        + day["renal_excretion_mg_kg_day"]
    )
    assert abs(inflow - outflow - body_change) < 0.01 * inflow

    p = loaded.parameters
    eaten = sum(meal["carbs_g"] for meal in THREE_MEALS) * 1000.0 / p[Par.body_weight]
    gut_states = (St.stomach_solid_mg_kg, St.stomach_liquid_mg_kg, St.gut_mg_kg)
    gut_change = sum(end[s] - start[s] for s in gut_states)
    absorbed = day["gut_appearance_mg_kg_day"] / p[Par.gut_bioavailability]
    assert abs(eaten - absorbed - gut_change) < 0.01 * eaten


def test_basal_use_near_two_mg_per_kg_min_with_brain_half(make_scenario):
    # DeFronzo 2004: basal (post-absorptive, after an overnight fast) glucose use ~2 mg/kg/min, about half of it by
    # the brain. Sampled before breakfast: since 0.2 a routine without meals is a prolonged fast (glycogen empties,
    # use falls towards ~1.4 mg/kg/min as in fasting studies), no longer the post-absorptive state.
    result = glucosim.simulate(make_scenario(routine={"meals": THREE_MEALS}), progress=False)
    day = result.trajectories[0]
    before_breakfast = day[day["clock_h"] < min(meal["time_h"] for meal in THREE_MEALS)].iloc[-1]
    # whole-body use as the validation case basal_glucose_use adds it (until 2026-12-06 this test left out the
    # splanchnic bed's uptake, ~0.3 mg/kg/min)
    use_per_min = sum(before_breakfast[f"{tissue}_uptake_mg_kg_min"] for tissue in GLUCOSE_USE_TISSUES)
    assert 1.6 < use_per_min < 2.4
    assert 0.4 < before_breakfast["brain_uptake_mg_kg_min"] / use_per_min < 0.6


def test_same_inputs_same_outputs(make_scenario):
    loaded = make_scenario(
        duration_days=40, routine={"meals": THREE_MEALS, "sleep_h": 6, "drift": {"muscle_per_year": -0.1}}
    )
    first = glucosim.simulate(loaded, progress=False)
    second = glucosim.simulate(loaded, progress=False)
    assert first.daily.equals(second.daily)
    strip = lambda summary: {k: v for k, v in summary.items() if k != "provenance"}  # noqa: E731 (timestamps differ)
    assert strip(first.summary) == strip(second.summary)


def test_chunk_size_does_not_change_results(make_scenario):
    loaded = make_scenario(duration_days=30, routine={"meals": THREE_MEALS, "drift": {"whole_body_per_year": -0.2}})
    whole = glucosim.simulate(loaded, progress=False, chunk_days=365)
    weekly = glucosim.simulate(loaded, progress=False, chunk_days=7)
    columns = [
        "fasting_glucose_mg_dl",
        "fasting_insulin_uU_ml",
        "mean_glucose_mg_dl",
        "beta_cell_function_rel",
        "muscle_uptake_mg_kg_day",
        "liver_output_mg_kg_day",
    ]
    np.testing.assert_allclose(weekly.daily[columns], whole.daily[columns], rtol=1e-6)


def test_healthy_preset_starts_adapted_at_calibrated_function(make_scenario):
    y0 = initial_state(ScenarioProgram(make_scenario()))
    assert y0[St.beta_function_rel] == pytest.approx(1.0, abs=0.02)
    assert y0[St.glucose_mean_mg_dl] == pytest.approx(105.0, abs=0.5)


def test_low_reserve_subject_starts_at_most_at_its_cap(make_scenario):
    loaded = make_scenario(subject={"preset": "insulin_resistant_low_reserve", "insulin_sensitivity_whole_body": 0.2})
    y0 = initial_state(ScenarioProgram(loaded))
    assert y0[St.beta_function_rel] == pytest.approx(loaded.parameters[Par.beta_function_max])


def test_hour_long_run(make_scenario):
    result = glucosim.simulate(make_scenario(duration_days=None, duration_hours=6.0), progress=False)
    assert len(result.daily) == 1
    assert result.final_state is not None
    assert np.isfinite(result.daily["mean_glucose_mg_dl"].iloc[0])
    assert np.isnan(result.daily["postmeal_2h_glucose_mg_dl"].iloc[0])  # breakfast + 2 h is after 06:00


def test_solver_failure_surfaces_from_simulate(make_scenario, monkeypatch):
    from glucosim.simulation import organ as kernel

    loaded = make_scenario()
    monkeypatch.setattr(
        kernel,
        "default_tolerances",
        lambda rtol=1e-6: kernel.Tolerances(
            rtol=rtol, atol=kernel.default_atol(), n_controlled=int(St.cum_liver_output_mg_kg), max_steps=5
        ),
    )
    import glucosim.simulation.initial_state as initial
    import glucosim.simulation.run as run

    monkeypatch.setattr(initial, "default_tolerances", kernel.default_tolerances)
    monkeypatch.setattr(run, "default_tolerances", kernel.default_tolerances)
    with pytest.raises(SolverError, match="too many steps at t = .*glucose_plasma_mg_kg="):
        glucosim.simulate(loaded, progress=False)


@pytest.mark.parametrize(
    "f, a, b",
    [
        (lambda x: x**3 - 2.0 * x - 5.0, 2.0, 3.0),
        (lambda x: np.cos(x) - x, 0.0, 1.0),
        (lambda x: np.exp(x) - 1e3, 0.0, 10.0),
        (lambda x: 1.0 / (1.0 + np.exp(-20.0 * (x - 0.3))) - 0.5, 0.05, 1.6),  # steep, like the start's excess
    ],
)
def test_initial_state_brentq_is_scipys(f, a, b):
    """initial_state's root finder is scipy.optimize.brentq written out (so a run does not import scipy): the same
    root to the last bit, and the same evaluations."""
    from scipy.optimize import brentq as scipy_brentq

    from glucosim.simulation.initial_state import brentq

    ours, theirs = [], []
    root = brentq(lambda x: ours.append(x) or f(x), a, b, xtol=1e-6)
    expected = scipy_brentq(lambda x: theirs.append(x) or f(x), a, b, xtol=1e-6)
    assert root == expected
    assert ours == theirs
