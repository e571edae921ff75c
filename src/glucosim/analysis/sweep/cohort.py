"""Outcomes of a virtual cohort: who reaches prediabetes and diabetes, by year and by arm.

Works on a sweep's results table (``glucosim.sweep.load_results``). A
patient reaches a stage on the first day a threshold is crossed (ADA: fasting
glucose or HbA1c), as in ``summary.json``; failed runs are counted, not
included in the fractions.

Time to an endpoint is a survival outcome: a patient who has not reached it
is censored at the end of the run. ``kaplan_meier_incidence`` gives the
cumulative incidence (1 - Kaplan-Meier survival) with Greenwood confidence
intervals, and ``hazard_ratios`` each arm's Cox hazard ratio against the
reference arm (lifelines). Every arm runs the same sampled patients, so the
hazard ratio's standard error is clustered by patient (robust sandwich).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.sweep.store import COMPLETED_STATUSES, STATUS_OK
from glucosim.sweep.worker import STATUS_SCREENED_OUT, yearly_column


def cumulative_incidence(results, n_years: int, reference_arm: str | None = None):
    """Fraction of each arm that has reached prediabetes / diabetes by each year.

    "Prediabetic at start" is judged in the reference arm (default: the first),
    the patient as they were before any intervention: every arm runs the same
    samples, and an arm whose changes start on day 0 would otherwise move some
    patients out of the group at year 0.

    Returns:
        DataFrame with one row per (arm, year): ``n_runs`` (simulated: a screened sweep's screened-out rows are
        left out), ``n_failed``,
        ``prediabetes_or_worse_fraction``, ``diabetes_fraction``, and the
        diabetes fraction among patients prediabetic at the start
        (``*_from_prediabetes``, the group prevention trials enrol).
    """
    import pandas as pd

    # a screened sweep's screened-out rows are no runs: neither counted nor failed (the arms are its enrolled)
    results = results[results["status"] != STATUS_SCREENED_OUT]
    reference_arm = reference_arm or str(results["arm"].iloc[0])
    reference = results[results["arm"] == reference_arm].set_index("sample")[yearly_column(0, "stage")]
    prediabetic_samples = set(reference.index[reference == "prediabetes"])
    rows = []
    for arm, group in results.groupby("arm", sort=False):
        ok = group[group["status"].isin(COMPLETED_STATUSES)]
        prediabetic_at_start = ok[ok["sample"].isin(prediabetic_samples)]
        for year in range(n_years + 1):
            limit = year * DAYS_PER_YEAR
            rows.append(
                {
                    "arm": arm,
                    "year": year,
                    "n_runs": len(group),
                    "n_failed": int((~group["status"].isin(COMPLETED_STATUSES)).sum()),
                    "n_implausible": int(
                        (group["status"].isin(COMPLETED_STATUSES) & (group["status"] != STATUS_OK)).sum()
                    ),
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
    if not len(incidence):  # no run simulated (a screening that enrolled no one)
        return []
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


ENDPOINTS = {"diabetes": "diabetes_onset_day", "prediabetes_or_worse": "prediabetes_onset_day"}
"""Survival endpoints: name -> results column with the onset day (NaN: not reached in the run)."""
CONFIDENCE = 0.95
"""Level of the Kaplan-Meier and hazard-ratio confidence intervals."""


def time_to_event(rows, column: str, run_years: float) -> tuple[np.ndarray, np.ndarray]:
    """(years to the onset or to the end of the run, whether the onset was observed) per run."""
    days = rows[column].to_numpy(dtype=float)
    observed = ~np.isnan(days)
    return np.where(observed, days / DAYS_PER_YEAR, float(run_years)), observed


def _ok_rows(results):
    return results[results["status"].isin(COMPLETED_STATUSES)]


def kaplan_meier_incidence(results, run_years: float, endpoints: dict | None = None):
    """Cumulative incidence of each endpoint per arm as a step function, with confidence intervals.

    Returns:
        DataFrame, one row per (arm, endpoint, time at which the estimate steps, and time 0):
        ``time_years``, ``incidence`` (1 - Kaplan-Meier survival), ``ci_low``, ``ci_high``
        (Greenwood, exponential-log, at ``CONFIDENCE``), ``at_risk`` and ``events`` at that time.
    """
    import pandas as pd
    from lifelines import KaplanMeierFitter

    frames = []
    for arm, group in _ok_rows(results).groupby("arm", sort=False):
        for endpoint, column in (endpoints or ENDPOINTS).items():
            years, observed = time_to_event(group, column, run_years)
            fitter = KaplanMeierFitter(alpha=1.0 - CONFIDENCE).fit(years, observed)
            survival = fitter.survival_function_.iloc[:, 0]
            bounds = fitter.confidence_interval_survival_function_
            lower = bounds[[name for name in bounds.columns if "lower" in name][0]].to_numpy()
            upper = bounds[[name for name in bounds.columns if "upper" in name][0]].to_numpy()
            table = fitter.event_table
            frame = pd.DataFrame(
                {
                    "arm": arm,
                    "endpoint": endpoint,
                    "time_years": survival.index.to_numpy(float),
                    "incidence": 1.0 - survival.to_numpy(),
                    "ci_low": 1.0 - upper,  # incidence is 1 - survival: the bounds swap
                    "ci_high": 1.0 - lower,
                    "at_risk": table["at_risk"].reindex(survival.index).to_numpy(),
                    "events": table["observed"].reindex(survival.index).to_numpy(),
                }
            )
            frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def incidence_at(km_table, arm: str, endpoint: str, year: float) -> tuple[float, float, float]:
    """(incidence, ci_low, ci_high) of the step function at ``year`` (the last step at or before it)."""
    rows = km_table[(km_table["arm"] == arm) & (km_table["endpoint"] == endpoint) & (km_table["time_years"] <= year)]
    if rows.empty:
        return (math.nan, math.nan, math.nan)
    last = rows.iloc[-1]
    return float(last["incidence"]), float(last["ci_low"]), float(last["ci_high"])


def hazard_ratios(results, run_years: float, reference_arm: str | None = None, endpoint: str = "diabetes") -> dict:
    """Each other arm's hazard ratio of ``endpoint`` against ``reference_arm`` (Cox proportional hazards).

    One model per arm on its runs and the reference arm's, with an indicator
    of the arm as the only covariate and standard errors clustered by sampled
    patient (the same patients run in every arm).

    Returns:
        arm -> {"hazard_ratio", "ci_low", "ci_high", "p", "events", "events_reference", "note"};
        the ratio is NaN, with a note, when an arm or the reference has no events (it is not estimable).
    """
    import pandas as pd
    from lifelines import CoxPHFitter

    ok = _ok_rows(results)
    arms = list(dict.fromkeys(ok["arm"]))
    reference_arm = reference_arm or (arms[0] if arms else None)
    column = ENDPOINTS[endpoint]
    reference = ok[ok["arm"] == reference_arm]
    found = {}
    for arm in arms:
        if arm == reference_arm:
            continue
        pair = pd.concat([reference, ok[ok["arm"] == arm]])
        years, observed = time_to_event(pair, column, run_years)
        events = int(observed[len(reference) :].sum())
        events_reference = int(observed[: len(reference)].sum())
        entry = {"events": events, "events_reference": events_reference}
        if events == 0 or events_reference == 0:
            nobody = arm if events == 0 else reference_arm
            found[arm] = {
                **entry,
                "hazard_ratio": math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "p": math.nan,
                "note": f"no {endpoint} onsets in arm '{nobody}': the hazard ratio is not estimable",
            }
            continue
        data = pd.DataFrame(
            {
                "years": years,
                "observed": observed,
                "in_arm": (pair["arm"] == arm).to_numpy(float),
                "sample": pair["sample"].to_numpy(),
            }
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifelines' convergence chatter; the CI below shows the uncertainty
            model = CoxPHFitter(alpha=1.0 - CONFIDENCE).fit(
                data, duration_col="years", event_col="observed", cluster_col="sample"
            )
        summary = model.summary.loc["in_arm"]
        found[arm] = {
            **entry,
            "hazard_ratio": float(summary["exp(coef)"]),
            "ci_low": float(summary[f"exp(coef) lower {100 * CONFIDENCE:.0f}%"]),
            "ci_high": float(summary[f"exp(coef) upper {100 * CONFIDENCE:.0f}%"]),
            "p": float(summary["p"]),
            "note": "",
        }
    return found
