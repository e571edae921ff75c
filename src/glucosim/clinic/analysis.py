"""Clinical indices computed from a protocol's samples, one function per kind of test."""

import math

import numpy as np

from glucosim.clinic.minimal_model import fit_minimal_model
from glucosim.simulation import markers

MATSUDA_SCALE = 10_000.0
"""Matsuda & DeFronzo 1999 Diabetes Care 22:1462: ISI = 10000 / sqrt(G0 I0 Gmean Imean), mg/dl and uU/ml."""
MATSUDA_TIMES_MIN = (0.0, 30.0, 60.0, 90.0, 120.0)
"""The OGTT samples whose means enter the Matsuda index (denser sampling would weight the early rise more)."""
AIR_WINDOW_MIN = (2.0, 10.0)
"""Acute insulin response: mean incremental insulin from 2 to 10 min after the IV bolus."""
SI_REPORT_SCALE = 1e4
"""Minimal-model SI is reported in 1e-4 /min per uU/ml, the usual unit."""


class _Samples:
    """A protocol's samples by column and minute (the first sample within ``np.isclose``'s default tolerance of the
    minute; NaN if none), read from numpy arrays: a lookup through pandas cost about 0.1 ms, and an OGTT's indices
    take 18 of them at each of a long run's clinic visits."""

    def __init__(self, samples):
        self.samples = samples
        self.times = samples["time_min"].to_numpy(dtype=float)
        self.columns: dict[str, np.ndarray] = {}

    def at(self, column: str, minute: float) -> float:
        hit = np.flatnonzero(np.abs(self.times - minute) <= 1e-8 + 1e-5 * abs(minute))
        if not len(hit):
            return float("nan")
        if column not in self.columns:
            self.columns[column] = self.samples[column].to_numpy()
        return float(self.columns[column][hit[0]])


def _at(samples, column, minute):
    return _Samples(samples).at(column, minute)


FASTING_INDICES = ("fasting_glucose_mg_dl", "fasting_insulin_uU_ml", "homa_ir", "homa_b", "fasting_nefa_mmol_l")
INDEX_NAMES = {
    "fasting": FASTING_INDICES,
    "ogtt": (
        *FASTING_INDICES,
        "two_hour_glucose_mg_dl",
        "glucose_tolerance",
        "peak_glucose_mg_dl",
        "peak_insulin_uU_ml",
        "matsuda_index",
        "insulinogenic_index_uU_per_mg",
    ),
    "meal": (
        *FASTING_INDICES,
        "peak_glucose_mg_dl",
        "peak_insulin_uU_ml",
        "glucose_incremental_area_mg_dl_min",
        "insulin_incremental_area_uU_ml_min",
    ),
    "ivgtt": (
        *FASTING_INDICES,
        "air_glucose_uU_ml",
        "si_1e4_per_min_per_uU_ml",
        "sg_per_min",
        "minimal_model_rms_relative_error",
        "minimal_model_fit",
        "disposition_index",
        "first_phase_secretion_pmol_min",
    ),
    "clamp": (
        *FASTING_INDICES,
        "m_value_mg_kg_min",
        "steady_state_insulin_uU_ml",
        "m_over_i",
        "steady_state_glucose_mg_dl",
        "glucose_cv_percent",
        "basal_liver_output_mg_kg_min",
        "clamp_liver_output_mg_kg_min",
        "liver_output_suppression_percent",
        "steady_state_uptake_mg_kg_min",
    ),
}
"""The indices each kind of protocol reports, by kind (its function below returns exactly these: tests/test_clinic.py).
A calibration target names one of them as its measure, checked when its file is read."""


def fasting_indices(samples) -> dict:
    """Fasting glucose, insulin, HOMA-IR, HOMA-%B and NEFA from the t = 0 sample."""
    return _fasting_indices(_Samples(samples))


def _fasting_indices(at: _Samples) -> dict:
    glucose = at.at("glucose_mg_dl", 0.0)
    insulin = at.at("insulin_uU_ml", 0.0)
    return {
        "fasting_glucose_mg_dl": glucose,
        "fasting_insulin_uU_ml": insulin,
        "homa_ir": float(markers.homa_ir(glucose, insulin)),
        "homa_b": float(markers.homa_b(glucose, insulin)),
        "fasting_nefa_mmol_l": at.at("nefa_mmol_l", 0.0),
    }


def ogtt_indices(samples) -> dict:
    """2-h glucose and its class, peak, Matsuda index and insulinogenic index."""
    at = _Samples(samples)
    g0, i0 = at.at("glucose_mg_dl", 0.0), at.at("insulin_uU_ml", 0.0)
    g30, i30 = at.at("glucose_mg_dl", 30.0), at.at("insulin_uU_ml", 30.0)
    two_hour = at.at("glucose_mg_dl", 120.0)
    if not np.isfinite(two_hour):  # no 120-min sample: NaN compared False below and the class read "normal"
        tolerance = "not classified (no 120-min sample)"
    elif two_hour >= markers.TWO_HOUR_GLUCOSE_DIABETES_MG_DL:
        tolerance = "diabetes"
    elif two_hour >= markers.TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL:
        tolerance = "impaired glucose tolerance"
    else:
        tolerance = "normal"
    glucose_mean = np.mean([at.at("glucose_mg_dl", t) for t in MATSUDA_TIMES_MIN])
    insulin_mean = np.mean([at.at("insulin_uU_ml", t) for t in MATSUDA_TIMES_MIN])
    matsuda = MATSUDA_SCALE / np.sqrt(g0 * i0 * glucose_mean * insulin_mean)  # NaN if a standard sample is missing
    return {
        **_fasting_indices(at),
        "two_hour_glucose_mg_dl": two_hour,
        "glucose_tolerance": tolerance,
        "peak_glucose_mg_dl": float(samples["glucose_mg_dl"].max()),
        "peak_insulin_uU_ml": float(samples["insulin_uU_ml"].max()),
        "matsuda_index": float(matsuda),
        "insulinogenic_index_uU_per_mg": float((i30 - i0) / (g30 - g0)) if g30 != g0 else float("nan"),
    }


def meal_indices(samples) -> dict:
    """Peaks and incremental areas of a mixed-meal test (a meal's load is not the OGTT's, so no tolerance class).

    The incremental area is the trapezoidal area of the samples above the fasting (t = 0) value over the whole test,
    negative parts included (the net area; some studies leave out the part below fasting, which for insulin after a
    meal is small).
    """
    at = _Samples(samples)
    minutes = samples["time_min"].to_numpy()

    def incremental_area(column: str) -> float:
        return float(np.trapezoid(samples[column].to_numpy() - at.at(column, 0.0), minutes))

    return {
        **_fasting_indices(at),
        "peak_glucose_mg_dl": float(samples["glucose_mg_dl"].max()),
        "peak_insulin_uU_ml": float(samples["insulin_uU_ml"].max()),
        "glucose_incremental_area_mg_dl_min": incremental_area("glucose_mg_dl"),
        "insulin_incremental_area_uU_ml_min": incremental_area("insulin_uU_ml"),
    }


def clamp_indices(samples, steady_state_from_min: float) -> dict:
    """M value (mean glucose infusion rate at steady state), M/I, and suppression of liver output.

    The suppression is NaN when the basal liver output is 0 (liver output is held at 0 while a large meal is still
    being absorbed: nothing to suppress, the ratio is undefined); M/I is NaN at a steady-state insulin of 0.
    """
    steady = samples[samples["time_min"] >= steady_state_from_min - 1e-9]
    basal_liver = _at(samples, "liver_output_mg_kg_min", 0.0)
    m_value = float(steady["iv_glucose_mg_kg_min"].mean())
    insulin = float(steady["insulin_uU_ml"].mean())
    liver = float(steady["liver_output_mg_kg_min"].mean())
    glucose = steady["glucose_mg_dl"]
    return {
        **fasting_indices(samples),
        "m_value_mg_kg_min": m_value,
        "steady_state_insulin_uU_ml": insulin,
        "m_over_i": m_value / insulin if insulin != 0.0 else float("nan"),
        "steady_state_glucose_mg_dl": float(glucose.mean()),
        "glucose_cv_percent": float(100.0 * glucose.std() / glucose.mean()),
        "basal_liver_output_mg_kg_min": basal_liver,
        "clamp_liver_output_mg_kg_min": liver,
        "liver_output_suppression_percent": (
            float(100.0 * (1.0 - liver / basal_liver)) if basal_liver != 0.0 else float("nan")
        ),
        # the rate of disappearance a tracer clamp measures: every tissue's uptake of plasma glucose, the liver's
        # insulin-stimulated glycogen uptake included (model.py books it out of DM2007's muscle term; until
        # 2026-12-02 it was left out of this sum)
        "steady_state_uptake_mg_kg_min": float(
            (
                steady["muscle_uptake_mg_kg_min"]
                + steady["liver_uptake_mg_kg_min"]
                + steady["adipose_uptake_mg_kg_min"]
                + steady["splanchnic_uptake_mg_kg_min"]
                + steady["brain_uptake_mg_kg_min"]
            ).mean()
        ),
    }


def _fit_status(fit) -> str:
    """The clinic's ``minimal_model_fit`` text: fitted, fitted with parameters on a bound, or why not fitted."""
    if fit.failure:
        return f"not fitted ({fit.failure})"
    if fit.at_bound:
        return f"fitted, but {' and '.join(fit.at_bound)} ended on a bound of the search (SI not identified)"
    return "fitted"


def ivgtt_indices(samples) -> dict:
    """AIRg, minimal-model SI and SG, the disposition index SI x AIRg, and first-phase insulin secretion.

    First-phase secretion is AIRg's window read off pre-hepatic secretion instead of plasma insulin: the mean
    secretion above basal from 2 to 10 min (pmol/min), what C-peptide deconvolution estimates and what studies such as
    Lim 2011's stepped secretion test report (as a rate per m2); NaN for samples without a secretion column.

    ``minimal_model_fit`` says whether the minimal model was fitted; if not (samples from an impossible state), SI,
    SG, the fit's error and the disposition index are NaN and it gives the reason. A fit that ended with a parameter
    on a bound of its search range is reported with that warning (its SI is not identified by the test).
    """
    basal_insulin = _at(samples, "insulin_uU_ml", 0.0)
    early = samples[(samples["time_min"] >= AIR_WINDOW_MIN[0]) & (samples["time_min"] <= AIR_WINDOW_MIN[1])]
    air = float(early["insulin_uU_ml"].mean() - basal_insulin)
    first_phase_secretion = math.nan
    if "secretion_pmol_min" in samples:
        first_phase_secretion = float(early["secretion_pmol_min"].mean() - _at(samples, "secretion_pmol_min", 0.0))
    fit = fit_minimal_model(samples["time_min"], samples["glucose_mg_dl"], samples["insulin_uU_ml"])
    si = fit.si_per_min_per_uU_ml * SI_REPORT_SCALE
    return {
        **fasting_indices(samples),
        "air_glucose_uU_ml": air,
        "si_1e4_per_min_per_uU_ml": si,
        "sg_per_min": fit.sg_per_min,
        "minimal_model_rms_relative_error": fit.rms_relative_error,
        "minimal_model_fit": _fit_status(fit),
        "disposition_index": si * air,
        "first_phase_secretion_pmol_min": first_phase_secretion,
    }
