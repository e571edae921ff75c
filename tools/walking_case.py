"""The diagnostics behind the walking validation case's remark (walking_training_without_weight_loss.toml).

Duncan 2003's six months of walking without weight loss, run as the case runs it
(``glucosim.validation.cases.walking_training_ivgtt``), then varied one thing at a time: the gap between the last
session and the IVGTT, the training term (``training_gain`` 0), each of Duncan's four prescriptions, the DPP's
walking, the DPP cohort's median subject, and Bloem & Chang 2008's seven days in IGT. Nothing here changes the
model or the case; it prints the numbers the remark quotes.

    PYTHONPATH=src python tools/walking_case.py
"""

from __future__ import annotations

import time

from glucosim.validation.cases import WALK_SESSION, WALK_TEST_DAY, _percent_change, walking_training_ivgtt

NO_TRAINING = {"training_gain": 0.0}
DUNCAN_PRESCRIPTIONS = {
    "3 days at 54 % VO2max": {**WALK_SESSION, "intensity_pct_vo2max": 54.0, "weekdays": [0, 2, 4]},
    "5 days at 54 %": {**WALK_SESSION, "intensity_pct_vo2max": 54.0},
    "3 days at 72 %": {**WALK_SESSION, "intensity_pct_vo2max": 72.0, "weekdays": [0, 2, 4]},
    "5 days at 72 %": {**WALK_SESSION, "intensity_pct_vo2max": 72.0},
}
"""Duncan's four prescriptions: 30 min on 3-4 or 5-7 days, at 45-55 or 65-75 % of heart-rate reserve (~54, ~72 %)."""
DPP_WALKING = {**WALK_SESSION, "intensity_pct_vo2max": 50.0}
"""The DPP lifestyle arm's walking at its intensity above rest (42 % of VO2max, which sets the training effect):
the prevention sweep's 55.6 % for its cohort's resting_intensity 13.9 (41.7 above rest; 50 % until 2026-12-04
night), here at the default resting_intensity 8; the energy is eaten back either way."""


def _dpp_median() -> dict[str, float]:
    """The medians (sensitivity, reserve) and mean weight of models/cohorts/prediabetic.toml as fitted on 2026-12-03,
    pinned: the validation case walking_training_without_weight_loss quotes this subject's results. The refit of
    2026-12-04 (morning) has whole-body 0.355, reserve 1.99 and a muscle factor 0.316 (docs/population.md)."""
    return {"insulin_sensitivity_whole_body": 0.4358, "beta_function_max": 1.942, "body_weight": 93.5}


DPP_MEDIAN = _dpp_median()
BLOEM = {"start_h": 14.0, "duration_min": 60.0, "intensity_pct_vo2max": 67.0, "weekdays": [0, 1, 2, 3, 4, 5, 6]}
"""Bloem & Chang 2008: 1 h a day at 60-70 % of heart-rate reserve (~63-72 % VO2max) for 7 days; ending at 15:00,
the last session comes 16.5 h before the morning test on day 8 (theirs: 15-20 h)."""
KEYS = ("si_1e4_per_min_per_uU_ml", "fasting_glucose_mg_dl", "fasting_insulin_uU_ml", "air_glucose_uU_ml")


def change(parameters: dict | None = None, day: int = WALK_TEST_DAY, session: dict = WALK_SESSION) -> str:
    trained = walking_training_ivgtt(True, parameters, (day,), session)[day]
    untrained = walking_training_ivgtt(False, parameters, (day,), session)[day]
    cells = [f"{untrained[k]:.3g} -> {trained[k]:.3g}" for k in KEYS]
    si = _percent_change(trained["si_1e4_per_min_per_uU_ml"], untrained["si_1e4_per_min_per_uU_ml"])
    weight = trained["weight_change_kg"] - untrained["weight_change_kg"]
    return f"{si:+.1f} | " + " | ".join(cells) + f" | {weight:+.2f}"


def main() -> int:
    started = time.process_time()
    rows = {
        "the case (37 h after the last session)": {},
        "13 h after": {"day": WALK_TEST_DAY - 1},
        "61 h after": {"day": WALK_TEST_DAY + 1},
        "training_gain 0": {"parameters": NO_TRAINING},
        **{name: {"session": session} for name, session in DUNCAN_PRESCRIPTIONS.items()},
        **{
            f"{name}, training_gain 0": {"session": session, "parameters": NO_TRAINING}
            for name, session in DUNCAN_PRESCRIPTIONS.items()
        },
        "the DPP's walking": {"session": DPP_WALKING},
        "the DPP's walking, training_gain 0": {"session": DPP_WALKING, "parameters": NO_TRAINING},
        "the DPP's walking, the DPP cohort's median subject": {"session": DPP_WALKING, "parameters": DPP_MEDIAN},
        "the same, training_gain 0": {"session": DPP_WALKING, "parameters": {**DPP_MEDIAN, **NO_TRAINING}},
        "Bloem 2008's 7 days (subject aged 70)": {"session": BLOEM, "day": 8, "parameters": {"age_years": 70.0}},
        "Bloem 2008's 7 days, the DPP cohort's median subject": {
            "session": BLOEM,
            "day": 8,
            "parameters": {**DPP_MEDIAN, "age_years": 70.0},
        },
    }
    print("| variant | SI change % | SI | fasting glucose mg/dl | fasting insulin uU/ml | AIRg uU/ml | weight kg |")
    print("|---|---|---|---|---|---|---|")
    for name, kwargs in rows.items():
        print(f"| {name} | {change(**kwargs)} |", flush=True)
    print(f"\n{time.process_time() - started:.0f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
