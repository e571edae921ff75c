"""Stored-output regression: the shipped scenarios' first days match tests/regression/*.json.

A deliberate model change regenerates the stored values (the command is in
tests/regression/scenarios.py and CONTRIBUTING.md) and says so in the commit
message; anything else that moves them is a regression.
"""

import json

import pytest

from tests.regression.scenarios import REGENERATE, compute, shipped_scenarios, stored_path

RTOL = 1e-4
"""Relative agreement required. The solver's rtol is 1e-6 per step; a different valid step sequence (another
integrator, chunking, envelope following) moves these outputs by ~1e-6 to 1e-5 (tightening rtol to 1e-8
moves them by under 1e-5), a deliberate model change by far more."""
ATOL = 1e-9
"""Absolute floor for values that are zero or near it (renal excretion below threshold, untouched drift)."""


def agrees(expected: float, actual: float) -> bool:
    """Whether a recomputed value agrees with its stored one (RTOL relative, ATOL absolute floor)."""
    return abs(actual - expected) <= RTOL * max(abs(expected), abs(actual)) + ATOL


def _differences(stored: dict, found: dict, where: str) -> list[str]:
    problems = []
    for key, expected in stored.items():
        if key not in found:
            problems.append(f"{where}.{key}: no longer produced")
            continue
        actual = found[key]
        if expected is None or actual is None:
            if expected is not actual:
                problems.append(f"{where}.{key}: stored {expected}, now {actual}")
        elif not agrees(expected, actual):
            problems.append(f"{where}.{key}: stored {expected:.9g}, now {actual:.9g}")
    return problems


@pytest.mark.parametrize("scenario", shipped_scenarios(), ids=lambda path: path.stem)
def test_shipped_scenario_matches_stored_values(scenario):
    path = stored_path(scenario)
    assert path.is_file(), f"no stored values for {scenario.name}; run {REGENERATE}"
    stored = json.loads(path.read_text())
    found = compute(scenario)
    assert stored["horizon_days"] == found["horizon_days"], f"the horizon changed; run {REGENERATE}"
    problems = []
    for day, row in stored["daily"].items():
        problems += _differences(row, found["daily"][day], f"daily[day {day}]")
    problems += _differences(stored["final_state"], found["final_state"], "final_state")
    shown = "\n  ".join(problems[:15]) + (f"\n  ... and {len(problems) - 15} more" if len(problems) > 15 else "")
    assert not problems, (
        f"{scenario.name}: {len(problems)} stored values changed:\n  {shown}\n"
        f"If the model change is deliberate, run {REGENERATE} and say so in the commit message."
    )
