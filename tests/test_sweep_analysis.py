"""glucosim analyze: cohort incidence by arm (yearly and Kaplan-Meier), hazard ratios, sensitivity indices and
outcome maps; the formulas on hand-built tables with known answers, the wiring on real (small) sweeps."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from glucosim.analysis.sweep import analyze_sweep
from glucosim.analysis.sweep.cohort import (
    arm_comparison,
    cumulative_incidence,
    hazard_ratios,
    incidence_at,
    kaplan_meier_incidence,
)
from glucosim.analysis.sweep.sensitivity import DELTA_MIN_SAMPLES, design_bounds
from glucosim.cli import main
from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.sweep import SweepStore, load_results, run_sweep
from tests._sweep_helpers import GRID_SWEEP, write_sweep

MORRIS_SWEEP = (
    GRID_SWEEP.replace('kind = "grid"', 'kind = "morris"\nsamples = 3')
    .replace("values = [0.25, 0.6]", "range = [0.25, 0.6]")
    .replace("values = [1.2, 3.0]", "range = [1.2, 3.0]")
    .split("[[arms]]")[0]
)


@pytest.fixture(scope="module")
def grid_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("analysis")
    run_sweep(write_sweep(root / "input"), root / "grid", workers=1, progress=False)
    return root / "grid"


def _cohort(arm: str, onset_years, status=None, prediabetes_years=None) -> pd.DataFrame:
    """A results table of one arm: diabetes onsets in years (None: not reached), samples 0..n-1."""
    n = len(onset_years)
    days = [np.nan if y is None else y * DAYS_PER_YEAR for y in onset_years]
    pre = days if prediabetes_years is None else [np.nan if y is None else y * DAYS_PER_YEAR for y in prediabetes_years]
    return pd.DataFrame(
        {
            "arm": arm,
            "sample": np.arange(n),
            "status": status or ["ok"] * n,
            "diabetes_onset_day": days,
            "prediabetes_onset_day": pre,
            "y0_stage": ["prediabetes" if y == 0 else "normal" for y in (prediabetes_years or [None] * n)],
        }
    )


# control: onsets at 0.5 and 1.5 years in 4 patients; a failed fifth run must not count
CONTROL = _cohort("control", [0.5, 1.5, None, None, 0.1], status=["ok"] * 4 + ["failed"])
TREATED = _cohort("treated", [None, 1.5, None, None, None], status=["ok"] * 4 + ["failed"])


def test_cumulative_incidence_on_known_onsets():
    incidence = cumulative_incidence(pd.concat([CONTROL, TREATED]), n_years=2).set_index(["arm", "year"])
    assert incidence.loc[("control", 0), "diabetes_fraction"] == 0.0
    assert incidence.loc[("control", 1), "diabetes_fraction"] == 0.25
    assert incidence.loc[("control", 2), "diabetes_fraction"] == 0.5
    assert incidence.loc[("treated", 1), "diabetes_fraction"] == 0.0
    assert incidence.loc[("treated", 2), "diabetes_fraction"] == 0.25
    assert incidence.loc[("control", 2), "n_failed"] == 1 and incidence.loc[("control", 2), "n_runs"] == 5
    comparison = {row["arm"]: row for row in arm_comparison(incidence.reset_index())}
    assert comparison["treated"]["relative_reduction_vs_control"] == pytest.approx(0.5)  # 1 - 0.25 / 0.5
    assert comparison["control"]["relative_reduction_vs_control"] is None


def test_kaplan_meier_incidence_steps_at_the_onsets_with_intervals_around_them():
    survival = kaplan_meier_incidence(pd.concat([CONTROL, TREATED]), run_years=2.0)
    control = survival[(survival["arm"] == "control") & (survival["endpoint"] == "diabetes")]
    assert control["time_years"].tolist() == pytest.approx([0.0, 0.5, 1.5, 2.0])
    assert control["incidence"].tolist() == pytest.approx([0.0, 0.25, 0.5, 0.5])  # no censoring before 2 years
    assert control["at_risk"].tolist() == [4, 4, 3, 2]  # the failed run is not at risk
    assert control["events"].tolist() == [0, 1, 1, 0]
    inside = control.iloc[1:]
    assert (inside["ci_low"] < inside["incidence"]).all() and (inside["incidence"] < inside["ci_high"]).all()
    assert (inside["ci_low"] > 0).all() and (inside["ci_high"] < 1).all()
    assert incidence_at(survival, "control", "diabetes", 1.0)[0] == pytest.approx(0.25)  # the step before 1 year
    assert incidence_at(survival, "treated", "diabetes", 1.0)[0] == 0.0


def test_kaplan_meier_intervals_shrink_with_cohort_size():
    small = kaplan_meier_incidence(_cohort("a", [0.5, None] * 5), run_years=1.0)
    large = kaplan_meier_incidence(_cohort("a", [0.5, None] * 500), run_years=1.0)

    def width(table):
        row = table[(table["endpoint"] == "diabetes") & (table["time_years"] == 0.5)].iloc[0]
        assert row["incidence"] == pytest.approx(0.5)
        return row["ci_high"] - row["ci_low"]

    assert width(large) < width(small) / 5  # ~1/sqrt(100) of it


def test_hazard_ratio_recovers_a_known_ratio_and_its_direction():
    """Exponential onsets at 0.2/year (control) and 0.1/year (treated), censored at 10 years: true HR 0.5."""
    rng = np.random.default_rng(2024)
    n = 600

    def arm(name, rate):
        years = rng.exponential(1.0 / rate, n)
        return _cohort(name, [y if y <= 10.0 else None for y in years])

    found = hazard_ratios(pd.concat([arm("control", 0.2), arm("treated", 0.1)]), run_years=10.0)
    treated = found["treated"]
    assert treated["ci_low"] < 0.5 < treated["ci_high"]
    assert treated["hazard_ratio"] == pytest.approx(0.5, rel=0.2)
    assert treated["p"] < 1e-6
    reverse = hazard_ratios(pd.concat([arm("control", 0.2), arm("treated", 0.1)]), 10.0, reference_arm="treated")
    assert reverse["control"]["hazard_ratio"] > 1.5


def test_hazard_ratio_without_events_is_not_estimable_and_says_why():
    found = hazard_ratios(pd.concat([CONTROL, _cohort("treated", [None] * 4)]), run_years=2.0)
    assert np.isnan(found["treated"]["hazard_ratio"])
    assert "no diabetes onsets in arm 'treated'" in found["treated"]["note"]


def test_analyze_grid_draws_the_outcome_map_and_tables(grid_dir, tmp_path):
    found = analyze_sweep(grid_dir, analysis_dir=tmp_path)
    assert {"incidence", "incidence_figure", "outcome_map_control", "outcome_map_exercise"} <= set(found.files)
    assert all(path.is_file() and path.stat().st_size > 0 for path in found.files.values())
    written = json.loads(found.files["analysis"].read_text())
    assert [arm["arm"] for arm in written["arms"]] == ["control", "exercise"]
    assert {"incidence_km"} <= set(found.files) and set(found.survival["arm"]) == {"control", "exercise"}
    for arm in written["arms"]:
        low, high = arm["diabetes_fraction_ci95"]
        assert low <= arm["diabetes_fraction"] <= high
    exercise = written["arms"][1]
    assert "diabetes_hazard_ratio_vs_control" in exercise
    estimable = np.isfinite(found.hazards["exercise"]["hazard_ratio"])
    assert estimable != any("hazard ratio of exercise" in note for note in written["notes"])  # a note iff not
    # analysis.json, written last, records every other file (an interrupted re-analysis mixed old and new files)
    from glucosim.io.results import file_sha256

    assert set(written["file_records"]) == set(found.files) - {"analysis"}
    for key, record in written["file_records"].items():
        assert record == {"bytes": found.files[key].stat().st_size, "sha256": file_sha256(found.files[key])}


def test_morris_indices_rank_the_variables(tmp_path):
    run_sweep(write_sweep(tmp_path / "input", MORRIS_SWEEP), tmp_path / "morris", workers=1, progress=False)
    found = analyze_sweep(tmp_path / "morris", outputs=("y2_fasting_glucose_mg_dl",), analysis_dir=tmp_path / "a")
    indices = found.sensitivity.set_index("variable")
    assert set(indices.index) == {"insulin_sensitivity_whole_body", "beta_function_max"}
    assert (indices["mu_star"] > 0).all() and np.isfinite(indices["sigma"]).all()
    assert "sensitivity_y2_fasting_glucose_mg_dl" in found.files


def test_analyze_cli_prints_arms_and_refuses_a_directory_without_a_sweep(grid_dir, tmp_path):
    runner = CliRunner()
    shown = runner.invoke(main, ["analyze", str(grid_dir), "--out", str(tmp_path), "--no-figures"])
    assert shown.exit_code == 0, shown.output
    assert "control: diabetes by year 2" in shown.output
    assert "Kaplan-Meier 95 % CI" in shown.output
    missing = runner.invoke(main, ["analyze", str(tmp_path)])
    assert missing.exit_code == 2 and "no sweep results here" in missing.output


@pytest.mark.slow  # quick tier: a 40-run sweep (~30 s)
def test_latin_hypercube_gets_delta_indices(tmp_path):
    text = MORRIS_SWEEP.replace(
        'kind = "morris"\nsamples = 3', f'kind = "latin_hypercube"\nsamples = {DELTA_MIN_SAMPLES}'
    )
    run_sweep(write_sweep(tmp_path / "input", text), tmp_path / "lhs", workers=1, progress=False)
    found = analyze_sweep(tmp_path / "lhs", outputs=("y2_fasting_glucose_mg_dl",), analysis_dir=tmp_path / "a")
    indices = found.sensitivity.set_index("variable")
    assert np.isfinite(indices[["delta", "S1"]].to_numpy()).all()
    # SALib's problem is the design's ranges, which a Latin hypercube's samples never reach
    manifest = SweepStore(tmp_path / "lhs").manifest()
    assert design_bounds(tmp_path / "lhs", manifest) == [[0.25, 0.6], [1.2, 3.0]]
    observed = load_results(tmp_path / "lhs")["insulin_sensitivity_whole_body"]
    assert 0.25 < observed.min() and observed.max() < 0.6
    assert (indices["delta"] > 0).all()
    assert "sensitivity_y2_fasting_glucose_mg_dl" in found.files


def test_morris_refuses_a_partial_design(tmp_path):
    out = tmp_path / "morris"
    run_sweep(
        write_sweep(tmp_path / "input", MORRIS_SWEEP),
        out,
        workers=1,
        chunk_runs=2,
        task_index=0,
        task_count=2,
        progress=False,
    )  # half the chunks, as one job-array task leaves them
    found = analyze_sweep(out, outputs=("y2_fasting_glucose_mg_dl",), analysis_dir=tmp_path / "a", figures=False)
    assert found.sensitivity.empty
    assert any("partial sweep" in note for note in found.notes)
    assert any("a morris design needs every one" in note for note in found.notes)
