"""SBML export: valid SBML L3 whose libroadrunner run agrees with glucosim's own core."""

import numpy as np
import pytest

from glucosim.clinic.runner import morning_test_state, subject_scenario
from glucosim.io import sbml
from glucosim.physiology.gut import add_meal
from glucosim.physiology.indices import STATE_NAMES, Drv, Par, St
from glucosim.simulation.organ import organ_integrator
from glucosim.solver.segments import Schedule, Tolerances, integrate_schedule

libsbml = pytest.importorskip("libsbml")
roadrunner = pytest.importorskip("roadrunner")

OGTT_GLUCOSE_G = 75.0
MINUTES = np.arange(0.0, 181.0, 5.0)


@pytest.fixture(scope="module", autouse=True)
def roadrunner_lljit():
    """Compile with roadrunner's LLJIT backend, unoptimised, for this module's tests; restore the settings after.

    Roadrunner compiles a model to machine code on loading it; with its default backend (MCJIT) this is most of every
    roadrunner test here: ~15 s of CPU for the whole-model export, against ~3.5 s with LLJIT at optimisation level
    NONE (measured 2026-12-03). The backend only changes how roadrunner turns the same SBML into code: the documents,
    the simulations and every tolerance below are unchanged, and the rates it reports agreed to the last digit."""
    from roadrunner import Config

    keys = (Config.LLVM_BACKEND, Config.LLJIT_OPTIMIZATION_LEVEL)
    saved = [Config.getValue(key) for key in keys]
    Config.setValue(Config.LLVM_BACKEND, Config.LLJIT)
    Config.setValue(Config.LLJIT_OPTIMIZATION_LEVEL, Config.NONE)
    yield
    for key, value in zip(keys, saved, strict=True):
        Config.setValue(key, value)


def test_every_fast_state_has_a_rate_and_none_is_frozen_twice():
    assert set(sbml.RATES) == set(sbml.FAST_STATES)
    assert not set(sbml.FAST_STATES) & set(sbml.FROZEN_STATES)


# ~3-4 s each (roadrunner's compile of the model is most of it; ~15 s each with MCJIT): full suite only; the quick
# tier's SBML-vs-core check is the rates at a hyperglycaemic state below (libsbml reader, no compile)
@pytest.mark.slow
@pytest.mark.parametrize("subject", ["healthy", "insulin_resistant_low_reserve"])
def test_exported_ogtt_round_trips_through_roadrunner(tmp_path, subject):
    loaded = subject_scenario(subject)
    p = loaded.parameters
    y, drivers, _ = morning_test_state(loaded)
    dose = OGTT_GLUCOSE_G * 1000.0 / p[Par.body_weight]
    add_meal(y, dose, p[Par.absorption_speed_fast], 0.0, 0.0)
    drivers = drivers.copy()
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
    """From the state table: dynamic fast states get a rate rule, slow ones are the frozen constants, and the running
    integrals (output bookkeeping, zeroed every chunk) are left out; a new state fails here until the export handles
    it."""
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
    quadratures = [spec.name for spec in STATE_TABLE if spec.kind == StateKind.QUADRATURE]
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


# ~3 s each (roadrunner compiles the whole model; ~15 s each with MCJIT): full suite only; the quick tier's check of
# every rate, slow ones included, is the hyperglycaemic one below
@pytest.mark.slow
@pytest.mark.parametrize("daily_steps", [2500.0, 12000.0])
def test_slow_rates_of_the_whole_model_equal_the_core_term_by_term(daily_steps):
    """Every slow state's rate in the whole-model export equals glucosim's rhs at one state (daily steps away from
    the reference: the export once left the step term out of the energy balance)."""
    import glucosim
    from glucosim.physiology.indices import N_STATES
    from glucosim.scenario.compile import ScenarioProgram
    from glucosim.simulation.organ import organ_rhs

    rhs = organ_rhs()  # the disk-cached compiled copy (the module's own rhs compiles again in each test worker)
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
    drivers = program.schedule(0, 1).drivers[0]
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


# A hyperglycaemic, insulin-resistant moment of the low-reserve subject, away from every resting value so that the
# terms the healthy subject barely uses act: the kidney's excretion (~350 mg/dl, far above TmG/GFR) and the resistant
# liver's excess output, of which gluconeogenesis takes (1 - excess_output_glycogenolysis_share).
HYPERGLYCAEMIC_MG_DL = 350.0
HYPERGLYCAEMIC_STATE = {
    "tissue_to_plasma_glucose": 0.6,  # tissue glucose as a fraction of plasma glucose (mg/kg)
    "stomach_solid_mg_kg": 300.0,
    "stomach_liquid_mg_kg": 250.0,
    "gut_mg_kg": 120.0,
    # a mixed meal in the stomach over a fast drink in the intestine: every composition term acts
    "stomach_fat_mg_kg": 160.0,
    "stomach_protein_mg_kg": 120.0,
    "stomach_speed_carb_mg_kg": 440.0,
    "gut_fat_mg_kg": 30.0,
    "gut_protein_mg_kg": 40.0,
    "gut_speed_carb_mg_kg": 180.0,
    "stomach_emptied_mg_kg": 350.0,  # D = 550 + 350: the meal was 900 mg/kg
    "secretion_second_phase_pmol_kg_min": 1.5,
    "secretion_second_phase_slow_pmol_kg_min": 0.7,
    "nefa_mmol_l": 0.8,
    "glucagon_pg_ml": 140.0,
    # below the store's capacity: gluconeogenesis beyond the liver's demand reaches the store (glycogen.py)
    "liver_glycogen_mg_kg": 1200.0,
    "exercise_vo2_pct": 25.0,
    "exercise_liver_output_mg_kg_min": 0.3,
    "exercise_uptake_mg_kg_min": 0.8,
    "post_exercise_sensitivity": 0.15,
    "glucose_mean_mg_dl": 220.0,
    "insulin_mean_pmol_l": 90.0,
    "beta_mass_rel": 0.6,
    # near the low reserve (1.3): the demand-driven mass loss acts ((1.25 / 1.3) ** 8 = 0.73 of its rate; at 0.5 it
    # was 5e-4, so an export that got it wrong passed)
    "beta_function_rel": 1.25,
    # a held rise of the set point: at this mean glucose the glucotoxic load is near 1, so its release (the reserve's
    # spare share, 1 - 0.73, times 1 - toxicity) is nearly closed; the part-way load is compared in the GIP test below
    "beta_setpoint_adaptation_mg_dl": 12.0,
    # function the load has impaired: under this near-full load the pool fills, and recovers by what the load spares
    "beta_function_worn_rel": 0.3,
    "drift_log_liver": float(np.log(0.4)),  # a liver sensitivity well below 1
    "drift_log_muscle": float(np.log(0.6)),
    "drift_log_adipose": float(np.log(0.7)),
    # the reserve drifted down a little: its caps move, function stays under the function cap (the saturation above
    # is (1.25 / 1.287) ** 8 = 0.79); a level over its cap is compared in its own test below
    "drift_log_reserve": float(np.log(0.99)),
    "training_level": 0.05,
    "weight_change_kg": 3.0,
    "fat_mass_change_kg": 2.0,
    "body_glycogen_change_kg": 0.1,
    "extracellular_fluid_change_kg": -0.3,
    "adaptive_thermogenesis_kcal_day": 60.0,
    "liver_fat_pct": 12.0,
    "muscle_mass_rel": 1.02,
    "activity_sensitivity_rel": 0.9,
}
HYPERGLYCAEMIC_DRIVERS = {
    "exercise_intensity_pct": 40.0,
    "sleep_deficit_h": 1.5,
    "cortisol_rel": 1.3,
    "circadian_misalignment": 0.2,
    "daily_steps": 3000.0,
    "drift_liver_per_day": -1e-4,
    "drift_muscle_per_day": -2e-4,
    "drift_adipose_per_day": 5e-5,
    "drift_reserve_per_day": -1e-4,
    "energy_surplus_kcal_day": 200.0,
    "carbohydrate_g_day": 150.0,  # below the reference: the glycogen store and the natriuresis act
    "slow_dynamics_on": 1.0,
    "iv_glucose_mg_kg_min": 1.0,
    "iv_insulin_pmol_kg_min": 0.5,
}


def sbml_rates(document, time_min: float = 0.0) -> dict[str, float]:
    """The right-hand side of every rate rule of ``document`` at its parameters' values and ``time_min``, read
    from the SBML math with libsbml (no simulator, no integration): assignment rules are evaluated on demand,
    piecewise takes only its chosen branch, and an operator this does not know raises."""
    model = document.getModel()
    assigned = {}
    rates = {}
    for i in range(model.getNumRules()):
        rule = model.getRule(i)
        if rule.isAssignment():
            assigned[rule.getVariable()] = rule.getMath()
        elif rule.isRate():
            rates[rule.getVariable()] = rule.getMath()
        else:
            raise AssertionError(f"unexpected rule for {rule.getVariable()}")
    values = {
        model.getParameter(i).getId(): model.getParameter(i).getValue()
        for i in range(model.getNumParameters())
        if model.getParameter(i).getId() not in assigned
    }

    def value(name):
        if name not in values:
            values[name] = evaluate(assigned[name])
        return values[name]

    def evaluate(node):
        kind = node.getType()
        children = [node.getChild(i) for i in range(node.getNumChildren())]
        if node.isNumber():
            return node.getValue()
        if kind == libsbml.AST_NAME:
            return value(node.getName())
        if kind == libsbml.AST_NAME_TIME:
            return time_min
        if kind == libsbml.AST_CONSTANT_PI:
            return np.pi
        if kind == libsbml.AST_FUNCTION_PIECEWISE:
            for k in range(0, len(children) - 1, 2):
                if evaluate(children[k + 1]):
                    return evaluate(children[k])
            assert len(children) % 2 == 1, "piecewise without otherwise"
            return evaluate(children[-1])
        x = [evaluate(child) for child in children]
        if kind == libsbml.AST_PLUS:
            return float(np.sum(x))
        if kind == libsbml.AST_TIMES:
            return float(np.prod(x))
        if kind == libsbml.AST_MINUS:
            return -x[0] if len(x) == 1 else x[0] - x[1]
        if kind == libsbml.AST_DIVIDE:
            return x[0] / x[1]
        if kind in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            return x[0] ** x[1]
        if kind == libsbml.AST_FUNCTION_ROOT:
            return x[-1] ** (1.0 / (x[0] if len(x) == 2 else 2.0))
        unary = {
            libsbml.AST_FUNCTION_EXP: np.exp,
            libsbml.AST_FUNCTION_LN: np.log,
            libsbml.AST_FUNCTION_COS: np.cos,
            libsbml.AST_FUNCTION_SIN: np.sin,
            libsbml.AST_FUNCTION_TANH: np.tanh,
            libsbml.AST_FUNCTION_ABS: abs,
            libsbml.AST_LOGICAL_NOT: lambda a: not a,
        }
        if kind in unary:
            return float(unary[kind](x[0]))
        binary = {
            libsbml.AST_RELATIONAL_GT: lambda a, b: a > b,
            libsbml.AST_RELATIONAL_GEQ: lambda a, b: a >= b,
            libsbml.AST_RELATIONAL_LT: lambda a, b: a < b,
            libsbml.AST_RELATIONAL_LEQ: lambda a, b: a <= b,
            libsbml.AST_RELATIONAL_EQ: lambda a, b: a == b,
            libsbml.AST_RELATIONAL_NEQ: lambda a, b: a != b,
        }
        if kind in binary:
            return binary[kind](*x)
        if kind == libsbml.AST_LOGICAL_AND:
            return all(x)
        if kind == libsbml.AST_LOGICAL_OR:
            return any(x)
        raise AssertionError(
            f"SBML operator {node.getName() or kind} not evaluated here: {libsbml.formulaToL3String(node)}"
        )

    return {name: float(evaluate(math)) for name, math in rates.items()}


@pytest.fixture(scope="module")
def hyperglycaemic_export():
    """(parameters, state, drivers, SBML text) of the whole-model export set to the hyperglycaemic moment."""
    import glucosim
    from glucosim.scenario.compile import ScenarioProgram

    loaded = glucosim.load_scenario(
        {
            "name": "hyperglycaemic",
            "duration_days": 1,
            # a glucose-sensing offset, so the beta cells' set point and glucotoxic onset are the subject's own
            "subject": {"preset": "insulin_resistant_low_reserve", "parameters": {"glucose_sensing_offset": 5.0}},
        }
    )
    p = loaded.parameters
    document, y0 = sbml.build_scenario_document(loaded, 1)
    y = y0.copy()
    y[St.glucose_plasma_mg_kg] = HYPERGLYCAEMIC_MG_DL * p[Par.glucose_distribution_volume]
    for name, value in HYPERGLYCAEMIC_STATE.items():
        if name == "tissue_to_plasma_glucose":
            y[St.glucose_tissue_mg_kg] = value * y[St.glucose_plasma_mg_kg]
        else:
            y[St[name]] = value
    program = ScenarioProgram(loaded)
    drivers = program.schedule(0, 1).drivers[0].copy()
    for name, value in HYPERGLYCAEMIC_DRIVERS.items():
        drivers[Drv[name]] = value
    model = document.getModel()
    for name in (*sbml.FAST_STATES, *sbml.FROZEN_STATES):
        assert model.getParameter(name).setValue(float(y[St[name]])) == libsbml.LIBSBML_OPERATION_SUCCESS, name
    for driver in Drv:
        assert model.getParameter(driver.name).setValue(float(drivers[driver])) == libsbml.LIBSBML_OPERATION_SUCCESS
    return p, y, drivers, libsbml.writeSBMLToString(document)


# libsbml's reading of the math is the quick check (milliseconds); roadrunner's compile of the model takes ~3.5 s CPU
# (LLJIT; ~15 s with MCJIT)
@pytest.mark.parametrize("reader", ["libsbml", pytest.param("roadrunner", marks=pytest.mark.slow)])
def test_every_rate_of_the_export_equals_the_core_at_a_hyperglycaemic_resistant_state(hyperglycaemic_export, reader):
    """Every dynamic state's rate in the whole-model export equals glucosim's compiled rhs at one hyperglycaemic,
    insulin-resistant state, without integrating: the kidney's excretion (and its energy in the body's balance)
    and the resistant liver's gluconeogenic share of its excess output act here, so an export that drops
    either fails."""
    from glucosim.physiology import beta_cells, clock, liver
    from glucosim.physiology._jit import as_python
    from glucosim.physiology.indices import N_STATES, Flux
    from glucosim.simulation.organ import organ_fluxes, organ_rhs

    p, y, drivers, text = hyperglycaemic_export
    names = (*sbml.FAST_STATES, *sbml.FROZEN_STATES)
    if reader == "libsbml":
        rates = sbml_rates(libsbml.readSBMLFromString(text), time_min=0.0)
        assert set(rates) == set(names)
        theirs = np.array([rates[name] for name in names])
    else:
        runner = roadrunner.RoadRunner(text)
        assert runner["time"] == 0.0
        theirs = np.array([runner[f"{name}'"] for name in names])
    dydt = np.zeros(N_STATES)
    organ_rhs()(0.0, y, drivers, p, dydt)
    ours = np.array([dydt[St[name]] for name in names])

    # the state is the one meant: hyperglycaemic, the kidney excreting, a resistant liver with an excess output
    fluxes = organ_fluxes()(y[None, :], drivers[None, :], p)[0]
    assert fluxes[Flux.glucose_mg_dl] == pytest.approx(HYPERGLYCAEMIC_MG_DL)
    assert fluxes[Flux.sensitivity_liver_rel] < 0.5
    assert fluxes[Flux.renal_excretion_mg_kg_min] > 0.5  # mg/kg/min (0.89 here)
    _, excess = as_python(liver.insulin_regulated_output)(
        y,
        p,
        fluxes[Flux.sensitivity_liver_rel],
        y[St.nefa_mmol_l] / p[Par.nefa_reference],
        drivers[Drv.cortisol_rel],
        as_python(clock.liver_factor)(y, p),
    )
    assert excess * p[Par.excess_output_glycogenolysis_share] > 0.05  # mg/kg/min moved between the liver's sources
    assert y[St.liver_glycogen_mg_kg] < 0.8 * p[Par.liver_glycogen_capacity]
    workload = as_python(beta_cells.capacity_in_use)(
        y[St.beta_function_rel], p[Par.beta_function_max], p[Par.beta_function_cap_sharpness]
    )
    assert workload > 0.5  # the beta cells work near their reserve: the workload term of mass loss is large
    assert np.all(np.isfinite(ours)) and np.all(ours != 0.0)

    error = np.abs(theirs - ours) / np.abs(ours)
    worst = int(np.argmax(error))
    assert error.max() < 1e-9, f"{names[worst]}: SBML {theirs[worst]:.12g}, glucosim {ours[worst]:.12g}"


# impaired function recovering: a gap to healthy wider than the recovery (0.8, 0.1) and narrower (0.9, 0.4)
@pytest.mark.parametrize(("function", "worn"), [(0.8, 0.1), (0.9, 0.4)])
def test_gips_gate_and_load_in_the_export_equal_the_core_where_both_are_partial(hyperglycaemic_export, function, worn):
    """Fat's GIP term (gut.fat_gip_potentiation) at a glucose inside its smoothstep gate and a glucotoxic load between
    0 and 1: the hyperglycaemic state's every rate, read with libsbml, equals the compiled rhs there too (the state
    above has the gate fully open and the load near 1, so only the ends of both were compared). Function below
    healthy with impaired function to regain: the recovery's two branches (beta_cells.beta_slow_derivatives)."""
    from glucosim.physiology import beta_cells, gut

    p, y0, drivers, text = hyperglycaemic_export
    y = y0.copy()
    y[St.glucose_plasma_mg_kg] = 118.0 * p[Par.glucose_distribution_volume]
    y[St.glucose_tissue_mg_kg] = 0.6 * y[St.glucose_plasma_mg_kg]
    # the load's half-maximum above the subject's set point (the sensing offset and the held rise lift it), wherever
    # the course calibration puts glucotoxicity_threshold (a fixed 131 mg/dl gives a load below 0.05 at 144)
    half_load_above = p[Par.glucotoxicity_threshold] - p[Par.glucose_setpoint]
    y[St.glucose_mean_mg_dl] = beta_cells.compensation_setpoint(y, p) + half_load_above
    y[St.beta_function_rel] = function
    y[St.beta_function_worn_rel] = worn
    document = libsbml.readSBMLFromString(text)
    model = document.getModel()
    for name in (
        "glucose_plasma_mg_kg",
        "glucose_tissue_mg_kg",
        "glucose_mean_mg_dl",
        "beta_function_rel",
        "beta_function_worn_rel",
    ):
        assert model.getParameter(name).setValue(float(y[St[name]])) == libsbml.LIBSBML_OPERATION_SUCCESS, name

    # the moment is the one meant: the gate part-open, the load part-way, fat being absorbed
    load = beta_cells.glucotoxicity(y[St.glucose_mean_mg_dl], beta_cells.compensation_setpoint(y, p), p)
    assert 0.05 < load < 0.95
    assert p[Par.gip_glucose_threshold] < 118.0 < p[Par.gip_glucose_full]
    assert gut.fat_gip_potentiation(y, p, 118.0) > 1.01

    assert_every_rate_equals_the_core(document, y, drivers, p)


def test_levels_above_a_reserve_drifted_under_them_in_the_export_equal_the_core(hyperglycaemic_export):
    """The reserve drifted below the function and mass the cells had (routine.drift.beta_reserve_per_year): both are
    pulled back to their caps by the glucose drive (beta_cells.capped_growth_at's negative headroom). The state's
    every rate, read with libsbml, equals the compiled rhs there."""
    from glucosim.physiology import beta_cells

    p, y0, drivers, text = hyperglycaemic_export
    y = y0.copy()
    y[St.drift_log_reserve] = np.log(0.85)
    y[St.beta_mass_rel] = 1.7
    document = libsbml.readSBMLFromString(text)
    model = document.getModel()
    for name in ("drift_log_reserve", "beta_mass_rel"):
        assert model.getParameter(name).setValue(float(y[St[name]])) == libsbml.LIBSBML_OPERATION_SUCCESS, name

    # the moment is the one meant: both levels above their drifted caps, the glucose drives positive
    function_cap, mass_cap = beta_cells.reserve_caps(y, p)
    assert y[St.beta_function_rel] > function_cap and y[St.beta_mass_rel] > mass_cap
    assert y[St.glucose_mean_mg_dl] > beta_cells.compensation_setpoint(y, p)

    dydt = assert_every_rate_equals_the_core(document, y, drivers, p)
    assert dydt[St.beta_mass_rel] < 0.0  # above its cap mass shrinks under a glucose drive that would grow it


def assert_every_rate_equals_the_core(document, y, drivers, p) -> np.ndarray:
    """Every dynamic state's rate in ``document`` (read with libsbml at the values set in it) equals the compiled rhs
    at ``y`` to 1e-9 (relative, with a 1e-12 floor); returns the compiled rhs's d/dt."""
    from glucosim.physiology.indices import N_STATES
    from glucosim.simulation.organ import organ_rhs

    names = (*sbml.FAST_STATES, *sbml.FROZEN_STATES)
    rates = sbml_rates(document, time_min=0.0)
    theirs = np.array([rates[name] for name in names])
    dydt = np.zeros(N_STATES)
    organ_rhs()(0.0, y, drivers, p, dydt)
    ours = np.array([dydt[St[name]] for name in names])
    scale = np.maximum(np.abs(ours), 1e-12)
    error = np.abs(theirs - ours) / scale
    worst = int(np.argmax(error))
    assert error.max() < 1e-9, f"{names[worst]}: SBML {theirs[worst]:.12g}, glucosim {ours[worst]:.12g}"
    return dydt
