"""CPU time of an envelope-following run by section, measured with time.process_time (not a profiler).

    python benchmarks/envelope_sections.py [--repeats N] [SCENARIO]

Runs ``glucosim.simulate(SCENARIO, resolution="envelope")`` (default: scenario 03, 20 years, with its clinic
visits, as benchmarks/report.py --issue12 times it) N times (default 5) after one run that loads the compiled core,
and prints the best run's total CPU time and its sections: the integration of the simulated days, their daily
rows, envelope following's own step control (the Python of ``simulation.envelope``: the step's choice, the measured
error, the landing's correction, crossings, interpolation), the compiled samples of the right-hand side it takes
per period (relaxation rates, the landing's offset), the rest of each simulated day's Python, the initial state,
the clinic visits and building the result.

cProfile puts a function call's own overhead on every call and so inflates Python against compiled code; the
sections here are wall-clock-free CPU times of whole calls, wrapped in place for the measurement. Each section
includes the sections nested in it only where the name says so. The CPU of this virtual machine changes by up to
2x from minute to minute: compare runs taken in turn, and the shares more than the times.
"""

from __future__ import annotations

import argparse
import collections
import time

SECTIONS = (
    ("integration of the simulated days", "integration"),
    ("their daily rows", "daily rows"),
    ("envelope step control (Python)", "step control"),
    ("right-hand-side samples per period (compiled)", "rhs samples"),
    ("rest of each simulated day's Python", "day Python"),
    ("initial state (2 warm-ups at rtol 1e-6)", "initial state"),
    ("clinic visits", "clinic visits"),
    ("building the result", "build result"),
)


def measure_sections(scenario: str = "03_insulin_resistance_low_reserve", repeats: int = 5):
    """(total CPU s, {section key: CPU s}, the run's solver provenance) of the best of ``repeats`` envelope runs of
    ``scenario`` (after one that loads the compiled core); the functions timed are wrapped only meanwhile."""
    import glucosim
    import glucosim.clinic.visits as visits
    import glucosim.simulation.daily as daily
    import glucosim.simulation.initial_state as initial
    import glucosim.simulation.run as run

    spent: dict[str, float] = collections.defaultdict(float)
    originals = []

    def timed(owner, name: str, label: str) -> None:
        inner = getattr(owner, name)
        originals.append((owner, name, inner))

        def wrapper(*a, **k):
            start = time.process_time()
            try:
                return inner(*a, **k)
            finally:
                spent[label] += time.process_time() - start

        setattr(owner, name, wrapper)

    try:
        timed(run, "integrate_schedule", "integration")
        timed(initial, "integrate_schedule", "initial integration")
        timed(run, "daily_samples", "samples")
        timed(daily.DailySamples, "columns", "columns")
        timed(daily.DailySamples, "glucose_columns", "glucose columns")
        timed(run, "initial_state", "initial state")
        timed(visits, "run_scheduled_visits", "clinic visits")
        timed(visits, "check_run", "plausibility")
        timed(run, "build_result", "build result")
        timed(run, "follow_envelope", "follow")
        timed(run.DayStepper, "run", "stepper")
        timed(run.DayStepper, "mean_relaxation", "relaxation")
        timed(run.DayStepper, "offset_bias", "offset")

        glucosim.simulate(scenario, progress=False, resolution="envelope")  # load the compiled core
        best: tuple[float, dict[str, float], dict] | None = None
        for _ in range(repeats):
            spent.clear()
            start = time.process_time()
            result = glucosim.simulate(scenario, progress=False, resolution="envelope")
            total = time.process_time() - start
            if best is None or total < best[0]:
                best = (total, dict(spent), result.summary["provenance"]["solver"])
    finally:
        for owner, name, inner in reversed(originals):
            setattr(owner, name, inner)
    assert best is not None
    total, s, solver = best
    # the columns computed at the end and the glucose columns of each put sit inside follow_envelope, outside the
    # stepper's runs; the samples inside the runs
    sections = {
        "integration": s["integration"],
        "daily rows": s.get("samples", 0.0) + s.get("columns", 0.0) + s.get("glucose columns", 0.0),
        "step control": s["follow"]
        - s["stepper"]
        - s.get("relaxation", 0.0)
        - s.get("offset", 0.0)
        - s.get("columns", 0.0)
        - s.get("glucose columns", 0.0),
        "rhs samples": s.get("relaxation", 0.0) + s.get("offset", 0.0),
        "day Python": s["stepper"] - s["integration"] - s.get("samples", 0.0),
        "initial state": s["initial state"],
        "clinic visits": s.get("clinic visits", 0.0) + s.get("plausibility", 0.0),
        "build result": s["build result"],
    }
    return total, sections, solver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="03_insulin_resistance_low_reserve")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    total, sections, solver = measure_sections(args.scenario, args.repeats)
    print(
        f"{args.scenario}, envelope following: {total:.3f} s of CPU, best of {args.repeats}; "
        f"{solver['simulated_days']} days simulated in {solver['envelope_steps']} steps"
    )
    for title, key in SECTIONS:
        print(f"  {title:48} {sections[key] * 1e3:7.1f} ms  {sections[key] / total:6.1%}")
    rest = total - sum(sections.values())
    print(f"  {'the rest (loading the scenario, ...)':48} {rest * 1e3:7.1f} ms  {rest / total:6.1%}")


if __name__ == "__main__":
    main()
