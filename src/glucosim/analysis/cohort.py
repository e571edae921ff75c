"""Outcomes of a virtual cohort: who reaches prediabetes and diabetes, by year and by arm.

Works on a sweep's results table (``glucosim.sweep.load_results``). A
patient reaches a stage on the first day a threshold is crossed (ADA: fasting
glucose or HbA1c), as in ``summary.json``; failed runs are counted, not
included in the fractions.
"""

from __future__ import annotations

import numpy as np

from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.sweep.worker import STATUS_OK


def cumulative_incidence(results, n_years: int, reference_arm: str | None = None):
    """Fraction of each arm that has reached prediabetes / diabetes by each year.

    "Prediabetic at start" is judged in the reference arm (default: the first),
    the patient as they were before any intervention: every arm runs the same
    samples, and an arm whose changes start on day 0 would otherwise move some
    patients out of the group at year 0.

    Returns:
        DataFrame with one row per (arm, year): ``n_runs``, ``n_failed``,
        ``prediabetes_or_worse_fraction``, ``diabetes_fraction``, and the
        diabetes fraction among patients prediabetic at the start
        (``*_from_prediabetes``, the group prevention trials enrol).
    """
    import pandas as pd

    reference_arm = reference_arm or str(results["arm"].iloc[0])
    reference = results[results["arm"] == reference_arm].set_index("sample")["y0_stage"]
    prediabetic_samples = set(reference.index[reference == "prediabetes"])
    rows = []
    for arm, group in results.groupby("arm", sort=False):
        ok = group[group["status"] == STATUS_OK]
        prediabetic_at_start = ok[ok["sample"].isin(prediabetic_samples)]
        for year in range(n_years + 1):
            limit = year * DAYS_PER_YEAR
            rows.append(
                {
                    "arm": arm,
                    "year": year,
                    "n_runs": len(group),
                    "n_failed": int((group["status"] != STATUS_OK).sum()),
                    "prediabetes_or_worse_fraction": _fraction(ok["prediabetes_onset_day"], limit),
                    "diabetes_fraction": _fraction(ok["diabetes_onset_day"], limit),
                    "n_prediabetic_at_start": len(prediabetic_at_start),
                    "diabetes_fraction_from_prediabetes": _fraction(prediabetic_at_start["diabetes_onset_day"], limit),
                }
            )
    return pd.DataFrame(rows)


def _fraction(onset_days, limit_day: float) -> float:
    values = onset_days.to_numpy(dtype=float)
    if values.size == 0:
        return float("nan")
    reached = ~np.isnan(values) & (values <= limit_day)  # NaN onset: never reached in the run
    return float(np.mean(reached))


def _reduction(fraction: float, reference: float) -> float:
    """1 - fraction / reference (NaN when the reference arm has no cases)."""
    return 1.0 - fraction / reference if reference > 0 else float("nan")


def arm_comparison(incidence, reference_arm: str | None = None) -> list[dict]:
    """At the last year: each arm's diabetes fraction and its relative reduction against the reference arm.

    Relative reduction = 1 - (fraction in the arm / fraction in the reference
    arm), overall and among patients prediabetic at the start (the group a
    prevention trial such as the DPP enrols; its 58 % is over ~3 years, so
    compare at that year with ``incidence``, not only at the last).
    """
    last = incidence[incidence["year"] == incidence["year"].max()]
    reference_arm = reference_arm or str(last["arm"].iloc[0])
    reference = last[last["arm"] == reference_arm].iloc[0]
    comparison = []
    for record in last.to_dict("records"):
        is_reference = record["arm"] == reference_arm
        comparison.append(
            {
                "arm": record["arm"],
                "year": int(record["year"]),
                "n_runs": int(record["n_runs"]),
                "n_failed": int(record["n_failed"]),
                "diabetes_fraction": record["diabetes_fraction"],
                "prediabetes_or_worse_fraction": record["prediabetes_or_worse_fraction"],
                "n_prediabetic_at_start": int(record["n_prediabetic_at_start"]),
                "diabetes_fraction_from_prediabetes": record["diabetes_fraction_from_prediabetes"],
                "relative_reduction_vs_" + reference_arm: None
                if is_reference
                else _reduction(record["diabetes_fraction"], reference["diabetes_fraction"]),
                "relative_reduction_from_prediabetes_vs_" + reference_arm: None
                if is_reference
                else _reduction(
                    record["diabetes_fraction_from_prediabetes"], reference["diabetes_fraction_from_prediabetes"]
                ),
            }
        )
    return comparison
