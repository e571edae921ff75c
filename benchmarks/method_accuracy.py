"""Full resolution under each registered solver method: work, time and accuracy on scenario 03 (issue 12).

    python benchmarks/method_accuracy.py            # about 2 minutes idle (3 runs of 20 years)
    python benchmarks/method_accuracy.py --days 365 # a shorter check

Each method runs 20 years of scenario 03 at full resolution and the default tolerance; a run at
``REFERENCE_RTOL`` is the reference. Accuracy is issue 12's (tests/test_envelope.py's) criteria: the
threshold-crossing days (difference in days, and as a fraction of the run), the largest relative
difference of any yearly marker, and the final stage. Work is right-hand-side evaluations and accepted
and rejected steps per day; time is this thread's CPU time (comparable on a loaded machine).

Measured 2026-12-02 on the loaded 2-core machine (rtol 1e-6, 20 years): dopri5 2,513 rhs evaluations, 376
accepted and 42 rejected steps a day, 16.9 s of CPU; dop853 3,777, 191 and 83, 28.9 s. Both match the
reference's crossing days exactly, yearly markers within 0.0005 %, same final stage. dop853's steps are
about twice dopri5's, the ratio of their real stability intervals (6.4 / 3.3), with 30 % of its attempts
rejected: the step sits near the stability limit set by the insulin exchange (-0.58/min) and exercise VO2
(-0.8/min), so the higher order buys little step length for its 12 evaluations a step.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import glucosim
from glucosim.simulation import markers
from glucosim.simulation.organ import DEFAULT_METHOD, DEFAULT_RTOL
from glucosim.simulation.result import YEARLY_COLUMNS
from glucosim.solver import method_names

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "03_insulin_resistance_low_reserve.toml"
REFERENCE_METHOD = "dop853"
REFERENCE_RTOL = 1e-10
"""The reference: the 8th-order method at a tolerance 10,000 times tighter than the default."""


def run(method: str, rtol: float, until_day: int | None):
    glucosim.simulate(SCENARIO, progress=False, until_day=1, method=method)  # load the compiled core
    start, cpu = time.perf_counter(), time.thread_time()
    result = glucosim.simulate(
        SCENARIO, progress=False, resolution="full", method=method, rtol=rtol, until_day=until_day
    )
    return result, time.perf_counter() - start, time.thread_time() - cpu


def compare(result, reference) -> tuple[str, float, bool]:
    """Crossing days (ours - reference), largest relative yearly-marker difference, same final stage."""
    n_days = reference.summary["duration_days"]
    crossings = []
    for name in markers.CROSSINGS:
        exact, ours = reference.summary["first_crossing_day"][name], result.summary["first_crossing_day"][name]
        if exact is None or ours is None:
            crossings.append(f"{name} {'none' if ours is None else ours}/{'none' if exact is None else exact}")
        else:
            crossings.append(f"{name} {ours - exact:+d} d ({abs(ours - exact) / n_days * 100:.2f} %)")
    worst = 0.0
    for column in YEARLY_COLUMNS:
        exact, ours = reference.yearly[column].to_numpy(), result.yearly[column].to_numpy()
        scale = np.maximum(np.abs(exact), 1e-9)
        worst = max(worst, float(np.max(np.abs(ours - exact) / scale)))
    return "; ".join(crossings), worst, result.summary["final_stage"] == reference.summary["final_stage"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=None, help="stop after this many days (default: the whole run)")
    parser.add_argument(
        "--rtols", default="", help="also run the default method at these comma-separated tolerances (e.g. 1e-5,1e-4)"
    )
    args = parser.parse_args()
    print(f"load average at start {os.getloadavg()[0]:.2f}; scenario {SCENARIO.name}, full resolution")
    reference, _, _ = run(REFERENCE_METHOD, REFERENCE_RTOL, args.days)
    print(f"reference: {REFERENCE_METHOD} at rtol {REFERENCE_RTOL:g}")
    heading = f"  {'method':<8} {'rtol':>5} {'rhs/day':>8} {'steps/day':>9} {'rej/day':>7} {'wall s':>7} {'CPU s':>6}"
    print(f"{heading}  accuracy")
    runs = [(method, DEFAULT_RTOL) for method in method_names()]
    runs += [(DEFAULT_METHOD, float(rtol)) for rtol in args.rtols.split(",") if rtol]
    for method, rtol in runs:
        result, wall, cpu = run(method, rtol, args.days)
        days = len(result.daily)
        stats = result.stats
        crossings, worst, same_stage = compare(result, reference)
        print(
            f"  {method:<8} {rtol:5.0e} {stats.rhs_evaluations / days:8.0f} {stats.accepted_steps / days:9.0f} "
            f"{stats.rejected_steps / days:7.1f} {wall:7.2f} {cpu:6.2f}  crossings {crossings}; "
            f"yearly markers within {worst * 100:.3f} %; final stage {'same' if same_stage else 'DIFFERS'}"
        )
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
