"""Does a method without the stability cap pay at envelope following's tolerance? Issue 12's measurements.

    nice -n 10 python benchmarks/wmethod_probe.py          # about 4 minutes on one core (first run compiles)

On the benchmark day (three meals, 45 min of exercise, an insulin-resistant subject; conftest.REFERENCE_DAY),
over 3 days, at rtol 1e-3, 1e-4 (envelope periods) and 1e-6 (full resolution):

1. scipy's Radau IIA (order 5) and BDF (orders 1-5), both with no stability cap, on the compiled right-hand
   side (as stiffness_probe.py at 1e-6): steps, evaluations (finite-difference Jacobian columns included),
   Jacobians and LU factorisations per day, against glucosim's dopri5;
2. glucosim's ros34pw2 (Rosenbrock-W 3(2), ``solver.rosw``) against dopri5: the same counters and the CPU per
   simulated day (``time.process_time``, best of 5), and each one's error (largest over the dynamic states of
   the difference every 30 min relative to the state's range, against dopri5 at rtol 1e-11);
3. where the steps go: accepted steps per 2 hours of the third day at rtol 1e-4;
4. the implicit block ros34pw2 chooses (states with |J_ii| >= 1/h_max) and the spectral radius of the rest of
   the Jacobian, which its explicit part must be stable for;
5. envelope following of scenario 03 (20 years) with each method: CPU (best of 3) and days simulated;
6. the same subject on fasting days (no meals, no exercise), where the explicit step's cap binds all day.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from conftest import Workload  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402
from stiffness_probe import jacobian  # noqa: E402

from glucosim.physiology.indices import FIRST_QUADRATURE  # noqa: E402
from glucosim.simulation.organ import default_atol, organ_integrator, organ_rhs  # noqa: E402
from glucosim.solver.segments import Schedule, integrate_schedule  # noqa: E402

DAYS = 3
RTOLS = (1e-3, 1e-4, 1e-6)
METHODS = ("dopri5", "ros34pw2")
CPU_REPEATS = 5
ENVELOPE_REPEATS = 3
SCENARIO_03 = HERE.parent / "scenarios" / "03_insulin_resistance_low_reserve.toml"
N_DYNAMIC = int(FIRST_QUADRATURE)


class Bench:
    """The benchmark day's schedule (outputs every 30 min) and a reference at rtol 1e-11."""

    def __init__(self):
        self.work = Workload(days=DAYS, output_step_min=30.0)
        self.rhs = organ_rhs()
        self.reference = self.run("dopri5", self.tolerances(1e-11)).y[:, :N_DYNAMIC]

    def tolerances(self, rtol: float):
        return dataclasses.replace(self.work.tolerances, rtol=rtol)

    def run(self, method: str, tolerances):
        w = self.work
        return integrate_schedule(organ_integrator(method), w.schedule, w.y0, w.params, w.t_out, tolerances, w.names)

    def error(self, states: np.ndarray) -> float:
        scale = np.max(np.abs(self.reference), axis=0)
        active = scale > 1e-9
        return float(np.max(np.max(np.abs(states[:, :N_DYNAMIC] - self.reference), axis=0)[active] / scale[active]))

    def derivative(self, t, y, drv):
        out = np.empty_like(y)
        self.rhs(t, y, drv, self.work.params, out)
        return out

    def run_scipy(self, method: str, rtol: float):
        """scipy ``solve_ivp`` segment by segment (it restarts its step at each): states every 30 min, counters."""
        w = self.work
        s = w.schedule
        atol = default_atol().copy()
        atol[N_DYNAMIC:] = 1e300  # quadratures are not error-controlled in glucosim either
        y = w.y0.astype(float).copy()
        out = np.empty((len(w.t_out), len(y)))
        counts = np.zeros(4)  # steps, evaluations, Jacobians, LU factorisations
        j = 0
        for k in range(len(s.t0)):
            while j < len(w.t_out) and w.t_out[j] <= s.t0[k]:
                out[j] = y
                j += 1
            y = np.where(s.resets[k], 0.0, y) + s.jumps[k]
            solution = solve_ivp(
                lambda t, state, drv=s.drivers[k]: self.derivative(t, state, drv),
                (s.t0[k], s.t1[k]),
                y,
                method=method,
                rtol=rtol,
                atol=atol,
                max_step=w.tolerances.h_max,
                dense_output=True,
            )
            while j < len(w.t_out) and w.t_out[j] < s.t1[k]:
                out[j] = solution.sol(w.t_out[j])
                j += 1
            y = solution.y[:, -1]
            counts += (len(solution.t) - 1, solution.nfev + solution.njev * N_DYNAMIC, solution.njev, solution.nlu)
        out[j:] = y
        return out, counts / DAYS


def cpu_per_day(function) -> float:
    best = float("inf")
    for _ in range(CPU_REPEATS):
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best / DAYS


def counters_section(bench: Bench) -> None:
    print(f"1-2. per simulated day, {DAYS} benchmark days (CPU: process time, best of {CPU_REPEATS})")
    print(
        f"   {'rtol':>5} {'method':<9} {'steps':>6} {'rejected':>8} {'rhs':>6} {'(jac)':>6} {'jac':>5} {'LU':>5} "
        f"{'CPU ms':>7} {'error':>8}"
    )
    for rtol in RTOLS:
        tolerances = bench.tolerances(rtol)
        for method in METHODS:
            result = bench.run(method, tolerances)
            s = result.stats
            cpu = cpu_per_day(lambda m=method, tol=tolerances: bench.run(m, tol))
            print(
                f"   {rtol:5.0e} {method:<9} {s.accepted_steps / DAYS:6.0f} {s.rejected_steps / DAYS:8.0f} "
                f"{s.rhs_evaluations / DAYS:6.0f} {s.jacobian_evaluations * N_DYNAMIC / DAYS:6.0f} "
                f"{s.jacobian_evaluations / DAYS:5.1f} {s.factorizations / DAYS:5.0f} {cpu * 1e3:7.3f} "
                f"{bench.error(result.y):8.1e}",
                flush=True,
            )
        for method in ("Radau", "BDF"):
            states, (steps, evaluations, jacobians, factorizations) = bench.run_scipy(method, rtol)
            print(
                f"   {rtol:5.0e} {'scipy ' + method:<9} {steps:6.0f} {'':>8} {evaluations:6.0f} "
                f"{jacobians * N_DYNAMIC:6.0f} {jacobians:5.1f} {factorizations:5.0f} {'':>7} "
                f"{bench.error(states):8.1e}",
                flush=True,
            )
    print("   (rhs: all right-hand-side evaluations, of which (jac) for finite-difference Jacobians; scipy's Radau")
    print(
        "    factorises a real and a complex matrix of 37 x 37 each time, ros34pw2 one real matrix of the stiff block)"
    )


def where_section(bench: Bench) -> None:
    w = bench.work
    s = w.schedule
    rtol = 1e-4
    print(f"3. accepted steps per 2 hours of day {DAYS} at rtol {rtol:g} (segments cut at 2-hour marks; a cut is")
    print("   a segment boundary, where ros34pw2 takes its Jacobian again)")
    for method in METHODS:
        integrator = organ_integrator(method)
        y, h = w.y0.copy(), w.tolerances.h_init
        counts: dict[float, int] = {}
        for k in range(len(s.t0)):
            edges = np.unique(
                np.append(np.arange(np.ceil(s.t0[k] / 120.0) * 120.0, s.t1[k], 120.0), [s.t0[k], s.t1[k]])
            )
            for a in range(len(edges) - 1):
                jump = s.jumps[k] if a == 0 else np.zeros_like(s.jumps[k])
                reset = s.resets[k] if a == 0 else np.zeros_like(s.resets[k])
                part = Schedule(
                    edges[a : a + 1], edges[a + 1 : a + 2], s.drivers[k : k + 1], jump[None, :], reset[None, :]
                )
                tolerances = dataclasses.replace(w.tolerances, rtol=rtol, h_init=h)
                result = integrate_schedule(integrator, part, y, w.params, edges[a + 1 : a + 2], tolerances, w.names)
                if edges[a] >= (DAYS - 1) * 1440.0:
                    hour = float(edges[a] % 1440.0 // 120.0 * 2)
                    counts[hour] = counts.get(hour, 0) + result.stats.accepted_steps
                y, h = result.y_final, result.h_next
        print(f"   {method:<9} " + " ".join(f"{hour:02.0f}h:{n:3d}" for hour, n in sorted(counts.items())))
    print("   (meals at 7:30, 12:30 and 19:00, exercise 17:00-17:45; sleep from 23:00)")


def block_section(bench: Bench) -> None:
    w = bench.work
    hours = np.arange(0.0, 1441.0, 240.0)
    states = integrate_schedule(organ_integrator(), w.schedule, w.y0, w.params, hours, w.tolerances, w.names)
    threshold = 1.0 / w.tolerances.h_max
    print(f"4. ros34pw2's implicit block (|J_ii| >= 1/h_max = {threshold:.4f}/min) and the rest's spectral radius")
    for j, t in enumerate(hours):
        segment = min(max(int(states.segment[j]), 0), len(w.schedule.t0) - 1)
        jac = jacobian(bench, t, states.y[j], w.schedule.drivers[segment])
        stiff = np.where(np.abs(np.diag(jac)) >= threshold)[0]
        rest = jac.copy()
        rest[np.ix_(stiff, stiff)] = 0.0
        print(
            f"   {t / 60:4.0f} h: {len(stiff)} of {N_DYNAMIC} states implicit; the rest's spectral radius "
            f"{np.max(np.abs(np.linalg.eigvals(rest))):.4f}/min, the whole Jacobian's "
            f"{np.max(np.abs(np.linalg.eigvals(jac))):.3f}/min"
        )


def fasting_section() -> None:
    """The benchmark subject on days without meals or exercise: the quiet stretch where the cap binds."""
    import copy

    import conftest

    fasting = copy.deepcopy(conftest.REFERENCE_DAY)
    fasting["routine"]["meals"] = []
    fasting["routine"]["exercise"] = []
    saved, conftest.REFERENCE_DAY = conftest.REFERENCE_DAY, fasting
    try:
        w = Workload(days=DAYS, output_step_min=1440.0)
    finally:
        conftest.REFERENCE_DAY = saved
    print(f"6. the same subject fasting ({DAYS} days without meals or exercise), per day")
    for rtol in (1e-4, 1e-6):
        tolerances = dataclasses.replace(w.tolerances, rtol=rtol)
        for method in METHODS:
            integrator = organ_integrator(method)

            def run(f=integrator, tol=tolerances):
                return integrate_schedule(f, w.schedule, w.y0, w.params, w.t_out, tol, w.names)

            s = run().stats
            print(
                f"   rtol {rtol:5.0e} {method:<9} {s.accepted_steps / DAYS:5.0f} steps, {s.rejected_steps / DAYS:4.0f} "
                f"rejected, {s.rhs_evaluations / DAYS:5.0f} rhs, {s.jacobian_evaluations / DAYS:4.1f} Jacobians, "
                f"{s.factorizations / DAYS:4.0f} LU; {cpu_per_day(run) * 1e3:.3f} ms of CPU",
                flush=True,
            )


def envelope_section() -> None:
    import glucosim

    print(f"5. envelope following, {SCENARIO_03.name}, 20 years (CPU: process time, best of {ENVELOPE_REPEATS})")
    for method in METHODS:
        glucosim.simulate(SCENARIO_03, progress=False, until_day=1, method=method)  # load the compiled core
        best, result = float("inf"), None
        for _ in range(ENVELOPE_REPEATS):
            start = time.process_time()
            result = glucosim.simulate(SCENARIO_03, progress=False, resolution="envelope", method=method)
            best = min(best, time.process_time() - start)
        solver = result.summary["provenance"]["solver"]
        print(
            f"   {method:<9} {best:.2f} s of CPU; {solver['simulated_days']} days simulated at rtol "
            f"{solver['rtol']:g}, "
            f"{solver['envelope_steps']} envelope steps, {result.stats.rhs_evaluations / solver['simulated_days']:.0f} "
            f"rhs evaluations per simulated day; crossing days "
            + ", ".join(f"{k} {v}" for k, v in result.summary["first_crossing_day"].items() if v is not None),
            flush=True,
        )


def main() -> None:
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="scipy")
    print(f"load average at start {os.getloadavg()[0]:.2f}")
    bench = Bench()
    counters_section(bench)
    where_section(bench)
    block_section(bench)
    envelope_section()
    fasting_section()
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
