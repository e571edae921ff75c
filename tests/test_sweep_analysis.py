"""glucosim analyze: cohort incidence by arm, sensitivity indices, outcome maps, from real (small) sweeps."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from glucosim.analysis.cohort import arm_comparison, cumulative_incidence
from glucosim.analysis.sensitivity import DELTA_MIN_SAMPLES
from glucosim.cli import main
from glucosim.sweep import load_results, run_sweep
from glucosim.sweep.analyze import analyze_sweep
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


def test_cumulative_incidence_counts_onsets_by_year(grid_dir):
    results = load_results(grid_dir)
    incidence = cumulative_incidence(results, n_years=2)
    for arm, group in incidence.groupby("arm"):
        fractions = group.sort_values("year")["diabetes_fraction"].to_numpy()
        assert np.all(np.diff(fractions) >= 0.0)
        arm_rows = results[results["arm"] == arm]
        expected = np.mean(arm_rows["diabetes_onset_day"].fillna(np.inf) <= 2 * 365.25)
        assert fractions[-1] == pytest.approx(expected)
    comparison = {row["arm"]: row for row in arm_comparison(incidence)}
    control, exercise = comparison["control"], comparison["exercise"]
    if control["diabetes_fraction"] > 0:
        assert exercise["relative_reduction_vs_control"] == pytest.approx(
            1.0 - exercise["diabetes_fraction"] / control["diabetes_fraction"]
        )


def test_analyze_grid_draws_the_outcome_map_and_tables(grid_dir, tmp_path):
    found = analyze_sweep(grid_dir, analysis_dir=tmp_path)
    assert {"incidence", "incidence_figure", "outcome_map_control", "outcome_map_exercise"} <= set(found.files)
    assert all(path.is_file() and path.stat().st_size > 0 for path in found.files.values())
    written = json.loads(found.files["analysis"].read_text())
    assert [arm["arm"] for arm in written["arms"]] == ["control", "exercise"]


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
    missing = runner.invoke(main, ["analyze", str(tmp_path)])
    assert missing.exit_code == 2 and "no sweep results here" in missing.output


def test_latin_hypercube_gets_delta_indices(tmp_path):
    text = MORRIS_SWEEP.replace(
        'kind = "morris"\nsamples = 3', f'kind = "latin_hypercube"\nsamples = {DELTA_MIN_SAMPLES}'
    )
    run_sweep(write_sweep(tmp_path / "input", text), tmp_path / "lhs", workers=1, progress=False)
    found = analyze_sweep(tmp_path / "lhs", outputs=("y2_fasting_glucose_mg_dl",), analysis_dir=tmp_path / "a")
    indices = found.sensitivity.set_index("variable")
    assert np.isfinite(indices[["delta", "S1"]].to_numpy()).all()
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
