"""The state and flux tables: their rules are enforced, and their metadata is true of the model."""

import dataclasses

import numpy as np
import pytest

from glucosim.physiology.indices import (
    FIRST_QUADRATURE,
    N_DRIVERS,
    N_STATES,
    QUADRATURES,
    SLOW_STATES,
    STATE_TABLE,
    Drv,
    Flux,
    Par,
    St,
    StateKind,
    StateTableError,
    check_state_table,
    dynamic,
    quadrature,
)
from glucosim.simulation.organ import organ_fluxes, organ_rhs  # disk-cached: no recompiling in each test worker


def test_a_dynamic_state_after_the_quadratures_is_refused_with_its_name():
    table = STATE_TABLE + (dynamic("late_state_mg_kg", "mg/kg", 1e-5, "added in the wrong place"),)
    with pytest.raises(StateTableError, match=r"late_state_mg_kg.*after the running integral 'cum_liver_output"):
        check_state_table(table)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (dynamic("glucose_plasma_mg_kg", "mg/kg", 1e-5, "twice"), "declared twice"),
        (dynamic("no_unit", "", 1e-5, "x"), "unit is empty"),
        (dynamic("zero_atol", "1", 0.0, "x"), "atol must be a positive number"),
        (dynamic("nan_atol", "1", float("nan"), "x"), "atol must be a positive number"),
        (dynamic("not-an-identifier", "1", 1e-5, "x"), "identifier"),
    ],
)
def test_malformed_rows_are_refused(row, message):
    with pytest.raises(StateTableError, match=message):
        check_state_table((row,) + STATE_TABLE)


def test_a_slow_running_integral_is_refused():
    row = dataclasses.replace(quadrature("cum_x", "1", "x"), slow=True)
    with pytest.raises(StateTableError, match="cannot be slow"):
        check_state_table(STATE_TABLE + (row,))


def test_quadrature_boundary_is_the_first_running_integral():
    kinds = [spec.kind for spec in STATE_TABLE]
    assert kinds[:FIRST_QUADRATURE] == [StateKind.DYNAMIC] * FIRST_QUADRATURE
    assert kinds[FIRST_QUADRATURE:] == [StateKind.QUADRATURE] * (N_STATES - FIRST_QUADRATURE)
    assert QUADRATURES == slice(FIRST_QUADRATURE, N_STATES)
    assert check_state_table(STATE_TABLE[:FIRST_QUADRATURE]) == FIRST_QUADRATURE  # no quadrature: all controlled


@pytest.fixture
def perturbed_state(parameters):
    """A fed, exercising, drifting state away from every equilibrium, so every derivative can be non-zero."""
    p = parameters
    y = np.zeros(N_STATES)
    y[St.stomach_solid_mg_kg], y[St.stomach_liquid_mg_kg], y[St.gut_mg_kg] = 300.0, 100.0, 200.0
    y[St.stomach_fat_mg_kg], y[St.stomach_protein_mg_kg], y[St.stomach_speed_carb_mg_kg] = 40.0, 60.0, 400.0
    y[St.gut_fat_mg_kg], y[St.gut_protein_mg_kg], y[St.gut_speed_carb_mg_kg] = 20.0, 30.0, 200.0
    y[St.stomach_emptied_mg_kg] = 200.0  # D = 600
    y[St.glucose_plasma_mg_kg] = 220.0 * p[Par.glucose_distribution_volume]
    y[St.glucose_tissue_mg_kg] = 150.0
    y[St.insulin_plasma_pmol_kg] = 200.0 * p[Par.insulin_distribution_volume]
    y[St.insulin_liver_pmol_kg] = 10.0
    y[St.insulin_liver_delay1_pmol_l], y[St.insulin_liver_delayed_pmol_l], y[St.insulin_remote_pmol_l] = 150, 90, 60
    y[St.secretion_second_phase_pmol_kg_min] = 5.0
    y[St.secretion_second_phase_slow_pmol_kg_min] = 2.0
    y[St.insulin_portal_pmol_kg] = 6.0
    y[St.nefa_mmol_l] = 0.4
    y[St.exercise_vo2_pct] = 30.0
    y[St.glucose_mean_mg_dl] = 140.0
    y[St.insulin_mean_pmol_l] = 120.0
    y[St.beta_mass_rel], y[St.beta_function_rel] = 1.1, 0.9
    y[St.beta_setpoint_adaptation_mg_dl] = 10.0  # a held rise, released below the reserve's cap
    y[St.weight_change_kg] = 1.0
    drv = np.zeros(N_DRIVERS)
    drv[Drv.exercise_intensity_pct] = 50.0
    drv[Drv.cortisol_rel] = 1.0
    drv[Drv.drift_liver_per_day] = drv[Drv.drift_muscle_per_day] = drv[Drv.drift_adipose_per_day] = -1e-3
    drv[Drv.drift_reserve_per_day] = -1e-4
    drv[Drv.energy_surplus_kcal_day] = 300.0
    return y, drv, p


def _rhs(y, drv, p, slow_on):
    drv = drv.copy()
    drv[Drv.slow_dynamics_on] = slow_on
    dydt = np.full(N_STATES, np.nan)
    organ_rhs()(0.0, y, drv, p, dydt)
    return dydt


def test_slow_flag_marks_exactly_the_states_frozen_by_slow_dynamics_off(perturbed_state):
    """``slow`` is what SBML export and clinic tests rely on: it must match the model's own freezing."""
    y, drv, p = perturbed_state
    on, off = _rhs(y, drv, p, 1.0), _rhs(y, drv, p, 0.0)
    assert np.all(np.isfinite(on)), "rhs left a state's derivative unwritten"
    frozen = {spec.name for spec in STATE_TABLE[:FIRST_QUADRATURE] if off[St[spec.name]] == 0.0 != on[St[spec.name]]}
    assert frozen == set(SLOW_STATES)
    fast = [St[spec.name] for spec in STATE_TABLE if not spec.slow]
    np.testing.assert_array_equal(on[fast], off[fast])  # the flag changes nothing else


QUADRATURE_OF_FLUX = {
    St.cum_liver_output_mg_kg: Flux.liver_output_mg_kg_min,
    St.cum_gut_appearance_mg_kg: Flux.gut_appearance_mg_kg_min,
    St.cum_muscle_uptake_mg_kg: Flux.muscle_uptake_mg_kg_min,
    St.cum_adipose_uptake_mg_kg: Flux.adipose_uptake_mg_kg_min,
    St.cum_brain_uptake_mg_kg: Flux.brain_uptake_mg_kg_min,
    St.cum_splanchnic_uptake_mg_kg: Flux.splanchnic_uptake_mg_kg_min,
    St.cum_renal_excretion_mg_kg: Flux.renal_excretion_mg_kg_min,
    St.cum_glucose_mg_dl_min: Flux.glucose_mg_dl,
    St.cum_insulin_pmol_l_min: Flux.insulin_pmol_l,
    St.cum_secretion_pmol_kg: Flux.secretion_pmol_kg_min,
}


def test_each_running_integral_integrates_its_flux_column(perturbed_state):
    """Every quadrature's derivative is the flux column of the same name: the two tables agree."""
    y, drv, p = perturbed_state
    dydt = _rhs(y, drv, p, 1.0)
    drv_on = drv.copy()
    drv_on[Drv.slow_dynamics_on] = 1.0
    fluxes = organ_fluxes()(y[None, :], drv_on[None, :], p)[0]
    assert set(QUADRATURE_OF_FLUX) == set(range(FIRST_QUADRATURE, N_STATES))
    for state, flux in QUADRATURE_OF_FLUX.items():
        assert dydt[state] == fluxes[flux], (state.name, flux.name)
        assert dydt[state] != 0.0, state.name  # the perturbed state exercises every flux
    assert fluxes[Flux.glucose_mg_dl] == pytest.approx(220.0)
    assert fluxes[Flux.insulin_pmol_l] == pytest.approx(200.0)


def test_docs_state_table_is_current():
    """docs/states.md is generated from the tables, so the documented states cannot drift from the model's."""
    from pathlib import Path

    from glucosim.physiology.indices import tables_markdown

    path = Path(__file__).resolve().parent.parent / "docs" / "states.md"
    assert path.read_text() == tables_markdown(), (
        "docs/states.md is out of date: python -m glucosim.physiology.indices > docs/states.md"
    )
