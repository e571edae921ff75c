"""Diagnostic (issue 11): the course table and grid with the kidney's parameters overridden.

    PYTHONPATH=src python tools/kidney_course.py --tm 300 --splay 50 [--grid] [--threshold 134 --workload 0.00015]

Prints the course table (every course target, fit and validation), the diagnosis year of each scenario and the
kidney's excretion at Rave 2006 / Wolf 2009's clamp levels (7.8, 11 and 13.3 mmol/l); with ``--grid`` it reruns
``glucosim.calibration.course.GRID`` (or ``--wide``: a wider grid) with the kidney overridden. Nothing is written:
the shipped parameters are models/parameters.toml's.
"""

from __future__ import annotations

import argparse
import math
import time

from glucosim.calibration import course
from glucosim.physiology.units import MG_DL_PER_MMOL_L

KIDNEY_WIDE_GRID = {
    "glucotoxicity_threshold": (126.0, 128.0, 130.0, 132.0, 134.0, 136.0, 138.0),
    "beta_mass_workload_rate": (0.0001, 0.00015, 0.0002, 0.0003),
}
"""A wider grid than course.GRID, for when the kidney moves the best point to the edge of the shipped grid."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tm", type=float, help="renal_glucose_tm, mg/min")
    parser.add_argument("--splay", type=float, help="renal_glucose_splay, mg/dl")
    parser.add_argument("--threshold", type=float, help="glucotoxicity_threshold, mg/dl")
    parser.add_argument("--workload", type=float, help="beta_mass_workload_rate, 1/day")
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--wide", action="store_true")
    args = parser.parse_args()
    if args.wide and not args.grid:
        parser.error("--wide goes with --grid (it widens the grid)")
    if args.grid and (args.threshold is not None or args.workload is not None):
        parser.error("--threshold and --workload are what --grid varies: give them without --grid")
    for name in ("tm", "splay", "threshold", "workload"):
        value = getattr(args, name)
        if value is not None and not (math.isfinite(value) and value > 0.0):
            parser.error(f"--{name}: {value} (allowed: a positive number)")
    kidney = {}
    if args.tm is not None:
        kidney["renal_glucose_tm"] = args.tm
    if args.splay is not None:
        kidney["renal_glucose_splay"] = args.splay
    slow = {}
    if args.threshold is not None:
        slow["glucotoxicity_threshold"] = args.threshold
    if args.workload is not None:
        slow["beta_mass_workload_rate"] = args.workload
    targets = course.load_course_targets()
    start = time.process_time()
    if args.grid:
        grid = KIDNEY_WIDE_GRID if args.wide else course.GRID

        def log(parameters, cost, values):
            scenario_values = next(iter(values.values()))
            print(
                f"{parameters}: objective {cost:.2f}, diagnosis year {scenario_values['diagnosis_year']:.2f}, "
                f"FPG -3y {scenario_values['fasting_glucose_3y_before_diagnosis_mg_dl']:.1f}, "
                f"rise 1-6y {scenario_values['fasting_glucose_rise_1_to_6y_after_diagnosis_mg_dl']:.1f}, "
                f"stage-2 {scenario_values['stage_two_fasting_change_mg_dl_per_year']:.2f}",
                flush=True,
            )

        best = course.best_point(course.grid_costs(targets, grid, log, **kidney), grid)
        print(f"best: {best[0]} (objective {best[1]:.2f})")
    else:
        values = course.evaluate_course(targets, **(kidney | slow))
        print("\n".join(course.table_lines(targets, values)))
        for scenario, measures in values.items():
            print(
                f"{scenario}: diagnosis at year {measures['diagnosis_year']:.2f}; objective "
                f"{course.objective(targets, values):.2f}; glucosuria 6 y "
                f"{measures['glucosuria_6y_after_diagnosis_g_day']:.2f} g/day"
            )
        import glucosim
        from glucosim.physiology._jit import as_python
        from glucosim.physiology.kidney import renal_excretion_mg_min

        vector = glucosim.load_scenario(next(iter(values)), **kidney).parameters
        for mmol_l in (7.8, 11.0, 13.3):
            mg_min = as_python(renal_excretion_mg_min)(mmol_l * MG_DL_PER_MMOL_L, vector)
            print(f"kidney at a clamp of {mmol_l} mmol/l: {mg_min:.2f} mg/min")
    print(f"CPU {time.process_time() - start:.1f} s")


if __name__ == "__main__":
    main()
