"""The clinical formulas against published worked examples and reference values.

Each expected number comes from the cited publication (or, where marked, is
worked by hand from the publication's definition for the stated inputs), never
from glucosim's own code, so a changed constant, unit or sample window fails.
"""

import numpy as np
import pandas as pd
import pytest

from glucosim.clinic import analysis
from glucosim.simulation import markers


def _samples(times, glucose, insulin, **columns):
    return pd.DataFrame(
        {"time_min": times, "glucose_mg_dl": glucose, "insulin_uU_ml": insulin, "nefa_mmol_l": 0.5, **columns}
    )


# ------------------------------------------------------------------ HOMA1
def test_homa_reference_subject_has_ir_1_and_b_100_percent():
    """Wallace, Levy & Matthews 2004 Diabetes Care 27:1487 (after Matthews 1985 Diabetologia 28:412): the
    model is calibrated so that a normal young adult, fasting insulin 5 uU/ml and glucose 4.5 mmol/l, has
    HOMA-IR 1 (22.5 = 5 x 4.5) and HOMA-%B 100 %."""
    glucose_mg_dl = 4.5 * 18.016  # 4.5 mmol/l
    assert markers.homa_ir(glucose_mg_dl, 5.0) == pytest.approx(1.0, rel=1e-9)
    assert markers.homa_b(glucose_mg_dl, 5.0) == pytest.approx(100.0, rel=1e-9)


def test_homa_ir_in_mass_units_matches_the_405_form():
    """Gutch et al. 2015 Indian J Endocrinol Metab 19:160, worked example: fasting glucose 100 mg/dl,
    insulin 5 uU/ml; HOMA-IR = glucose (mg/dl) x insulin / 405 = 1.23 (405 = 22.5 x 18)."""
    assert markers.homa_ir(100.0, 5.0) == pytest.approx(500.0 / 405.0, rel=2e-3)  # 18.016 vs 18 mg/dl per mmol/l
    assert markers.homa_ir(100.0, 5.0) == pytest.approx(1.23, abs=0.005)


def test_homa_b_is_undefined_at_or_below_3_5_mmol_l():
    """Matthews 1985: %B = 20 x I / (G - 3.5); the approximation has no meaning at G <= 3.5 mmol/l."""
    values = markers.homa_b(np.array([3.5 * 18.016, 3.0 * 18.016, 5.5 * 18.016]), np.array([5.0, 5.0, 10.0]))
    assert np.isnan(values[0]) and np.isnan(values[1])
    assert values[2] == pytest.approx(100.0)  # 20 x 10 / (5.5 - 3.5)


# ------------------------------------------------------------------ HbA1c (ADAG)
@pytest.mark.parametrize(
    ("hba1c_percent", "eag_mg_dl"),
    [(5, 97), (6, 126), (7, 154), (8, 183), (9, 212), (10, 240), (11, 269), (12, 298)],
)
def test_hba1c_from_mean_glucose_inverts_the_adag_table(hba1c_percent, eag_mg_dl):
    """Nathan et al. 2008 Diabetes Care 31:1473, Table 2 (and the ADA's eAG table): estimated average
    glucose for each HbA1c, rounded to whole mg/dl (so the inverse is good to 0.5 / 28.7 %)."""
    assert markers.hba1c_from_mean_glucose(eag_mg_dl) == pytest.approx(hba1c_percent, abs=0.5 / 28.7 + 1e-9)


def test_hba1c_thresholds_stage_as_the_ada_does():
    """ADA Standards of Care: diabetes at fasting glucose >= 126 mg/dl or HbA1c >= 6.5 %, prediabetes from
    100 mg/dl or 5.7 %; the worse of the two decides."""
    assert markers.stage(99.9, 5.6) == "normal"
    assert markers.stage(100.0, 5.0) == "prediabetes"
    assert markers.stage(90.0, 5.7) == "prediabetes"
    assert markers.stage(125.9, 6.4) == "prediabetes"
    assert markers.stage(90.0, 6.5) == "diabetes"
    assert markers.stage(126.0, 5.0) == "diabetes"


# ------------------------------------------------------------------ OGTT
GUTCH_TIMES = [0.0, 30.0, 60.0, 90.0, 120.0]
GUTCH_GLUCOSE = [100.0, 160.0, 160.0, 160.0, 140.0]
GUTCH_INSULIN = [5.0, 10.0, 10.0, 10.0, 5.0]
"""Gutch et al. 2015 Indian J Endocrinol Metab 19:160, the OGTT of their worked examples."""


def test_matsuda_index_of_the_gutch_worked_example():
    """Matsuda & DeFronzo 1999 Diabetes Care 22:1462: ISI = 10000 / sqrt(G0 x I0 x Gmean x Imean). For
    Gutch's OGTT (worked by hand): Gmean 144 mg/dl, Imean 8 uU/ml, ISI = 10000 / sqrt(576000) = 13.18."""
    found = analysis.ogtt_indices(_samples(GUTCH_TIMES, GUTCH_GLUCOSE, GUTCH_INSULIN))
    assert found["matsuda_index"] == pytest.approx(13.176, abs=0.001)


def test_matsuda_index_uses_the_standard_samples_only():
    """The index is defined on the 0/30/60/90/120-min samples; extra samples (our OGTT also draws at 15 and
    45 min, when glucose rises fastest) must not shift the means."""
    times = [0.0, 15.0, 30.0, 45.0, 60.0, 90.0, 120.0, 150.0]
    glucose = [100.0, 190.0, 160.0, 190.0, 160.0, 160.0, 140.0, 90.0]
    insulin = [5.0, 40.0, 10.0, 40.0, 10.0, 10.0, 5.0, 3.0]
    found = analysis.ogtt_indices(_samples(times, glucose, insulin))
    assert found["matsuda_index"] == pytest.approx(13.176, abs=0.001)


def test_insulinogenic_index_and_two_hour_class_of_the_gutch_example():
    """Insulinogenic index (Seltzer 1967 J Clin Invest 46:323): (I30 - I0) / (G30 - G0) = 5 / 60 =
    0.0833 uU/ml per mg/dl. 2-h glucose 140 mg/dl is impaired glucose tolerance (ADA/WHO: 140-199)."""
    found = analysis.ogtt_indices(_samples(GUTCH_TIMES, GUTCH_GLUCOSE, GUTCH_INSULIN))
    assert found["insulinogenic_index_uU_per_mg"] == pytest.approx(5.0 / 60.0)
    assert found["two_hour_glucose_mg_dl"] == 140.0
    assert found["glucose_tolerance"] == "impaired glucose tolerance"
    assert found["homa_ir"] == pytest.approx(1.23, abs=0.005)


@pytest.mark.parametrize(
    ("two_hour", "tolerance"), [(139.9, "normal"), (199.9, "impaired glucose tolerance"), (200.0, "diabetes")]
)
def test_two_hour_glucose_classes(two_hour, tolerance):
    """ADA: 2-h glucose of a 75 g OGTT < 140 normal, 140-199 impaired glucose tolerance, >= 200 diabetes."""
    glucose = [*GUTCH_GLUCOSE[:-1], two_hour]
    assert analysis.ogtt_indices(_samples(GUTCH_TIMES, glucose, GUTCH_INSULIN))["glucose_tolerance"] == tolerance


# ------------------------------------------------------------------ clamp
def test_clamp_m_value_m_over_i_and_liver_suppression():
    """DeFronzo, Tobin & Andres 1979 Am J Physiol 237:E214: M is the mean glucose infusion rate over the
    steady state (here 80-120 min), M/I divides by the steady-state insulin. Worked by hand for these
    samples: M = mean(7, 8, 9) = 8 mg/kg/min, I = 100 uU/ml, M/I = 0.08; liver output 2.0 -> 0.4, 80 %."""
    samples = _samples(
        [0.0, 40.0, 80.0, 100.0, 120.0],
        [90.0, 92.0, 90.0, 91.0, 89.0],
        [8.0, 90.0, 100.0, 100.0, 100.0],
        iv_glucose_mg_kg_min=[0.0, 5.0, 7.0, 8.0, 9.0],
        liver_output_mg_kg_min=[2.0, 1.0, 0.4, 0.4, 0.4],
        muscle_uptake_mg_kg_min=[1.0, 4.0, 6.0, 6.0, 6.0],
        adipose_uptake_mg_kg_min=[0.2, 0.5, 0.6, 0.6, 0.6],
        brain_uptake_mg_kg_min=[1.2, 1.2, 1.2, 1.2, 1.2],
        splanchnic_uptake_mg_kg_min=[0.3, 0.3, 0.3, 0.3, 0.3],
        liver_uptake_mg_kg_min=[0.0, 0.3, 0.5, 0.5, 0.5],
    )
    found = analysis.clamp_indices(samples, steady_state_from_min=80.0)
    assert found["m_value_mg_kg_min"] == pytest.approx(8.0)
    assert found["m_over_i"] == pytest.approx(0.08)
    assert found["liver_output_suppression_percent"] == pytest.approx(80.0)
    assert found["steady_state_glucose_mg_dl"] == pytest.approx(90.0)
    # every tissue's uptake of plasma glucose (the rate of disappearance): muscle, the liver's glycogen uptake,
    # fat, the gut's and liver's basal share, brain
    assert found["steady_state_uptake_mg_kg_min"] == pytest.approx(8.6)


# ------------------------------------------------------------------ IVGTT
def test_ivgtt_air_si_and_disposition_index_on_a_minimal_model_subject():
    """AIRg (Bergman 1981 J Clin Invest 68:1456): mean insulin above basal over the 2-10 min samples.
    Disposition index (Bergman 1981; Kahn 1993 Diabetes 42:1663) = SI x AIRg, SI in 1e-4 /min per uU/ml.
    The subject is Bergman's minimal model itself with SI = 4e-4 (Pacini & Bergman 1986's typical normal) and p2 at
    the fit's prior median (clinic/minimal_model.P2_PRIOR: its shrinkage is tested in test_clinic.py), so the fit must
    return it. Worked by hand: insulin 2-10 min = 8 + 80 exp(-t/8) + 15 exp(-t/60) at
    t = 2, 3, 4, 5, 6, 8, 10 averages 8 + 56.40, AIRg = 56.40 uU/ml, DI = 4 x 56.40 = 225.6."""
    from glucosim.clinic.minimal_model import P2_PRIOR, _simulate

    t = np.array(
        [0, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 19, 22, 25, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 160, 180.0]
    )
    insulin = 8.0 + (80.0 * np.exp(-t / 8.0) + 15.0 * np.exp(-t / 60.0)) * (t > 0)
    glucose = _simulate(np.log((0.02, 4e-4, P2_PRIOR.median, 260.0)), t, t, insulin, 90.0, 8.0)
    glucose[0] = 90.0
    found = analysis.ivgtt_indices(_samples(t, glucose, insulin))
    assert found["air_glucose_uU_ml"] == pytest.approx(56.40, abs=0.01)
    assert found["si_1e4_per_min_per_uU_ml"] == pytest.approx(4.0, rel=0.05)
    assert found["disposition_index"] == pytest.approx(225.6, rel=0.05)
    assert found["disposition_index"] == pytest.approx(found["si_1e4_per_min_per_uU_ml"] * found["air_glucose_uU_ml"])


def test_stage_code_is_the_stage_rule_element_wise():
    """The progression dashboard's strip (``stage_code``) and every stage label (``stage``) follow one rule."""
    import numpy as np

    from glucosim.simulation import markers

    fasting = np.array([90.0, 105.0, 95.0, 130.0, 95.0, np.nan])
    hba1c = np.array([5.0, 5.0, 5.8, 5.0, 6.6, 5.0])
    codes = markers.stage_code(fasting, hba1c)
    assert codes.tolist() == [0, 1, 1, 2, 2, 0]
    assert [markers.stage(f, h) for f, h in zip(fasting, hba1c, strict=True)] == [markers.STAGES[c] for c in codes]


def test_a_year_starts_on_its_rounded_day_and_a_run_holds_the_years_before_its_end():
    from glucosim.physiology.units import latest_year_in_run, year_start_day

    assert [year_start_day(y) for y in (0, 0.5, 1, 2, 3, 20)] == [0, 183, 365, 730, 1096, 7305]
    assert latest_year_in_run(7305) == 19.998  # year 20 is day 7305, one past a 20-year run's last day
    for n_days in (1, 365, 366, 1096, 7305):
        latest = latest_year_in_run(n_days)
        assert year_start_day(latest) <= n_days - 1 < year_start_day(latest + 0.001)


def test_grams_and_per_kilogram_doses_convert_both_ways():
    from glucosim.physiology.units import grams_to_mg_per_kg, mg_per_kg_to_grams

    # a 75-g OGTT in a 75-kg adult is 1 g/kg; DM2007's meal of 1 g/kg is 1000 mg/kg in the gut's units
    assert grams_to_mg_per_kg(75.0, 75.0) == pytest.approx(1000.0)
    assert mg_per_kg_to_grams(1000.0, 70.0) == pytest.approx(70.0)
    doses = np.array([0.0, 12.5, 300.0])
    assert mg_per_kg_to_grams(grams_to_mg_per_kg(doses, 83.0), 83.0) == pytest.approx(doses)
    # a meal plan's per-kilogram dose is the scenario's grams: the compiled plan of a 300-g meal at 70 kg
    from glucosim.scenario.compile import ScenarioProgram
    from glucosim.scenario.load import parse_scenario

    loaded = parse_scenario(
        {
            "name": "t",
            "duration_days": 1,
            "subject": {"body_weight_kg": 70.0},
            "routine": {"meals": [{"time_h": 8.0, "carbs_g": 300.0}]},
        },
        "<test>",
    )
    (meal,) = ScenarioProgram(loaded).day_plan(0).meals
    assert meal[1] == pytest.approx(grams_to_mg_per_kg(300.0, 70.0))


def test_the_hba1c_window_takes_the_days_before_a_run_as_its_first_day():
    # a run starts adapted to its day-0 routine, so the 90-day HbA1c window is filled with day 0 before the run
    daily_mean = np.array([100.0] + [160.0] * 7)  # one ordinary day, then a week of very high glucose
    steady = markers.trailing_mean(daily_mean, markers.HBA1C_WINDOW_DAYS, steady_before=True)
    assert steady[0] == pytest.approx(100.0)
    assert steady[-1] == pytest.approx((83 * 100.0 + 7 * 160.0) / 90.0)  # the week is 7 of the window's 90 days
    assert markers.hba1c_from_mean_glucose(steady[-1]) < 5.7  # a week does not make a healthy adult prediabetic
    # without it the window is only the days run so far (the week's mean)
    assert markers.trailing_mean(daily_mean, markers.HBA1C_WINDOW_DAYS)[-1] == pytest.approx((100.0 + 7 * 160.0) / 8)
    # once the run is longer than the window, both agree
    long = np.linspace(90.0, 150.0, 200)
    assert np.allclose(markers.trailing_mean(long, 90, steady_before=True)[89:], markers.trailing_mean(long, 90)[89:])
