"""What limits the full-resolution step: the measurements behind issue 12's choice of method.

    python benchmarks/stiffness_probe.py          # about a minute on one core

On the benchmark day (three meals, 45 min of exercise, an insulin-resistant subject; conftest.REFERENCE_DAY)
and over 3 days of it, at the default tolerances:

1. the Jacobian's fastest eigenvalues through the day (forward differences of the compiled right-hand side);
2. the explicit remainder after taking out the analytic linear fast block (``FAST_STATES``): the spectral
   radius an IMEX scheme's explicit part would have to be stable for;
3. steps per hour of glucosim's DOPRI5 and of scipy's Radau IIA (order 5, L-stable, stiffly accurate: a
   method with no stability cap), each with its error against a reference at rtol 1e-11;
4. additive Runge-Kutta IMEX schemes (Kennedy & Carpenter 2003, Appl Numer Math 44:139; ARK4(3)6L[2]SA and
   ARK5(4)8L[2]SA) with the fast linear block implicit, at rtol 1e-4 to 1e-6: right-hand-side evaluations
   against accuracy, next to DOPRI5's;
5. steps per schedule segment on the last day, and the step size each segment starts with.

The IMEX schemes here are a plain-numpy prototype (one day takes seconds): they exist to measure step counts
and errors, not speed. Their linear fast block is written out from physiology/insulin.py, beta_cells.py,
exercise.py, adipose.py and glucagon.py (the rates that set the fastest eigenvalues).
"""

from __future__ import annotations

import dataclasses
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from conftest import Workload  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

from glucosim.physiology.indices import FIRST_QUADRATURE, STATE_NAMES, Par, St  # noqa: E402
from glucosim.simulation.organ import default_atol, organ_rhs  # noqa: E402
from glucosim.solver.segments import Schedule, integrate_schedule  # noqa: E402

N_DYNAMIC = int(FIRST_QUADRATURE)
FAST_STATES = (
    St.insulin_portal_pmol_kg,
    St.insulin_liver_pmol_kg,
    St.insulin_plasma_pmol_kg,
    St.exercise_vo2_pct,
    St.nefa_mmol_l,
    St.glucagon_pg_ml,
)
"""States whose linear decay and exchange rates set the fastest eigenvalues (portal transfer gamma, the
liver-plasma insulin exchange m1..m4, VO2 response, NEFA and glucagon clearance)."""
REFERENCE_RTOL = 1e-11
DAYS = 3


def fast_block(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The analytic linear part of the fast states' derivatives (FAST_STATES x FAST_STATES), per minute."""
    block = np.zeros((len(FAST_STATES), len(FAST_STATES)))
    gamma = p[Par.portal_insulin_transfer_rate]
    m1 = p[Par.insulin_liver_to_plasma_rate]
    m2 = p[Par.insulin_plasma_to_liver_rate]
    m4 = p[Par.insulin_peripheral_clearance_rate]
    secretion = gamma * y[St.insulin_portal_pmol_kg]
    extraction = max(0.0, p[Par.hepatic_extraction_max] - p[Par.hepatic_extraction_secretion_slope] * secretion)
    m3 = extraction * m1 / (1.0 - extraction)
    block[0, 0] = -gamma
    block[1, 0] = gamma
    block[1, 1] = -(m1 + m3)
    block[1, 2] = m2
    block[2, 1] = m1
    block[2, 2] = -(m2 + m4)
    block[3, 3] = -p[Par.exercise_vo2_response_rate]
    block[4, 4] = -p[Par.nefa_clearance_rate]
    block[5, 5] = -p[Par.glucagon_clearance_rate]
    return block


def ark436() -> tuple:
    """Kennedy & Carpenter 2003 ARK4(3)6L[2]SA: explicit and ESDIRK tables, weights, embedded weights, nodes."""
    s = 6
    ae, ai = np.zeros((s, s)), np.zeros((s, s))
    ae[1, 0] = 0.5
    ae[2, :2] = [13861 / 62500, 6889 / 62500]
    ae[3, :3] = [-116923316275 / 2393684061468, -2731218467317 / 15368042101831, 9408046702089 / 11113171139209]
    ae[4, :4] = [
        -451086348788 / 2902428689909,
        -2682348792572 / 7519795681897,
        12662868775082 / 11960479115383,
        3355817975965 / 11060851509271,
    ]
    ae[5, :5] = [
        647845179188 / 3216320057751,
        73281519250 / 8382639484533,
        552539513391 / 3454668386233,
        3354512671639 / 8306763924573,
        4040 / 17871,
    ]
    ai[1, :2] = [1 / 4, 1 / 4]
    ai[2, :3] = [8611 / 62500, -1743 / 31250, 1 / 4]
    ai[3, :4] = [5012029 / 34652500, -654441 / 2922500, 174375 / 388108, 1 / 4]
    ai[4, :5] = [15267082809 / 155376265600, -71443401 / 120774400, 730878875 / 902184768, 2285395 / 8070912, 1 / 4]
    ai[5, :] = [82889 / 524892, 0, 15625 / 83664, 69875 / 102672, -2260 / 8211, 1 / 4]
    b = ai[5].copy()
    d = np.array([4586570599 / 29645900160, 0, 178811875 / 945068544, 814220225 / 1159782912, -3700637 / 11593932])
    d = np.append(d, 61727 / 225920)
    c = np.array([0, 1 / 2, 83 / 250, 31 / 50, 17 / 20, 1])
    return ae, ai, b, d, c, 4


def ark548() -> tuple:
    """Kennedy & Carpenter 2003 ARK5(4)8L[2]SA, as ``ark436``."""
    s = 8
    ae, ai = np.zeros((s, s)), np.zeros((s, s))
    ae[1, 0] = 41 / 100
    ae[2, :2] = [367902744464 / 2072280473677, 677623207551 / 8224143866563]
    ae[3, :3] = [1268023523408 / 10340822734521, 0, 1029933939417 / 13636558850479]
    ae[4, :4] = [14463281900351 / 6315353703477, 0, 66114435211212 / 5879490589093, -54053170152839 / 4284798021562]
    ae[5, :5] = [
        14090043504691 / 34967701212078,
        0,
        15191511035443 / 11219624916014,
        -18461159152457 / 12425892160975,
        -281667163811 / 9011619295870,
    ]
    ae[6, :6] = [
        19230459214898 / 13134317526959,
        0,
        21275331358303 / 2942455364971,
        -38145345988419 / 4862620318723,
        -1 / 8,
        -1 / 8,
    ]
    ae[7, :7] = [
        -19977161125411 / 11928030595625,
        0,
        -40795976796054 / 6384907823539,
        177454434618887 / 12078138498510,
        782672205425 / 8267701900261,
        -69563011059811 / 9646580694205,
        7356628210526 / 4942186776405,
    ]
    g = 41 / 200
    ai[1, :2] = [41 / 200, g]
    ai[2, :3] = [41 / 400, -567603406766 / 11931857230679, g]
    ai[3, :4] = [683785636431 / 9252920307686, 0, -110385047103 / 1367015193373, g]
    ai[4, :5] = [
        3016520224154 / 10081342136671,
        0,
        30586259806659 / 12414158314087,
        -22760509404356 / 11113319521817,
        g,
    ]
    ai[5, :6] = [
        218866479029 / 1489978393911,
        0,
        638256894668 / 5436446318841,
        -1179710474555 / 5321154724896,
        -60928119172 / 8023461067671,
        g,
    ]
    ai[6, :7] = [
        1020004230633 / 5715676835656,
        0,
        25762820946817 / 25263940353407,
        -2161375909145 / 9755907335909,
        -211217309593 / 5846859502534,
        -4269925059573 / 7827059040749,
        g,
    ]
    ai[7, :] = [
        -872700587467 / 9133579230613,
        0,
        0,
        22348218063261 / 9555858737531,
        -1143369518992 / 8141816002931,
        -39379526789629 / 19018526304540,
        32727382324388 / 42900044865799,
        g,
    ]
    b = ai[7].copy()
    d = np.array(
        [
            -975461918565 / 9796059967033,
            0,
            0,
            78070527104295 / 32432590147079,
            -548382580838 / 3424219808633,
            -33438840321285 / 15594753105479,
            3629800801594 / 4656183773603,
            4035322873751 / 18575991585200,
        ]
    )
    c = np.array(
        [0, 41 / 100, 2935347310677 / 11292855782101, 1426016391358 / 7196633302097, 92 / 100, 24 / 100, 3 / 5, 1]
    )
    return ae, ai, b, d, c, 5


class Probe:
    """The benchmark day's schedule, compiled right-hand side and a tight reference at the end of each day."""

    def __init__(self, days: int):
        self.work = Workload(days=days, output_step_min=1440.0)
        self.rhs = organ_rhs()
        self.params = self.work.params
        tight = dataclasses.replace(
            self.work.tolerances, rtol=REFERENCE_RTOL, atol=self.work.tolerances.atol * REFERENCE_RTOL * 1e3
        )
        self.reference = self.run_dopri5(tight).y

    def run_dopri5(self, tolerances):
        w = self.work
        return integrate_schedule(w.integrator, w.schedule, w.y0, w.params, w.t_out, tolerances, w.names)

    def error(self, daily: np.ndarray) -> float:
        """Largest relative error of any dynamic state at any day's end."""
        ref = self.reference[:, :N_DYNAMIC]
        return float(np.max(np.abs(daily[:, :N_DYNAMIC] - ref) / (np.abs(ref) + 1e-6)))

    def derivative(self, t, y, drv):
        out = np.empty_like(y)
        self.rhs(t, y, drv, self.params, out)
        return out

    def segments(self):
        s = self.work.schedule
        for k in range(len(s.t0)):
            yield k, s.t0[k], s.t1[k], s.drivers[k], (s.jumps[k], s.resets[k])

    def run_imex(self, table, rtol: float):
        """ARK IMEX with FAST_STATES' linear block implicit (frozen per step): (daily states, rhs evaluations)."""
        ae, ai, b, d, c, order = table
        stages = len(b)
        gamma = ai[1, 1]
        fast = np.array(FAST_STATES)
        atol = default_atol()
        y = self.work.y0.astype(float).copy()
        daily, h, evaluations = [y.copy()], 0.5, 0
        for k, t, t_end, drv, jump in self.segments():
            if k > 0 and t % 1440.0 == 0.0:
                daily.append(y.copy())
            y = np.where(jump[1], 0.0, y) + jump[0]  # the contract's event: resets, then jumps
            f0 = self.derivative(t, y, drv)
            evaluations += 1
            while t < t_end:
                step = min(h, self.work.tolerances.h_max)
                lands = step >= t_end - t
                step = t_end - t if lands else step
                block = fast_block(y, self.params)
                solve = np.linalg.inv(np.eye(len(fast)) - step * gamma * block)
                full = np.zeros((stages, len(y)))
                linear = np.zeros((stages, len(y)))
                full[0] = f0
                linear[0, fast] = block @ y[fast]
                for i in range(1, stages):
                    stage = y + step * ((ae[i, :i] @ (full[:i] - linear[:i])) + ai[i, :i] @ linear[:i])
                    stage[fast] = solve @ stage[fast]
                    full[i] = self.derivative(t + c[i] * step, stage, drv)
                    linear[i, fast] = block @ stage[fast]
                    evaluations += 1
                y_new = y + step * (b @ full)
                estimate = step * ((b - d) @ full)
                scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
                err = float(np.sqrt(np.mean((estimate / scale)[:N_DYNAMIC] ** 2)))
                factor = 0.9 * err ** (-1.0 / order) if err > 0 else 5.0
                if err <= 1.0:
                    t = t_end if lands else t + step
                    y = y_new
                    f0 = self.derivative(t, y, drv)
                    evaluations += 1
                    h = max(h, step * min(5.0, factor)) if lands else step * min(5.0, max(0.2, factor))
                else:
                    h = step * max(0.2, factor)
        daily.append(y.copy())
        return np.array(daily), evaluations

    def run_scipy(self, method: str, rtol: float):
        """scipy ``solve_ivp`` segment by segment: (daily states, rhs evaluations, step end times)."""
        atol = default_atol().copy()
        atol[N_DYNAMIC:] = 1e300  # quadratures are not error-controlled in glucosim either
        y = self.work.y0.astype(float).copy()
        daily, evaluations, ends = [y.copy()], 0, []
        for k, t0, t1, drv, jump in self.segments():
            if k > 0 and t0 % 1440.0 == 0.0:
                daily.append(y.copy())
            y = np.where(jump[1], 0.0, y) + jump[0]  # the contract's event: resets, then jumps
            solution = solve_ivp(
                lambda t, state, drv=drv: self.derivative(t, state, drv),
                (t0, t1),
                y,
                method=method,
                rtol=rtol,
                atol=atol,
                max_step=self.work.tolerances.h_max,
            )
            y = solution.y[:, -1]
            evaluations += solution.nfev
            ends.extend(solution.t[1:])
        daily.append(y.copy())
        return np.array(daily), evaluations, np.array(ends)


def jacobian(probe: Probe, t: float, y: np.ndarray, drv: np.ndarray) -> np.ndarray:
    base = probe.derivative(t, y, drv)
    out = np.zeros((N_DYNAMIC, N_DYNAMIC))
    for i in range(N_DYNAMIC):
        moved = y.copy()
        step = 1e-7 * max(abs(y[i]), 1e-4)
        moved[i] += step
        out[:, i] = (probe.derivative(t, moved, drv)[:N_DYNAMIC] - base[:N_DYNAMIC]) / step
    return out


def eigenvalue_section() -> None:
    probe = Probe(days=1)
    w = probe.work
    hours = np.arange(0.0, 1441.0, 120.0)
    states = integrate_schedule(w.integrator, w.schedule, w.y0, w.params, hours, w.tolerances, w.names)
    print("1-2. Jacobian eigenvalues through the day (per minute): the four fastest, and the spectral radius")
    print("     left for an explicit part once FAST_STATES' linear block is taken out")
    fast = np.array(FAST_STATES)
    for j, t in enumerate(hours):
        segment = min(max(int(states.segment[j]), 0), len(w.schedule.t0) - 1)
        jac = jacobian(probe, t, states.y[j], w.schedule.drivers[segment])
        values = np.sort_complex(np.linalg.eigvals(jac))
        remainder = jac.copy()
        remainder[np.ix_(fast, fast)] -= fast_block(states.y[j], w.params)
        radius = np.max(np.abs(np.linalg.eigvals(remainder)))
        shown = "  ".join(f"{v.real:7.3f}" for v in values[:4])
        print(f"   {t / 60:4.0f} h   {shown}    explicit remainder {radius:.3f}")


def steps_section(probe: Probe) -> None:
    print(f"3. Steps per hour on day 1 (rtol 1e-6), and the error after {DAYS} days against rtol 1e-11")
    full = probe.run_dopri5(probe.work.tolerances)
    hourly = {}
    for method in ("RK45", "Radau"):
        daily, evaluations, ends = probe.run_scipy(method, 1e-6)
        hours = np.bincount((ends[ends <= 1440.0] // 60).astype(int).clip(0, 23), minlength=24)
        hourly[method] = hours
        print(
            f"   {method:<6} {hours.tolist()}  midnight-7:00 {hours[:7].sum()}, day 1 {hours.sum()}, "
            f"{DAYS} days {len(ends)} steps, {evaluations} rhs, error {probe.error(daily):.1e}"
        )
    print(
        f"   glucosim DOPRI5, {DAYS} days: {full.stats.accepted_steps} steps, {full.stats.rhs_evaluations} rhs, "
        f"error {probe.error(full.y):.1e}  (RK45 is the same tableau)"
    )


def imex_section(probe: Probe) -> None:
    print(f"4. IMEX with the linear fast block implicit, {DAYS} days: rhs evaluations and error against DOPRI5's")
    for rtol in (1e-4, 1e-5, 1e-6):
        ours = probe.run_dopri5(dataclasses.replace(probe.work.tolerances, rtol=rtol))
        line = f"   rtol {rtol:.0e}: DOPRI5 {ours.stats.rhs_evaluations:6d} rhs, error {probe.error(ours.y):.1e}"
        for name, table in (("ARK4(3)6L", ark436()), ("ARK5(4)8L", ark548())):
            daily, evaluations = probe.run_imex(table, rtol)
            line += f";  {name} {evaluations:6d}, {probe.error(daily):.1e}"
        print(line)


def segments_section(probe: Probe) -> None:
    """Steps per segment of the last day, each segment integrated alone from the previous one's ``h_next``
    (contract rule 6: the same steps as one call), with the step it starts with."""
    w = probe.work
    s = w.schedule
    print(f"5. Steps per segment on day {DAYS} (dopri5): a boundary keeps the last step size, it never restarts")
    y, h = w.y0.copy(), w.tolerances.h_init
    for k in range(len(s.t0)):
        part = Schedule(s.t0[k : k + 1], s.t1[k : k + 1], s.drivers[k : k + 1], s.jumps[k : k + 1], s.resets[k : k + 1])
        tolerances = dataclasses.replace(w.tolerances, h_init=h)
        result = integrate_schedule(w.integrator, part, y, w.params, s.t1[k : k + 1], tolerances, w.names)
        if s.t0[k] >= (DAYS - 1) * 1440.0:
            print(
                f"   {s.t0[k] % 1440 / 60:5.2f} h, {s.t1[k] - s.t0[k]:5.0f} min: starts with h {h:4.2f} min, "
                f"{result.stats.accepted_steps:3d} accepted and {result.stats.rejected_steps:2d} rejected steps"
            )
        y, h = result.y_final, result.h_next


def main() -> None:
    # scipy's Radau warns of an overflow in a step-size heuristic for the uncontrolled (atol 1e300) quadratures
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="scipy")
    eigenvalue_section()
    probe = Probe(days=DAYS)
    steps_section(probe)
    imex_section(probe)
    segments_section(probe)
    print("   fast block: " + ", ".join(STATE_NAMES[i] for i in FAST_STATES))


if __name__ == "__main__":
    main()
