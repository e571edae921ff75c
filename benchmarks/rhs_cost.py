"""CPU per evaluation of the organ model's right-hand side (issue 12): the whole of it and its pieces.

    python benchmarks/rhs_cost.py            # rhs ns per call and one benchmark day's integration (~1 min)
    python benchmarks/rhs_cost.py --parts    # also each compartment's kernel in its own loop (~3 min more)

The states are those of one benchmark day (conftest.REFERENCE_DAY) every 5 minutes, with their segments'
drivers; a compiled loop calls ``physiology.model.rhs`` at each of them ``--reps`` times, and the best of
``--repeats`` such loops is reported in ns of CPU (``time.process_time``) per call. The day's integration
(dopri5 at the default tolerances) is timed the same way, best of ``--repeats``. Quote the load (``uptime``)
with the numbers: the machine is shared, and on its 2 cores the same code measured from 320 to 530 ns within
minutes; compare variants in alternating runs. A part's loop uses one of its results, so LLVM may drop the rest
of an inlined kernel: the parts are lower bounds, a guide to where the time goes, not a sum.

2026-12-03 (issue 12), load 1.3-1.5, one after the other: main (72354e4) rhs 1068 ns, day 4.04 ms; after
kernels without reference counting, shared quantities and forced inlining: rhs 457 ns, day 1.90 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numba  # noqa: E402
import numpy as np  # noqa: E402
from conftest import Workload  # noqa: E402

from glucosim.physiology import (  # noqa: E402, F401 (the part statements below name them)
    adipose,
    beta_cells,
    body,
    brain,
    clock,
    ectopic_fat,
    exercise,
    glucagon,
    glycogen,
    gut,
    insulin,
    kidney,
    liver,
    muscle,
    sensitivity,
)
from glucosim.physiology import model as M  # noqa: E402, F401
from glucosim.solver.segments import integrate_schedule  # noqa: E402

PARTS = {
    "rhs": "M.rhs(0.0, y, drv, p, out)",
    "_core_fluxes": "s = M._core_fluxes(y, drv, p); acc += s[0]",
    "effective_sensitivities": "s = sensitivity.effective_sensitivities(y, drv, p); acc += s[0]",
    "clock.sensitivity_factor": "acc += clock.sensitivity_factor(y, drv, p)",
    "gut.rate_of_appearance": "acc += gut.rate_of_appearance(y, p)",
    "kidney.renal_excretion": "acc += kidney.renal_excretion(y, p)",
    "gut.gut_derivatives": "gut.gut_derivatives(y, p, out)",
    "beta_slow_derivatives": "beta_cells.beta_slow_derivatives(y, p, 1.0, out)",
    "energy_imbalance (+renal)": "acc += body.energy_imbalance_kcal_day(y, drv, p)",
    "body_derivatives_from_imbalance": "body.body_derivatives_from_imbalance(y, drv, p, 1.0, -50.0, out)",
    "liver_fat_from_imbalance": "ectopic_fat.liver_fat_derivative_from_imbalance(y, drv, p, 1.0, -50.0, out)",
    "nefa_derivative": "adipose.nefa_derivative(y, p, 0.8, out)",
    "beta_fast_derivatives": "beta_cells.beta_fast_derivatives(y, p, 120.0, 0.5, 0.9, out)",
    "insulin_derivatives": "insulin.insulin_derivatives(y, p, 2.0, 0.0, out)",
    "glucagon_derivative": "glucagon.glucagon_derivative(y, drv, p, 100.0, 60.0, out)",
    "clock_derivatives": "clock.clock_derivatives(0.0, y, drv, p, out)",
    "exercise_derivatives": "exercise.exercise_derivatives(y, drv, p, 1.0, out)",
}

_LOOP = """
def loop(Y, seg, D, p, reps):
    out = np.zeros(Y.shape[1])
    acc = 0.0
    for k in range(reps):
        for i in range(Y.shape[0]):
            y = Y[i]
            drv = D[seg[i]]
            {stmt}
            acc += out[0]  # a derivative written: keeps the call from being optimised away
    return acc
"""


def day_states():
    """(workload, states every 5 min of one benchmark day, their segment indices, the schedule's drivers)."""
    w = Workload(days=1, output_step_min=5.0)
    r = integrate_schedule(w.integrator, w.schedule, w.y0, w.params, w.t_out, w.tolerances, w.names)
    return w, np.ascontiguousarray(r.y), r.segment, w.schedule.drivers, r.stats


def time_part(stmt, Y, seg, D, p, reps, repeats):
    """Best ns of CPU per call of ``stmt`` over ``repeats`` loops of ``reps`` passes over the day's states."""
    namespace = dict(globals())
    exec(_LOOP.format(stmt=stmt), namespace)
    loop = numba.njit(namespace["loop"])
    loop(Y, seg, D, p, 1)
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        loop(Y, seg, D, p, reps)
        best = min(best, time.process_time() - start)
    return best / (reps * Y.shape[0]) * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", action="store_true", help="also time each compartment's kernel")
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print("load:", os.getloadavg())
    w, Y, seg, D, stats = day_states()
    print(f"states: {Y.shape[0]} x {Y.shape[1]}; integration stats: {stats}")
    names = list(PARTS) if args.parts else ["rhs"]
    for name in names:
        print(f"{name:28s} {time_part(PARTS[name], Y, seg, D, w.params, args.reps, args.repeats):8.1f} ns per call")
    best = float("inf")
    for _ in range(args.repeats):
        start = time.process_time()
        for _ in range(5):
            integrate_schedule(w.integrator, w.schedule, w.y0, w.params, w.t_out, w.tolerances, w.names)
        best = min(best, (time.process_time() - start) / 5)
    print(f"one benchmark day's integration: {best * 1e3:.3f} ms of CPU (best of {args.repeats} x 5)")
    print("load:", os.getloadavg())


if __name__ == "__main__":
    main()
