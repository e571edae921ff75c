"""The course targets of beta-cell decline (validation/course/) and how their quantities are read off a run."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from glucosim.calibration.course import MEASURES, course_measures, load_course_targets, objective


def test_course_targets_load_and_name_known_measures():
    targets = load_course_targets()
    assert {target.kind for target in targets} == {"fit", "validation"}
    for target in targets:
        assert target.measure in MEASURES
        assert target.low <= target.published <= target.high and target.spread > 0
        assert len(target.source) > 40


def _daily(fasting):
    fasting = np.asarray(fasting, dtype=float)
    return pd.DataFrame(
        {"fasting_glucose_mg_dl": fasting, "hba1c_percent": (fasting + 46.7) / 28.7, "homa_b": 100.0 - 0.1 * fasting}
    )


def test_course_measures_read_the_diagnosis_and_the_years_around_it():
    days = np.arange(int(15 * 365.25))
    fasting = 90.0 + 3.0 * days / 365.25  # +3 mg/dl a year: 100 at year 3.3, 126 at year 12
    measures = course_measures(_daily(fasting))
    assert measures["diagnosis_year"] == pytest.approx(12.0, abs=0.01)
    assert measures["years_fasting_100_to_126"] == pytest.approx(26.0 / 3.0, abs=0.01)
    # a 30-day trailing mean lags half a month: 126 - 9 = 117 less ~0.12
    assert measures["fasting_glucose_3y_before_diagnosis_mg_dl"] == pytest.approx(117.0, abs=0.3)
    assert math.isnan(measures["fasting_glucose_rise_1_to_6y_after_diagnosis_mg_dl"])  # the run ends too soon


def test_the_ukpds_readings_count_from_randomisation_after_the_presentation_hba1c():
    """UKPDS's patients presented at a median HbA1c of 9.1 % (UKPDS 49) and its years run from randomisation, 3
    months later: with a protocol table, the readings after diagnosis are taken on those days, not the diagnosis's."""
    from glucosim.calibration.course import UKPDS_PRESENTATION_HBA1C_PERCENT, UKPDS_RUN_IN_DAYS, presentation_day

    days = np.arange(int(30 * 365.25))
    daily = _daily(90.0 + 6.0 * days / 365.25)  # 126 mg/dl at year 6; HbA1c (fasting + 46.7) / 28.7: 9.1 at ~20.8
    onset = int(np.argmax(daily["fasting_glucose_mg_dl"].to_numpy() >= 126.0))
    presented = presentation_day(daily)
    hba1c = daily["hba1c_percent"].to_numpy()
    assert presented is not None and presented > onset
    assert hba1c[presented] >= UKPDS_PRESENTATION_HBA1C_PERCENT > hba1c[presented - 1]
    protocol = _daily(np.arange(len(days), dtype=float))  # a table whose value is its day
    measures = course_measures(daily, after_diagnosis=protocol)
    # the fasting glucose is a 30-day trailing mean: its value on a day is that day less 14.5
    year_one = presented + UKPDS_RUN_IN_DAYS + 365.25
    assert measures["fasting_glucose_1y_after_diagnosis_mg_dl"] == pytest.approx(round(year_one) - 14.5)
    assert measures["fasting_glucose_rise_1_to_6y_after_diagnosis_mg_dl"] == pytest.approx(5 * 365.25, abs=1.0)
    assert measures["diagnosis_year"] * 365.25 == pytest.approx(onset)  # the diagnosis is still the 126 crossing
    # the run-in: the untreated table at the presentation against the protocol table on the run-in's last day
    fasting_untreated = daily["fasting_glucose_mg_dl"].rolling(30, min_periods=1).mean().to_numpy()
    last_run_in_day = presented + UKPDS_RUN_IN_DAYS - 1
    assert measures["fasting_glucose_change_over_run_in_mg_dl"] == pytest.approx(
        last_run_in_day - 14.5 - fasting_untreated[presented]
    )
    assert measures["hba1c_change_over_run_in_points"] == pytest.approx(
        protocol["hba1c_percent"].iloc[last_run_in_day] - hba1c[presented]
    )
    # a run that is diagnosed but never presents reads nothing after diagnosis
    never = course_measures(_daily(np.minimum(90.0 + 6.0 * days / 365.25, 150.0)), after_diagnosis=protocol)
    assert math.isnan(never["hba1c_1y_after_diagnosis_percent"]) and math.isfinite(never["diagnosis_year"])


def test_a_course_that_never_presents_scores_infinitely_badly(monkeypatch):
    """A subject diagnosed but never at UKPDS's presentation HbA1c (course_runs gives no protocol table) reads nothing
    after diagnosis, so the grid cannot take it for a good point (read from the untreated run, as course_measures
    does without a protocol table, it scored better than the shipped point: a review of 2026-12-06)."""
    import glucosim
    import glucosim.calibration.course as course

    days = np.arange(int(20 * 365.25))
    daily = _daily(np.minimum(90.0 + 6.0 * days / 365.25, 150.0))  # diagnosed at year 6, HbA1c never 9.1 %
    daily["renal_excretion_mg_kg_day"] = 0.0
    assert course.diagnosis_day(daily) is not None and course.presentation_day(daily) is None
    loaded = glucosim.load_scenario(SCENARIO_03)
    monkeypatch.setattr(course, "course_runs", lambda scenario, **parameters: (loaded, daily, None))
    targets = [target for target in load_course_targets() if not target.measure.startswith("stage_two_")]
    values = course.evaluate_course(targets)
    for name in course.AFTER_DIAGNOSIS:
        assert math.isnan(values[SCENARIO_03][name]), name
    assert math.isfinite(values[SCENARIO_03]["fasting_glucose_3y_before_diagnosis_mg_dl"])
    assert objective(targets, values) == math.inf


def test_a_run_without_diagnosis_scores_infinitely_badly():
    measures = course_measures(_daily(np.full(400, 95.0)))
    assert all(math.isnan(value) for value in measures.values())
    targets = load_course_targets()
    assert objective(targets, {target.scenario: measures for target in targets}) == math.inf


NO_DRIFT_SENSITIVITY = 0.29
"""Whole-body sensitivity at which scenario 3's subject with a reserve of 2 (beta_function_max; the population
fit's start, validation/targets/population/dpp.toml; nothing here depends on the refitted cohort's median,
models/cohorts/prediabetic.toml) and DPP baseline weight has a fasting glucose of ~105 mg/dl (the DPP's enrolled:
106.5 mg/dl): 104.7 mg/dl after its first month at 0.29 (0.27: 106.7, 0.25: 108.8; measured 2026-12-06). 0.21
until the second phase's intravenous dose-response with its carbohydrate incretin (2026-12-06), which starts at
~114 mg/dl now: the subject needs more sensitivity for the same glucose."""


def test_prediabetes_without_drift_stays_prediabetic_for_years():
    """Whitehall II non-converters: fasting glucose follows a flat linear trend (Tabak 2009 Lancet 373:2215);
    Weir & Bonner-Weir 2004 (Diabetes 53 Suppl 3:S16): fasting glucose 5.0-6.5 mmol/l is a stable stage of
    beta-cell adaptation. Without a worsening of sensitivity prediabetes holds: at most ~2 mg/dl a year."""
    import tomllib

    import glucosim
    from glucosim.simulation.markers import FASTING_GLUCOSE_DIABETES_MG_DL, FASTING_GLUCOSE_PREDIABETES_MG_DL

    scenario = tomllib.loads(
        (Path(__file__).resolve().parents[1] / "scenarios" / "03_insulin_resistance_low_reserve.toml").read_text()
    )
    scenario["duration_years"] = 3
    scenario["routine"]["drift"]["whole_body_per_year"] = 0.0
    scenario.pop("clinic", None)
    daily = glucosim.simulate(
        scenario,
        progress=False,
        resolution="envelope",
        insulin_sensitivity_whole_body=NO_DRIFT_SENSITIVITY,
        beta_function_max=2.0,
        body_weight=93.5,
    ).daily
    fasting = daily["fasting_glucose_mg_dl"].rolling(30, min_periods=1).mean().to_numpy()
    start, end = fasting[29], fasting[-1]
    assert FASTING_GLUCOSE_PREDIABETES_MG_DL + 2.0 <= start <= 110.0  # enrolled like the DPP's
    assert fasting.max() < FASTING_GLUCOSE_DIABETES_MG_DL
    assert end - start <= 2.0 * 3  # at most 2 mg/dl a year


def test_prediabetes_at_110_without_drift_holds_as_weir_and_bonner_weir_stage_2():
    """Weir & Bonner-Weir 2004 (Diabetes 53 Suppl 3:S16): fasting glucose 5.0-6.5 mmol/l (90-117 mg/dl) is the
    stable stage of beta-cell adaptation. A low-reserve subject (beta_function_max 1.4, the DPP cohort's enrolled)
    at ~110 mg/dl without a drift of sensitivity moves at most ~2 mg/dl a year. It holds because function grows at
    nearly its full rate until close to its reserve (beta_function_cap_sharpness), so a small glucotoxic load no
    longer pulls it off the cap against a vanishing restoring force, and the glucotoxic half-maximum sits at a mean
    glucose of 135 mg/dl (134 until 2026-12-05, 136 until 2026-12-04 night); what moves it is the slow,
    demand-driven loss of mass (beta_mass_workload_rate). Was a
    strict xfail until 2026-12-02 (110 -> 128 -> 140 -> 145 mg/dl at years 0-3). The course grid fits this
    quantity (validation/course/beta_cell_decline.toml, stage_two_stable_without_drift), so it is fit-informed."""
    from glucosim.calibration.course import STAGE_TWO_YEARS, stage_two_measures, stage_two_run

    # the course fit's own subject and measure (defined once, in calibration/course.py)
    measured = stage_two_measures(stage_two_run("03_insulin_resistance_low_reserve"))
    assert 108.0 <= measured["stage_two_start_mg_dl"] <= 113.0  # in the upper half of stage 2
    assert measured["stage_two_fasting_change_mg_dl_per_year"] * STAGE_TWO_YEARS <= 2.0 * 3


SCENARIO_03 = "03_insulin_resistance_low_reserve"


def _scenario_03(**routine) -> dict:
    """Scenario 03's file as a dict, its routine updated by ``routine``."""
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parents[1] / "scenarios" / f"{SCENARIO_03}.toml").read_text())
    data["routine"] |= routine
    return data


DIET_DAY = 1000


@pytest.mark.parametrize(
    "case",
    [
        "as shipped",
        "carbs_scale 1.3",  # compile.py scales each meal's carbohydrate: the shares and energy count it
        "meals and other food changed on day 500",  # the diet is built on the routine in force on its first day
    ],
)
def test_diet_therapy_is_the_ukpds_diet_scaled_by_the_protocol_fractions(case):
    """UKPDS 7's advice (50 % carbohydrate, 30 % fat, 20 % protein) on each meal of the routine in force on the
    diet's first day, the carbohydrate and times kept, and the rest of the diet cut so the day's energy, as the
    compiled scenario eats it, is the day before's (``diet_therapy_routine``); the protocol eats it with every food
    scaled, by the run-in's fraction for 3 months and then by the weight-holding one."""
    import glucosim
    from glucosim.calibration.course import (
        UKPDS_DIET_ENERGY_SHARES,
        UKPDS_RUN_IN_DAYS,
        UKPDS_RUN_IN_INTAKE_FRACTION,
        UKPDS_WEIGHT_HOLD_INTAKE_FRACTION,
        diet_therapy_routine,
        diet_therapy_scenario,
    )
    from glucosim.physiology.body import meal_energy_kcal
    from glucosim.scenario.compile import ScenarioProgram

    if case == "as shipped":
        loaded = glucosim.load_scenario(SCENARIO_03)
    elif case == "carbs_scale 1.3":
        loaded = glucosim.load_scenario(_scenario_03(carbs_scale=1.3))
    else:
        data = _scenario_03()
        data["changes"] = [
            {
                "from_day": 500,
                "label": "smaller meals with some fat, less other food",
                "meals": [
                    {"time_h": 8.0, "carbs_g": 50.0, "fat_g": 10.0},
                    {"time_h": 13.0, "carbs_g": 70.0, "fat_g": 10.0},
                    {"time_h": 19.5, "carbs_g": 70.0, "fat_g": 10.0},
                ],
                "other_food_kcal_per_day": 1200.0,
            }
        ]
        loaded = glucosim.load_scenario(data)
    p = loaded.parameters
    before = ScenarioProgram(loaded).routine_on(DIET_DAY - 1)
    routine = diet_therapy_routine(loaded, DIET_DAY)
    assert [m["time_h"] for m in routine["meals"]] == [m.time_h for m in before.meals]
    assert [m["carbs_g"] for m in routine["meals"]] == [m.carbs_g for m in before.meals]
    for meal in routine["meals"]:
        carbs_g = meal["carbs_g"] * before.carbs_scale  # as eaten (scenario/compile.py)
        kcal = meal_energy_kcal(carbs_g, meal["fat_g"], meal["protein_g"], p)
        eaten = {"carbs_g": carbs_g, "fat_g": meal["fat_g"], "protein_g": meal["protein_g"]}
        for name, share in UKPDS_DIET_ENERGY_SHARES.items():
            alone = {"carbs_g": 0.0, "fat_g": 0.0, "protein_g": 0.0} | {name: eaten[name]}
            assert meal_energy_kcal(alone["carbs_g"], alone["fat_g"], alone["protein_g"], p) == pytest.approx(
                share * kcal
            )
    diet = diet_therapy_scenario(loaded, DIET_DAY)
    run_in, held = diet.scenario.changes[-2:]  # from that day: the diet, sensitivity held; 3 months on: the weight held
    assert run_in.start_day == DIET_DAY and run_in.drift is not None and run_in.drift.whole_body_per_year == 0.0
    assert held.start_day == DIET_DAY + UKPDS_RUN_IN_DAYS and held.drift is None  # the drift stays stopped
    for change, fraction in ((run_in, UKPDS_RUN_IN_INTAKE_FRACTION), (held, UKPDS_WEIGHT_HOLD_INTAKE_FRACTION)):
        # the same diet, every food scaled: its shares and meal times kept
        assert change.meals is not None and [meal.time_h for meal in change.meals] == [m.time_h for m in before.meals]
        for meal, advised in zip(change.meals, routine["meals"], strict=True):
            assert (meal.carbs_g, meal.fat_g, meal.protein_g) == pytest.approx(
                (advised["carbs_g"] * fraction, advised["fat_g"] * fraction, advised["protein_g"] * fraction)
            )
        assert change.other_food_kcal_per_day == pytest.approx(routine["other_food_kcal_per_day"] * fraction)
    # the food energy, as the compiled scenario eats it: the run-in's first day and the first day after it against the
    # day before the diet (day 0 too when nothing changed before the diet)
    program = ScenarioProgram(diet)
    before_kcal = program.day_plan(DIET_DAY - 1).food_energy_kcal_day
    assert program.routine_on(DIET_DAY).meals[0].protein_g > 0.0  # the diet is in force
    on_run_in = program.day_plan(DIET_DAY).food_energy_kcal_day
    assert on_run_in == pytest.approx(UKPDS_RUN_IN_INTAKE_FRACTION * before_kcal, rel=1e-12)
    on_diet = program.day_plan(DIET_DAY + UKPDS_RUN_IN_DAYS).food_energy_kcal_day
    assert on_diet == pytest.approx(UKPDS_WEIGHT_HOLD_INTAKE_FRACTION * before_kcal, rel=1e-12)
    if case != "meals and other food changed on day 500":
        assert before_kcal == pytest.approx(program.day_plan(0).food_energy_kcal_day, rel=1e-12)


def test_the_diet_therapy_run_reaches_the_last_reading_after_a_late_presentation():
    """The UKPDS readings are counted from randomisation, 3 months after the presentation (the last 6 years on): a
    presentation late in scenario 03's 20 years lengthens the diet-therapy run to reach it, an early one leaves the
    scenario's length as it is. (Cut off at the scenario's end, a diagnosis after year 14 read as no 6-year value, and
    the course grid took such points for infeasible.)"""
    import glucosim
    from glucosim.calibration.course import AFTER_RANDOMISATION_REACH_DAYS, UKPDS_RUN_IN_DAYS, diet_therapy_scenario
    from glucosim.physiology.units import DAYS_PER_YEAR, MINUTES_PER_DAY

    loaded = glucosim.load_scenario(_scenario_03())
    scenario_days = loaded.scenario.duration_min / MINUTES_PER_DAY
    early = diet_therapy_scenario(loaded, DIET_DAY)
    assert early.scenario.duration_min == loaded.scenario.duration_min
    late_day = int(15 * DAYS_PER_YEAR)
    late = diet_therapy_scenario(loaded, late_day).scenario
    randomisation = late_day + UKPDS_RUN_IN_DAYS
    assert late.duration_min / MINUTES_PER_DAY == randomisation + AFTER_RANDOMISATION_REACH_DAYS > scenario_days
    # course_measures reads the 6-year value at day round(randomisation + 6 years): that day is inside the run
    assert late.duration_min / MINUTES_PER_DAY > round(randomisation + 6 * DAYS_PER_YEAR)
    assert late.changes[-2].start_day == late_day  # the diet from the presentation


@pytest.mark.slow
def test_a_late_diagnosis_gives_finite_values_six_years_on():
    """Scenario 03 is diagnosed at year ~15.1 of its 20 (since the course's threshold moved to 142, 2026-12-06):
    the course reads its UKPDS values 6 years on, beyond the scenario's end, where it read none until 2026-12-05
    (and the grid called such a point infeasible)."""
    from glucosim.calibration.course import course_measures, course_runs, diagnosis_day
    from glucosim.physiology.indices import Par
    from glucosim.physiology.units import DAYS_PER_YEAR

    loaded, daily, after = course_runs(SCENARIO_03)
    onset = diagnosis_day(daily)
    assert onset is not None and onset + 6 * DAYS_PER_YEAR > len(daily)  # beyond the scenario's own run
    measures = course_measures(daily, float(loaded.parameters[Par.body_weight]), after)
    for name in ("hba1c_6y_after_diagnosis_percent", "fasting_glucose_rise_1_to_6y_after_diagnosis_mg_dl"):
        assert np.isfinite(measures[name]), name


def test_diet_therapy_refuses_a_diet_that_needs_more_energy_than_the_other_food_provides():
    """Scenario 03's meals (220 g of carbohydrate, 880 kcal) gain ~880 kcal of fat and protein under the UKPDS diet;
    with only 300 kcal/day of other food the day's energy cannot stay the same, and it says so."""
    import glucosim
    from glucosim.calibration.course import diet_therapy_routine, diet_therapy_scenario
    from glucosim.errors import CalibrationError

    loaded = glucosim.load_scenario(_scenario_03(other_food_kcal_per_day=300.0))
    for build in (diet_therapy_routine, diet_therapy_scenario):
        with pytest.raises(
            CalibrationError, match=r"(?s)Insulin-resistance drift.*more energy than the rest of the diet"
        ):
            build(loaded, DIET_DAY)


def test_the_post_diagnosis_quantities_are_read_off_the_protocol_run_from_randomisation():
    """The run under the UKPDS conventional arm's protocol is the scenario's own up to the presentation (HbA1c 9.1 %,
    after the diagnosis), then differs; the quantities after diagnosis (and only those) are read from it, counted from
    randomisation 3 months later. The run-in takes the subject 4.5 kg down by randomisation (UKPDS 45), and the diet
    holds the new weight after it."""
    import glucosim
    from glucosim.calibration.course import (
        AFTER_DIAGNOSIS,
        UKPDS_PRESENTATION_HBA1C_PERCENT,
        UKPDS_RUN_IN_DAYS,
        UKPDS_RUN_IN_WEIGHT_LOSS_KG,
        course_runs,
        diagnosis_day,
        presentation_day,
    )

    loaded, daily, after = course_runs(SCENARIO_03)
    onset, presented = diagnosis_day(daily), presentation_day(daily)
    assert onset is not None and presented is not None and presented > onset
    hba1c = daily["hba1c_percent"].to_numpy()
    assert hba1c[presented] >= UKPDS_PRESENTATION_HBA1C_PERCENT > hba1c[presented - 1]
    before = slice(0, presented)
    # a presentation after year 14 lengthens the protocol run past the scenario's 20 years, and a longer run's solver
    # steps fall elsewhere (0.022 mg/dl apart before the diagnosis, measured 2026-12-05; the diagnosis a day apart,
    # 5330 against 5331, on 2026-12-07): the reference for "the scenario's own" is the scenario run as long, without
    # the protocol
    same_length = glucosim.load_scenario(loaded, duration_days=len(after)) if len(after) != len(daily) else loaded
    own = glucosim.simulate(same_length, progress=False).daily
    assert diagnosis_day(after) == diagnosis_day(own)
    assert abs(diagnosis_day(own) - onset) <= 1
    # the days both runs simulated in full are the same days; the envelope interpolates the others between its
    # simulated days, and the protocol's change of routine at the presentation is a landmark the scenario's own run
    # does not have, so the days just before it are interpolated between other simulated days (the envelope's steps
    # are ~50 days long there: the last day both simulated was 52 days before the presentation, 2026-12-06)
    simulated = ~(after["interpolated"][before].to_numpy() | own["interpolated"][before].to_numpy())
    assert simulated.sum() > 50 and np.nonzero(simulated)[0][-1] > presented - 90
    np.testing.assert_allclose(
        after["fasting_glucose_mg_dl"][before][simulated], own["fasting_glucose_mg_dl"][before][simulated], atol=1e-9
    )
    randomisation = presented + UKPDS_RUN_IN_DAYS
    weight = after["weight_change_kg"].to_numpy()
    assert weight[presented] - weight[randomisation] == pytest.approx(UKPDS_RUN_IN_WEIGHT_LOSS_KG, abs=0.25)
    a_year = randomisation + 365
    assert abs(weight[a_year] - weight[randomisation]) < 0.5  # held
    assert abs(after["hba1c_percent"].iloc[a_year] - own["hba1c_percent"].iloc[a_year]) > 0.1  # the diet acts
    measured, as_it_is = course_measures(daily, 90.0, after), course_measures(daily, 90.0)
    assert set(AFTER_DIAGNOSIS) < set(as_it_is) <= set(MEASURES)
    assert measured["hba1c_1y_after_diagnosis_percent"] == after["hba1c_percent"].iloc[round(randomisation + 365.25)]
    for name in as_it_is:
        if name in AFTER_DIAGNOSIS:  # all read within the protocol run, which reaches the 6-year reading
            assert math.isfinite(measured[name]), name
            # the scenario as it is (read from the diagnosis) runs 20 years and ends before the 6-year readings
            # (diagnosis at year ~15.1): a reading inside it is there and differs, one beyond its end is not there
            reading_day = onset + (6 if "_6y_" in name else 1) * 365.25
            if reading_day < len(daily):
                assert math.isfinite(as_it_is[name]) and measured[name] != as_it_is[name], name
            else:
                assert math.isnan(as_it_is[name]), name
        elif not math.isnan(as_it_is[name]):
            assert measured[name] == as_it_is[name], name
