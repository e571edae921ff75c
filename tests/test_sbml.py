"""SBML export: valid SBML L3 whose libroadrunner run agrees with glucosim's own core."""

import numpy as np
import pytest

from glucosim.clinic.runner import morning_test_state, subject_scenario
from glucosim.io import sbml
from glucosim.physiology.indices import STATE_NAMES, Drv, Par, St
from glucosim.simulation.organ import organ_integrator
from glucosim.solver.segments import Schedule, Tolerances, integrate_schedule

libsbml = pytest.importorskip("libsbml")
roadrunner = pytest.importorskip("roadrunner")

OGTT_GLUCOSE_G = 75.0
MINUTES = np.arange(0.0, 181.0, 5.0)


def test_every_fast_state_has_a_rate_and_none_is_frozen_twice():
    assert set(sbml.RATES) == set(sbml.FAST_STATES)
    assert not set(sbml.FAST_STATES) & set(sbml.FROZEN_STATES)


# the second subject repeats the ~35 s round trip: full suite only (quick tier keeps the healthy one)
@pytest.mark.parametrize("subject", ["healthy", pytest.param("insulin_resistant_low_reserve", marks=pytest.mark.slow)])
def test_exported_ogtt_round_trips_through_roadrunner(tmp_path, subject):
    loaded = subject_scenario(subject)
    p = loaded.parameters
    y, drivers, _ = morning_test_state(loaded)
    dose = OGTT_GLUCOSE_G * 1000.0 / p[Par.body_weight]
    y[St.stomach_solid_mg_kg] += dose
    drivers = drivers.copy()
    drivers[Drv.meal_dose_mg_kg] = dose
    drivers[Drv.absorption_speed] = p[Par.absorption_speed_fast]
    drivers[Drv.exercise_intensity_pct] = 30.0  # exercise the exercise terms too

    path = sbml.write_sbml(tmp_path / "ogtt.xml", y, p, drivers)
    document = libsbml.readSBMLFromFile(str(path))
    assert document.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    assert (document.getLevel(), document.getVersion()) == (3, 2)

    runner = roadrunner.RoadRunner(str(path))
    runner.integrator.relative_tolerance = 1e-12
    runner.integrator.absolute_tolerance = 1e-14
    columns = list(sbml.FAST_STATES)
    runner.timeCourseSelections = ["time"] + columns
    theirs = runner.simulate(0.0, float(MINUTES[-1]), len(MINUTES))

    schedule = Schedule(np.array([0.0]), np.array([MINUTES[-1]]), drivers[None, :], np.zeros((1, len(y))))
    tight = Tolerances(rtol=1e-10, atol=np.full(len(y), 1e-12), n_controlled=int(St.cum_liver_output_mg_kg))
    ours = integrate_schedule(organ_integrator(), schedule, y, p, MINUTES, tight, STATE_NAMES)
    for k, name in enumerate(columns, start=1):
        reference = ours.y[:, St[name]]
        scale = max(np.max(np.abs(reference)), 1e-9)
        error = np.max(np.abs(np.asarray(theirs[:, k]) - reference)) / scale
        assert error < 1e-4, f"{name}: {error:.2e}"
    glucose = ours.y[:, St.glucose_plasma_mg_kg] / p[Par.glucose_distribution_volume]
    assert glucose.max() > glucose[0] + 40.0  # it was a real OGTT


def test_every_state_is_exported_or_deliberately_excluded(tmp_path):
    """From the state table: dynamic fast states get a rate rule, slow ones are the frozen constants, and the
    running integrals (output bookkeeping, zeroed every chunk) are left out; a new state fails here until the
    export handles it."""
    from glucosim.physiology.indices import FIRST_QUADRATURE, SLOW_STATES, STATE_TABLE, StateKind

    dynamic = {spec.name for spec in STATE_TABLE if spec.kind == StateKind.DYNAMIC}
    assert dynamic == set(STATE_NAMES[:FIRST_QUADRATURE])
    assert set(sbml.FROZEN_STATES) == set(SLOW_STATES)
    assert set(sbml.FAST_STATES) == dynamic - set(SLOW_STATES)
    loaded = subject_scenario("healthy")
    y, drivers, _ = morning_test_state(loaded)
    document = libsbml.readSBMLFromFile(str(sbml.write_sbml(tmp_path / "m.xml", y, loaded.parameters, drivers)))
    model = document.getModel()
    ruled = {model.getRule(i).getVariable() for i in range(model.getNumRules()) if model.getRule(i).isRate()}
    assert ruled == set(sbml.FAST_STATES)
    for name in sbml.FROZEN_STATES:
        assert model.getParameter(name) is not None and model.getParameter(name).getConstant(), name
    quadratures = [spec.name for spec in STATE_TABLE if spec.kind != StateKind.DYNAMIC]
    assert quadratures and not any(model.getParameter(name) or model.getSpecies(name) for name in quadratures)


# A scenario whose steps differ from the subject's habitual ones (steps_reference): the energy balance's step term
# and the activity sensitivity both act.
STEPS_SCENARIO = {"name": "fewer steps", "duration_days": 2, "subject": {"preset": "healthy"}}
SLOW_STATE_PERTURBATION = {
    # away from the start so every term of the energy balance and of liver fat is non-zero
    "weight_change_kg": 3.0,
    "fat_mass_change_kg": 2.0,
    "body_glycogen_change_kg": 0.1,
    "extracellular_fluid_change_kg": -0.3,
    "adaptive_thermogenesis_kcal_day": 60.0,
    "liver_fat_pct": 9.0,
    "training_level": 0.05,
    "exercise_vo2_pct": 30.0,
}


# ~30 s each (roadrunner compiles the whole model): the quick tier keeps the one below the habitual steps
@pytest.mark.parametrize("daily_steps", [2500.0, pytest.param(12000.0, marks=pytest.mark.slow)])
def test_slow_rates_of_the_whole_model_equal_the_core_term_by_term(daily_steps):
    """Every slow state's rate in the whole-model export equals glucosim's rhs at one state (daily steps away from
    the reference: the export once left the step term out of the energy balance)."""
    import glucosim
    from glucosim.physiology.indices import N_STATES
    from glucosim.physiology.model import rhs
    from glucosim.scenario.compile import ScenarioProgram
    from glucosim.simulation.initial_state import last_meal

    loaded = glucosim.load_scenario({**STEPS_SCENARIO, "routine": {"daily_steps": daily_steps}})
    document, y0 = sbml.build_scenario_document(loaded, 1)
    model = document.getModel()
    y = y0.copy()
    for name, value in SLOW_STATE_PERTURBATION.items():
        y[St[name]] = value
        model.getParameter(name).setValue(value)
    runner = roadrunner.RoadRunner(libsbml.writeSBMLToString(document))
    theirs = np.array([runner[f"{name}'"] for name in sbml.FROZEN_STATES])

    program = ScenarioProgram(loaded)
    dose, speed = last_meal(program.day_plan(0))
    drivers = program.schedule(0, 1, last_dose=dose, last_speed=speed)[0].drivers[0]
    assert drivers[Drv.daily_steps] == daily_steps != loaded.parameters[Par.steps_reference]
    dydt = np.zeros(N_STATES)
    rhs(0.0, y, drivers, loaded.parameters, dydt)
    ours = np.array([dydt[St[name]] for name in sbml.FROZEN_STATES])
    error = np.abs(theirs - ours) / (np.abs(ours) + 1e-15)
    worst = int(np.argmax(error))
    assert error.max() < 1e-9, f"{sbml.FROZEN_STATES[worst]}: SBML {theirs[worst]:.12g}, glucosim {ours[worst]:.12g}"

    # the steps do move the body: at the reference steps the core's weight rate differs by more than the check
    habitual = drivers.copy()
    habitual[Drv.daily_steps] = loaded.parameters[Par.steps_reference]
    rhs(0.0, y, habitual, loaded.parameters, dydt)
    assert abs(dydt[St.weight_change_kg] - ours[sbml.FROZEN_STATES.index("weight_change_kg")]) > 1e-3 * abs(
        dydt[St.weight_change_kg]
    )


THIRTY_DAYS = {
    "name": "30 days for SBML",
    "duration_days": 30,
    "subject": {"preset": "insulin_resistant_low_reserve"},
    "routine": {
        "sleep_h": 7.0,
        # the dinner's fat and protein exercise the emptying cap, the duodenal fat brake and protein's potentiation
        "meals": [
            {"time_h": 7.5, "carbs_g": 60},
            {"time_h": 12.5, "carbs_g": 80},
            {"time_h": 19.0, "carbs_g": 80, "fat_g": 30, "protein_g": 35},
        ],
        "exercise": [{"start_h": 17.0, "duration_min": 45, "intensity_pct_vo2max": 60, "weekdays": [1, 3, 5]}],
        "energy_surplus_kcal_per_day": 300,
        "drift": {"whole_body_per_year": -0.3},
        # below the habitual 7,000 (steps_reference): the step term of the energy balance and activity sensitivity
        "daily_steps": 3000,
    },
    "changes": [{"from_day": 10, "sleep_h": 5.0, "label": "short sleep"}],
}


@pytest.mark.slow
def test_whole_model_over_30_days_matches_glucosim_in_roadrunner(tmp_path):
    """Slow states included; meals, exercise sessions, a sleep change, drift, an energy surplus and fewer daily steps
    than the habitual ones as events."""
    import glucosim
    from glucosim.physiology.indices import FIRST_QUADRATURE, STATE_ATOL
    from glucosim.simulation.run import simulate

    loaded = glucosim.load_scenario(THIRTY_DAYS)
    ours = simulate(loaded, resolution="full", state_days=tuple(range(31)), progress=False)
    path = sbml.write_scenario_sbml(tmp_path / "thirty_days.xml", loaded, 30)
    runner = roadrunner.RoadRunner(str(path))
    runner.integrator.relative_tolerance = 1e-6
    runner.integrator.absolute_tolerance = 1e-9
    names = list(STATE_NAMES[:FIRST_QUADRATURE])
    result = runner.simulate(times=np.arange(0.0, 30 * 1440.0 + 1.0, 1440.0), selections=names)
    theirs = np.array(result.tolist(), dtype=float)  # a plain array (roadrunner returns a NamedArray)
    ours_midnights = np.array([ours.midnight_states[day][:FIRST_QUADRATURE] for day in range(31)])
    # the slow states did move: this is not the fast model with frozen ones
    moved = [
        St.beta_function_rel,
        St.weight_change_kg,
        St.training_level,
        St.drift_log_muscle,
        St.liver_fat_pct,
        St.activity_sensitivity_rel,
    ]
    assert np.all(np.abs(ours_midnights[-1, moved] - ours_midnights[0, moved]) > 1e-4)
    # 1e-3 relative; absolute floor: the solver's own absolute tolerance of each state, x 1000 like rtol 1e-6 -> 1e-3
    atol = 1e3 * np.array(STATE_ATOL[:FIRST_QUADRATURE])
    excess = np.abs(theirs - ours_midnights) / (atol + 1e-3 * np.abs(ours_midnights))
    worst = np.unravel_index(np.argmax(excess), excess.shape)
    assert excess.max() <= 1.0, (
        f"{names[worst[1]]} on day {worst[0]}: roadrunner {theirs[worst]:.9g}, glucosim {ours_midnights[worst]:.9g}"
    )
