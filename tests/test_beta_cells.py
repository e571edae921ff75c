"""The slow beta-cell terms that make prediabetes a years-long stage (physiology/beta_cells.py; issue 11, point 5)."""

import numpy as np
import pytest

from glucosim.physiology import beta_cells
from glucosim.physiology.indices import N_STATES, Par, St


def _load(glucose_mean_mg_dl, p, adaptation_mg_dl=0.0):
    """The glucotoxic load at a running mean glucose, for a subject whose set point has adapted by
    ``adaptation_mg_dl`` (the state beta_setpoint_adaptation_mg_dl)."""
    y = np.zeros(N_STATES)
    y[St.beta_setpoint_adaptation_mg_dl] = adaptation_mg_dl
    return beta_cells.glucotoxicity(glucose_mean_mg_dl, beta_cells.compensation_setpoint(y, p), p)


def _slow_dydt(
    p, glucose_mean_mg_dl, function, mass=1.0, adaptation_mg_dl=0.0, worn=0.0, slow_on=1.0, baseline_mg_dl=None
):
    """beta_slow_derivatives' d/dt (per minute) at a running mean glucose, NEFA at its healthy mean, and the given
    beta-cell states; the weeks-long mean glucose (which mass follows) is the running mean unless given."""
    y = np.zeros(N_STATES)
    y[St.beta_setpoint_adaptation_mg_dl] = adaptation_mg_dl
    y[St.glucose_mean_mg_dl] = glucose_mean_mg_dl
    y[St.glucose_baseline_mg_dl] = glucose_mean_mg_dl if baseline_mg_dl is None else baseline_mg_dl
    y[St.nefa_mmol_l] = p[Par.nefa_mean_reference]
    y[St.beta_function_rel] = function
    y[St.beta_mass_rel] = mass
    y[St.beta_function_worn_rel] = worn
    dydt = np.zeros(N_STATES)
    beta_cells.beta_slow_derivatives(y, p, slow_on, dydt)
    return dydt


def _at(p, glucose_mean_mg_dl, function, mass, adaptation_mg_dl=0.0):
    dydt = _slow_dydt(p, glucose_mean_mg_dl, function, mass, adaptation_mg_dl)
    return dydt[St.beta_function_rel], dydt[St.beta_mass_rel]


def test_capacity_in_use_is_small_well_below_the_reserve_and_full_at_it(parameters):
    sharpness = parameters[Par.beta_function_cap_sharpness]
    assert beta_cells.capacity_in_use(1.0, 4.0, sharpness) < 1e-4  # a healthy cell with a normal reserve
    assert beta_cells.capacity_in_use(2.0, 4.0, sharpness) < 0.01  # compensating at half its reserve
    assert beta_cells.capacity_in_use(1.3, 1.3, sharpness) == pytest.approx(1.0)
    assert beta_cells.capacity_in_use(1.5, 1.3, sharpness) == 1.0
    assert beta_cells.capacity_in_use(0.0, 1.3, sharpness) == 0.0
    # the same saturation stops growth at the cap
    assert beta_cells.capped_growth(1.0, 1.2, 1.3, sharpness) == pytest.approx(
        1.0 - beta_cells.capacity_in_use(1.2, 1.3, sharpness)
    )


def test_a_cell_working_at_its_reserve_loses_mass_without_glucotoxicity(parameters):
    """The cost of compensation: at the set point (no drive, no glucotoxic load) a cell at its reserve cap loses
    mass, slowly (Weir & Bonner-Weir's stage 2: stable adaptation with loss of beta-cell mass); a healthy cell with
    a normal reserve practically not."""
    p = parameters.copy()
    setpoint = p[Par.glucose_setpoint]
    assert _load(setpoint, p) == 0.0
    _, resting = _at(p, setpoint, 1.0, 1.0)
    p[Par.beta_function_max] = 1.3
    _, working = _at(p, setpoint, 1.3, 1.0)
    per_year = -working * 1440.0 * 365.25
    assert 0.0 < per_year < 0.5 * (1.0 - p[Par.beta_mass_floor])  # gradual: less than half the erodible mass a year
    assert per_year == pytest.approx(p[Par.beta_mass_workload_rate] * 365.25 * (1.0 - p[Par.beta_mass_floor]))
    assert -resting < 1e-4 * -working


def test_the_day_to_day_swing_of_the_daily_mean_does_not_wear_a_healthy_subjects_mass(parameters):
    """Mass follows the weeks-long mean glucose. Growth is capped and shrinkage is not, so a mass following the 1-day
    mean (102-108 mg/dl from day to day in scenario 01) lost ~0.4 % a year with a mean drive of zero (2026-12-07)."""
    p = parameters
    setpoint = p[Par.glucose_setpoint]
    for swing_mg_dl in (-3.0, 3.0):
        dydt = _slow_dydt(p, setpoint + swing_mg_dl, 1.0, mass=1.0, baseline_mg_dl=setpoint)
        assert abs(dydt[St.beta_mass_rel]) * 1440.0 * 365.25 < 1e-4  # no drive from the day's mean
    # the same swing in the weeks-long mean still drives mass, and the cap makes the two halves unequal
    up = _slow_dydt(p, setpoint, 1.0, mass=1.0, baseline_mg_dl=setpoint + 3.0)[St.beta_mass_rel]
    down = _slow_dydt(p, setpoint, 1.0, mass=1.0, baseline_mg_dl=setpoint - 3.0)[St.beta_mass_rel]
    assert 0.0 < up < -down


def test_the_load_does_not_raise_a_function_or_mass_below_its_floor(parameters):
    """The load wears what is above the floors: below them it wore a negative amount, so glucotoxicity raised
    function (0.30 -> 0.44 in 200 days from an explicit low start) and drove the impaired state negative (2026-12-07
    audit)."""
    p = parameters
    low_function, low_mass = 0.5 * p[Par.beta_function_floor], 0.5 * p[Par.beta_mass_floor]
    toxic = 2.0 * p[Par.glucotoxicity_threshold]
    dydt = _slow_dydt(p, toxic, low_function, mass=low_mass, baseline_mg_dl=p[Par.glucose_setpoint])
    unworn = p.copy()  # the same state with the wear switched off: what growth alone does
    for rate in (Par.beta_function_glucotoxic_rate, Par.beta_mass_glucotoxic_rate, Par.beta_mass_workload_rate):
        unworn[rate] = 0.0
    growth_only = _slow_dydt(unworn, toxic, low_function, mass=low_mass, baseline_mg_dl=p[Par.glucose_setpoint])
    assert dydt[St.beta_function_worn_rel] == 0.0
    assert dydt[St.beta_function_rel] == growth_only[St.beta_function_rel]
    assert dydt[St.beta_mass_rel] == growth_only[St.beta_mass_rel]
    above = _slow_dydt(p, toxic, 2.0 * p[Par.beta_function_floor], baseline_mg_dl=p[Par.glucose_setpoint])
    assert above[St.beta_function_worn_rel] > 0.0 and above[St.beta_function_rel] < 0.0  # above it, it still wears


def test_function_grows_at_nearly_its_full_rate_until_close_to_its_reserve(parameters):
    """The cap is a ceiling: at 90 % of the reserve, growth keeps more than half its free rate (the logistic kept
    a tenth, so a small glucotoxic load pulled function off the cap against a vanishing restoring force)."""
    p = parameters
    sharpness = p[Par.beta_function_cap_sharpness]
    assert beta_cells.capped_growth(0.1, 0.9, 1.0, sharpness) > 0.5 * 0.1
    assert beta_cells.capped_growth(0.1, 1.0, 1.0, sharpness) == 0.0
    assert beta_cells.capped_growth(0.1, 0.9, 1.0, 1.0) == pytest.approx(0.1 * 0.1)  # the logistic
    assert beta_cells.capped_growth(-0.1, 1.2, 1.0, sharpness) == -0.1  # shrinking is free


def test_stiff_cap_holds_function_near_its_reserve_under_a_prediabetic_load(parameters):
    """At a mean glucose of HbA1c ~6.0 % (125 mg/dl) the balance of growth and glucotoxic loss keeps function
    within 5 % of a low reserve: the load is an accelerant there, not a switch."""
    p = parameters.copy()
    p[Par.beta_function_max] = 1.3
    mean = 125.0
    rates = [_at(p, mean, f, 1.0)[0] for f in np.linspace(1.2, 1.3, 101)]
    crossing = next(f for f, rate in zip(np.linspace(1.2, 1.3, 101), rates, strict=True) if rate <= 0.0)
    assert crossing > 0.95 * 1.3


def test_a_glucose_sensing_offset_moves_the_cells_glucose_axis(parameters):
    """glucose_sensing_offset (a glucokinase-like sensing defect): the cells adapt toward the raised set point, and
    their glucotoxic load starts above it and is half-maximal as far above it as a normal cell's, so a subject held
    at its own set point neither grows nor wears its beta cells, at a glucose that would wear a normal cell."""
    p = parameters.copy()
    # three quarters of the way to the threshold: a normal cell's load there is 0.75^n / (1 + 0.75^n) whatever the
    # course calibration puts the threshold at (0.15 at the Hill exponent 6); a fixed 20 mg/dl gives too small a
    # load once the threshold rises to ~144 mg/dl (0.018, a branch of 2026-12-05)
    offset = 0.75 * (p[Par.glucotoxicity_threshold] - p[Par.glucose_setpoint])
    raised = p[Par.glucose_setpoint] + offset
    normal_load = _load(raised, p)
    assert normal_load > 0.05  # a normal cell at this mean glucose carries a glucotoxic load
    p[Par.glucose_sensing_offset] = offset
    assert beta_cells.compensation_setpoint(np.zeros(N_STATES), p) == raised
    assert _load(raised, p) == 0.0
    assert _load(p[Par.glucotoxicity_threshold] + offset, p) == pytest.approx(0.5)
    function_rate, _ = _at(p, raised, 1.0, 1.0)
    assert function_rate == 0.0
    below_rate, _ = _at(p, raised - 5.0, 1.0, 1.0)
    assert below_rate < 0.0  # below its own set point the function shrinks, though above the normal set point


def test_an_adapted_set_point_acts_as_a_sensing_offset_does(parameters):
    """The state beta_setpoint_adaptation_mg_dl (Weir & Bonner-Weir's stage 2, acquired) moves the cells' glucose
    axis exactly as an innate offset of the same size: no drive and no load at the raised level."""
    p = parameters.copy()
    raised = p[Par.glucose_setpoint] + 15.0
    assert _load(raised, p) > 0.0
    assert _load(raised, p, adaptation_mg_dl=15.0) == 0.0
    assert _at(p, raised, 1.0, 1.0, adaptation_mg_dl=15.0)[0] == 0.0
    p[Par.glucose_sensing_offset] = 15.0
    assert _at(p, raised + 7.0, 1.0, 1.0) == _at(parameters, raised + 7.0, 1.0, 1.0, adaptation_mg_dl=15.0)


def _worn_rates(p, glucose_mean_mg_dl, function, worn, slow_on=1.0):
    """(d function / dt, d worn / dt), per day, of a subject with mass 1 and ``worn`` function held impaired."""
    dydt = _slow_dydt(p, glucose_mean_mg_dl, function, worn=worn, slow_on=slow_on)
    return dydt[St.beta_function_rel] * 1440.0, dydt[St.beta_function_worn_rel] * 1440.0


def test_function_the_load_took_returns_to_healthy_as_the_load_lifts(parameters):
    """beta_function_recovery_rate r: the function the glucolipotoxic load wears off is held as impaired
    (beta_function_worn_rel, W), which recovers at r x (share the load spares) x W per day with no glucose drive
    (after short-term intensive insulin therapy, Hu 2011) and brings function back to healthy (1), at most at
    r x spared x (1 - function): not to the compensation above it. A subject never worn regains nothing (a function
    held low by a sensing offset or a high sensitivity is adaptation, not impairment), nothing recovers under a full
    load, and nothing moves while the slow dynamics are frozen."""
    p = parameters.copy()
    r = p[Par.beta_function_recovery_rate]
    setpoint = p[Par.glucose_setpoint]
    floor = p[Par.beta_function_floor]
    assert p[Par.beta_function_max] > 1.0
    # a small pool: all of what recovers returns to function
    function_rate, worn_rate = _worn_rates(p, setpoint, floor, 0.1)
    assert function_rate == pytest.approx(r * 0.1, rel=1e-12)
    assert worn_rate == pytest.approx(-r * 0.1, rel=1e-12)
    # a pool larger than the gap to healthy: function returns at r x gap, the pool still clears at r x W
    function_rate, worn_rate = _worn_rates(p, setpoint, 0.9, 0.4)
    assert function_rate == pytest.approx(r * 0.1, rel=1e-12)
    assert worn_rate == pytest.approx(-r * 0.4, rel=1e-12)
    assert _worn_rates(p, setpoint, 1.0, 0.4)[0] == 0.0  # healthy: the rest is growth's to restore
    assert _worn_rates(p, setpoint, floor, 0.0) == (0.0, 0.0)
    assert _worn_rates(p, setpoint, floor, 0.1, slow_on=0.0) == (0.0, 0.0)
    # under a load the wear fills the pool as it takes function; the recovery is what the load spares
    loaded = p[Par.glucotoxicity_threshold]  # half-maximal load at the unadapted set point
    load = _load(loaded, p)
    assert load == pytest.approx(0.5)
    without = p.copy()
    without[Par.beta_function_recovery_rate] = 0.0
    f_rate, w_rate = _worn_rates(p, loaded, floor + 0.3, 0.1)
    f_without, w_without = _worn_rates(without, loaded, floor + 0.3, 0.1)
    assert f_rate - f_without == pytest.approx(r * (1.0 - load) * 0.1, rel=1e-9)
    assert w_without == pytest.approx(p[Par.beta_function_glucotoxic_rate] * load * 0.3, rel=1e-9)
    assert f_rate + w_rate == pytest.approx(f_without + w_without, rel=1e-9)  # growth alone changes the sum
    flooded = setpoint + 20.0 * (loaded - setpoint)
    f_flooded = _worn_rates(p, flooded, floor + 0.3, 0.1)[0] - _worn_rates(without, flooded, floor + 0.3, 0.1)[0]
    assert abs(f_flooded) < 1e-6 * r * 0.1
    # a reserve under 1 is that subject's healthy function
    p[Par.beta_function_max] = 0.8
    assert _worn_rates(p, setpoint, 0.7, 0.4)[0] == pytest.approx(r * 0.1, rel=1e-12)


def _hold_rate(p, function, adaptation_mg_dl, slow_on=1.0):
    glucose_mean_mg_dl = p[Par.glucose_setpoint] + adaptation_mg_dl
    dydt = _slow_dydt(p, glucose_mean_mg_dl, function, adaptation_mg_dl=adaptation_mg_dl, slow_on=slow_on)
    return dydt[St.beta_setpoint_adaptation_mg_dl] * 1440.0  # per day


def test_a_held_set_point_is_kept_at_the_cap_and_released_below_it(parameters):
    """setpoint_release_rate: cells working at their reserve cap keep the held rise; below it the rise decays at
    k (1 - (function / reserve)^n) per day, and not at all while the slow dynamics are frozen."""
    p = parameters.copy()
    cap = p[Par.beta_function_max]
    k = p[Par.setpoint_release_rate]
    n = p[Par.beta_function_cap_sharpness]
    assert _hold_rate(p, cap, 15.0) == 0.0
    assert _hold_rate(p, 0.5 * cap, 15.0) == pytest.approx(-k * (1.0 - 0.5**n) * 15.0, rel=1e-12)
    assert _hold_rate(p, 0.9 * cap, 15.0) == pytest.approx(-k * (1.0 - 0.9**n) * 15.0, rel=1e-12)
    assert _hold_rate(p, 0.5 * cap, 15.0, slow_on=0.0) == 0.0
    assert _hold_rate(p, 0.5 * cap, 0.0) == 0.0  # nothing held, nothing released


def test_a_glucotoxic_load_holds_the_set_point_as_it_holds_growth(parameters):
    """Function pulled off its cap by a glucotoxic load is failing, not resting: the release is multiplied by the
    share the glucose load spares (1 - toxicity, as growth is), so it is halved at the load's half-maximum and stops
    under a full load; NEFA, which scales the wear (lipotoxicity_factor), does not enter it."""
    p = parameters.copy()
    cap = p[Par.beta_function_max]
    k = p[Par.setpoint_release_rate]
    n = p[Par.beta_function_cap_sharpness]
    held = 15.0
    half_load = p[Par.glucotoxicity_threshold] - p[Par.glucose_setpoint]  # mean glucose above the held set point

    def rate(excess_mg_dl, nefa_rel=1.0):
        y = np.zeros(N_STATES)
        y[St.glucose_mean_mg_dl] = p[Par.glucose_setpoint] + held + excess_mg_dl
        y[St.nefa_mmol_l] = nefa_rel * p[Par.nefa_mean_reference]
        y[St.beta_function_rel] = 0.5 * cap
        y[St.beta_mass_rel] = 1.0
        y[St.beta_setpoint_adaptation_mg_dl] = held
        dydt = np.zeros(N_STATES)
        beta_cells.beta_slow_derivatives(y, p, 1.0, dydt)
        return dydt[St.beta_setpoint_adaptation_mg_dl] * 1440.0

    assert _load(p[Par.glucose_setpoint] + held + half_load, p, held) == pytest.approx(0.5)
    assert rate(half_load) == pytest.approx(0.5 * -k * (1.0 - 0.5**n) * held, rel=1e-12)
    assert abs(rate(10.0 * half_load)) < 1e-4 * abs(rate(0.0))
    assert rate(half_load, nefa_rel=2.0) == pytest.approx(rate(half_load), rel=1e-12)  # not the NEFA-scaled load


def _adapted_start(make_scenario, share):
    """(start state, daily table) of an insulin-resistant subject whose reserve cannot hold its set point, over
    half a year in which its sensitivity rises (a drift of +0.3 a year: +12 %)."""
    from glucosim.scenario.compile import ScenarioProgram
    from glucosim.simulation.initial_state import initial_state
    from glucosim.simulation.run import simulate
    from tests.conftest import THREE_MEALS

    subject = {
        "preset": "healthy",
        # ~133 mg/dl at its cap (0.3 gave ~132 until the incretin on the second phase, 2026-12-06, and ~147 since)
        "insulin_sensitivity_whole_body": 0.4,
        "beta_cell_reserve": 1.2,
        "start_adapted": True,
        "parameters": {"setpoint_adaptation_at_start": share},
    }
    routine = {"sleep_h": 8.0, "meals": THREE_MEALS, "drift": {"whole_body_per_year": 0.3}}
    scenario = make_scenario(subject=subject, routine=routine, duration_days=180)
    start = initial_state(ScenarioProgram(scenario))
    result = simulate(scenario, progress=False)
    return start, result.daily, result.final_state


def test_a_subject_at_its_cap_starts_with_cells_that_hold_the_share_of_its_excess(make_scenario, parameters):
    """setpoint_adaptation_at_start: a subject whose reserve cannot hold the set point starts at its cap, as before,
    and its cells' set point rises by the share of the warm-up's excess. At 1 they hold the glucose they start at:
    when sensitivity rises, most of the gain goes at first into less insulin and the glucose falls little, while the
    cells, now below their cap, release the hold over months (setpoint_release_rate); at 0 the cells keep pushing
    against the cap, so the gain goes into lower glucose at once (the DPP lifestyle arm's question,
    docs/population.md)."""
    held, held_daily, held_end = _adapted_start(make_scenario, 1.0)
    pushed, pushed_daily, _ = _adapted_start(make_scenario, 0.0)
    assert pushed[St.beta_setpoint_adaptation_mg_dl] == 0.0
    excess = held[St.beta_setpoint_adaptation_mg_dl]
    assert excess > 5.0  # this subject starts well above the reference set point
    mean_0 = float(held_daily.loc[0, "mean_glucose_mg_dl"])
    assert parameters[Par.glucose_setpoint] + excess == pytest.approx(mean_0, abs=2.0)
    # cells that hold nothing carry the full glucotoxic load of the excess, which weakens the incretins (gut.py):
    # they start higher (measured 134.4 against 132.7 mg/dl, 2026-12-06; the same start before the incretin on the
    # second phase)
    assert float(pushed_daily.loc[0, "mean_glucose_mg_dl"]) > mean_0 + 0.5
    held_fall = mean_0 - float(held_daily["mean_glucose_mg_dl"].iloc[-1])
    pushed_fall = mean_0 - float(pushed_daily["mean_glucose_mg_dl"].iloc[-1])
    # measured: 2.9 and 6.2 mg/dl (1.4 and 3.5 on the subject at 0.3 before 2026-12-06; 0.2 and 3.5 before the
    # release, 2026-12-05)
    assert 0.0 < held_fall < 0.5 * pushed_fall and pushed_fall > 2.0
    released = 1.0 - held_end[St.beta_setpoint_adaptation_mg_dl] / excess
    assert 0.05 < released < 1.0 - np.exp(-parameters[Par.setpoint_release_rate] * 180.0)  # below the free decay
    secretion = "insulin_secretion_pmol_kg_day"
    assert held_daily[secretion].iloc[-1] < pushed_daily[secretion].iloc[-1]


def test_a_subject_with_a_sensing_offset_starts_adapted_at_its_own_set_point(make_scenario):
    """The adapted start solves beta-cell function so the warm-up's mean glucose is the subject's own set point."""
    from glucosim.simulation.run import simulate

    def mean_glucose_day_0(offset):
        subject = {"preset": "healthy", "start_adapted": True, "parameters": {"glucose_sensing_offset": offset}}
        scenario = make_scenario(subject=subject)
        return float(simulate(scenario, progress=False).daily.loc[0, "mean_glucose_mg_dl"])

    normal, raised = mean_glucose_day_0(0.0), mean_glucose_day_0(20.0)
    assert normal == pytest.approx(105.0, abs=1.5)
    assert raised - normal == pytest.approx(20.0, abs=2.0)


@pytest.mark.slow
def test_a_glucokinase_like_sensing_defect_holds_mild_hyperglycaemia_for_decades(make_scenario):
    """GCK-MODY (Chakera AJ et al. 2015 Diabetes Care 38:1383, abstract): a glucose-sensing defect keeps glucose at
    a higher set point, fasting 5.4-8.3 mmol/l and HbA1c 5.8-7.6 % from birth, only slightly worse with age. A healthy
    subject given a sensing offset of +25 mg/dl (the mean glucose of HbA1c ~6.2 %) holds it for 20 years: its beta
    cells compensate toward the raised level and are not worn by it, where the same mean glucose in a subject
    with normal sensing carries a glucotoxic load."""
    from glucosim.simulation.run import simulate

    subject = {"preset": "healthy", "start_adapted": True, "parameters": {"glucose_sensing_offset": 25.0}}
    daily = simulate(make_scenario(subject=subject, duration_days=int(20 * 365.25)), progress=False).daily
    fasting_mmol_l = daily["fasting_glucose_mg_dl"].to_numpy(float) / 18.0
    hba1c = daily["hba1c_percent"].to_numpy(float)
    for day in (365, len(daily) - 1):
        assert 5.4 <= fasting_mmol_l[day] <= 8.3
        assert 5.8 <= hba1c[day] <= 7.6
    assert abs(hba1c[-1] - hba1c[365]) < 0.3  # stable: no decompensation over the two decades


def _priming(p, glucose_mean_mg_dl, baseline_mg_dl, adaptation_mg_dl=0.0):
    y = np.zeros(N_STATES)
    y[St.beta_setpoint_adaptation_mg_dl] = adaptation_mg_dl
    y[St.glucose_mean_mg_dl] = glucose_mean_mg_dl
    y[St.glucose_baseline_mg_dl] = baseline_mg_dl
    return beta_cells.first_phase_priming(y, p)


def test_a_recent_rise_of_glucose_primes_the_first_phase_and_a_held_level_does_not(parameters):
    """The fast compensation (beta_cells.first_phase_priming): a daily mean ~17 % above the set point that is new
    (baseline at the set point) primes the pool near its maximum; the same level held for weeks (baseline there)
    not at all; the healthy day's swing of the running mean (up to ~2 % above the set point) barely. "Not at all"
    is 1 within 1e-5: the switches are smoothed over ~0.5 mg/dl (beta_cells.PRIMING_SMOOTHING)."""
    p = parameters
    setpoint = p[Par.glucose_setpoint]
    most = 1.0 + p[Par.first_phase_priming_max]
    unprimed = pytest.approx(1.0, abs=1e-5)
    assert _priming(p, setpoint, setpoint) == unprimed
    assert _priming(p, 0.9 * setpoint, setpoint) == unprimed  # below the set point: nothing to prime
    assert _priming(p, 1.02 * setpoint, setpoint) - 1.0 < 0.01 * (most - 1.0)
    new = _priming(p, 1.17 * setpoint, setpoint)
    assert new - 1.0 > 0.9 * (most - 1.0)
    assert new < most
    assert _priming(p, 1.17 * setpoint, 1.17 * setpoint) == unprimed  # held: the baseline has caught up
    # a baseline below the set point does not make a return to the set point a rise
    assert _priming(p, setpoint, 0.8 * setpoint) == unprimed
    # the set point the cells have adapted to is the reference, as it is for growth
    assert _priming(p, setpoint + 15.0, setpoint, adaptation_mg_dl=15.0) == unprimed


def test_the_priming_baseline_follows_the_daily_mean_over_weeks_and_freezes_with_the_slow_states(parameters):
    p = parameters
    y = np.zeros(N_STATES)
    y[St.glucose_mean_mg_dl] = 130.0
    y[St.glucose_baseline_mg_dl] = 100.0
    y[St.beta_function_rel] = y[St.beta_mass_rel] = 1.0
    y[St.nefa_mmol_l] = p[Par.nefa_mean_reference]
    dydt = np.zeros(N_STATES)
    beta_cells.beta_slow_derivatives(y, p, 1.0, dydt)
    per_day = dydt[St.glucose_baseline_mg_dl] * 1440.0
    assert per_day == pytest.approx(30.0 / p[Par.first_phase_priming_time])
    beta_cells.beta_slow_derivatives(y, p, 0.0, dydt)
    assert dydt[St.glucose_baseline_mg_dl] == 0.0


def test_an_adapted_start_has_no_recent_rise_so_its_first_phase_is_unprimed(make_scenario):
    """Every adapted start (simulation.initial_state) puts the baseline at the daily mean: a prediabetic subject
    whose mean sits above the set point starts unprimed, as its first phase has lived there for years."""
    import glucosim

    for preset in ("healthy", "insulin_resistant_low_reserve"):
        scenario = make_scenario(subject={"preset": preset})
        result = glucosim.simulate(scenario, progress=False, state_days=(0,))
        y = result.midnight_states[0]
        assert y[St.glucose_mean_mg_dl] > 0.0
        assert y[St.glucose_baseline_mg_dl] == pytest.approx(y[St.glucose_mean_mg_dl], rel=1e-9)
        assert beta_cells.first_phase_priming(y, result.loaded.parameters) == pytest.approx(1.0, abs=1e-5)


def _second_phase_after(p, glucose_mg_dl, minutes, step_min=0.1):
    """Both parts of the second phase (and their sum) after ``minutes`` at a constant glucose from none, capacity 1:
    beta_fast_derivatives stepped by explicit Euler (the parts are linear, so small steps are near exact)."""
    y = np.zeros(N_STATES)
    dydt = np.zeros(N_STATES)
    for _ in range(int(round(minutes / step_min))):
        beta_cells.beta_fast_derivatives(y, p, glucose_mg_dl, 0.0, 1.0, 1.0, dydt)
        y[St.secretion_second_phase_pmol_kg_min] += step_min * dydt[St.secretion_second_phase_pmol_kg_min]
        y[St.secretion_second_phase_slow_pmol_kg_min] += step_min * dydt[St.secretion_second_phase_slow_pmol_kg_min]
    fast = y[St.secretion_second_phase_pmol_kg_min]
    slow = y[St.secretion_second_phase_slow_pmol_kg_min]
    return fast, slow, fast + slow


def test_the_second_phase_parts_share_one_steady_dose_response(parameters):
    # the slow part divides the delay, not the dose-response: at steady state the two parts sum to the target
    p = parameters
    target = beta_cells.second_phase_target(180.0, 1.0, p)
    y = np.zeros(N_STATES)
    y[St.secretion_second_phase_pmol_kg_min] = (1.0 - p[Par.secretion_slow_share]) * target
    y[St.secretion_second_phase_slow_pmol_kg_min] = p[Par.secretion_slow_share] * target
    dydt = np.full(N_STATES, np.nan)
    beta_cells.beta_fast_derivatives(y, p, 180.0, 0.0, 1.0, 1.0, dydt)
    assert dydt[St.secretion_second_phase_pmol_kg_min] == pytest.approx(0.0, abs=1e-12)
    assert dydt[St.secretion_second_phase_slow_pmol_kg_min] == pytest.approx(0.0, abs=1e-12)
    assert beta_cells.portal_secretion(y, p, -1.0, 1.0) == pytest.approx(target, rel=1e-12)


def test_at_constant_hyperglycaemia_the_second_phase_still_rises_after_two_hours(parameters):
    # time-dependent potentiation: people's second phase keeps rising for hours at a constant glucose (Michaliszyn
    # 2014's clamp still +3.3 pmol/min per min at 2 h); DM2007's one 20-min delay alone is flat by ~90 min
    p = parameters
    target = beta_cells.second_phase_target(180.0, 1.0, p)
    fast_90, _, total_90 = _second_phase_after(p, 180.0, 90.0)
    _, _, total_120 = _second_phase_after(p, 180.0, 120.0)
    assert fast_90 == pytest.approx((1.0 - p[Par.secretion_slow_share]) * target, rel=0.02)  # the fast part is done
    assert total_90 < 0.8 * target
    assert total_120 > total_90 * 1.05


def test_the_slow_share_is_its_fit_to_the_clamp_time_course(parameters):
    from glucosim.calibration.measure import fit_second_phase_slow_share

    share, rms = fit_second_phase_slow_share(1.0 / parameters[Par.secretion_slow_delay_rate], parameters)
    assert parameters[Par.secretion_slow_share] == pytest.approx(share, abs=0.002)
    assert rms < 0.05  # within ~5 % of Michaliszyn's shape at every sample from 20 min on


def test_the_slow_part_rises_slowly_and_falls_at_the_fast_parts_rate(parameters):
    # potentiation builds over hours, but secretion falls with glucose as a single second phase does (Toffolo's
    # C-peptide model: ~18 min to falling glucose); a slow fall kept secreting for hours after each meal
    p = parameters
    slow = St.secretion_second_phase_slow_pmol_kg_min
    y = np.zeros(N_STATES)
    dydt = np.zeros(N_STATES)
    target = p[Par.secretion_slow_share] * beta_cells.second_phase_target(180.0, 1.0, p)
    y[slow] = 0.5 * target  # below its share of the target: rising
    beta_cells.beta_fast_derivatives(y, p, 180.0, 0.0, 1.0, 1.0, dydt)
    assert dydt[slow] == pytest.approx(p[Par.secretion_slow_delay_rate] * 0.5 * target, rel=1e-6)
    y[slow] = 1.5 * target  # above it: falling
    beta_cells.beta_fast_derivatives(y, p, 180.0, 0.0, 1.0, 1.0, dydt)
    assert dydt[slow] == pytest.approx(-p[Par.secretion_delay_rate] * 0.5 * target, rel=1e-6)
