"""The right-hand side computes shared quantities once and passes them down (issue 12): it must write exactly what
the kernels that define those quantities give when each computes them for itself."""

import numpy as np
import pytest

from glucosim.physiology import beta_cells, body, ectopic_fat, kidney
from glucosim.physiology._jit import power
from glucosim.physiology.indices import N_STATES, Drv, Flux, Par, St
from glucosim.scenario.compile import ScenarioProgram
from glucosim.scenario.load import parse_scenario
from glucosim.simulation.initial_state import initial_state
from glucosim.simulation.organ import organ_fluxes, organ_rhs

BODY_STATES = (
    St.fat_mass_change_kg,
    St.body_glycogen_change_kg,
    St.extracellular_fluid_change_kg,
    St.weight_change_kg,
    St.adaptive_thermogenesis_kcal_day,
)


@pytest.fixture(scope="module")
def cases():
    """(y, drv, p) of an insulin-resistant subject at its start and in states where every shared term is active:
    glucose above the renal threshold (glucosuria), an energy deficit with liver fat above the reference (the
    outflow's ketogenic term), a surplus, mean glucose above the set point (beta-cell growth capped by its reserve),
    slow dynamics on and frozen."""
    loaded = parse_scenario(
        {
            "name": "shared quantities",
            "duration_days": 2,
            "subject": {"preset": "insulin_resistant"},
            "routine": {"meals": [{"time_h": 8.0, "carbs_g": 70}]},
        },
        "<test>",
    )
    program = ScenarioProgram(loaded)
    p = program.parameters
    y0 = initial_state(program)
    schedule = program.schedule(0, 1)
    out = []
    for drv0 in schedule.drivers[:3]:
        for slow_on in (1.0, 0.0):
            drv = drv0.copy()
            drv[Drv.slow_dynamics_on] = slow_on
            out.append((y0.copy(), drv, p))
            high = y0.copy()
            high[St.glucose_plasma_mg_kg] = 380.0 * p[Par.glucose_distribution_volume]
            high[St.glucose_mean_mg_dl] = 140.0
            high[St.beta_function_rel] = 0.97 * p[Par.beta_function_max]
            high[St.liver_fat_pct] = 3.0 * p[Par.liver_fat_reference]
            high[St.fat_mass_change_kg] = -3.0
            high[St.weight_change_kg] = -4.0
            dieting = drv.copy()
            dieting[Drv.food_energy_kcal_day] = 0.5 * body.balance_intake_kcal_day(p)
            out.append((high, dieting, p))
            feasting = drv.copy()
            feasting[Drv.energy_surplus_kcal_day] = 800.0
            out.append((high, feasting, p))
    return out


def test_rhs_writes_what_the_body_and_liver_fat_kernels_give_on_their_own(cases):
    rhs = organ_rhs()
    for y, drv, p in cases:
        dydt = np.zeros(N_STATES)
        rhs(0.0, y, drv, p, dydt)
        slow_on = drv[Drv.slow_dynamics_on]
        alone = np.zeros(N_STATES)
        body.body_derivatives(y, drv, p, slow_on, alone)
        ectopic_fat.liver_fat_derivative(y, drv, p, slow_on, alone)
        beta_cells.beta_slow_derivatives(y, p, slow_on, alone)
        for state in (*BODY_STATES, St.liver_fat_pct, St.beta_function_rel, St.beta_mass_rel):
            assert dydt[state] == alone[state], f"{state.name}: rhs {dydt[state]!r}, its kernel {alone[state]!r}"
        renal = kidney.renal_excretion(y, p)
        assert dydt[St.cum_renal_excretion_mg_kg] == renal
        assert body.energy_imbalance_from_excretion(y, drv, p, renal) == body.energy_imbalance_kcal_day(y, drv, p)


def test_the_cases_exercise_the_shared_terms(cases):
    """Guards the test above: glucosuria, a deficit that drives the liver's fat oxidation, and slow rates that move."""
    rhs = organ_rhs()
    dieting_y, dieting_drv, p = cases[1]
    assert dieting_drv[Drv.slow_dynamics_on] == 1.0
    assert kidney.renal_excretion(dieting_y, p) > 0.01  # mg/kg/min: well above the trace of normal urine
    imbalance = body.energy_imbalance_kcal_day(dieting_y, dieting_drv, p)
    assert imbalance < -500.0
    with_deficit = ectopic_fat.liver_fat_outflow_from_imbalance(dieting_y, p, imbalance)
    assert with_deficit > ectopic_fat.liver_fat_outflow_from_imbalance(dieting_y, p, 0.0)
    dydt = np.zeros(N_STATES)
    rhs(0.0, dieting_y, dieting_drv, p, dydt)
    assert dydt[St.fat_mass_change_kg] < 0.0 and dydt[St.liver_fat_pct] < 0.0 and dydt[St.beta_function_rel] != 0.0
    frozen_y, frozen_drv, _ = cases[4]
    assert frozen_drv[Drv.slow_dynamics_on] == 0.0
    rhs(0.0, frozen_y, frozen_drv, p, dydt)
    assert all(dydt[state] == 0.0 for state in (*BODY_STATES, St.liver_fat_pct, St.beta_mass_rel))


def test_evaluate_fluxes_renal_excretion_is_the_kidney_kernel(cases):
    y = np.array([case[0] for case in cases])
    drv = np.array([case[1] for case in cases])
    p = cases[0][2]
    fluxes = organ_fluxes()(y, drv, p)
    for row in range(len(cases)):
        assert fluxes[row, Flux.renal_excretion_mg_kg_min] == kidney.renal_excretion(y[row], p)


@pytest.mark.parametrize("drive", [-0.3, 0.0, 0.2, float("nan")])
@pytest.mark.parametrize("level", [-0.1, 0.0, 0.5, 1.39, 1.4, 1.6])
def test_beta_cell_saturation_shared_by_growth_and_workload(drive, level):
    """beta_slow_derivatives computes (function / reserve) ** sharpness once for the growth cap and the workload."""
    reserve, sharpness = 1.4, 8.0
    saturation = power(level / reserve, sharpness)
    np.testing.assert_equal(
        beta_cells.capped_growth_at(drive, saturation), beta_cells.capped_growth(drive, level, reserve, sharpness)
    )
    assert beta_cells.capacity_in_use_at(level, reserve, saturation) == beta_cells.capacity_in_use(
        level, reserve, sharpness
    )
    assert beta_cells.capacity_in_use_at(level, 0.0, saturation) == 0.0  # no reserve: no workload
