"""Beta cells: fast glucose-driven secretion and slow adaptation of mass and function.

Fast (minutes): secretion capacity = mass x function (x a sympathetic brake
after short sleep). Second-phase secretion follows a Hill function of glucose in
two parts that share its steady dose-response: one with the DM2007 delay alpha,
one that rises slower (secretion_slow_delay_rate, 120 min: time-dependent
potentiation, the second phase that keeps rising for hours at constant
hyperglycaemia; its share is fitted to the shape of Michaliszyn 2014's clamp) and
falls at alpha; first-phase secretion is proportional to the rate
of rise of glucose (DM2007 K) and to a readily releasable pool that follows the
adapted capacity more steeply (Kahn's hyperbola) and is primed within days by a
recent rise of the daily mean glucose (the compensation that comes before function
or mass can grow); both enter the portal vein (DM2007 Ipo).
DM2007 writes secretion as a deviation from a subject's basal glucose; here it
is an absolute dose-response, so secretion follows glucose as the basal state
drifts over years.

Slow (months to years): mass and function grow while the running mean glucose
is above the set point (Topp 2000's compensation: the healthy fixed point at
G = 100 mg/dl whatever the sensitivity), each capped by its reserve; function
follows the 1-day mean, mass the weeks-long mean (so that the cap on growth,
which shrinkage does not have, does not turn the day-to-day swing of the
1-day mean into a steady loss of a healthy subject's mass). Function
grows at nearly its full rate until close to its reserve (a sharp cap: the
logistic approach, whose restoring force vanished at the cap, let a small toxic
load pull function off it and tip prediabetes into diabetes near a fasting
glucose of 107 mg/dl). Compensation has a cost: a beta cell working at its
reserve loses mass slowly (demand-driven ER stress; Weir & Bonner-Weir 2004's
stage 2, "stable adaptation with loss of beta-cell mass"; Butler 2003: beta-cell
volume 40 % lower in impaired fasting glucose), in proportion to the share of
its reserve in use. A steep glucolipotoxic load (a Hill function of the
mean-glucose excess, half-maximal at glucotoxicity_threshold, multiplied by plasma NEFA
relative to its healthy mean) accelerates the decline: it damps growth and
wears both down: function toward a basal floor (the reversible part: the
function the load took is impaired, not lost, and returns within weeks as the
load lifts, as after short-term intensive insulin therapy; growth restores more
while glucose stays above the set point) and mass, slowly, toward a floor of
its own (the lasting part that a late intervention cannot undo). Prediabetes is thus a
years-long stage in which fasting glucose creeps up by about a mg/dl a year
without a worsening of sensitivity (Weir & Bonner-Weir's stable stage 2, which
reaches ~117 mg/dl; here it holds to ~110-112 mg/dl with a reserve of 1.4),
then function fails within 1-2 years (their unstable stage 3);
the course is calibrated against Whitehall II, UKPDS and that stability
(glucosim.calibration.course).
"""

import math

from glucosim.physiology._jit import inlined_kernel, kernel, power, softplus
from glucosim.physiology.indices import Drv, Par, St
from glucosim.physiology.units import MINUTES_PER_DAY


@kernel
def secretion_capacity(y, drv, p):
    """Beta-cell secretory capacity relative to healthy: mass x function x sleep brake."""
    brake = 1.0 - p[Par.sleep_secretion_loss] * drv[Drv.sleep_deficit_h]
    if brake < 0.0:
        brake = 0.0
    return y[St.beta_mass_rel] * y[St.beta_function_rel] * brake


@kernel
def second_phase_target(glucose_mg_dl, capacity, p):
    """Steady second-phase secretion at this glucose, pmol/kg/min."""
    if glucose_mg_dl <= 0.0:
        return 0.0
    hill = p[Par.secretion_hill]
    x = power(glucose_mg_dl / p[Par.secretion_glucose_half], hill)
    return capacity * p[Par.secretion_max] * x / (1.0 + x)


@kernel
def first_phase_pool(y, p):
    """Readily releasable granule pool relative to its share of capacity: (mass x function) ** exponent x priming.

    First-phase secretion is the release of docked granules. In compensated
    insulin resistance it rises more than the second phase (Kahn 1993: the
    acute response rises hyperbolically as sensitivity falls), and it is the
    first to go when the beta cells fail; an exponent above 0 makes the pool
    grow and shrink faster than the adapted capacity. A recent rise of glucose primes it
    (``first_phase_priming``). 1 in the healthy subject.
    """
    capacity_part = (y[St.beta_mass_rel] * y[St.beta_function_rel]) ** p[Par.first_phase_capacity_exponent]
    return capacity_part * first_phase_priming(y, p)


PRIMING_SMOOTHING = 0.005
"""Width, relative to the set point (~0.5 mg/dl), over which the priming's two switches are smoothed (softplus): the
onset where the daily mean passes its reference, and the reference's change from the set point to the baseline.
Numerical, not physiology: a positive part and a higher-of are kinks in the right-hand side, which the step control
must cross (the GIP gate is a smoothstep for the same reason); smoothed over ~0.5 mg/dl, far inside the healthy day's
~2 mg/dl swing, the priming is within 1e-5 of 1 where it was 1. It did not restore dop853's tenfold convergence on
the meal day (tests/test_solver.py says what decides that test)."""


@kernel
def first_phase_priming(y, p):
    """Fast priming of the readily releasable pool by a recent rise of glucose: 1 + A x e^n / (e^n + e50^n).

    Beta cells answer a fall of insulin sensitivity within days, long before their function or mass can grow:
    three days of dexamethasone doubled the acute insulin response along Kahn's hyperbola (Matsumoto 1996), 72 h
    of glucose ~50 mg/dl above fasting raised first-phase secretion 70 % (2021, Diabetes 70:204). ``e`` is the
    running (daily) mean glucose's excess over the higher of the set point and the weeks-long baseline
    (``glucose_baseline_mg_dl``), relative to the set point: a recent rise primes the pool, a long-held level does
    not (the pool of a prediabetic subject, whose glucose has sat above the set point for years, is not primed,
    and that of diabetes is lost: the steep exponent of ``first_phase_pool`` carries it). The positive part and the
    higher-of are softplus-smoothed over PRIMING_SMOOTHING of the set point.
    """
    setpoint = compensation_setpoint(y, p)
    width_mg_dl = PRIMING_SMOOTHING * setpoint
    reference = setpoint + width_mg_dl * softplus((y[St.glucose_baseline_mg_dl] - setpoint) / width_mg_dl)
    excess = PRIMING_SMOOTHING * softplus((y[St.glucose_mean_mg_dl] - reference) / width_mg_dl)
    x = power(excess / p[Par.first_phase_priming_half], p[Par.first_phase_priming_hill])
    return 1.0 + p[Par.first_phase_priming_max] * x / (1.0 + x)


@kernel
def portal_secretion(y, p, d_glucose_mg_dl_min, capacity):
    """Insulin entering the portal vein, pmol/kg/min: second phase plus first (derivative) phase."""
    first_phase = 0.0
    # the pool is a power with a parameter exponent (libm's pow): computed only while glucose rises
    if d_glucose_mg_dl_min > 0.0:
        first_phase = capacity * first_phase_pool(y, p) * first_phase_rate(d_glucose_mg_dl_min, p)
    return y[St.secretion_second_phase_pmol_kg_min] + y[St.secretion_second_phase_slow_pmol_kg_min] + first_phase


@kernel
def first_phase_rate(d_glucose_mg_dl_min, p):
    """First-phase secretion of healthy capacity at a rate of rise of glucose (> 0), pmol/kg/min: DM2007's
    K x dG/dt, saturating at first_phase_max_rate (granule fusion is rate-limited)."""
    demand = p[Par.secretion_first_phase_gain] * d_glucose_mg_dl_min
    return demand / (1.0 + demand / p[Par.first_phase_max_rate])


@kernel
def secretion_to_liver(y, p):
    """Insulin delivered from the portal vein to the liver, pmol/kg/min (DM2007 S = gamma * Ipo)."""
    return p[Par.portal_insulin_transfer_rate] * y[St.insulin_portal_pmol_kg]


SLOW_PART_SWITCH_PMOL_KG_MIN = 0.1
"""Width of the slow part's switch between its rising and falling rates (``slow_part_rate``), in its gap to its
target: ~10 % of the healthy fasting secretion (~1 pmol/kg/min), ~2 % of a meal's. Numerical, not physiology: a
switch by the gap's sign is a kink the step control must cross (the rate times the gap is smooth either way). At
0.02 the meal day's global error against scipy (tests/test_solver.py) reached 1.2e-4 in this state at one placement
of the meals (3.0e-5 and 1.1e-5 at two others); at 0.05 1.9e-5; at 0.1 at most 1.9e-5 in any state over five
placements, 6e-6 in this one; the validation page's quantities move by under 1 % between 0.02 and 0.1."""


@kernel
def slow_part_rate(gap_pmol_kg_min, p):
    """Rate (1/min) at which the second phase's slow part moves toward its share of the target: slowly while below it
    (secretion_slow_delay_rate: time-dependent potentiation builds over hours at constant hyperglycaemia) and at the
    fast part's rate above it (secretion_delay_rate), so that secretion falls with glucose as a single second phase
    does (Toffolo's C-peptide minimal model: 17.8 min to falling glucose, 5.7 to rising), where a slow fall kept
    secreting for hours after each meal and dipped the healthy night. Smooth in the gap (a tanh switch)."""
    rising = 0.5 * (1.0 + math.tanh(gap_pmol_kg_min / SLOW_PART_SWITCH_PMOL_KG_MIN))
    falling_rate = p[Par.secretion_delay_rate]
    return falling_rate + (p[Par.secretion_slow_delay_rate] - falling_rate) * rising


@kernel
def beta_fast_derivatives(y, p, glucose_mg_dl, d_glucose_mg_dl_min, capacity, second_phase_factor, dydt):
    """Write d/dt of second-phase secretion (its fast and slow parts) and portal insulin.

    The two parts follow their shares of one target, so the steady dose-response (second_phase_target) is the same
    whatever the share; only its time course differs."""
    target = second_phase_target(glucose_mg_dl, capacity * second_phase_factor, p)
    slow_share = p[Par.secretion_slow_share]
    dydt[St.secretion_second_phase_pmol_kg_min] = -p[Par.secretion_delay_rate] * (
        y[St.secretion_second_phase_pmol_kg_min] - (1.0 - slow_share) * target
    )
    slow_gap = slow_share * target - y[St.secretion_second_phase_slow_pmol_kg_min]
    dydt[St.secretion_second_phase_slow_pmol_kg_min] = slow_part_rate(slow_gap, p) * slow_gap
    dydt[St.insulin_portal_pmol_kg] = portal_secretion(y, p, d_glucose_mg_dl_min, capacity) - secretion_to_liver(y, p)


@kernel
def compensation_setpoint(y, p):
    """The 24-h mean glucose (mg/dl) this subject's beta cells adapt toward: glucose_setpoint + glucose_sensing_offset
    + the held rise beta_setpoint_adaptation_mg_dl.

    A defect of glucose sensing (glucokinase's, in GCK-MODY) makes the cells meet a raised glucose as a normal cell
    meets a normal one, so their compensation holds the higher level and their glucotoxic load starts above it. The
    held rise is the same shift acquired: cells that have lived at a raised glucose without the reserve to lower it
    (Weir & Bonner-Weir's stage 2, a stable state of adaptation at 5.0-6.5 mmol/l) hold it. The adapted start sets
    it (``setpoint_adaptation_at_start``); it is released over months once a fall of demand leaves the cells reserve
    to spare (``setpoint_release_rate``, in ``beta_slow_derivatives``).
    """
    return p[Par.glucose_setpoint] + p[Par.glucose_sensing_offset] + y[St.beta_setpoint_adaptation_mg_dl]


@kernel
def glucotoxicity(glucose_mean_mg_dl, setpoint_mg_dl, p):
    """Glucotoxic load, 0 (none) to 1 (full): a Hill function of the running mean glucose above the set point.

    Zero at and below the subject's set point (``setpoint_mg_dl``, ``compensation_setpoint``), so a healthy
    subject's beta cells are not worn;
    half-maximal at glucotoxicity_threshold (moved by a sensing offset with the onset: the Hill function's width,
    glucotoxicity_threshold - glucose_setpoint, is the same for every subject); steep (Hill coefficient
    glucotoxicity_hill) so that it stays small through prediabetes (a prediabetic subject without drift keeps its
    glucose) and takes over near HbA1c 6-6.5 %.
    """
    # a sensing offset moves the whole glucose axis of the cells: the onset (the set point) and the half-maximum
    excess = glucose_mean_mg_dl - setpoint_mg_dl
    if excess <= 0.0:
        return 0.0
    x = power(excess / (p[Par.glucotoxicity_threshold] - p[Par.glucose_setpoint]), p[Par.glucotoxicity_hill])
    return x / (1.0 + x)


@kernel
def lipotoxicity_factor(y, p):
    """Multiplier of the glucotoxic loss by plasma NEFA relative to the healthy 24-h mean (1 at the reference).

    Linear in NEFA, so its effect on the slow states is that of the day's mean NEFA; glucolipotoxicity:
    fatty acids harm beta cells only together with raised glucose (Poitout & Robertson 2008).
    """
    factor = 1.0 + p[Par.lipotoxicity_nefa_gain] * (y[St.nefa_mmol_l] / p[Par.nefa_mean_reference] - 1.0)
    return factor if factor > 0.0 else 0.0


@kernel
def capped_growth(drive, level, level_max, sharpness):
    """Relative growth for a glucose drive: x (1 - (level / cap) ** sharpness) when growing, free when shrinking.

    Sharpness 1 is the logistic, whose restoring force vanishes at the cap; a large sharpness makes the reserve a
    ceiling that growth approaches at nearly its full rate, so a small toxic load cannot pull the level far off it.
    Above the cap (a reserve that drifts down, routine.drift.beta_reserve_per_year) the same drive brings the level
    back down to it (capped_growth_at).
    """
    if drive > 0.0:
        return capped_growth_at(drive, power(level / level_max, sharpness))
    return drive


@kernel
def capped_growth_at(drive, saturation):
    """``capped_growth`` with the saturation (level / cap) ** sharpness already known."""
    if drive > 0.0:
        # a level above its cap (the cap drifted down under it) is pulled back to the cap by the drive that held it
        # there, at most as fast as a glucose drive of the same size would shrink it below the set point
        headroom = 1.0 - saturation
        if headroom < -1.0:
            headroom = -1.0
        return drive * headroom
    return drive


@kernel
def capacity_in_use(function, function_max, sharpness):
    """Share of a beta cell's biosynthetic capacity in use, (function / reserve) ** sharpness, at most 1.

    The same saturation that stops growth at the reserve cap (capped_growth) loads the endoplasmic reticulum:
    small while function is well below its reserve, near 1 as it reaches it.
    """
    return capacity_in_use_at(function, function_max, power(function / function_max, sharpness))


@kernel
def capacity_in_use_at(function, function_max, saturation):
    """``capacity_in_use`` with the saturation (function / reserve) ** sharpness already known."""
    if function_max <= 0.0 or function <= 0.0:
        return 0.0
    return saturation if saturation < 1.0 else 1.0


@kernel
def reserve_caps(y, p):
    """(function cap, mass cap): the reserve (beta_function_max, beta_mass_max) times the drift of the reserve so far.

    The scenario's routine.drift.beta_reserve_per_year lowers both caps alike: with the mass cap held, mass grew into
    what the function cap lost (a diagnostic of the thirty-third session, 2026-12-07: the diet-treated course then
    stopped, a rise of fasting glucose from 1 to 6 years of +2 mg/dl where both caps together gave +19).
    """
    reserve = math.exp(y[St.drift_log_reserve])
    return p[Par.beta_function_max] * reserve, p[Par.beta_mass_max] * reserve


@inlined_kernel
def beta_slow_derivatives(y, p, slow_on, dydt):
    """Write d/dt of beta-cell mass, function, the impaired function, the held set point and the priming baseline (per
    minute). ``slow_on`` is 1, or 0 to freeze.

    Growth follows the glucose excess (capped by the reserve) and is damped by glucotoxicity; the
    glucolipotoxic load (glucose, accelerated by NEFA) pulls function toward its basal floor (reversible: what it
    took, held in beta_function_worn_rel, recovers within weeks as the load lifts, beta_function_recovery_rate,
    bringing function back to healthy; growth restores more while glucose stays above the set point) and slowly
    erodes mass (which regrows slowly: the part of the loss a late intervention cannot undo). The held rise of the set
    point decays at setpoint_release_rate times the reserve's spare share, 1 - (function / reserve)^n, and the share
    the glucotoxic load spares: not at all while function works at its cap, over months once demand falls (DiRECT's
    recovery of secretion after weight loss), and not while a glucotoxic load, rather than a fall of demand, holds
    function below its cap.
    """
    setpoint = compensation_setpoint(y, p)
    drive = (y[St.glucose_mean_mg_dl] - setpoint) / setpoint
    toxicity = glucotoxicity(y[St.glucose_mean_mg_dl], setpoint, p)
    spared = 1.0 - toxicity
    load = toxicity * lipotoxicity_factor(y, p)
    function = y[St.beta_function_rel]
    mass = y[St.beta_mass_rel]
    function_max, mass_max = reserve_caps(y, p)
    # growth's cap and the workload share one saturation (a power with a parameter exponent: computed once)
    saturation = power(function / function_max, p[Par.beta_function_cap_sharpness])
    # the load wears what is above the floors, never below them: a function or mass that starts below its floor (an
    # explicit low beta_function_initial, a very sensitive subject's adapted start) is not raised by glucotoxicity
    wearable_function = function - p[Par.beta_function_floor]
    if wearable_function < 0.0:
        wearable_function = 0.0
    wearable_mass = mass - p[Par.beta_mass_floor]
    if wearable_mass < 0.0:
        wearable_mass = 0.0
    wear = p[Par.beta_function_glucotoxic_rate] * load * wearable_function
    # what the load took is impaired, not lost: the impaired cells recover within weeks as the load lifts, without
    # the glucose drive growth needs (the reversal of glucotoxicity that normoglycaemia brings: Hu 2011), and bring
    # function back to healthy (1, or a reserve under 1), not to the compensation above it, which only growth
    # restores; a function held below healthy by adaptation (a sensing offset, a high sensitivity) has none to regain
    recovered = p[Par.beta_function_recovery_rate] * spared * y[St.beta_function_worn_rel]
    healthy = function_max if function_max < 1.0 else 1.0
    regain = 0.0
    if function < healthy:
        gap = p[Par.beta_function_recovery_rate] * spared * (healthy - function)
        regain = recovered if recovered < gap else gap
    function_rate = (
        p[Par.beta_function_adaptation_rate] * capped_growth_at(drive, saturation) * spared * function - wear + regain
    )
    workload = capacity_in_use_at(function, function_max, saturation)
    mass_loss = p[Par.beta_mass_workload_rate] * workload + p[Par.beta_mass_glucotoxic_rate] * load
    # mass grows and shrinks over years, so it follows the weeks-long mean glucose (the baseline the first phase's
    # priming also reads), not the 1-day mean: growth is capped (headroom 1 - mass/max) and shrinkage is not, so the
    # 1-day mean's swing from day to day, rectified by that cap, took a healthy subject's mass down ~0.4 % a year with
    # a mean drive of zero (1.00 -> 0.92 in 20 years, function rising to 1.09 to make up for it; 2026-12-07 audit)
    mass_drive = (y[St.glucose_baseline_mg_dl] - setpoint) / setpoint
    mass_rate = (
        p[Par.beta_mass_adaptation_rate] * capped_growth(mass_drive, mass, mass_max, 1.0) * spared * mass
        - mass_loss * wearable_mass
    )
    dydt[St.beta_function_rel] = slow_on * function_rate / MINUTES_PER_DAY
    dydt[St.beta_function_worn_rel] = slow_on * (wear - recovered) / MINUTES_PER_DAY
    dydt[St.beta_mass_rel] = slow_on * mass_rate / MINUTES_PER_DAY
    # the held rise of the set point (set by the adapted start) is let go while the cells have reserve to spare:
    # at the cap (a subject whose reserve cannot hold its set point) nothing is released. Spare reserve means rest
    # only when demand has fallen: function pulled off its cap by a glucotoxic load is failing, not resting, so the
    # load's share closes the release as it closes growth (without it, failing cells lowered their set point and
    # deepened their own decompensation)
    release = p[Par.setpoint_release_rate] * (1.0 - workload) * spared * y[St.beta_setpoint_adaptation_mg_dl]
    dydt[St.beta_setpoint_adaptation_mg_dl] = -slow_on * release / MINUTES_PER_DAY
    # the baseline a recent rise of glucose primes the first phase from follows the daily mean over weeks
    dydt[St.glucose_baseline_mg_dl] = (
        slow_on
        * (y[St.glucose_mean_mg_dl] - y[St.glucose_baseline_mg_dl])
        / (p[Par.first_phase_priming_time] * MINUTES_PER_DAY)
    )
