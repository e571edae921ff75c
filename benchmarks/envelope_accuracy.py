"""Envelope following against full resolution on every shipped scenario: time, work and accuracy.

    python benchmarks/envelope_accuracy.py [SCENARIO ...]

For each scenario (default: all shipped ones) one full-resolution and one
envelope run, in this process, after compilation; prints the wall times, the
days actually integrated, the largest threshold-crossing-day difference (as a
fraction of the run), the largest relative difference of any yearly marker,
and whether the final stage agrees. The criteria of issue 12 are 1 %, 1 % and
the same stage (tests/test_envelope.py asserts them).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from glucosim.analysis import markers
from glucosim.simulation.result import YEARLY_COLUMNS
from glucosim.simulation.run import simulate

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def compare(path: Path) -> dict:
    """Run ``path`` at both resolutions; the times and the largest differences."""
    start = time.perf_counter()
    full = simulate(path, progress=False, resolution="full")
    t_full = time.perf_counter() - start
    start = time.perf_counter()
    envelope = simulate(path, progress=False, resolution="envelope")
    t_envelope = time.perf_counter() - start
    n_days = len(full.daily)
    worst_day = 0
    for name in markers.CROSSINGS:
        exact, followed = full.summary["first_crossing_day"][name], envelope.summary["first_crossing_day"][name]
        if exact is None and followed is None:
            continue
        if exact is None or followed is None:
            worst_day = n_days
            continue
        worst_day = max(worst_day, abs(exact - followed))
    worst_rel, where = 0.0, ""
    for column in YEARLY_COLUMNS:
        exact, followed = full.yearly[column].to_numpy(), envelope.yearly[column].to_numpy()
        rel = np.abs(followed - exact) / np.maximum(np.abs(exact), 1e-9)
        if np.nanmax(rel) > worst_rel:
            worst_rel, where = float(np.nanmax(rel)), f"{column} y{int(np.nanargmax(rel))}"
    return {
        "t_full": t_full,
        "t_envelope": t_envelope,
        "days": n_days,
        "simulated": envelope.summary["provenance"]["solver"]["simulated_days"],
        "crossing_days": worst_day,
        "yearly_rel": worst_rel,
        "where": where,
        "stage": envelope.summary["final_stage"] == full.summary["final_stage"],
    }


def main() -> None:
    paths = [Path(arg) for arg in sys.argv[1:]] or sorted(SCENARIOS.glob("*.toml"))
    simulate(paths[0], progress=False, until_day=2)  # compile or load the kernels outside the timings
    print(
        f"{'scenario':36} {'full s':>7} {'env s':>6} {'speed-up':>8} {'days integrated':>16} "
        f"{'crossing diff':>14} {'yearly diff':>12}  stage"
    )
    for path in paths:
        r = compare(path)
        print(
            f"{path.stem[:36]:36} {r['t_full']:7.2f} {r['t_envelope']:6.2f} {r['t_full'] / r['t_envelope']:7.1f}x "
            f"{r['simulated']:>7} of {r['days']:<6} {r['crossing_days']:>5} d ({r['crossing_days'] / r['days']:.2%}) "
            f"{r['yearly_rel']:11.2%}  {'same' if r['stage'] else 'DIFFERENT'}   ({r['where']})"
        )


if __name__ == "__main__":
    main()
