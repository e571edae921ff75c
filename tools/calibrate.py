"""Reproduce the calibrated values of the parameter table: delegates to `glucosim calibrate`.

    python tools/calibrate.py [--write] [--no-cache] ...   (the options of `glucosim calibrate --help`)

The pipeline (glucosim.calibration) fits the free parameters of
validation/targets/*.toml and, at every evaluation, solves the reference day:

1. secretion_max: the maximal secretion at which the healthy preset, eating
   the reference day of scenarios/01_healthy_baseline.toml with beta-cell
   mass = function = 1, has a 24-h mean glucose equal to glucose_setpoint.
2. insulin_mean_reference: that subject's 24-h mean plasma insulin.
3. nefa_mean_reference: the 24-h mean plasma NEFA of the healthy preset on
   day 0 of scenarios/01_healthy_baseline.toml (the liver-fat NEFA source is
   relative to it, so the healthy reference holds its liver fat).

Its free parameters include protein_insulin_potentiation since 2026-12-05
(validation/targets/protein_potentiation.toml); it had its own option here
(--protein) before.

and, on its own (`python tools/calibrate.py --fat-brake`, the gut equations alone, a second):

4. duodenal_fat_brake_half_kcal: the intestinal fat energy that halves gastric
   emptying, such that 300 ml of consommé with 60 g margarine half-empties in
   120 min (Houghton, Mangnall & Read 1990 Gut 31:1226).

``calibrate()`` below returns 1-3 at the table's values of every other
parameter (seconds); tests/test_calibration.py fails when the table and it disagree.
"""

import sys

from glucosim.calibration.measure import calibrate_fat_brake, solve_reference_day


def calibrate() -> dict:
    """secretion_max, insulin_mean_reference, nefa_mean_reference and the reference day's mean glucose."""
    return solve_reference_day()


if __name__ == "__main__":
    if "--protein" in sys.argv[1:]:
        sys.exit(
            "tools/calibrate.py: --protein is gone since 2026-12-05: protein_insulin_potentiation is fitted by "
            "`glucosim calibrate` (validation/targets/protein_potentiation.toml)"
        )
    if sys.argv[1:] == ["--fat-brake"]:
        print(f"duodenal_fat_brake_half_kcal = {calibrate_fat_brake():.3g}")
    else:
        from glucosim.cli import main

        main(["calibrate", *sys.argv[1:]])
