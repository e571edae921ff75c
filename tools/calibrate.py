"""Reproduce the calibrated values of the parameter table: delegates to `glucosim calibrate`.

    python tools/calibrate.py [--write] [--no-cache] ...   (the options of `glucosim calibrate --help`)

The pipeline (glucosim.calibration) fits the free parameters of
validation/targets/*.toml and, at every evaluation, solves the reference day:

1. secretion_max: the maximal secretion at which the healthy preset, eating
   the reference day of scenarios/01_healthy_baseline.toml with beta-cell
   mass = function = 1, has a 24-h mean glucose equal to glucose_setpoint.
2. insulin_mean_reference: that subject's 24-h mean plasma insulin.

``calibrate()`` below returns those two at the table's values of every other
parameter (a few seconds); tests/test_calibration.py fails when the table and
it disagree.
"""

import sys

from glucosim.calibration.measure import solve_reference_day


def calibrate() -> dict:
    """secretion_max, insulin_mean_reference and the reference day's mean glucose at the table's values."""
    return solve_reference_day()


if __name__ == "__main__":
    from glucosim.cli import main

    main(["calibrate", *sys.argv[1:]])
