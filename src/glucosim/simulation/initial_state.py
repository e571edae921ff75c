"""The state a run starts from.

The fast states start on the subject's own daily cycle (a warm-up of a few
routine days with the slow dynamics frozen), not at an arbitrary guess. When
the subject starts adapted, beta-cell function is solved so the warm-up's mean
glucose equals the set point: a subject then starts in the steady state its
reserve allows, so a healthy run stays flat for decades. A subject whose reserve
cannot reach the set point starts at its cap, its cells holding a share of the
glucose it settles at (a fixed point: what the cells hold moves the glucose
through the incretins' loss under a glucotoxic load). Body glycogen and
extracellular fluid start at their balance on the day-0 routine's carbohydrate.
"""

import math

import numpy as np

from glucosim.errors import ParameterError
from glucosim.physiology.beta_cells import compensation_setpoint
from glucosim.physiology.ectopic_fat import liver_fat_start_pct
from glucosim.physiology.indices import N_STATES, QUADRATURES, STATE_NAMES, Par, St
from glucosim.physiology.units import HOURS_PER_DAY, MINUTES_PER_DAY
from glucosim.scenario.compile import ScenarioProgram
from glucosim.simulation.organ import default_tolerances, organ_integrator
from glucosim.solver import Schedule, integrate_schedule

WARMUP_DAYS = 3
"""Days of the routine run with slow dynamics frozen before day 0 (the fast states settle within 2)."""
LOWEST_START_FUNCTION = 0.05
"""Lower bound of beta-cell function when solving for the adapted start."""
BRENTQ_RTOL = 4.0 * np.finfo(float).eps
"""scipy.optimize.brentq's default relative tolerance (``brentq`` below is its algorithm)."""
BRENTQ_MAXITER = 100
HELD_GLUCOSE_TOLERANCE_MG_DL = 0.01
"""How closely the start at the cap settles the glucose its cells hold (the fixed point in ``initial_state``)."""
HELD_GLUCOSE_MAX_ITERATIONS = 30


def _guess(p) -> np.ndarray:
    y = np.zeros(N_STATES)
    glucose = p[Par.glucose_setpoint]
    y[St.glucose_plasma_mg_kg] = glucose * p[Par.glucose_distribution_volume]
    y[St.glucose_tissue_mg_kg] = p[Par.exercise_uptake_reference_tissue_glucose]
    # the warm-up's first guess of insulin: DM2007's basal (insulin_basal_reference), the same fact
    reference_insulin_pmol_l = p[Par.insulin_basal_reference]
    y[St.insulin_plasma_pmol_kg] = reference_insulin_pmol_l * p[Par.insulin_distribution_volume]
    y[St.insulin_liver_pmol_kg] = y[St.insulin_plasma_pmol_kg]
    for state in (St.insulin_liver_delay1_pmol_l, St.insulin_liver_delayed_pmol_l, St.insulin_remote_pmol_l):
        y[state] = reference_insulin_pmol_l
    y[St.nefa_mmol_l] = p[Par.nefa_reference]
    y[St.glucagon_pg_ml] = p[Par.glucagon_basal]
    y[St.liver_glycogen_mg_kg] = p[Par.liver_glycogen_reference]
    # the warm-up starts at a midnight: the clock's angle from its morning peak there
    angle = -2.0 * math.pi * p[Par.circadian_tolerance_peak_h] / HOURS_PER_DAY
    y[St.clock_cos], y[St.clock_sin] = math.cos(angle), math.sin(angle)
    y[St.glucose_mean_mg_dl] = glucose
    y[St.glucose_baseline_mg_dl] = glucose
    y[St.insulin_mean_pmol_l] = p[Par.insulin_mean_reference]
    y[St.beta_mass_rel] = p[Par.beta_mass_initial]
    y[St.beta_function_rel] = p[Par.beta_function_initial]
    y[St.muscle_mass_rel] = 1.0
    y[St.activity_sensitivity_rel] = 1.0
    if p[Par.liver_fat_export_capacity] <= p[Par.liver_fat_capacity_used]:
        raise ParameterError(
            f"liver_fat_export_capacity ({p[Par.liver_fat_export_capacity]:g}) must exceed liver_fat_capacity_used "
            f"({p[Par.liver_fat_capacity_used]:g}): below it liver fat has no steady state"
        )
    # the kernel's Python body: calling the kernel from Python would compile it in every process (0.2 s of CPU,
    # for each sweep worker)
    y[St.liver_fat_pct] = liver_fat_start_pct.py_func(p)
    return y


def start_body_water(y: np.ndarray, p, carbohydrate_g_day: float) -> None:
    """Set body glycogen and extracellular fluid (Hall 2011, physiology/body.py) to their balance on a day of
    ``carbohydrate_g_day``, in place, with weight carrying them (fat and lean tissue unchanged).

    Both states are kept relative to the reference intake (carbohydrate_reference), where they are 0. A routine
    that eats more or less carbohydrate from day 0 holds a different store at balance: starting at the reference
    instead sent weight through a start-up transient of ~1.9 kg (900 g a day, scenario 31) in the first days,
    though the routine never changed. Balance of body.py's rates: glycogen G_0 (sqrt(CI / CI_ref) - 1); fluid
    -zeta_CI max(1 - CI / CI_ref, 0) / zeta_Na.
    """
    ratio = max(carbohydrate_g_day, 0.0) / p[Par.carbohydrate_reference]
    glycogen_kg = p[Par.body_glycogen_reference] * (math.sqrt(ratio) - 1.0)
    fluid_kg = -p[Par.ecf_carbohydrate_sodium] * max(1.0 - ratio, 0.0) / p[Par.ecf_sodium_excretion]
    y[St.body_glycogen_change_kg] = glycogen_kg
    y[St.extracellular_fluid_change_kg] = fluid_kg
    # weight holds the water; the tissue change (weight less glycogen with its water and fluid) stays 0
    y[St.weight_change_kg] = p[Par.glycogen_weight_factor] * glycogen_kg + fluid_kg


def _warm_up_schedule(program: ScenarioProgram, days: int) -> Schedule:
    """The schedule of ``days`` warm-up days (day 0's routine, slow dynamics frozen) ending at day 0's midnight."""
    pieces = [program.schedule(0, 1, slow_dynamics=False, day_offset=k - days) for k in range(days)]
    return Schedule(
        *(
            np.concatenate([getattr(piece, name) for piece in pieces])
            for name in ("t0", "t1", "drivers", "jumps", "resets")
        )
    )


def warm_up(
    program: ScenarioProgram, y: np.ndarray, days: int = WARMUP_DAYS, schedule: Schedule | None = None
) -> tuple[np.ndarray, float, float]:
    """Run ``days`` of the day-0 routine with slow dynamics frozen, ending at the midnight before day 0.

    ``schedule``: those days' schedule (``_warm_up_schedule``), if made already.

    Returns:
        (state at that midnight with running means set to the last day's means
        and quadratures zeroed, last day's mean glucose mg/dl, mean insulin pmol/l).
    """
    if schedule is None:
        schedule = _warm_up_schedule(program, days)
    y = y.copy()
    y[QUADRATURES] = 0.0
    t_out = np.array([-MINUTES_PER_DAY, 0.0])
    result = integrate_schedule(
        organ_integrator(), schedule, y, program.parameters, t_out, default_tolerances(), STATE_NAMES
    )
    last_day = result.y[1] - result.y[0]
    mean_glucose = last_day[St.cum_glucose_mg_dl_min] / MINUTES_PER_DAY
    mean_insulin = last_day[St.cum_insulin_pmol_l_min] / MINUTES_PER_DAY
    y_end = result.y_final.copy()
    y_end[St.glucose_mean_mg_dl] = mean_glucose
    y_end[St.glucose_baseline_mg_dl] = mean_glucose  # an adapted start has no recent rise of glucose
    y_end[St.insulin_mean_pmol_l] = mean_insulin
    y_end[QUADRATURES] = 0.0
    return y_end, mean_glucose, mean_insulin


def brentq(f, xa: float, xb: float, xtol: float, rtol: float = BRENTQ_RTOL, maxiter: int = BRENTQ_MAXITER) -> float:
    """A root of ``f`` in [xa, xb] (signs differ at the ends) by Brent's method: scipy.optimize.brentq's algorithm
    (scipy/optimize/Zeros/brentq.c, Brent 1973) step for step, so the same iterates and root.

    Written out because importing scipy.optimize for it cost each process (every sweep worker) about a second,
    more than a run's own integration. ``tests/test_simulation.py`` checks it against scipy's.
    """
    xpre, xcur = float(xa), float(xb)
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = f(xpre), f(xcur)
    if fpre == 0.0:
        return xpre
    if fcur == 0.0:
        return xcur
    if math.copysign(1.0, fpre) == math.copysign(1.0, fcur):
        raise ValueError("f(a) and f(b) must have different signs")
    for _ in range(maxiter):
        if fpre != 0.0 and fcur != 0.0 and math.copysign(1.0, fpre) != math.copysign(1.0, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2.0
        sbis = (xblk - xcur) / 2.0
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # extrapolate
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2.0 * abs(stry) < min(abs(spre), 3.0 * abs(sbis) - delta):  # good short step
                spre, scur = scur, stry
            else:  # bisect
                spre = scur = sbis
        else:  # bisect
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0.0 else -delta)
        fcur = f(xcur)
    raise RuntimeError(f"brentq did not converge in {maxiter} iterations")


def initial_state(program: ScenarioProgram) -> np.ndarray:
    """The state at midnight of day 0 for ``program``'s subject and day-0 routine."""
    p = program.parameters
    schedule = _warm_up_schedule(program, WARMUP_DAYS)  # made once: every warm-up below runs the same days
    y = _guess(p)
    start_body_water(y, p, program.day_plan(0).carbohydrate_g_day)
    y, _, _ = warm_up(program, y, schedule=schedule)
    if not program.scenario.subject.start_adapted:
        return warm_up(program, y, schedule=schedule)[0]

    # the subject's own set point (a glucose-sensing offset raises it); the kernel's Python body, as above
    setpoint = float(compensation_setpoint.py_func(y, p))
    tried: dict[float, tuple[np.ndarray, float, float]] = {}

    def trial_warm_up(function: float) -> tuple[np.ndarray, float, float]:
        # the start is one of the tried functions (the cap, the floor, or mostly brentq's root): its warm-up,
        # which is the start's, is not run again. The running mean glucose is the root's, the set point, so the
        # warm-up's glucotoxic load (which weakens the incretins) is the one the start will have.
        if function not in tried:
            trial = y.copy()
            trial[St.beta_function_rel] = function
            trial[St.glucose_mean_mg_dl] = setpoint
            tried[function] = warm_up(program, trial, schedule=schedule)
        return tried[function]

    def excess(function: float) -> float:
        return trial_warm_up(function)[1] - setpoint

    highest = float(p[Par.beta_function_max])
    lowest = LOWEST_START_FUNCTION
    if excess(highest) > 0.0:
        return _start_at_the_cap(program, y, highest, setpoint, schedule, trial_warm_up(highest))
    if excess(lowest) < 0.0:
        function = lowest
    else:
        function = brentq(excess, lowest, highest, xtol=1e-6)
    return trial_warm_up(function)[0]


def _start_at_the_cap(
    program: ScenarioProgram,
    y: np.ndarray,
    highest: float,
    setpoint: float,
    schedule: Schedule,
    holding_nothing: tuple[np.ndarray, float, float],
) -> np.ndarray:
    """The start of a subject whose reserve cannot hold the set point: function at its cap, the cells holding the
    share setpoint_adaptation_at_start of the glucose above the set point they settle at (Weir & Bonner-Weir's stable
    stage 2).

    The glucose settled at and the share held depend on each other: what the cells hold raises their set point,
    which lowers their glucotoxic load, which gives back the incretins' potentiation (gut.py) and lowers the glucose.
    The warm-up freezes the slow states, so the fixed point is found by warming up again with each new estimate
    (the map's slope is ~-0.2: a few warm-ups). Without it a subject starting at ~150 mg/dl began its day 0 ~9 mg/dl
    below the glucose its cells were set to hold (2026-12-06, tests/test_beta_cells.py).

    ``holding_nothing``: the warm-up at the cap with the cells holding nothing at the set point's load, which
    ``initial_state`` ran to find that the reserve cannot hold the set point: the iteration's first step.
    """
    p = program.parameters
    share = float(p[Par.setpoint_adaptation_at_start])
    trial = y.copy()
    trial[St.beta_function_rel] = highest
    start, settled, _ = holding_nothing
    converged = abs(settled - setpoint) < HELD_GLUCOSE_TOLERANCE_MG_DL
    for _ in range(HELD_GLUCOSE_MAX_ITERATIONS - 1):
        if converged:
            break
        trial[St.glucose_mean_mg_dl] = settled
        trial[St.beta_setpoint_adaptation_mg_dl] = y[St.beta_setpoint_adaptation_mg_dl] + share * (settled - setpoint)
        start, mean_glucose, _ = warm_up(program, trial, schedule=schedule)
        converged = abs(mean_glucose - settled) < HELD_GLUCOSE_TOLERANCE_MG_DL
        settled = mean_glucose
    if not converged:
        raise RuntimeError(
            f"the start at the beta-cell cap did not settle in {HELD_GLUCOSE_MAX_ITERATIONS} warm-ups "
            f"(last mean glucose {settled:.2f} mg/dl)"
        )
    start = start.copy()  # the first step's state is initial_state's cached warm-up
    start[St.beta_setpoint_adaptation_mg_dl] = y[St.beta_setpoint_adaptation_mg_dl] + share * (settled - setpoint)
    return start
