"""The numbers behind setpoint_release_rate's source and docs/population.md: a held set point under failure.

Scenario 03's subject (its preset, meals and sleep) with the DPP cohort's hold (``setpoint_adaptation_at_start`` 1)
and the cohort's reserve, muscle factor and weight, at a whole-body sensitivity of 0.30, run for 3 years at three
drifts of sensitivity (-0.3, -0.2 and 0 a year). For each: the held rise of the set point
(``beta_setpoint_adaptation_mg_dl``), beta-cell function and fasting glucose at the start and after 3 years. At -0.3
a year the subject fails (a glucotoxic load pulls function off its cap), and the table shows what the release does
to the hold while it fails. Nothing here changes the model.

    PYTHONPATH=src python tools/held_setpoint_release.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

SUBJECT_TOML = """
name = "held set point under failure"
duration_years = 3

[subject]
preset = "insulin_resistant_low_reserve"
insulin_sensitivity_whole_body = 0.30
beta_cell_reserve = 1.68
insulin_sensitivity_muscle = 0.55
body_weight_kg = 93.5
start_adapted = true

[subject.parameters]
setpoint_adaptation_at_start = 1.0

[routine]
sleep_h = 8

[[routine.meals]]
time_h = 7.5
carbs_g = 60

[[routine.meals]]
time_h = 12.5
carbs_g = 80

[[routine.meals]]
time_h = 19.0
carbs_g = 80

[routine.drift]
whole_body_per_year = {drift}
"""
"""Scenario 03's routine; the subject at the DPP cohort's fitted reserve (1.68) and muscle factor (0.55, rounded) and
the DPP's mean weight, as measured on 2026-12-05 (docs/population.md)."""
DRIFTS_PER_YEAR = (-0.3, -0.2, 0.0)
DAYS = 3 * 365


def main() -> int:
    import glucosim
    from glucosim.physiology.indices import St

    started = time.process_time()
    print("| drift a year | held rise, mg/dl | beta-cell function | fasting glucose, mg/dl |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for drift in DRIFTS_PER_YEAR:
            path = Path(folder) / "subject.toml"
            path.write_text(SUBJECT_TOML.replace("{drift}", repr(drift)))
            result = glucosim.simulate(path, progress=False, state_days=(0, DAYS))
            start, end = result.midnight_states[0], result.midnight_states[DAYS]
            fasting = result.daily["fasting_glucose_mg_dl"]
            held = St.beta_setpoint_adaptation_mg_dl
            print(
                f"| {drift:+.1f} | {start[held]:.1f} -> {end[held]:.1f} | {start[St.beta_function_rel]:.2f} -> "
                f"{end[St.beta_function_rel]:.2f} | {fasting.iloc[0]:.1f} -> {fasting.iloc[-1]:.1f} |",
                flush=True,
            )
    print(f"\n{time.process_time() - started:.0f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
