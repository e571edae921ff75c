"""Stored outputs of the shipped scenarios, for tests/test_regression.py.

Each shipped scenario runs for its first ``HORIZON_DAYS`` days (cheap: under a
second each, so it sits in the quick tier); the daily table at a few days and
the state at the end are stored in ``tests/regression/<scenario>.json``.

Regenerate after a deliberate change of model output (and say so in the
commit message):

    .venv/bin/python -m tests.regression.scenarios

The run is deterministic (no random numbers; the solver's steps depend only
on the inputs), so the stored values are exact up to the solver's tolerance.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

REGRESSION_DIR = Path(__file__).resolve().parent
SCENARIO_DIR = REGRESSION_DIR.parent.parent / "scenarios"
HORIZON_DAYS = 90
"""Long enough for the running means and the first beta-cell and sensitivity changes to move."""
STORED_DAYS = (0, 29, HORIZON_DAYS - 1)
"""Days whose daily row is stored (a shorter scenario stores its first, 30th-or-last and last day)."""
REGENERATE = ".venv/bin/python -m tests.regression.scenarios"


def shipped_scenarios() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.toml"))


def stored_path(scenario: Path) -> Path:
    return REGRESSION_DIR / f"{scenario.stem}.json"


def _number(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def compute(scenario: Path) -> dict:
    """The values stored for ``scenario``: numeric daily columns at ``STORED_DAYS`` and the final state."""
    from glucosim.simulation.run import simulate

    result = simulate(scenario, until_day=HORIZON_DAYS, progress=False)
    daily = result.daily.set_index("day")
    numeric = [column for column in daily.columns if daily[column].dtype.kind in "fi"]
    last = len(daily) - 1
    days = sorted({min(day, last) for day in STORED_DAYS})
    return {
        "scenario": scenario.name,
        "horizon_days": HORIZON_DAYS,
        "daily": {str(day): {column: _number(daily.loc[day, column]) for column in numeric} for day in days},
        "final_state": {name: _number(value) for name, value in result.final_state_dict().items()},
        "regenerate": REGENERATE,
    }


def main() -> None:
    for scenario in shipped_scenarios():
        path = stored_path(scenario)
        path.write_text(json.dumps(compute(scenario), indent=1, sort_keys=True) + "\n")
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
