"""``analyze_sweep``: tables and figures from a sweep's results directory (``glucosim analyze DIR``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from glucosim.analysis.cohort import arm_comparison, cumulative_incidence
from glucosim.analysis.sensitivity import DEFAULT_OUTPUTS, ranking_column, sensitivity_indices
from glucosim.errors import SweepError
from glucosim.sweep.store import SweepStore, strict_json

ANALYSIS_DIR = "analysis"
GRID_VARIABLES_FOR_MAP = 2


@dataclass
class SweepAnalysis:
    """What ``analyze_sweep`` found and wrote.

    Attributes:
        incidence: cumulative incidence per arm and year (DataFrame).
        comparison: per arm at the last year: diabetes fraction, relative reduction.
        sensitivity: indices per output, variable and arm (DataFrame; None for grids).
        files: name -> path of everything written.
        notes: why an analysis was skipped.
    """

    incidence: object
    comparison: list
    sensitivity: object
    files: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def _save(figure, path: Path, files: dict, key: str) -> None:
    import matplotlib.pyplot as plt

    figure.savefig(path)
    plt.close(figure)
    files[key] = path


def _sensitivity(results, manifest, outputs, notes):
    import pandas as pd

    frames = []
    for output in outputs:
        for arm in manifest["arms"]:
            try:
                frames.append(sensitivity_indices(results, manifest, output, arm))
            except SweepError as exc:
                notes.append(f"sensitivity of {output} ({arm}): {exc}")
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _maps(results, manifest, target: Path, files: dict) -> None:
    from glucosim.plotting.sweep import plot_stage_map

    for arm in manifest["arms"]:
        title = f"Final stage ({arm}); numbers: final fasting glucose (mg/dl)"
        _save(
            plot_stage_map(results, manifest, arm, title),
            target / f"outcome_map_{arm}.png",
            files,
            f"outcome_map_{arm}",
        )


def analyze_sweep(
    out_dir, outputs: tuple[str, ...] = DEFAULT_OUTPUTS, analysis_dir=None, figures: bool = True
) -> SweepAnalysis:
    """Cohort outcomes, sensitivity indices and outcome maps of the sweep in ``out_dir``.

    Writes ``incidence.csv``, ``sensitivity.csv``, ``analysis.json`` and
    figures to ``analysis_dir`` (default ``out_dir/analysis``). Works on a
    partial sweep too (finished runs only), and says so.
    """
    store = SweepStore(out_dir)
    manifest = store.manifest()
    results = store.load_results()
    target = Path(analysis_dir) if analysis_dir else Path(out_dir) / ANALYSIS_DIR
    target.mkdir(parents=True, exist_ok=True)
    notes = []
    if len(results) < manifest["n_runs"]:
        notes.append(f"partial sweep: {len(results)} of {manifest['n_runs']} runs finished")
    incidence = cumulative_incidence(results, manifest["n_years"], reference_arm=manifest["arms"][0])
    comparison = arm_comparison(incidence, reference_arm=manifest["arms"][0])
    sensitivity = _sensitivity(results, manifest, outputs, notes) if manifest["design"] != "grid" else None
    files = {"incidence": target / "incidence.csv", "analysis": target / "analysis.json"}
    incidence.to_csv(files["incidence"], index=False, float_format="%.6g")
    if sensitivity is not None and len(sensitivity):
        files["sensitivity"] = target / "sensitivity.csv"
        sensitivity.to_csv(files["sensitivity"], index=False, float_format="%.6g")
    if figures:
        _figures(results, manifest, incidence, sensitivity, target, files, notes)
    files["analysis"].write_text(
        strict_json(
            {
                "sweep": manifest["sweep_name"],
                "arms": comparison,
                "notes": notes,
                "files": {k: str(v) for k, v in files.items()},
            }
        )
        + "\n"
    )
    return SweepAnalysis(incidence, comparison, sensitivity, files, notes)


def _figures(results, manifest, incidence, sensitivity, target, files, notes) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from glucosim.plotting.sweep import plot_cumulative_incidence, plot_sensitivity

    _save(
        plot_cumulative_incidence(incidence, title=manifest["sweep_name"]),
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
