"""Impossible physiology is never a plain success: refused at load, kept non-negative, flagged when it happens.

Cases from issue 14, item 1-2 (each reproduced with the CLI before the fix).
"""

import numpy as np
import pandas as pd
import pytest

from glucosim.clinic.protocol import Protocol
from glucosim.errors import ScenarioError
from glucosim.physiology.indices import N_STATES, Par, St
from glucosim.scenario.load import format_validation_error, parse_scenario
from glucosim.simulation import plausibility
from tests.conftest import THREE_MEALS, scenario_dict


def _scenario_error(data) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source="bad.toml")
    return str(info.value)


def _protocol_error(data) -> str:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        Protocol.model_validate(data)
    return format_validation_error("p.toml", info.value, Protocol, "protocol")


# ------------------------------------------------------------------ combined sensitivities (issue 14, 1a)
def test_multiplied_sensitivity_below_the_table_is_refused_with_the_reason():
    # 0.05 whole body x 0.05 liver = 0.0025: each factor within range, the product is not
    message = _scenario_error(
        scenario_dict(subject={"insulin_sensitivity_whole_body": 0.05, "insulin_sensitivity_liver": 0.05})
    )
    assert "bad.toml" in message and "combined liver insulin sensitivity" in message
    assert "0.0025" in message and "[0.05, 3]" in message


def test_drift_that_takes_sensitivity_below_the_table_is_refused():
    data = scenario_dict(duration_years=10, duration_days=None)
    data["routine"] = {**data["routine"], "drift": {"whole_body_per_year": -0.3}}  # 0.7^10 = 0.028
    message = _scenario_error(data)
    assert "drift" in message and "lowest" in message


def test_drift_of_a_later_change_counts_from_its_start():
    data = scenario_dict(duration_years=10, duration_days=None)
    data["subject"] = {"insulin_sensitivity_whole_body": 0.5}
    # 0.5 * 0.8^4 = 0.2 after the first 4 years, then 2 %/year up: within range everywhere
    data["routine"] = {**data["routine"], "drift": {"whole_body_per_year": -0.2}}
    data["changes"] = [{"from_year": 4, "drift": {"whole_body_per_year": 0.02}}]
    parse_scenario(data, source="ok.toml")
    data["routine"] = {**data["routine"], "drift": {"whole_body_per_year": -0.5}}  # 0.5 * 0.5^4 = 0.03
    assert "combined" in _scenario_error(data)


def test_high_combined_sensitivity_is_refused_too():
    message = _scenario_error(
        scenario_dict(subject={"insulin_sensitivity_whole_body": 3.0, "insulin_sensitivity_muscle": 2.0})
    )
    assert "combined muscle insulin sensitivity" in message and "highest" in message


# ------------------------------------------------------------------ protocol bounds (issue 14, 1b, 1c, 2)
OGTT = {"name": "t", "kind": "ogtt", "duration_min": 180, "samples_min": [0, 120]}


@pytest.mark.parametrize(
    ("change", "field", "allowed"),
    [
        (
            {"actions": [{"at_min": 0, "oral_glucose_g": 75}, {"at_min": 0, "insulin_infusion_mU_m2_min": 2000}]},
            "actions[1].insulin_infusion_mU_m2_min",
            "less than or equal to 1200",
        ),
        (
            {"kind": "ivgtt", "actions": [{"at_min": 0, "iv_glucose_g_per_kg": 1.0}]},
            "actions[0].iv_glucose_g_per_kg",
            "less than or equal to 0.5",
        ),
        (
            {
                "kind": "clamp",
                "actions": [{"at_min": 0, "insulin_infusion_mU_m2_min": 40}],
                "clamp": {"target_mg_dl": -50},
            },
            "clamp.target_mg_dl",
            "greater than or equal to 40",
        ),
        (
            {"samples_min": [], "sample_every_min": 1e-9, "actions": [{"at_min": 0, "oral_glucose_g": 75}]},
            "sample_every_min",
            "greater than or equal to 0.1",
        ),
        (
            {"samples_min": [0, float("nan"), 120], "actions": [{"at_min": 0, "oral_glucose_g": 75}]},
            "samples_min[1]",
            "finite number",
        ),
        (
            {"kind": "ivgtt", "actions": [{"at_min": 0, "oral_glucose_g": 75}]},
            "(top level)",
            "needs an iv_glucose_g_per_kg action",
        ),
        # a negative absorption multiplier gave a glucose of -3.7e10 mg/dl in a 75-g OGTT; 0 absorbed nothing and
        # 1e6 everything at once: the meal's own range (0.1, 3] applies to a drink too
        (
            {"actions": [{"at_min": 0, "oral_glucose_g": 75, "absorption": -2.0}]},
            "actions[0].absorption",
            "greater than 0.1",
        ),
        (
            {"actions": [{"at_min": 0, "oral_glucose_g": 75, "absorption": 0.0}]},
            "actions[0].absorption",
            "'slow', 'medium' or 'fast'",
        ),
        (
            {"actions": [{"at_min": 0, "oral_glucose_g": 75, "absorption": 1e6}]},
            "actions[0].absorption",
            "less than or equal to 3",
        ),
    ],
)
def test_protocol_values_that_can_only_give_nonsense_are_refused(change, field, allowed):
    message = _protocol_error({**OGTT, **change})
    assert "p.toml" in message and f"{field}: " in message and allowed in message


def test_sample_every_min_at_its_minimum_is_bounded():
    protocol = Protocol.model_validate(
        {
            **OGTT,
            "samples_min": [],
            "duration_min": 600,
            "sample_every_min": 0.1,
            "actions": [{"at_min": 0, "oral_glucose_g": 75}],
        }
    )
    assert len(protocol.sample_times) == 6001


# ------------------------------------------------------------------ the model keeps glucose non-negative
def test_brain_uptake_vanishes_as_plasma_glucose_empties(parameters):
    from glucosim.physiology.brain import brain_uptake

    y = np.zeros(N_STATES)
    y[St.glucose_plasma_mg_kg] = 1.9 * parameters[Par.glucose_distribution_volume] * 90.0 / 1.9  # 90 mg/dl
    assert brain_uptake(y, parameters) == parameters[Par.brain_glucose_uptake]  # unchanged where it matters
    y[St.glucose_plasma_mg_kg] = 0.5
    assert brain_uptake(y, parameters) == pytest.approx(0.5 * parameters[Par.brain_glucose_uptake])
    for empty in (0.0, -1e-3):
        y[St.glucose_plasma_mg_kg] = empty
        assert brain_uptake(y, parameters) == 0.0


def test_maximal_insulin_without_glucose_keeps_glucose_non_negative_and_is_flagged(tmp_path):
    # the old 2,000 mU/m^2/min case drove glucose to -8.7 mg/dl; at the allowed maximum, with no glucose to
    # hold it up, glucose must fall towards zero without crossing it, and the plausibility check must say so
    from glucosim.clinic.runner import run_protocol

    path = tmp_path / "itt.toml"
    path.write_text(
        'name = "insulin only"\nkind = "fasting"\nduration_min = 240\nsample_every_min = 5\n'
        "[[actions]]\nat_min = 0\ninsulin_infusion_mU_m2_min = 1200\n"
    )
    result = run_protocol(str(path), "healthy")
    glucose = result.samples["glucose_mg_dl"].to_numpy()
    # non-negative up to the integrator's absolute tolerance of glucose (1e-5 mg/kg); before: -8.7 mg/dl
    assert glucose.min() > -1e-5
    verdict = plausibility.check_clinic_samples(result.samples, "itt")
    assert glucose.min() < 20.0 and not verdict.plausible
    assert "glucose_mg_dl" in verdict.message() and "[20, 1000]" in verdict.message()


# ------------------------------------------------------------------ the plausibility check itself
def _daily(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"day": np.arange(n), **columns})


def test_check_daily_flags_the_reported_impossible_run():
    daily = _daily(
        fasting_glucose_mg_dl=[90.0, 6718.4, 27291.0],
        hba1c_percent=[5.3, 293.2, 1034.0],
        postmeal_2h_glucose_mg_dl=[np.nan, np.nan, np.nan],  # not sampled: allowed
    )
    verdict = plausibility.check_daily(daily)
    assert not verdict.plausible
    problems = {p["marker"]: p for p in verdict.problems}
    assert set(problems) == {"fasting_glucose_mg_dl", "hba1c_percent"}
    assert problems["fasting_glucose_mg_dl"]["first"] == "day 1" and problems["fasting_glucose_mg_dl"]["count"] == 2
    assert problems["hba1c_percent"]["worst"] == 1034.0
    assert verdict.to_dict()["plausible"] is False


def test_check_daily_flags_negative_and_infinite_values():
    verdict = plausibility.check_daily(_daily(min_glucose_mg_dl=[80.0, -19.2], mean_insulin_uU_ml=[10.0, np.inf]))
    assert {p["marker"] for p in verdict.problems} == {"min_glucose_mg_dl", "mean_insulin_uU_ml"}


def test_check_run_flags_fat_mass_below_its_starvation_floor():
    daily = _daily(fat_mass_change_kg=[0.0, -10.0, -19.5, -19.99])
    verdict = plausibility.check_run(daily, (), starting_fat_mass_kg=20.0)
    assert [p["marker"] for p in verdict.problems] == ["fat_mass_kg"]
    problem = verdict.problems[0]
    assert problem["first"] == "day 2" and problem["count"] == 2
    assert problem["allowed"][0] == pytest.approx(plausibility.MIN_FAT_MASS_FRACTION * 20.0)
    assert plausibility.check_run(daily.iloc[:2], (), starting_fat_mass_kg=20.0).plausible


def test_starving_for_a_year_is_flagged_not_a_plain_success(make_scenario):
    """A year without meals took 50 kg off a 75 kg subject, fat mass to 0, and the run reported success."""
    import glucosim

    result = glucosim.simulate(make_scenario(duration_days=365, routine={"meals": []}), progress=False)
    verdict = result.summary["plausibility"]
    assert verdict["plausible"] is False
    # the fat mass below its floor and the body mass index (75 -> ~25 kg) below the survival band
    assert {"fat_mass_kg", "body_mass_index_kg_m2"} <= {problem["marker"] for problem in verdict["problems"]}


def test_a_normal_run_is_plausible_and_says_so(make_scenario):
    import glucosim

    result = glucosim.simulate(make_scenario(duration_days=2), progress=False)
    assert result.summary["plausibility"] == {
        "plausible": True,
        "glucose_band_mg_dl": [20.0, 1000.0],
        "problems": [],
    }


def test_a_flagged_run_is_recorded_by_a_sweep_as_implausible_not_ok(tmp_path, monkeypatch):
    from glucosim.sweep import load_sweep
    from glucosim.sweep.worker import STATUS_IMPLAUSIBLE, RunSpec, run_one
    from tests._sweep_helpers import write_sweep

    base = 'name = "b"\nduration_days = 2\n[[routine.meals]]\ntime_h = 8\ncarbs_g = 60\n'
    sweep = """
name = "t"
base_scenario = "base.toml"
seed = 1
[design]
kind = "grid"
[[variables]]
parameter = "insulin_sensitivity_whole_body"
unit = "1"
values = [1.0]
"""
    loaded = load_sweep(write_sweep(tmp_path, sweep, base))
    monkeypatch.setitem(plausibility.DAILY_BANDS, "max_glucose_mg_dl", (20.0, 60.0))  # every real day is above
    row, _ = run_one(loaded, RunSpec(0, 0, 0, (1.0,)), loaded.n_years)
    assert row["status"] == STATUS_IMPLAUSIBLE
    assert row["error"].startswith("implausible result: max_glucose_mg_dl")


def test_cli_flags_an_implausible_run_and_fails_it_under_strict(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from glucosim.cli import EXIT_IMPLAUSIBLE, main

    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\nduration_days = 2\n[[routine.meals]]\ntime_h = 8\ncarbs_g = 75\n')
    monkeypatch.setitem(plausibility.DAILY_BANDS, "max_glucose_mg_dl", (20.0, 60.0))  # every real day is above
    runner = CliRunner()
    flagged = runner.invoke(main, ["run", str(scenario), "--out", str(tmp_path / "a"), "--no-figures"])
    assert flagged.exit_code == 0 and "warning: implausible run" in flagged.output
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["plausibility"]["plausible"] is False
    strict = runner.invoke(main, ["run", str(scenario), "--out", str(tmp_path / "b"), "--no-figures", "--strict"])
    assert strict.exit_code == EXIT_IMPLAUSIBLE and "max_glucose_mg_dl" in strict.output


def test_clinic_cli_warns_when_a_test_leaves_the_band(tmp_path):
    from click.testing import CliRunner

    from glucosim.cli import EXIT_IMPLAUSIBLE, main

    path = tmp_path / "itt.toml"
    path.write_text(
        'name = "insulin only"\nkind = "fasting"\nduration_min = 240\nsample_every_min = 30\n'
        "[[actions]]\nat_min = 0\ninsulin_infusion_mU_m2_min = 1200\n"
    )
    result = CliRunner().invoke(main, ["clinic", str(path), "--subject", "healthy", "--strict"])
    assert result.exit_code == EXIT_IMPLAUSIBLE
    assert "implausible test (its indices are not meaningful)" in result.output and "glucose_mg_dl" in result.output


def test_carbohydrate_after_scaling_is_bounded_per_meal_and_per_day():
    # the reported run had 400 g meals x carbs_scale 3 (1,200 g per meal); it reached 6,700 mg/dl
    message = _scenario_error(scenario_dict(routine={"carbs_scale": 3.0, "meals": [{"time_h": 8, "carbs_g": 400}]}))
    assert "routine: a meal of 1200 g carbohydrate after carbs_scale 3" in message
    meals = [{"time_h": h, "carbs_g": 300} for h in (7, 11, 15, 19, 22)]
    assert "1500 g a day" in _scenario_error(scenario_dict(routine={"meals": meals, "carbs_scale": 1.1}))
    data = scenario_dict(duration_days=4, changes=[{"from_day": 2, "carbs_scale": 2.5}])
    data["routine"] = {"meals": [{"time_h": 8, "carbs_g": 200}]}
    assert "changes[0]: a meal of 500 g" in _scenario_error(data)


# ------------------------------------------------------------------ body weight (body mass index band)
def _weight_run(make_scenario, weight_kg: float, height_cm: float, surplus_kcal_per_day: float):
    import glucosim

    loaded = make_scenario(
        duration_days=365,
        subject={"preset": "healthy", "body_weight_kg": weight_kg, "parameters": {"height_cm": height_cm}},
        routine={"sleep_h": 8.0, "meals": THREE_MEALS, "energy_surplus_kcal_per_day": surplus_kcal_per_day},
    )
    return loaded, glucosim.simulate(loaded, progress=False).daily


def test_weight_starved_below_the_survival_bmi_is_flagged_before_the_fat_floor(make_scenario):
    """45 kg at 175 cm (BMI 14.7) eating 600 kcal/day below expenditure fell to 29 kg (BMI 9.6) within a year
    while its fat mass stayed above the starvation floor: the run reported success."""
    loaded, daily = _weight_run(make_scenario, 45.0, 175.0, -600.0)
    assert plausibility.check_run(daily, (), plausibility.starting_fat_mass_kg(loaded)).plausible  # the old check
    verdict = plausibility.check_run(daily, (), body=plausibility.starting_body(loaded))
    assert [problem["marker"] for problem in verdict.problems] == ["body_mass_index_kg_m2"]
    problem = verdict.problems[0]
    assert problem["allowed"] == [12.0, 100.0] and problem["worst"] < 12.0
    assert problem["first"] != "day 0"  # it started inside the band and crossed it


def test_simulate_flags_a_run_that_leaves_the_bmi_band(make_scenario):
    """The band is part of every run's verdict (summary.json), not only of check_run called by hand."""
    import glucosim

    loaded = make_scenario(
        duration_days=365,
        subject={"preset": "healthy", "body_weight_kg": 45.0, "parameters": {"height_cm": 175.0}},
        routine={"sleep_h": 8.0, "meals": THREE_MEALS, "energy_surplus_kcal_per_day": -600.0},
    )
    verdict = glucosim.simulate(loaded, progress=False).summary["plausibility"]
    assert verdict["plausible"] is False
    assert "body_mass_index_kg_m2" in [problem["marker"] for problem in verdict["problems"]]


def test_weight_gained_above_the_band_is_flagged(make_scenario):
    """200 kg at 150 cm (BMI 89) with 1,500 kcal/day of surplus passed BMI 100 within a year."""
    loaded, daily = _weight_run(make_scenario, 200.0, 150.0, 1500.0)
    verdict = plausibility.check_run(daily, (), body=plausibility.starting_body(loaded))
    assert [problem["marker"] for problem in verdict.problems] == ["body_mass_index_kg_m2"]
    assert verdict.problems[0]["worst"] > 100.0


def test_a_normal_weight_course_is_inside_the_band(make_scenario):
    loaded, daily = _weight_run(make_scenario, 75.0, 175.0, 300.0)
    assert plausibility.check_run(daily, (), body=plausibility.starting_body(loaded)).plausible


@pytest.mark.parametrize(("weight_kg", "height_cm", "bmi"), [(40.0, 200.0, "10"), (200.0, 140.0, "102")])
def test_a_subject_outside_the_bmi_band_at_the_start_is_refused(weight_kg, height_cm, bmi):
    message = _scenario_error(
        scenario_dict(subject={"body_weight_kg": weight_kg, "parameters": {"height_cm": height_cm}})
    )
    assert "bad.toml" in message and "subject.body_weight_kg" in message and "height_cm" in message
    assert f"body mass index of {bmi} kg/m^2" in message and "[12, 100]" in message


# ------------------------------------------------------------------ stacked protocol doses
@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        # ten 200-g drinks at minute 0 put 2 kg of glucose in the stomach; the run reported success
        ([{"at_min": 0, "oral_glucose_g": 200}] * 10, "oral_glucose_g doses add up to 2000 g"),
        # in sequence they add up too
        ([{"at_min": 0, "oral_glucose_g": 150}, {"at_min": 30, "oral_glucose_g": 100}], "add up to 250 g"),
        (
            [{"at_min": 0, "oral_glucose_g": 75}, *[{"at_min": 0, "iv_glucose_g_per_kg": 0.3}] * 2],
            "iv_glucose_g_per_kg doses add up to 0.6 g/kg",
        ),
        # two rates at one minute: the runner kept the last one silently
        (
            [
                {"at_min": 0, "oral_glucose_g": 75},
                {"at_min": 10, "insulin_infusion_mU_m2_min": 40},
                {"at_min": 10, "insulin_infusion_mU_m2_min": 1200},
            ],
            "actions[1] and actions[2] both set insulin_infusion_mU_m2_min at minute 10",
        ),
    ],
)
def test_stacked_protocol_doses_are_refused_naming_the_field_and_the_limit(actions, expected):
    message = _protocol_error({**OGTT, "actions": actions})
    assert "p.toml" in message and expected in message and "allowed:" in message


def test_an_instantaneous_bolus_is_refused():
    """A bolus over 1e-300 min was an infinite infusion rate: the solver failed at minute 450 naming no field."""
    ivgtt = {
        **OGTT,
        "kind": "ivgtt",
        "actions": [{"at_min": 0, "iv_glucose_g_per_kg": 0.3, "bolus_duration_min": 1e-300}],
    }
    message = _protocol_error(ivgtt)
    assert "actions[0].bolus_duration_min" in message and "greater than or equal to 0.5" in message


def test_a_clamp_adjusted_faster_than_a_glucose_analyser_is_refused():
    """interval_min = 1e-6 over a 600-min clamp was accepted: 6e8 control points, tens of GB before the first step."""
    clamp = {"name": "c", "kind": "clamp", "duration_min": 600, "samples_min": [0], "clamp": {"interval_min": 1e-6}}
    message = _protocol_error(clamp)
    assert "clamp.interval_min" in message and "greater than or equal to 1" in message


def test_doses_within_one_actions_limit_and_successive_rates_are_accepted():
    Protocol.model_validate(
        {
            **OGTT,
            "actions": [
                {"at_min": 0, "oral_glucose_g": 75},
                {"at_min": 60, "oral_glucose_g": 75},
                {"at_min": 0, "insulin_infusion_mU_m2_min": 40},
                {"at_min": 60, "insulin_infusion_mU_m2_min": 80},
                {"at_min": 60, "iv_glucose_mg_kg_min": 2},
            ],
        }
    )


def test_a_days_insulin_peak_beyond_any_meal_response_is_flagged():
    # a fuzz of accepted inputs (2026-12-03): a 30-g protein snack half an hour after breakfast peaked at 8,236
    # uU/ml in the insulin-resistant preset (the gut applied the snack's protein-to-carbohydrate ratio to the
    # breakfast still in it) and was a plain success: only fasting and mean insulin had bands
    verdict = plausibility.check_daily(_daily(max_insulin_uU_ml=[120.0, 8235.6]))
    assert [(p["marker"], p["first"]) for p in verdict.problems] == [("max_insulin_uU_ml", "day 1")]
    assert plausibility.check_daily(_daily(max_insulin_uU_ml=[120.0, 2800.0])).plausible  # extreme subjects' meals


def test_the_daily_table_has_the_days_insulin_peak():
    from glucosim.simulation.run import simulate

    scenario = parse_scenario(scenario_dict(duration_days=1, routine={"meals": THREE_MEALS}), source="test")
    daily = simulate(scenario, progress=False).daily
    assert daily["mean_insulin_uU_ml"].iloc[0] < daily["max_insulin_uU_ml"].iloc[0] < 200.0
