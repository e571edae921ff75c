"""Counter-regulation and the liver's glycogen (issue 10): glucagon, gluconeogenesis and the store."""

import numpy as np
import pytest

from glucosim.physiology import clock, glucagon, glycogen, liver
from glucosim.physiology.indices import N_DRIVERS, N_STATES, Drv, Par, St
from glucosim.physiology.sensitivity import chronic_sensitivities
from glucosim.scenario.load import parse_scenario
from glucosim.simulation.run import simulate

REFERENCE_MEALS = [{"time_h": 7.5, "carbs_g": 60}, {"time_h": 12.5, "carbs_g": 80}, {"time_h": 19.0, "carbs_g": 80}]


@pytest.fixture
def fasting_state(parameters):
    """A plausible overnight-fasted state of the healthy subject with a normal glycogen store."""
    p = parameters
    y = np.zeros(N_STATES)
    y[St.glucose_plasma_mg_kg] = 90.0 * p[Par.glucose_distribution_volume]
    y[St.glucose_tissue_mg_kg] = 130.0
    y[St.insulin_plasma_pmol_kg] = 25.0 * p[Par.insulin_distribution_volume]
    for index in (St.insulin_liver_delay1_pmol_l, St.insulin_liver_delayed_pmol_l, St.insulin_remote_pmol_l):
        y[index] = 25.0
    y[St.insulin_portal_pmol_kg] = 3.0
    y[St.nefa_mmol_l] = p[Par.nefa_reference]
    y[St.glucagon_pg_ml] = p[Par.glucagon_basal]
    y[St.liver_glycogen_mg_kg] = p[Par.liver_glycogen_reference]
    return y


def test_glucagon_rises_below_threshold_and_falls_with_insulin(parameters):
    p = parameters
    # insulin suppresses glucagon by its action: the plasma level whose acting insulin is DM2007's basal
    basal_plasma_pmol_l = p[Par.insulin_basal_reference] / p[Par.insulin_action_scale]
    basal = glucagon.glucagon_target_at_rest(90.0, basal_plasma_pmol_l, p)
    assert basal == pytest.approx(p[Par.glucagon_basal])
    threshold = p[Par.glucagon_hypoglycemia_threshold]
    assert glucagon.glucagon_target_at_rest(threshold + 1.0, basal_plasma_pmol_l, p) == basal
    assert glucagon.glucagon_target_at_rest(50.0, basal_plasma_pmol_l, p) > 1.5 * basal
    after_meal = glucagon.glucagon_target_at_rest(140.0, 10.0 * basal_plasma_pmol_l, p)
    assert p[Par.glucagon_min_fraction] * basal < after_meal < basal


def test_normal_store_releases_dalla_man_output(parameters, fasting_state):
    p = parameters
    circadian = clock.liver_factor(fasting_state, p)  # the model's liver reads the clock (liver_output_sources)
    demand, excess = liver.insulin_regulated_output(fasting_state, p, 1.0, 1.0, 1.0, circadian)
    assert excess == 0.0
    assert liver.liver_glucose_output(fasting_state, p, 1.0, 1.0, 1.0) == pytest.approx(demand)


def test_empty_store_leaves_gluconeogenesis(parameters, fasting_state):
    p = parameters
    empty = fasting_state.copy()
    empty[St.liver_glycogen_mg_kg] = 0.0
    assert glycogen.glycogen_availability(empty, p) == 0.0
    output = liver.liver_glucose_output(empty, p, 1.0, 1.0, 1.0)
    assert output == pytest.approx(glycogen.gluconeogenesis(empty, p))
    assert output < liver.liver_glucose_output(fasting_state, p, 1.0, 1.0, 1.0)


def test_glucagon_raises_gluconeogenesis_and_glycogenolysis(parameters, fasting_state):
    p = parameters
    raised = fasting_state.copy()
    raised[St.glucagon_pg_ml] = 2.0 * p[Par.glucagon_basal]
    assert glycogen.gluconeogenesis(raised, p) > glycogen.gluconeogenesis(fasting_state, p)
    assert liver.liver_glucose_output(raised, p, 1.0, 1.0, 1.0) > liver.liver_glucose_output(
        fasting_state, p, 1.0, 1.0, 1.0
    )


def test_hepatic_resistance_is_split_between_glycogen_and_gluconeogenesis(parameters, fasting_state):
    """A resistant liver's excess over a normal liver at the same glucose and insulin comes a share s_X from glycogen
    and the rest from gluconeogenesis (models/parameters.toml#excess_output_glycogenolysis_share: fitted to Krssak
    2004's diabetic livers' glycogen, most of it glycogenolytic)."""
    p = parameters
    demand, excess = liver.insulin_regulated_output(fasting_state, p, 0.5, 1.0, 1.0)
    normal, _ = liver.insulin_regulated_output(fasting_state, p, 1.0, 1.0, 1.0)
    assert excess == pytest.approx(demand - normal)
    output, released_gng, glycogenolysis, _ = glycogen.liver_sources(fasting_state, p, demand, excess, 0.0)
    healthy_output, healthy_gng, healthy_glycogenolysis, _ = glycogen.liver_sources(fasting_state, p, normal, 0.0, 0.0)
    extra_gng, extra_glycogenolysis = released_gng - healthy_gng, glycogenolysis - healthy_glycogenolysis
    share = p[Par.excess_output_glycogenolysis_share]
    assert 0.0 < share < 1.0
    assert extra_glycogenolysis == pytest.approx(share * excess)
    assert extra_gng == pytest.approx((1.0 - share) * excess)
    # with a normal store all of the excess is released, from one source or the other
    assert extra_gng + extra_glycogenolysis == pytest.approx(excess)
    assert output - healthy_output == pytest.approx(excess)


def test_store_fills_when_insulin_holds_output_below_gluconeogenesis(parameters, fasting_state):
    p = parameters
    fed = fasting_state.copy()
    fed[St.insulin_liver_delayed_pmol_l] = fed[St.insulin_portal_pmol_kg] = 200.0
    fed[St.insulin_remote_pmol_l] = 200.0
    demand, excess = liver.insulin_regulated_output(fed, p, 1.0, 1.0, 1.0)
    _, _, glycogenolysis, stored = glycogen.liver_sources(fed, p, demand, excess, 0.0)
    assert glycogenolysis == 0.0 and stored > 0.0
    dydt = np.zeros(N_STATES)
    uptake = glycogen.hepatic_glucose_uptake(fed, p, 1.0, 1.0)
    assert uptake > 0.0
    glycogen.glycogen_derivative(fed, p, glycogenolysis, stored, 0.0, uptake, chronic_sensitivities(fed, p)[0], dydt)
    assert dydt[St.liver_glycogen_mg_kg] > 0.0
    full = fed.copy()
    full[St.liver_glycogen_mg_kg] = p[Par.liver_glycogen_capacity]
    glycogen.glycogen_derivative(full, p, glycogenolysis, stored, 0.0, uptake, chronic_sensitivities(full, p)[0], dydt)
    assert dydt[St.liver_glycogen_mg_kg] == 0.0


def test_a_resistant_liver_stores_less_glycogen(parameters, fasting_state):
    """Insulin's stimulation of glycogen synthesis fails with the rest of its hepatic action (Krssak 2004: type 2
    diabetic livers synthesise less after a meal and at matched glucose and insulin): every inflow to the store is
    scaled by min(S_L, 1) ** gamma_syn, S_L the chronic hepatic sensitivity; a sensitive liver stores as a normal
    one."""
    fed = fasting_state.copy()
    fed[St.insulin_liver_delayed_pmol_l] = fed[St.insulin_portal_pmol_kg] = fed[St.insulin_remote_pmol_l] = 200.0
    fed[St.insulin_mean_pmol_l] = parameters[Par.insulin_mean_reference]  # no down-regulation by hyperinsulinemia

    def synthesis(whole_body_sensitivity):
        p = parameters.copy()
        p[Par.insulin_sensitivity_whole_body] = whole_body_sensitivity
        dydt = np.zeros(N_STATES)
        glycogen.glycogen_derivative(fed, p, 0.0, 0.3, 0.0, 0.5, chronic_sensitivities(fed, p)[0], dydt)
        return dydt[St.liver_glycogen_mg_kg]

    normal = synthesis(1.0)
    assert normal > 0.0
    gamma = parameters[Par.hepatic_glycogen_synthesis_exponent]
    assert gamma > 0.0
    assert synthesis(0.5) == pytest.approx(normal * 0.5**gamma)
    assert synthesis(1.3) == pytest.approx(normal)


def _run(routine, days, changes=()):
    data = {"name": "test", "duration_days": days, "routine": routine, "changes": list(changes)}
    data["output"] = {"trajectory_days": list(range(days))}
    return simulate(parse_scenario(data, "test"), progress=False)


@pytest.mark.slow
def test_a_three_day_fast_empties_the_store_without_hypoglycaemia():
    result = _run({"meals": REFERENCE_MEALS}, 4, [{"from_day": 1, "meals": []}])
    last = result.trajectories[3]
    assert last["liver_glycogen_mg_kg"].max() < 0.05 * result.trajectories[0]["liver_glycogen_mg_kg"].max()
    assert (last["gluconeogenesis_mg_kg_min"] / last["liver_output_mg_kg_min"]).min() > 0.95
    glucose = np.concatenate([frame["glucose_mg_dl"].to_numpy() for frame in result.trajectories.values()])
    assert glucose.min() > 55.0
    assert last["glucose_mg_dl"].iloc[-1] < 75.0  # fasting glucose does fall


@pytest.mark.slow
def test_very_high_carbohydrate_day_gives_no_hypoglycaemia():
    meals = [{"time_h": meal["time_h"], "carbs_g": 300.0} for meal in REFERENCE_MEALS]
    result = _run({"meals": meals}, 2)
    daily = result.daily
    assert daily["min_glucose_mg_dl"].min() > 50.0
    assert daily["max_glucose_mg_dl"].max() < 250.0  # gastric emptying holds a 1,200 kcal meal back


def test_clock_peaks_in_the_morning_and_misalignment_lowers_sensitivity(parameters):
    p = parameters
    y = np.zeros(N_STATES)
    drv = np.zeros(N_DRIVERS)
    y[St.clock_cos], y[St.clock_sin] = 1.0, 0.0  # the morning peak
    morning = clock.secretion_factor(y, p), clock.sensitivity_factor(y, drv, p)
    y[St.clock_cos] = -1.0  # twelve hours later
    evening = clock.secretion_factor(y, p), clock.sensitivity_factor(y, drv, p)
    assert evening[0] / morning[0] == pytest.approx(0.82, abs=0.01)  # Morris 2016: -18 % in the evening
    assert evening[1] < morning[1]
    drv[Drv.circadian_misalignment] = 1.0
    assert clock.sensitivity_factor(y, drv, p) == pytest.approx(evening[1] * (1 - p[Par.misalignment_sensitivity_loss]))


def test_clock_oscillator_keeps_unit_amplitude_on_its_target(parameters):
    p = parameters
    y = np.zeros(N_STATES)
    drv = np.zeros(N_DRIVERS)
    dydt = np.zeros(N_STATES)
    for minute in (0.0, 300.0, 900.0):
        angle = 2 * np.pi * (minute / 60 - p[Par.circadian_tolerance_peak_h]) / 24
        y[St.clock_cos], y[St.clock_sin] = np.cos(angle), np.sin(angle)
        clock.clock_derivatives(minute, y, drv, p, dydt)
        # on target, the oscillator turns at one turn a day and does not change its amplitude
        radial = y[St.clock_cos] * dydt[St.clock_cos] + y[St.clock_sin] * dydt[St.clock_sin]
        assert radial == pytest.approx(0.0, abs=1e-12)
        assert np.hypot(dydt[St.clock_cos], dydt[St.clock_sin]) == pytest.approx(2 * np.pi / 1440)


@pytest.mark.slow
def test_a_diabetic_liver_holds_less_glycogen_and_still_releases_it():
    """A hyperglycaemic, resistant liver (fasting glucose ~120 mg/dl) holds less glycogen than a healthy liver and
    still releases it before breakfast; with the share s_X set to the gluconeogenic share alone and synthesis as a
    normal liver's (s_X 0.45, gamma_syn 0: the model until 2026-12-06) the store filled to capacity (glycogen.py)."""

    def morning(preset, **parameters):
        data = {
            "name": "test",
            "duration_days": 1,
            "subject": {"preset": preset, "parameters": parameters},
            "routine": {"meals": REFERENCE_MEALS},
            "output": {"trajectory_days": [0]},
        }
        trace = simulate(parse_scenario(data, "test"), progress=False).trace(0)
        return trace[trace["clock_h"] < 7.5].iloc[-1]

    healthy = morning("healthy")
    diabetic = morning("insulin_resistant_low_reserve", insulin_sensitivity_whole_body=0.25)
    without = morning(
        "insulin_resistant_low_reserve",
        insulin_sensitivity_whole_body=0.25,
        hepatic_glycogen_synthesis_exponent=0.0,
        excess_output_glycogenolysis_share=0.45,
    )
    assert diabetic["glucose_mg_dl"] > 115.0
    assert diabetic["glycogenolysis_mg_kg_min"] > 0.1
    assert diabetic["liver_glycogen_mg_kg"] < healthy["liver_glycogen_mg_kg"]
    assert without["liver_glycogen_mg_kg"] > 2.0 * healthy["liver_glycogen_mg_kg"]


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="known weakness (scenarios/06a_hepatic_resistance.toml, CHANGELOG 2026-12-06, twentieth session): a liver "
    "resistant at normal glucose holds ~0.35 of a healthy store before breakfast",
)
def test_a_liver_resistant_at_normal_glucose_keeps_most_of_its_glycogen():
    """Scenario 06a's liver after ten years of hepatic drift (chronic sensitivity ~0.25, fasting glucose ~97 mg/dl)
    should hold most of a healthy liver's glycogen before breakfast: type 2 diabetic livers hold ~0.83 of their
    controls' (Krssak 2004), and no study read here found less in hepatic resistance at normal glucose (in older
    adults with muscle insulin resistance net synthesis after meals was normal: Flannery 2012, Diabetes, abstract).
    glucosim's resistant liver draws 92 % of its excess output from the store (fitted on diabetic livers) and refills
    it less, so the store runs low."""
    from glucosim._resources import scenario_path
    from glucosim._toml import load_toml

    def before_breakfast(data, day):
        data = {**data, "output": {"trajectory_days": [day]}}
        data.pop("clinic", None)
        trace = simulate(parse_scenario(data, "test"), progress=False, until_day=day + 1).trace(day)
        return trace[trace["clock_h"] < 7.5].iloc[-1]

    resistant_data = load_toml(scenario_path("06a_hepatic_resistance"))
    healthy_data = {**resistant_data, "subject": {"preset": "healthy"}, "routine": dict(resistant_data["routine"])}
    healthy_data["routine"].pop("drift", None)
    resistant = before_breakfast(resistant_data, 3652)
    healthy = before_breakfast(healthy_data, 0)
    assert resistant["glucose_mg_dl"] < 100.0  # normal fasting glucose: the comparison is at normal glucose
    assert resistant["liver_glycogen_mg_kg"] > 0.7 * healthy["liver_glycogen_mg_kg"]
