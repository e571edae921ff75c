"""glucosim analyze on a cohort sweep with per-patient adherence draws (``[[arms.adherence]]``): each arm's
sensitivity indices cover the cohort's variables and that arm's own draws (with their support as bounds),
never another arm's; manifests written before the analysis knew the draws' bounds are still analysed.
The sweep (40 runs of 5 weeks) takes ~5 s of CPU."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from glucosim.analysis.sweep import analyze_sweep
from glucosim.analysis.sweep.sensitivity import DELTA_MIN_SAMPLES, arm_variables, design_bounds, sensitivity_indices
from glucosim.errors import SweepError
from glucosim.parameters import load_parameter_table
from glucosim.sweep import SweepStore, load_results, run_sweep
from tests._sweep_helpers import write_sweep
from tests.test_sweep_adherence import ADHERENCE_SWEEP

# the adherence test's cohort, as few patients as the delta estimator takes, for 5 weeks (the core ends at day 20)
SHORT_ADHERENCE_SWEEP = (
    ADHERENCE_SWEEP.replace("samples = 30", f"samples = {DELTA_MIN_SAMPLES}")
    .replace("seed = 5", "seed = 5\nduration_years = 0.1")
    .replace("from_day = 100", "from_day = 20")
)
OUTPUTS = ("final_hba1c_percent",)
PROGRAMME_DRAWS = ["programme.diet", "programme.activity"]


@pytest.fixture(scope="module")
def adherence_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("adherence_analysis")
    assert SHORT_ADHERENCE_SWEEP.count("duration_years = 0.1") == 1 and "from_day = 20" in SHORT_ADHERENCE_SWEEP
    run_sweep(write_sweep(root / "input", SHORT_ADHERENCE_SWEEP), root / "sweep", workers=1, progress=False)
    return root / "sweep"


def _indices(found) -> dict[str, list[str]]:
    return {arm: rows["variable"].tolist() for arm, rows in found.sensitivity.groupby("arm", sort=False)}


def test_the_problem_bounds_are_the_design_and_the_draws_support(adherence_dir):
    manifest = SweepStore(adherence_dir).manifest()
    assert manifest["variables"] == ["body_weight", *PROGRAMME_DRAWS]
    weight = load_parameter_table()["body_weight"]  # an unclipped cohort variable: the plausible range
    assert design_bounds(adherence_dir, manifest) == [[weight.low, weight.high], [0.0, 1.5], [0.0, 1.0]]
    assert arm_variables(manifest, "control") == ["body_weight"]
    assert arm_variables(manifest, "programme") == ["body_weight", *PROGRAMME_DRAWS]


def test_a_manifest_without_the_draws_bounds_reads_them_from_the_stored_sweep(adherence_dir):
    """The DPP sweeps run when adherence was added (2026-12-02) have the cohort variables' bounds only and no
    arm-to-draw map: the draws' support comes from the stored sweep file, each arm's draws from the column names."""
    manifest = SweepStore(adherence_dir).manifest()
    older = {key: value for key, value in manifest.items() if key != "adherence_columns"}
    older["variable_bounds"] = manifest["variable_bounds"][:1]
    assert design_bounds(adherence_dir, older) == design_bounds(adherence_dir, manifest)
    for arm in manifest["arms"]:
        assert arm_variables(older, arm) == arm_variables(manifest, arm)


def test_bounds_of_the_variables_only_are_refused_by_name(adherence_dir):
    manifest = SweepStore(adherence_dir).manifest()
    results = load_results(adherence_dir)
    with pytest.raises(SweepError, match=re.escape("1 bounds for the manifest's 3 sampled columns")):
        sensitivity_indices(results, manifest, OUTPUTS[0], "programme", bounds=manifest["variable_bounds"][:1])


@pytest.mark.slow  # ~20 s of CPU on the loaded 2-core machine in SALib's delta (~3 s with one BLAS thread)
def test_each_arm_is_analysed_on_its_own_adherence_draws(adherence_dir, tmp_path):
    """glucosim analyze end to end: a sensitivity table for every arm, the control arm on the cohort's
    variable only (the programme's draws do nothing there), the programme arm on it and its two draws."""
    found = analyze_sweep(adherence_dir, outputs=OUTPUTS, analysis_dir=tmp_path, figures=False)
    assert not [note for note in found.notes if note.startswith("sensitivity")], found.notes
    assert _indices(found) == {"control": ["body_weight"], "programme": ["body_weight", *PROGRAMME_DRAWS]}
    assert np.isfinite(found.sensitivity[["delta", "S1"]].to_numpy()).all()
    written = pd.read_csv(found.files["sensitivity"])
    assert set(written.loc[written["arm"] == "control", "variable"]) == {"body_weight"}
    assert "sensitivity" in json.loads(found.files["analysis"].read_text())["files"]


def test_the_same_results_give_the_same_indices(adherence_dir):
    """SALib seeds its bootstrap only for a seed that is true: with SENSITIVITY_SEED 0 three analyses of the same
    results gave delta 0.13, 0.22 and 0.07 for one variable. The confidence intervals are bootstrap, so they
    change from run to run unless the seed takes."""
    manifest = SweepStore(adherence_dir).manifest()
    results = load_results(adherence_dir)
    bounds = design_bounds(adherence_dir, manifest)
    first, second = (sensitivity_indices(results, manifest, OUTPUTS[0], "programme", bounds=bounds) for _ in range(2))
    pd.testing.assert_frame_equal(first, second)
