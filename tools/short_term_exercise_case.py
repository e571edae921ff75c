"""The numbers behind the Bloem 2008 validation case's remarks (short_term_exercise_igt.toml).

Seven days of 1 h exercise at 65 % of heart-rate reserve in an older adult with IGT, weight held, FSIVGTT the next
morning, run as the case runs it (``glucosim.validation.cases.short_term_exercise_ivgtt``), then varied one thing at
a time: the gap after the last session (Bloem's 15 and 20 h), the intensity (60 and 70 % of heart-rate reserve),
the post-exercise term (``post_exercise_sensitivity_gain`` 0), the training term (``training_gain`` 0), and the
subject (deeper IGT; the DPP cohort's median subject). For each: the three case quantities, the measures Bloem
found unchanged (fasting glucose, fasting insulin, Kg), the seventh day's 24-h mean glucose (against
glucose_setpoint, which drives beta-cell adaptation), the states that carry the change, and the SD of the paired
change in fasting glucose that 12 people would need for glucosim's fall to be "unchanged" (P >= 0.05). A second
table gives the same SI gain with the beta cells adapted (a higher sensitivity without exercise, the run starting
adapted). Nothing here changes the model or the case.

    PYTHONPATH=src python tools/short_term_exercise_case.py
"""

from __future__ import annotations

import math
import time

from glucosim.validation.cases import (
    BLOEM_SESSION_START_H,
    _percent_change,
    bloem_session,
    short_term_exercise_ivgtt,
)

T_CRITICAL_DF11 = 2.201
"""Two-sided 5 % Student t for 11 degrees of freedom (a paired test in 12 people)."""
DPP_MEDIAN = {"insulin_sensitivity_whole_body": 0.4358, "beta_function_max": 1.942}
"""The medians of models/cohorts/prediabetic.toml as fitted on 2026-12-03 (the weight is the case's 93.5 kg, the
cohort's mean); the refit of 2026-12-04 (morning) has whole-body 0.355, reserve 1.99 and a muscle factor 0.316."""
ROWS = {
    "the case (17.5 h after the last session)": {},
    "15 h after (session 15:30-16:30)": {"session": bloem_session(BLOEM_SESSION_START_H + 2.5)},
    "20 h after (session 10:30-11:30)": {"session": bloem_session(BLOEM_SESSION_START_H - 2.5)},
    "60 % of heart-rate reserve": {"session": bloem_session(reserve_fraction=0.60)},
    "70 % of heart-rate reserve": {"session": bloem_session(reserve_fraction=0.70)},
    "post_exercise_sensitivity_gain 0": {"parameters": {"post_exercise_sensitivity_gain": 0.0}},
    "training_gain 0": {"parameters": {"training_gain": 0.0}},
    "both 0 (energy and the session's own uptake only)": {
        "parameters": {"post_exercise_sensitivity_gain": 0.0, "training_gain": 0.0}
    },
    "deeper IGT (sensitivity 0.18: 2-h OGTT 160 mg/dl)": {"parameters": {"insulin_sensitivity_whole_body": 0.18}},
    "the DPP cohort's median subject (not IGT in glucosim)": {"parameters": DPP_MEDIAN},
}


def row(parameters: dict | None = None, session: dict | None = None) -> str:
    exercised = short_term_exercise_ivgtt(True, parameters, session)
    control = short_term_exercise_ivgtt(False, parameters, session)

    def pct(key: str) -> str:
        return f"{_percent_change(exercised[key], control[key]):+.1f}"

    def pair(key: str, digits: int = 3) -> str:
        return f"{control[key]:.{digits}g} -> {exercised[key]:.{digits}g}"

    fall = control["fasting_glucose_mg_dl"] - exercised["fasting_glucose_mg_dl"]
    sd_needed = abs(fall) * math.sqrt(12.0) / T_CRITICAL_DF11
    states = " / ".join(
        f"{exercised[k]:.3g}" for k in ("post_exercise_sensitivity", "training_level", "beta_function_rel")
    )
    cells = [
        pct("si_1e4_per_min_per_uU_ml"),
        pct("air_glucose_uU_ml"),
        pct("disposition_index"),
        pair("si_1e4_per_min_per_uU_ml"),
        pair("air_glucose_uU_ml"),
        pair("fasting_glucose_mg_dl"),
        f"{sd_needed:.0f}",
        pair("fasting_insulin_uU_ml"),
        pair("day7_mean_glucose_mg_dl"),
        f"{pair('kg_percent_per_min')} ({pct('kg_percent_per_min')} %)",
        f"{control['beta_function_rel']:.3g} ; {states}",
        f"{exercised['weight_change_kg'] - control['weight_change_kg']:+.2f}",
    ]
    return " | ".join(cells)


ADAPTED = {
    "the case's subject": ({}, 0.42),
    "the DPP cohort's median subject": (DPP_MEDIAN, 0.62),
}
"""The same SI gain with the beta cells adapted: the subject without exercise at a higher whole-body sensitivity
(a run starts adapted to its routine), chosen so that SI rises about as much as after the case's week."""


def adapted_row(parameters: dict, sensitivity: float) -> str:
    base = short_term_exercise_ivgtt(False, parameters)
    higher = short_term_exercise_ivgtt(False, {**parameters, "insulin_sensitivity_whole_body": sensitivity})
    cells = [f"{sensitivity:g}"]
    for key in ("si_1e4_per_min_per_uU_ml", "air_glucose_uU_ml", "kg_percent_per_min"):
        cells.append(f"{_percent_change(higher[key], base[key]):+.1f}")
    for key in ("fasting_glucose_mg_dl", "fasting_insulin_uU_ml", "day7_mean_glucose_mg_dl", "beta_function_rel"):
        cells.append(f"{base[key]:.4g} -> {higher[key]:.4g}")
    return " | ".join(cells)


def main() -> int:
    started = time.process_time()
    print(
        "| variant | SI % | AIRg % | DI % | SI | AIRg uU/ml | fasting glucose mg/dl | SD for 'unchanged' mg/dl"
        " | fasting insulin uU/ml | day-7 mean glucose mg/dl | Kg %/min"
        " | beta function (control) ; post-exercise / training / beta function (exercised) | weight kg |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, kwargs in ROWS.items():
        print(f"| {name} | {row(**kwargs)} |", flush=True)
    print(
        "\nThe same SI gain, beta cells adapted (no exercise, higher whole-body sensitivity):\n\n"
        "| subject | sensitivity | SI % | AIRg % | Kg % | fasting glucose mg/dl | fasting insulin uU/ml"
        " | 24-h mean glucose mg/dl | beta function |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (parameters, sensitivity) in ADAPTED.items():
        print(f"| {name} | {adapted_row(parameters, sensitivity)} |", flush=True)
    print(f"\n{time.process_time() - started:.0f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
