"""Clinic crashes and a runaway clamp found by fuzzes of accepted inputs (2026-12-03): each crashing input now runs,
an index the test cannot define is NaN (``null`` in clinic.json) instead of a traceback, clamp settings that run the
controller away are refused, and clinic.json carries the verdict on its samples."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glucosim
from glucosim.clinic import analysis
from glucosim.clinic.minimal_model import fit_minimal_model
from glucosim.clinic.runner import run_protocol
from glucosim.scenario.load import parse_scenario
from tests.conftest import scenario_dict


def _loaded(**overrides):
    return parse_scenario(scenario_dict(**overrides), source="<test>")


def test_meal_at_midnight_with_a_clinic_visit_runs():
    """F2: a first meal at 00:00 puts the morning test at minute 0, so the overnight fast before it has zero length;
    it was integrated anyway and the solver refused the empty segment (ValueError) on every clinic path."""
    meals = [{"time_h": 0.0, "carbs_g": 50}, {"time_h": 12.0, "carbs_g": 80}]
    result = glucosim.simulate(
        _loaded(routine={"meals": meals}, clinic=[{"protocol": "ogtt_75g", "at_years": [0.0]}]), progress=False
    )
    (visit,) = result.summary["clinic"]
    assert visit["indices"]["two_hour_glucose_mg_dl"] > 0.0
    assert result.summary["plausibility"]["plausible"]
    # the test starts straight from the midnight state: as with a first meal 1/1024 h (~0.06 min) later
    at_midnight = run_protocol("fasting", _loaded(routine={"meals": meals})).indices
    just_after = run_protocol("fasting", _loaded(routine={"meals": [{**meals[0], "time_h": 1 / 1024}, meals[1]]}))
    assert at_midnight["fasting_glucose_mg_dl"] == pytest.approx(just_after.indices["fasting_glucose_mg_dl"], rel=1e-4)
    assert at_midnight["fasting_insulin_uU_ml"] == pytest.approx(just_after.indices["fasting_insulin_uU_ml"], rel=1e-3)


# a fat load with almost no carbohydrate before a large fatty dinner: until the gut carried each meal's composition
# (2026-12-04) the load's ratio relabelled the dinner and held the next morning's liver output at 0 (F3)
FATTY_DINNER_MEALS = [{"time_h": 5.0, "carbs_g": 1, "fat_g": 150}, {"time_h": 17.0, "carbs_g": 291, "fat_g": 150}]


def _clamp_samples(liver_output, insulin):
    n = len(liver_output)
    return pd.DataFrame(
        {
            "time_min": [0.0, 40.0, 80.0, 100.0, 120.0][:n],
            "glucose_mg_dl": 90.0,
            "insulin_uU_ml": insulin,
            "nefa_mmol_l": 0.5,
            "iv_glucose_mg_kg_min": [0.0, 5.0, 7.0, 8.0, 9.0][:n],
            "liver_output_mg_kg_min": liver_output,
            **{f"{tissue}_uptake_mg_kg_min": 1.0 for tissue in ("muscle", "adipose", "brain", "splanchnic", "liver")},
        }
    )


def test_clamp_suppression_of_a_zero_basal_liver_output_is_nan():
    """F3: 100 (1 - clamp / basal) with a basal liver output of 0 raised ZeroDivisionError; undefined is NaN (as the
    insulinogenic index at an unchanged glucose), the other indices stay."""
    found = analysis.clamp_indices(_clamp_samples([0.0] * 5, [8.0, 90.0, 100.0, 100.0, 100.0]), 80.0)
    assert math.isnan(found["liver_output_suppression_percent"])
    assert found["m_value_mg_kg_min"] == pytest.approx(8.0) and found["m_over_i"] == pytest.approx(0.08)
    # M/I at a steady-state insulin of 0 is undefined the same way
    assert math.isnan(analysis.clamp_indices(_clamp_samples([2.0] * 5, 0.0), 80.0)["m_over_i"])


def test_clamp_visit_after_a_fatty_dinner_is_defined_since_the_gut_carries_each_meals_fat():
    """F3 end to end. Until the gut carried each meal's composition with its food (2026-12-04), the 05:00 fat
    load's ratio (150 g fat per g of carbohydrate) relabelled the 291-g dinner still in the gut, the fat brake held
    the stomach and the clamp morning's liver output was 0, so its suppression was undefined (null; the analysis
    of that case is the unit test above). Now the morning is an ordinary one."""
    result = glucosim.simulate(
        _loaded(routine={"meals": FATTY_DINNER_MEALS}, clinic=[{"protocol": "clamp_40mU", "at_years": [0.0]}]),
        progress=False,
    )
    (visit,) = result.summary["clinic"]
    assert visit["indices"]["basal_liver_output_mg_kg_min"] > 0.5
    assert 0.0 < visit["indices"]["liver_output_suppression_percent"] <= 100.0
    assert visit["indices"]["m_value_mg_kg_min"] > 0.0
    assert result.summary["plausibility"]["plausible"]


IVGTT_TIMES = [0, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 19, 22, 25, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 160, 180]


def test_minimal_model_fit_of_samples_it_cannot_model_is_nan_with_a_reason():
    """F4: a basal insulin far above the test's insulin drives the model's remote insulin action X so negative that
    its glucose overflows; scipy then raised ValueError (non-finite residuals or Jacobian). The fit is NaN with the
    reason instead."""
    t = np.array(IVGTT_TIMES, float)
    glucose = 90.0 + 160.0 * np.exp(-t / 30.0) * (t > 0)
    insulin = np.where(t > 0, 10.0, 1e6)
    fit = fit_minimal_model(t, glucose, insulin)
    assert fit.failure.startswith("the fit from SI = ")
    assert all(math.isnan(v) for v in (fit.si_per_min_per_uU_ml, fit.sg_per_min, fit.rms_relative_error))
    # a glucose the relative residuals and log bounds cannot take
    assert "not positive" in fit_minimal_model(t, np.where(t > 0, glucose, 0.0), np.full(len(t), 10.0)).failure
    found = analysis.ivgtt_indices(
        pd.DataFrame({"time_min": t, "glucose_mg_dl": glucose, "insulin_uU_ml": insulin, "nefa_mmol_l": 0.5})
    )
    assert found["minimal_model_fit"].startswith("not fitted (the fit from SI = ")
    assert math.isnan(found["si_1e4_per_min_per_uU_ml"]) and math.isnan(found["disposition_index"])
    assert math.isfinite(found["air_glucose_uU_ml"])  # read from the samples, not the fit


def test_ivgtt_after_a_late_protein_snack_is_fitted_since_the_gut_carries_each_meals_protein():
    """F4 end to end (/work/fuzz/repro/f3_ivgtt_after_protein_snack.toml). Until the gut carried each meal's
    composition with its food (2026-12-04), the 23:30 snack's 150 g of protein per g of carbohydrate relabelled the
    fat-braked lunch still in the stomach: 1.4 million uU/ml of insulin that day, a fasting insulin of ~10,000 at the
    IVGTT, whose fit failed (the analysis of that case is the unit test above) and the run was flagged. Now the
    snack's protein is 150 g, as eaten, and the day is plausible. The fuzzer's day held 7,550 kcal of meals, more
    than the stomach empties in a day (7,200 kcal at gastric_energy_emptying_max 5 kcal/min), which a scenario may no
    longer hold (schema.meal_energy_problem); the 14:00 meal's fat is 250 g here instead of 300 (7,100 kcal), so
    lunch is still fat-braked when the snack comes."""
    meals = [
        {"time_h": 2.0, "carbs_g": 1},
        {"time_h": 10.0, "carbs_g": 178, "fat_g": 234},
        {"time_h": 14.0, "carbs_g": 178, "fat_g": 250},
        {"time_h": 17.0, "carbs_g": 178},
        {"time_h": 23.5, "carbs_g": 1, "protein_g": 150},
    ]
    data = {
        "name": "IVGTT after a late protein snack",
        "duration_days": 1,
        "subject": {"parameters": {"glucagon_output_effect": 0.05}},
        "routine": {"meals": meals},
        "clinic": [{"protocol": "ivgtt_0.3g", "at_years": [0.0]}],
    }
    result = glucosim.simulate(parse_scenario(data, source="<test>"), progress=False)
    (visit,) = result.summary["clinic"]
    assert visit["indices"]["minimal_model_fit"] == "fitted"
    assert visit["indices"]["si_1e4_per_min_per_uU_ml"] > 0.0
    assert result.summary["plausibility"]["plausible"]
    assert result.daily["max_insulin_uU_ml"].iloc[0] < 300.0
    day = result.trace(0)
    before_snack = day[day["clock_h"] < 23.5].iloc[-1]
    assert before_snack["stomach_fat_mg_kg"] > 1000.0  # lunch's fat is still in the stomach (~400 g) at the snack


@pytest.mark.xfail(
    strict=True,
    reason="known since the second phase's slow part (2026-12-07, twenty-eighth session; CHANGELOG): the minimal "
    "model fitted to the healthy preset's IVGTT puts SG on the search's lower bound (SI 3.9, not identified): the "
    "later second phase lets insulin carry the whole disappearance",
)
def test_ivgtt_of_a_healthy_subject_is_fitted():
    index = run_protocol("ivgtt_0.3g", "healthy").indices
    assert index["minimal_model_fit"] == "fitted" and index["si_1e4_per_min_per_uU_ml"] > 0.0


@pytest.mark.parametrize(
    "settings, field",
    [
        (
            {"damping_mg_kg_min_per_mg_dl": 5.0},
            "damping_mg_kg_min_per_mg_dl x interval_min = 5.0 x 5.0 = 25 must be at most 2.5",
        ),
        (
            {"gain_mg_kg_min_per_mg_dl": 0.6},
            "gain_mg_kg_min_per_mg_dl x interval_min = 0.6 x 5.0 = 3 must be at most 2.5",
        ),
    ],
)
def test_clamp_settings_that_run_the_controller_away_are_refused(tmp_path, settings, field):
    # a fuzz of protocol files (2026-12-03): damping 5 (the field's maximum) drove glucose to 1.5e9 mg/dl and
    # `glucosim clinic` exited 0; gain x interval of 5 kept glucose oscillating around a 400-mg/dl target for 10 h
    from glucosim.clinic.protocol import load_protocol
    from glucosim.errors import GlucosimError

    text = (Path(__file__).resolve().parents[1] / "protocols" / "clamp_40mU.toml").read_text()
    clamp = "".join(f"\n{key} = {value}" for key, value in settings.items())
    text = text.replace("interval_min = 5\n", "") + clamp + "\n"
    path = tmp_path / "clamp.toml"
    path.write_text(text)
    with pytest.raises(GlucosimError) as error:
        load_protocol(path)
    assert str(path) in str(error.value) and field in str(error.value)


def test_clinic_json_carries_the_verdict_on_its_samples(tmp_path):
    # `glucosim clinic` warned on the terminal only; its clinic.json read as a plain result
    from glucosim.clinic.protocol import load_protocol
    from glucosim.clinic.runner import ClinicResult

    samples = pd.DataFrame({"time_min": [0.0, 5.0], "glucose_mg_dl": [88.0, 1.5e9], "insulin_uU_ml": [90.0, 95.0]})
    result = ClinicResult(load_protocol("clamp_40mU"), "healthy", 0, samples, {"m_value_mg_kg_min": 9.0})
    saved = json.loads(result.save(tmp_path)["json"].read_text())
    assert saved["plausibility"]["plausible"] is False
    assert [problem["marker"] for problem in saved["plausibility"]["problems"]] == ["glucose_mg_dl"]


def test_a_refused_cli_number_is_shown_as_given():
    # "--oral-glucose-g 200.0001" was refused as "must be <= 200, got 200"
    from click.testing import CliRunner

    from glucosim.cli import main

    outcome = CliRunner().invoke(main, ["export-sbml", "--oral-glucose-g", "200.0001", "--out", "x.xml"])
    assert outcome.exit_code == 2
    assert "must be <= 200, got 200.0001" in outcome.output


def test_the_verdict_is_strict_json_when_a_sample_is_not_finite(tmp_path):
    # the verdict's worst value went into clinic.json and summary.json as a NaN or Infinity token
    from glucosim.clinic.protocol import load_protocol
    from glucosim.clinic.runner import ClinicResult

    samples = pd.DataFrame({"time_min": [0.0, 5.0], "glucose_mg_dl": [88.0, np.inf], "insulin_uU_ml": [90.0, np.nan]})
    result = ClinicResult(load_protocol("clamp_40mU"), "healthy", 0, samples, {})
    text = result.save(tmp_path)["json"].read_text()
    saved = json.loads(text, parse_constant=lambda token: pytest.fail(f"{token} in clinic.json"))
    assert [problem["worst"] for problem in saved["plausibility"]["problems"]] == [None, None]
