"""Each meal's fat, protein and absorption speed travel with its own food (physiology/gut.py, add_meal).

Until 2026-12-04 they were drivers that took the latest meal's values, so a meal eaten while an earlier one was still
in the gut relabelled the earlier food: a 30-g protein snack half an hour after breakfast applied its 30 g of protein
per g of carbohydrate to the breakfast, and insulin peaked at 1,758 uU/ml in the healthy preset (a fuzz of accepted
inputs, 2026-12-03). They are now amounts that move with the carbohydrate.
"""

import numpy as np
import pytest

import glucosim
from glucosim.physiology import gut
from glucosim.physiology.indices import N_STATES, Par, St
from glucosim.scenario.load import parse_scenario

AMOUNTS = ("fat", "protein", "speed_carb")


def _fed_state(ratios_stomach, ratios_gut):
    """Food in both compartments, each amount a given multiple of its compartment's carbohydrate."""
    y = np.zeros(N_STATES)
    y[St.stomach_solid_mg_kg], y[St.stomach_liquid_mg_kg], y[St.gut_mg_kg] = 300.0, 200.0, 150.0
    for amount, in_stomach, in_gut in zip(AMOUNTS, ratios_stomach, ratios_gut):
        y[St[f"stomach_{amount}_mg_kg"]] = in_stomach * 500.0
        y[St[f"gut_{amount}_mg_kg"]] = in_gut * 150.0
    y[St.stomach_emptied_mg_kg] = 300.0  # D = 800
    return y


def test_one_composition_stays_one_composition(parameters):
    # the same ratios everywhere: every amount changes as its compartment's carbohydrate times the ratio, so a day
    # of meals of one composition gives the equations of the drivers the amounts replaced
    ratios = (0.4, 0.3, 1.0)
    y = _fed_state(ratios, ratios)
    dydt = np.zeros(N_STATES)
    gut.gut_derivatives(y, parameters, dydt)
    stomach_carbs = dydt[St.stomach_solid_mg_kg] + dydt[St.stomach_liquid_mg_kg]
    for amount, ratio in zip(AMOUNTS, ratios):
        assert dydt[St[f"stomach_{amount}_mg_kg"]] == pytest.approx(ratio * stomach_carbs, rel=1e-12)
        assert dydt[St[f"gut_{amount}_mg_kg"]] == pytest.approx(ratio * dydt[St.gut_mg_kg], rel=1e-12)


def test_only_absorption_removes_what_travels_with_the_food(parameters):
    y = _fed_state((0.5, 0.2, 0.55), (0.1, 0.8, 1.6))  # a slow fatty meal over a fast protein drink
    dydt = np.zeros(N_STATES)
    gut.gut_derivatives(y, parameters, dydt)
    absorption_rate = parameters[Par.gut_absorption_rate] * gut.gut_speed(y)
    assert gut.gut_speed(y) == pytest.approx(1.6)
    for amount in AMOUNTS:
        total = dydt[St[f"stomach_{amount}_mg_kg"]] + dydt[St[f"gut_{amount}_mg_kg"]]
        assert total == pytest.approx(-absorption_rate * y[St[f"gut_{amount}_mg_kg"]], rel=1e-12)


def test_an_empty_compartment_has_no_speed_and_solver_noise_cannot_push_it_past_the_meals(parameters):
    assert gut._mean_speed(1e-9, 1e-8) == 0.0  # below EMPTY_MG_KG: empty
    assert gut._mean_speed(5.0, 1.0) == gut.MAX_ABSORPTION_MULTIPLIER
    assert gut._mean_speed(-1e-3, 1.0) == 0.0


def _day(meals, preset="healthy"):
    data = {"name": "gut composition", "duration_days": 1, "subject": {"preset": preset}, "routine": {"meals": meals}}
    return glucosim.simulate(parse_scenario(data, source="<test>"), progress=False)


def test_a_protein_snack_after_breakfast_does_not_relabel_the_breakfast():
    breakfast = {"time_h": 7.0, "carbs_g": 60}
    alone = _day([breakfast], "insulin_resistant")
    result = _day([breakfast, {"time_h": 7.5, "carbs_g": 1, "protein_g": 30}], "insulin_resistant")
    trace = result.trace(0)
    # the protein in the gut is the snack's 30 g, not the snack's ratio times the breakfast still in the gut
    body_weight = float(result.loaded.parameters[Par.body_weight])
    protein_mg_kg = (trace["stomach_protein_mg_kg"] + trace["gut_protein_mg_kg"]).max()
    eaten_mg_kg = 30_000.0 / body_weight
    # (the trace's first sample after the snack comes once a little is absorbed; relabelled, it was many times this)
    assert 0.95 * eaten_mg_kg < protein_mg_kg <= eaten_mg_kg * (1.0 + 1e-9)
    # it potentiates secretion, but insulin stays in the range of meals (it peaked at 2,654 uU/ml here before)
    peak = result.daily["max_insulin_uU_ml"].iloc[0]
    assert alone.daily["max_insulin_uU_ml"].iloc[0] < peak < 300.0
    assert result.summary["plausibility"]["plausible"]


def test_a_fast_meal_speeds_only_its_own_share_of_the_stomach():
    slow = {"time_h": 7.0, "carbs_g": 100, "absorption": "slow"}
    fast_snack = {"time_h": 8.0, "carbs_g": 20, "absorption": "fast"}
    result = _day([slow, fast_snack])
    trace = result.trace(0)
    minute = trace["time_min"].to_numpy()
    row = int(np.searchsorted(minute, 8 * 60 + 1))  # just after the snack
    stomach = trace["stomach_solid_mg_kg"].iloc[row] + trace["stomach_liquid_mg_kg"].iloc[row]
    speed = trace["stomach_speed_carb_mg_kg"].iloc[row] / stomach
    parameters = result.loaded.parameters
    slowest, fastest = parameters[Par.absorption_speed_slow], parameters[Par.absorption_speed_fast]
    # a carbohydrate-weighted mean of the two meals' speeds, nearer the slow meal's (more of it is left)
    assert slowest < speed < 0.5 * (slowest + fastest)


def test_the_emptying_dose_is_the_stomach_when_the_meal_began_plus_the_meal(parameters):
    y = np.zeros(N_STATES)
    gut.add_meal(y, 400.0, 1.0, 0.0, 0.0)
    y[St.stomach_solid_mg_kg], y[St.stomach_liquid_mg_kg], y[St.stomach_emptied_mg_kg] = 100.0, 50.0, 250.0
    assert gut.gastric_dose(y) == pytest.approx(400.0)  # what is left and what has gone: the meal's 400
    gut.add_meal(y, 60.0, 1.0, 0.0, 0.0)  # a snack on top: D is the 150 still there plus the snack
    assert gut.gastric_dose(y) == pytest.approx(210.0)
    jump, resets = gut.meal_event(N_STATES, 60.0, 1.0, 0.0, 0.0)
    assert resets[St.stomach_emptied_mg_kg] and jump[St.stomach_emptied_mg_kg] == 0.0 and resets.sum() == 1


def test_a_small_meal_does_not_empty_a_large_one_at_once():
    # until 2026-12-04 D was the latest meal's dose: 5 g an hour into 100 g of slow carbohydrate emptied the whole
    # stomach at kmax and glucose peaked at 313 mg/dl (275 with the composition carried), against 168 without it
    slow = {"time_h": 7.0, "carbs_g": 100, "absorption": "slow"}
    alone = _day([slow], "insulin_resistant").daily["max_glucose_mg_dl"].iloc[0]
    result = _day([slow, {"time_h": 8.0, "carbs_g": 5, "absorption": "medium"}], "insulin_resistant")
    assert result.daily["max_glucose_mg_dl"].iloc[0] - alone < 40.0  # the snack's own restart of fast emptying
    trace = result.trace(0)
    minute = trace["time_min"].to_numpy()
    after = (minute > 8 * 60) & (minute < 12 * 60)
    dose = (trace["stomach_solid_mg_kg"] + trace["stomach_liquid_mg_kg"] + trace["stomach_emptied_mg_kg"])[after]
    assert dose.max() - dose.min() < 1e-3 * dose.mean()  # D stays what it was when the snack began
    # ... which is the stomach's glucose just before the snack (the sample at its minute precedes the event) plus it
    before = trace.loc[minute == 8 * 60, ["stomach_solid_mg_kg", "stomach_liquid_mg_kg"]].to_numpy().sum()
    snack_mg_kg = 5_000.0 / float(result.loaded.parameters[Par.body_weight])
    assert dose.mean() == pytest.approx(before + snack_mg_kg, rel=1e-3)
