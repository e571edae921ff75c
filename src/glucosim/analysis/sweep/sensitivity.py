"""Which varied quantity matters most for an outcome: SALib estimators matched to the design.

- Sobol (Saltelli) design: first-order and total Sobol indices (S1, ST).
- Morris design: elementary effects (mu*, sigma).
- Latin hypercube or cohort: the moment-independent delta index
  (Borgonovo 2007) with first-order Sobol estimates, which work on any sample.

Each arm is analysed on what acts in it: the design's variables and the
arm's own adherence draws (a cohort's ``[[arms.adherence]]``, with their
support as the problem's bounds); another arm's draws, present in every
row, are left out.

Outcomes that a run may not reach (years to diabetes) are censored at the end
of the run, so every run contributes; failed runs make the analysis refuse,
since SALib's Sobol and Morris estimators need every design point.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from glucosim._threads import single_blas_thread
from glucosim.errors import SweepError
from glucosim.sweep.store import COMPLETED_STATUSES, column_bounds

DEFAULT_OUTPUTS = ("years_to_diabetes", "final_hba1c_percent")
DELTA_MIN_SAMPLES = 20
"""Fewer samples leave SALib's delta estimator one bin per variable (NaN indices)."""
ORDERED_DESIGNS = ("sobol", "morris")
"""Designs whose estimators read the samples as fixed groups (Saltelli blocks, Morris trajectories)."""
SENSITIVITY_SEED = 20021
"""Seed of the bootstrap confidence intervals (reproducible analyses). Not 0: SALib seeds its generator only
``if seed:``, so 0 left the bootstrap unseeded (three analyses of the same results gave delta 0.13, 0.22, 0.07)."""


def outcome_values(results, output: str, run_years: float) -> np.ndarray:
    """The outcome per run; years to diabetes censored at the end of the run (never = ``run_years``)."""
    if output not in results:
        raise SweepError(f"unknown output {output!r}; choose a results column, e.g. {', '.join(DEFAULT_OUTPUTS)}")
    values = results[output].to_numpy(dtype=float)
    if output == "years_to_diabetes":
        values = np.where(np.isnan(values), float(run_years), values)
    return values


def design_bounds(out_dir, manifest: dict) -> list[list[float]]:
    """Each sampled column's [low, high] as the design drew it, in the manifest's ``variables`` order: the design's
    variables, then the arms' adherence draws (their support: bounds, else range, else +- 4 sd).

    SALib's problem is the design's, not the runs' observed min/max (a Latin
    hypercube never reaches its bounds; a partial sweep less so). Manifests
    hold every column's bounds since adherence draws exist; older ones hold
    the variables' only (or none, before 0.2): what is missing is read from
    the sweep file stored in ``out_dir``.

    Raises:
        SweepError: the stored sweep file is needed but missing, or does not match the manifest's columns.
    """
    names = list(manifest["variables"])
    stored = [list(bounds) for bounds in manifest.get("variable_bounds", ())]
    if len(stored) == len(names):
        return stored
    from pydantic import ValidationError

    from glucosim._toml import load_toml
    from glucosim.sweep.load import COHORT_DIR
    from glucosim.sweep.schema import CohortFile, Sweep

    path = Path(out_dir) / "sweep.toml"
    try:
        sweep = Sweep.model_validate(load_toml(path))
        if not sweep.variables and sweep.design.cohort is not None:
            cohort = CohortFile.model_validate(load_toml(COHORT_DIR / f"{sweep.design.cohort}.toml"))
            sweep = sweep.model_copy(update={"variables": cohort.variables})
    except (OSError, ValueError, ValidationError) as exc:
        raise SweepError(f"{path}: cannot read the design's variable bounds: {exc}") from None
    found = [variable.name for variable in sweep.variables] + list(sweep.adherence_columns)
    if found != names:
        raise SweepError(f"{path}: variables {found} do not match the manifest's {names}")
    bounds = column_bounds(sweep)
    return stored + bounds[len(stored) :]  # the manifest's own bounds of the design's variables, where it has them


def arm_variables(manifest: dict, arm: str) -> list[str]:
    """The sampled columns that act in ``arm``, in the manifest's order: the design's variables (every arm) and
    the arm's own adherence draws. Another arm's draws are in this arm's rows too but change nothing here, so
    they are left out (a sensitivity index of them would only measure noise)."""
    names = list(manifest["variables"])
    if "adherence_columns" in manifest:
        owned = manifest["adherence_columns"]
        others = {column for name, columns in owned.items() if name != arm for column in columns}
        return [name for name in names if name not in others]
    # older manifests: the design's variables have bounds, the adherence columns after them ('<arm>.<entry>',
    # an entry's name has no dot) have none (2026-12-02); before adherence draws, every column is a variable
    n_design = len(manifest.get("variable_bounds", names))
    return names[:n_design] + [name for name in names[n_design:] if name.rpartition(".")[0] == arm]


def sensitivity_indices(results, manifest: dict, output: str, arm: str | None = None, *, bounds=None):
    """Sensitivity indices of ``output`` to each variable that acts in one arm (default: the first): the design's
    variables, and the arm's own adherence draws (``arm_variables``; a draw is a driver of the outcome in its
    arm, and in no other).

    ``bounds``: each sampled column's [low, high] in the design, in the manifest's ``variables`` order
    (``design_bounds``); SALib's estimators read the samples, but the problem they are given must be the design's.

    Returns:
        DataFrame: one row per variable with the method's indices and confidence intervals.

    Raises:
        SweepError: a grid design (use the heatmap), failed runs, or a non-finite outcome.
    """
    import pandas as pd

    kind = manifest["design"]
    if kind == "grid":
        raise SweepError("a grid has no sensitivity estimator here; see the outcome heatmap (glucosim analyze)")
    arm = arm or manifest["arms"][0]
    rows = results[results["arm"] == arm].sort_values("sample")
    if kind in ORDERED_DESIGNS and rows["sample"].tolist() != list(range(manifest["n_samples"])):
        raise SweepError(
            f"{len(rows)} of {manifest['n_samples']} samples of arm '{arm}' finished; a {kind} design "
            "needs every one (finish the sweep first)"
        )
    if (~rows["status"].isin(COMPLETED_STATUSES)).any():
        raise SweepError(
            f"{int((~rows['status'].isin(COMPLETED_STATUSES)).sum())} runs of arm '{arm}' failed; "
            "sensitivity estimators need every design point"
        )
    names = arm_variables(manifest, arm)
    x = rows[names].to_numpy(dtype=float)
    y = outcome_values(rows, output, manifest.get("run_years", manifest["n_years"]))  # older manifests: whole years
    if not np.all(np.isfinite(y)):
        raise SweepError(f"output {output!r} is not finite in every run of arm '{arm}'")
    if bounds is None:
        raise SweepError("sensitivity indices need the design's variable bounds (design_bounds(out_dir, manifest))")
    if len(bounds) != len(manifest["variables"]):
        raise SweepError(
            f"{len(bounds)} bounds for the manifest's {len(manifest['variables'])} sampled columns "
            f"{manifest['variables']}; give design_bounds(out_dir, manifest)"
        )
    bounds_of = dict(zip(manifest["variables"], bounds))
    problem = {"num_vars": len(names), "names": list(names), "bounds": [list(bounds_of[name]) for name in names]}
    # SALib's estimators are ~6x slower with OpenBLAS threads on a 2-core machine (glucosim._threads)
    with single_blas_thread():
        if kind == "sobol":
            from SALib.analyze import sobol

            found = sobol.analyze(problem, y, calc_second_order=False, seed=SENSITIVITY_SEED)
            frame = pd.DataFrame(
                {"S1": found["S1"], "S1_conf": found["S1_conf"], "ST": found["ST"], "ST_conf": found["ST_conf"]},
                index=names,
            )
        elif kind == "morris":
            from SALib.analyze import morris

            found = morris.analyze(problem, x, y, num_levels=manifest["morris_levels"], seed=SENSITIVITY_SEED)
            frame = pd.DataFrame(
                {"mu_star": found["mu_star"], "mu_star_conf": found["mu_star_conf"], "sigma": found["sigma"]},
                index=names,
            )
        else:
            from SALib.analyze import delta

            if len(rows) < DELTA_MIN_SAMPLES:
                raise SweepError(
                    f"the delta estimator needs at least {DELTA_MIN_SAMPLES} samples per arm "
                    f"(arm '{arm}' has {len(rows)})"
                )
            # SALib's delta reports binning notices as warnings and resets the filters itself: record, don't print
            try:
                with warnings.catch_warnings(record=True):
                    found = delta.analyze(problem, x, y, seed=SENSITIVITY_SEED, print_to_console=False)
            except ValueError as exc:  # SALib: a singular matrix of a degenerate (near-constant) outcome or variable
                raise SweepError(f"the delta estimator failed on arm '{arm}' ({len(rows)} samples): {exc}") from None
            # SALib 1.6 reports the raw estimator as 'delta_raw' (with 'balanced' and 'step' variants); older 'delta'
            key = "delta" if "delta" in found else "delta_raw"
            frame = pd.DataFrame(
                {
                    "delta": found[key],
                    "delta_conf": found[f"{key}_conf"],
                    "S1": found["S1"],
                    "S1_conf": found["S1_conf"],
                },
                index=names,
            )
    frame.index.name = "variable"
    return frame.assign(output=output, arm=arm, method=kind).reset_index()


def ranking_column(kind: str) -> str:
    """The index that ranks variables for a design (what a tornado plot shows)."""
    return {"sobol": "ST", "morris": "mu_star"}.get(kind, "delta")


def outcome_grid(results, x: str, y: str, output: str, arm: str | None = None):
    """``output`` over a two-variable grid (rows: y values, columns: x values), for one arm."""
    rows = results if arm is None else results[results["arm"] == arm]
    table = rows.pivot_table(index=y, columns=x, values=output, aggfunc="first")
    return table.sort_index().sort_index(axis=1)
