"""The virtual DPP clinic's screening OGTT (analysis.sweep.clinic): the DPP's second entry criterion, impaired
glucose tolerance (2-h glucose 140-199 mg/dl on a 75-g OGTT), beside the fasting window (95-125 mg/dl)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from glucosim.analysis.sweep import clinic
from glucosim.analysis.sweep.clinic import ClinicSettings, clinic_course
from glucosim.physiology.units import DAYS_PER_YEAR

ROOT = Path(__file__).resolve().parent.parent
PREVENTION_SWEEP = ROOT / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"
NOISELESS = ClinicSettings(fasting_glucose_cv=0.0, hba1c_cv=0.0, two_hour_glucose_cv=0.0)


def _steady(fasting: float, hba1c: float, years: float = 3.0):
    n = int(round(years * DAYS_PER_YEAR))
    return np.full(n, fasting), np.full(n, hba1c)


@pytest.mark.parametrize(
    "two_hour, enrolled",
    [(139.9, False), (140.0, True), (170.0, True), (199.9, True), (200.0, False), (250.0, False)],
)
def test_the_screening_ogtt_admits_impaired_glucose_tolerance_only(two_hour, enrolled):
    """In the fasting window (110 mg/dl), the 2-h glucose decides: 140 <= 2-h < 200 mg/dl (the DPP's 140-199)."""
    fasting, hba1c = _steady(110.0, 5.8)
    seen = clinic_course(0, fasting, hba1c, NOISELESS, screen_two_hour_mg_dl=two_hour)
    assert seen["enrolled"] is enrolled
    assert seen["screen_two_hour_glucose_mg_dl"] == pytest.approx(two_hour)


def test_with_the_ogtt_the_fasting_window_still_applies_and_hba1c_is_no_criterion():
    """The DPP screened on fasting glucose and the OGTT, not on HbA1c: an HbA1c of 6.6 % does not exclude, a
    fasting glucose of 127 or 93 mg/dl does; without the OGTT, HbA1c stands in (6.6 % excludes)."""
    for fasting_value, a1c, expected in ((110.0, 6.6, True), (127.0, 5.9, False), (93.0, 5.9, False)):
        fasting, hba1c = _steady(fasting_value, a1c)
        assert clinic_course(0, fasting, hba1c, NOISELESS, screen_two_hour_mg_dl=160.0)["enrolled"] is expected
    fasting, hba1c = _steady(110.0, 6.6)
    without = clinic_course(0, fasting, hba1c, NOISELESS)
    assert not without["enrolled"] and math.isnan(without["screen_two_hour_glucose_mg_dl"])


def test_the_two_hour_test_varies_by_its_own_cv_and_leaves_the_other_draws_alone():
    """A patient steady in the fasting window with a true 2-h glucose of 150 mg/dl: admitted with probability
    P(140 <= 150 (1 + 0.127 z) < 200) when only the 2-h test varies; the fasting and HbA1c draws of each patient
    are those of the clinic without the OGTT (the 2-h draw has its own stream)."""
    from scipy.stats import norm

    fasting, hba1c = _steady(110.0, 5.8)
    settings = ClinicSettings(fasting_glucose_cv=0.0, hba1c_cv=0.0)  # the 2-h CV as shipped
    enrolled = [clinic_course(i, fasting, hba1c, settings, 150.0)["enrolled"] for i in range(4000)]
    cv = clinic.TWO_HOUR_GLUCOSE_CV
    expected = norm.cdf((200.0 / 150.0 - 1.0) / cv) - norm.cdf((140.0 / 150.0 - 1.0) / cv)
    assert np.mean(enrolled) == pytest.approx(expected, abs=0.02)
    for sample in range(5):
        with_ogtt = clinic_course(sample, fasting, hba1c, screen_two_hour_mg_dl=150.0)
        without = clinic_course(sample, fasting, hba1c)
        assert with_ogtt["screen_fasting_glucose_mg_dl"] == without["screen_fasting_glucose_mg_dl"]
        assert with_ogtt["screen_hba1c_percent"] == without["screen_hba1c_percent"]


def test_clinic_outcomes_takes_each_patients_screening_ogtt_in_every_arm():
    """Two patients in two arms: the one with impaired glucose tolerance (2-h 160) is enrolled in both arms, the
    one at 120 in neither, whatever the arm's course."""
    n = int(round(3 * DAYS_PER_YEAR))
    daily = pd.concat(
        [
            pd.DataFrame({"run_id": r, "day": np.arange(n), "fasting_glucose_mg_dl": 110.0 - r, "hba1c_percent": 5.8})
            for r in range(4)
        ]
    )
    results = pd.DataFrame({"run_id": [0, 1, 2, 3], "sample": [0, 0, 1, 1], "arm": ["control", "lifestyle"] * 2})
    seen = clinic.clinic_outcomes(results, daily, NOISELESS, screening_two_hour={0: 160.0, 1: 120.0})
    assert seen["clinic_enrolled"].tolist() == [True, True, False, False]
    assert seen["clinic_screen_two_hour_glucose_mg_dl"].tolist() == pytest.approx([160.0, 160.0, 120.0, 120.0])


def test_the_screening_ogtt_is_the_shipped_protocol_on_the_reference_arms_day_0(tmp_path, monkeypatch):
    """Each patient's screening 2-h glucose is the 75-g OGTT (clinic.runner.run_protocol) on the control
    arm's scenario at day 0; the cached table is computed once per sweep directory."""
    from glucosim.clinic.runner import run_protocol
    from glucosim.scenario.load import parse_scenario
    from glucosim.sweep.load import load_sweep
    from glucosim.sweep.runner import design_table
    from glucosim.sweep.scenario_edit import run_scenario_data

    loaded = load_sweep(PREVENTION_SWEEP)
    design = design_table(loaded)
    design = design[design["sample"] < 2]
    found = clinic.screening_two_hour_glucose(loaded, design)
    assert set(found) == {0, 1}
    row = design[(design["sample"] == 1) & (design["arm"] == "control")].iloc[0]
    values = {name: float(row[name]) for name in loaded.variable_names}
    scenario = parse_scenario(run_scenario_data(loaded, loaded.sweep.arms[0], values), source="test")
    direct = run_protocol("ogtt_75g", scenario, day=0).indices["two_hour_glucose_mg_dl"]
    assert found[1] == pytest.approx(direct, rel=1e-9)
    assert found[0] != pytest.approx(found[1])  # two patients, two tests
    first = clinic.cached_screening_two_hour_glucose(loaded, design, tmp_path)
    assert (tmp_path / clinic.SCREENING_OGTT_FILE).is_file() and first == pytest.approx(found)

    def refuse(*args, **kwargs):
        raise AssertionError("the cached tests were run again")

    monkeypatch.setattr(clinic, "screening_two_hour_glucose", refuse)
    assert clinic.cached_screening_two_hour_glucose(loaded, design, tmp_path) == pytest.approx(found)

    # another model, protocol or sweep in the folder: the key differs and the tests run again
    monkeypatch.setattr(clinic, "screening_cache_key", lambda out_dir: "another-model")
    monkeypatch.setattr(clinic, "screening_two_hour_glucose", lambda *args: {0: 150.0, 1: 160.0})
    assert clinic.cached_screening_two_hour_glucose(loaded, design, tmp_path) == {0: 150.0, 1: 160.0}


def test_the_screening_cache_key_follows_the_sweeps_runs(tmp_path):
    import json

    from glucosim.sweep.store import MANIFEST_FILE

    base_manifest = {"n_chunks": 1, "chunk_runs": 1, "parameter_table_sha256": "t"}
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**base_manifest, "runs_sha256": "a"}))
    first = clinic.screening_cache_key(tmp_path)
    assert clinic.screening_cache_key(tmp_path) == first
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**base_manifest, "runs_sha256": "b"}))
    assert clinic.screening_cache_key(tmp_path) != first


def test_the_screening_cache_key_follows_the_tables_values_not_its_texts(tmp_path, monkeypatch):
    """The day-0 OGTTs depend on the folder's table (its runs) and on the current one (the model they are computed
    with), each by its values and ranges: a value edited in either gives a new key, a text edited in the table file
    does not (the file is not hashed as a source)."""
    import json

    import glucosim.parameter_identity as identity
    from glucosim.sweep.store import MANIFEST_FILE

    manifest = {"n_chunks": 1, "chunk_runs": 1, "runs_sha256": "a", "parameter_table_sha256": "bytes"}
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**manifest, "parameter_values_sha256": "v1"}))
    first = clinic.screening_cache_key(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text(
        json.dumps({**manifest, "parameter_table_sha256": "other bytes", "parameter_values_sha256": "v1"})
    )
    assert clinic.screening_cache_key(tmp_path) == first  # the folder's table differs in its texts only
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**manifest, "parameter_values_sha256": "v2"}))
    assert clinic.screening_cache_key(tmp_path) != first  # the folder's values differ
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({**manifest, "parameter_values_sha256": "v1"}))
    monkeypatch.setattr(identity, "parameter_values_sha256", lambda path=None: "edited values")
    assert clinic.screening_cache_key(tmp_path) != first  # the current table's values differ


def test_a_refused_screening_ogtt_is_not_enrolled_by_hba1c():
    """With the OGTT screening, a patient whose test was refused (NaN) is not enrolled: HbA1c does not stand in."""
    n = int(round(3 * DAYS_PER_YEAR))
    daily = pd.DataFrame({"run_id": 0, "day": np.arange(n), "fasting_glucose_mg_dl": 110.0, "hba1c_percent": 5.8})
    results = pd.DataFrame({"run_id": [0], "sample": [0], "arm": ["control"]})
    screened = clinic.clinic_outcomes(results, daily, NOISELESS, screening_two_hour={0: math.nan})
    assert not screened["clinic_enrolled"].iloc[0]
    without_ogtt = clinic.clinic_outcomes(results, daily, NOISELESS, screening_two_hour=None)
    assert without_ogtt["clinic_enrolled"].iloc[0]  # the HbA1c rule admits this course


def test_the_dpp_table_says_the_screening_ran_the_ogtt_and_reports_the_enrolleds_baseline():
    from glucosim.analysis.sweep import dpp

    n = int(round(3 * DAYS_PER_YEAR))
    daily = pd.concat(
        [
            pd.DataFrame({"run_id": r, "day": np.arange(n), "fasting_glucose_mg_dl": f, "hba1c_percent": 5.8})
            for r, f in enumerate((110.0, 110.0, 104.0, 104.0))
        ]
    )
    results = pd.DataFrame(
        {"run_id": [0, 1, 2, 3], "sample": [0, 0, 1, 1], "arm": ["control", "lifestyle"] * 2, "status": "ok"}
    )
    for two_hour, flag in (({0: 150.0, 1: 170.0}, True), (None, False)):
        seen = clinic.clinic_outcomes(results, daily, NOISELESS, screening_two_hour=two_hour)
        table = dpp.trial_table(seen, "control", 3.0)
        assert table.attrs["screening_ogtt"] is flag
        text = dpp.markdown(table)
        assert ("a 75-g OGTT with a 2-h glucose of 140-199" in text) is flag
        assert ("NO screening OGTT" in text) is not flag
    assert table.attrs["baseline"]["fasting glucose"][:2] == pytest.approx((107.0, 3.0))
    with_ogtt = dpp.trial_table(clinic.clinic_outcomes(results, daily, NOISELESS, {0: 150.0, 1: 170.0}), "control")
    assert with_ogtt.attrs["baseline"]["2-h glucose"][:2] == pytest.approx((160.0, 10.0))


def test_the_table_finds_the_sweep_of_a_results_directory_while_it_defines_the_same_runs(tmp_path):
    """The screening OGTT needs the sweep: the file the manifest names, if it still defines the same runs (its
    comments may change); another sweep, or no file, gives None (HbA1c stands in, and the table says so)."""
    import json

    from glucosim.analysis.sweep import dpp
    from glucosim.sweep.load import load_sweep
    from glucosim.sweep.store import SweepStore, runs_sha256

    loaded = load_sweep(PREVENTION_SWEEP)
    manifest = {"n_chunks": 1, "chunk_runs": 1, "sweep_source": str(PREVENTION_SWEEP)}
    for runs, found in ((runs_sha256(loaded), True), ("0" * 64, False)):
        (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "runs_sha256": runs}))
        assert (dpp._sweep_of(SweepStore(tmp_path)) is not None) is found
    missing = {**manifest, "sweep_source": str(tmp_path / "gone.toml"), "runs_sha256": runs_sha256(loaded)}
    (tmp_path / "manifest.json").write_text(json.dumps(missing))
    assert dpp._sweep_of(SweepStore(tmp_path)) is None
