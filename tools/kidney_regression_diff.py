"""Diagnostic (issue 11): how far the shipped scenarios' stored regression values move under the working tree's model.

    PYTHONPATH=src:. python tools/kidney_regression_diff.py

For each scenario of tests/regression: the number of stored values outside test_regression's tolerance, the largest
relative change, and day 89's (the last stored day) fasting and mean glucose, urinary glucose (g/day), weight change
and HbA1c, stored -> now. Reads only; regenerating is ``python -m tests.regression.scenarios`` (not run here).
"""

from __future__ import annotations

import json

from tests.regression.scenarios import compute, shipped_scenarios, stored_path
from tests.test_regression import agrees

SHOWN = (
    "fasting_glucose_mg_dl",
    "mean_glucose_mg_dl",
    "max_glucose_mg_dl",
    "renal_excretion_mg_kg_day",
    "weight_change_kg",
    "hba1c_percent",
)


def main() -> None:
    for scenario in shipped_scenarios():
        stored, found = json.loads(stored_path(scenario).read_text()), compute(scenario)
        pairs = [
            (stored["daily"][d][k], found["daily"][d][k], f"daily{d}.{k}")
            for d in stored["daily"]
            for k in stored["daily"][d]
        ]
        pairs += [(v, found["final_state"][k], f"final.{k}") for k, v in stored["final_state"].items()]
        failing, worst = 0, (0.0, "")
        for old, new, where in pairs:
            if old is None or new is None:
                continue
            if not agrees(old, new):
                failing += 1
                relative = abs(new - old) / max(abs(old), abs(new), 1e-12)
                if relative > worst[0] and "renal" not in where:
                    worst = (relative, where)
        last = max(stored["daily"], key=int)
        old_row, new_row = stored["daily"][last], found["daily"][last]
        detail = ", ".join(
            f"{k.replace('_mg_dl', '').replace('_percent', '')} {old_row[k]:.4g}->{new_row[k]:.4g}"
            for k in SHOWN
            if k in old_row and old_row[k] is not None
        )
        print(
            f"{scenario.stem}: {failing}/{len(pairs)} values moved; largest non-renal {worst[0]:.2%} ({worst[1]}); "
            f"day {last}: {detail}",
            flush=True,
        )


if __name__ == "__main__":
    main()
