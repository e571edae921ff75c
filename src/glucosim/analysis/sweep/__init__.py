"""``analyze_sweep``: tables and figures from a sweep's results directory (``glucosim analyze DIR``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from glucosim._files import save_figure_whole, write_text_whole, write_whole
from glucosim._optional import require_extra
from glucosim.analysis.sweep.cohort import (
    CONFIDENCE,
    arm_comparison,
    cumulative_incidence,
    hazard_ratios,
    incidence_at,
    kaplan_meier_incidence,
)
from glucosim.analysis.sweep.sensitivity import DEFAULT_OUTPUTS, design_bounds, ranking_column, sensitivity_indices
from glucosim.errors import SweepError
from glucosim.sweep.store import SweepStore, strict_json
from glucosim.sweep.worker import STATUS_SCREENED_OUT

ANALYSIS_DIR = "analysis"
GRID_VARIABLES_FOR_MAP = 2


@dataclass
class SweepAnalysis:
    """What ``analyze_sweep`` found and wrote.

    Attributes:
        incidence: cumulative incidence per arm and year (DataFrame).
        comparison: per arm at the last year: diabetes fraction with its Kaplan-Meier confidence
            interval, relative reduction, and hazard ratio against the reference arm.
        sensitivity: indices per output, variable and arm (DataFrame; None for grids).
        files: name -> path of everything written.
        notes: why an analysis was skipped.
    """

    incidence: object
    comparison: list
    sensitivity: object
    files: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    survival: object = None
    """Kaplan-Meier cumulative incidence per arm and endpoint, as steps with confidence intervals (DataFrame)."""
    hazards: dict = field(default_factory=dict)
    """arm -> Cox hazard ratio of diabetes against the reference arm, its confidence interval and p."""


def _csv_whole(table, path: Path) -> None:
    write_whole(path, lambda partial: table.to_csv(partial, index=False, float_format="%.6g"))


def _save(figure, path: Path, files: dict, key: str) -> None:
    import matplotlib.pyplot as plt

    save_figure_whole(figure, path, path.suffix.lstrip(".") or "png")
    plt.close(figure)
    files[key] = path


def _sensitivity(results, manifest, outputs, notes, out_dir):
    import pandas as pd

    try:
        bounds = design_bounds(out_dir, manifest)
    except SweepError as exc:
        notes.append(f"sensitivity: {exc}")
        return pd.DataFrame()
    frames = []
    for output in outputs:
        for arm in manifest["arms"]:
            try:
                frames.append(sensitivity_indices(results, manifest, output, arm, bounds=bounds))
            except SweepError as exc:
                notes.append(f"sensitivity of {output} ({arm}): {exc}")
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _maps(results, manifest, target: Path, files: dict) -> None:
    from glucosim.analysis.sweep.figures import plot_stage_map

    for arm in manifest["arms"]:
        title = f"Final stage ({arm}); numbers: final fasting glucose (mg/dl)"
        _save(
            plot_stage_map(results, manifest, arm, title),
            target / f"outcome_map_{arm}.png",
            files,
            f"outcome_map_{arm}",
        )


def _add_survival(comparison: list[dict], survival, hazards: dict, reference_arm: str, notes: list) -> None:
    """Add each arm's Kaplan-Meier confidence interval and hazard ratio to its comparison entry."""
    level = f"{100 * CONFIDENCE:.0f}"
    for entry in comparison:
        _, low, high = incidence_at(survival, entry["arm"], "diabetes", entry["year"])
        entry[f"diabetes_fraction_ci{level}"] = [low, high]
        if entry["arm"] == reference_arm:
            continue
        found = hazards[entry["arm"]]
        entry[f"diabetes_hazard_ratio_vs_{reference_arm}"] = found["hazard_ratio"]
        entry[f"diabetes_hazard_ratio_ci{level}"] = [found["ci_low"], found["ci_high"]]
        entry["diabetes_hazard_ratio_p"] = found["p"]
        if found["note"]:
            notes.append(f"hazard ratio of {entry['arm']}: {found['note']}")


def analyze_sweep(
    out_dir, outputs: tuple[str, ...] = DEFAULT_OUTPUTS, analysis_dir=None, figures: bool = True
) -> SweepAnalysis:
    """Cohort outcomes, sensitivity indices and outcome maps of the sweep in ``out_dir``.

    Writes ``incidence.csv`` (yearly), ``incidence_km.csv`` (Kaplan-Meier steps
    with confidence intervals), ``sensitivity.csv``, ``analysis.json`` (per arm:
    incidence, its confidence interval, relative reduction, hazard ratio; written
    last, with every other file's size and SHA-256 under ``file_records``, so files
    of an interrupted re-analysis are told apart) and figures to ``analysis_dir``
    (default ``out_dir/analysis``). Works on a partial sweep too (finished runs
    only), and says so.
    """
    require_extra("sweep", "glucosim analyze")
    store = SweepStore(out_dir)
    manifest = store.manifest()
    results = store.load_results()
    target = Path(analysis_dir) if analysis_dir else Path(out_dir) / ANALYSIS_DIR
    target.mkdir(parents=True, exist_ok=True)
    notes = []
    partial_note = None
    if len(results) < manifest["n_runs"]:
        partial_note = f"partial sweep: {len(results)} of {manifest['n_runs']} runs finished"
        notes.append(partial_note)
    screened_out = results["status"] == STATUS_SCREENED_OUT
    if screened_out.any():  # a screened sweep: the outcomes are of the enrolled, the runs simulated
        notes.append(
            f"screened before simulating: {int((~screened_out).sum())} of {len(results)} runs simulated (the "
            f"enrolled), {int(screened_out.sum())} screened out (screening.parquet); the analysis is of the enrolled"
        )
        results = results[~screened_out].reset_index(drop=True)
        if not len(results):
            raise SweepError(
                f"{out_dir}: the screening enrolled no patient, so no run was simulated: nothing to analyse"
            )
    reference_arm = manifest["arms"][0]
    run_years = manifest.get("run_years", manifest["n_years"])  # older manifests: whole years
    incidence = cumulative_incidence(results, manifest["n_years"], reference_arm=reference_arm)
    comparison = arm_comparison(incidence, reference_arm=reference_arm)
    survival = kaplan_meier_incidence(results, run_years)
    hazards = hazard_ratios(results, run_years, reference_arm=reference_arm)
    _add_survival(comparison, survival, hazards, reference_arm, notes)
    sensitivity = _sensitivity(results, manifest, outputs, notes, out_dir) if manifest["design"] != "grid" else None
    files = {
        "incidence": target / "incidence.csv",
        "incidence_km": target / "incidence_km.csv",
        "analysis": target / "analysis.json",
    }
    # every file written whole or not at all: an interrupted analysis never leaves a half-written table behind
    _csv_whole(incidence, files["incidence"])
    _csv_whole(survival, files["incidence_km"])
    if sensitivity is not None and len(sensitivity):
        files["sensitivity"] = target / "sensitivity.csv"
        _csv_whole(sensitivity, files["sensitivity"])
    trial = _trial_table(results, manifest, reference_arm, run_years, target, files, out_dir, partial_note)
    if figures:
        _figures(results, manifest, incidence, sensitivity, target, files, notes, survival, hazards)
    from glucosim.io.results import file_record

    # written last, with each other file's size and checksum: a re-analysis killed half-way left new tables beside
    # an old analysis.json and trial table, and nothing told which files belonged together
    records = {key: file_record(path) for key, path in files.items() if key != "analysis"}
    write_text_whole(
        files["analysis"],
        strict_json(
            {
                "sweep": manifest["sweep_name"],
                "arms": comparison,
                "trial_table": trial.to_dict("records") if trial is not None else None,
                "notes": notes,
                "files": {k: str(v) for k, v in files.items()},
                "file_records": records,
            }
        )
        + "\n",
    )
    return SweepAnalysis(incidence, comparison, sensitivity, files, notes, survival, hazards)


def _trial_table(
    results,
    manifest,
    reference_arm,
    run_years,
    target: Path,
    files: dict,
    out_dir=None,
    partial_note: str | None = None,
):
    """A cohort trial of two or more arms, at least as long as the DPP's follow-up: the DPP table
    (incidence per 100 person-years per arm, relative reduction, the trial's numbers beside them), seen by the
    virtual DPP clinic (``analysis.sweep.clinic``) when the sweep kept the daily values it reads. ``partial_note`` (the
    note of a sweep that has not finished) heads the file, so its table is not taken for the trial's."""
    from glucosim.analysis.sweep.dpp import FOLLOW_UP_YEARS, load_trial_results, markdown, trial_table

    if manifest["design"] != "cohort" or len(manifest["arms"]) < 2 or run_years + 1e-9 < FOLLOW_UP_YEARS:
        return None
    if out_dir is not None:
        results = load_trial_results(out_dir)
    table = trial_table(results, reference_arm, FOLLOW_UP_YEARS)
    files["trial_table"] = target / "trial_table.md"
    banner = f"**Partial results ({partial_note}); the table reads those runs only.**\n\n" if partial_note else ""
    write_text_whole(files["trial_table"], banner + markdown(table))
    return table


def _figures(results, manifest, incidence, sensitivity, target, files, notes, survival, hazards) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from glucosim.analysis.sweep.figures import plot_cumulative_incidence, plot_sensitivity

    _save(
        plot_cumulative_incidence(incidence, title=manifest["sweep_name"], survival=survival, hazards=hazards),
        target / "incidence.png",
        files,
        "incidence_figure",
    )
    if sensitivity is not None and len(sensitivity):
        column = ranking_column(manifest["design"])
        first_arm = sensitivity[sensitivity["arm"] == manifest["arms"][0]]
        for output, indices in first_arm.groupby("output", sort=False):
            _save(
                plot_sensitivity(indices, column), target / f"sensitivity_{output}.png", files, f"sensitivity_{output}"
            )
    if manifest["design"] == "grid":
        if len(manifest["variables"]) == GRID_VARIABLES_FOR_MAP:
            _maps(results, manifest, target, files)
        else:
            notes.append("outcome maps need a grid over exactly two variables")
