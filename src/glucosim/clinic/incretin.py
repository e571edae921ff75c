"""The incretin effect as a study measures it: an oral load against an isoglycaemic intravenous glucose infusion.

In the study (Nauck 1986; Bagger 2011; Mari 2013) each subject drinks the glucose, then on another day receives
glucose by vein at a rate adjusted so that plasma glucose follows the oral test's curve; the ratio of the two total
insulin secretions is the incretin effect (Mari's "OGTT/IIGI ratio"). The infusion's only purpose is to give the
beta cells the same glucose without the gut.

In glucosim the beta cells' fast secretion depends on the subject's slow states (constant over a few hours),
plasma glucose, its rate of rise, and the gut's factors (physiology/model.py): on capacity, protein's amino acids
and fat's GIP (``gut.secretion_potentiation``); on the second phase's dose-response alone, the incretins of
carbohydrate being absorbed (``gut.carbohydrate_incretin_potentiation``). The infusion's secretion is therefore the
oral test's secretion replayed on the oral test's own glucose curve with the gut's factors set to 1: what a perfect
isoglycaemic infusion would give, with no clamp controller's error in it. The replay checks itself: replayed with
the gut's factors, it must give back the oral test's own second phase.

For a glucose drink the carbohydrate incretin is the whole effect; its size at 75 g is a calibration target
(validation/targets/oral_incretin_effect.toml: Mari 2013's 1.7), the other loads are the validation case
``incretin_effect``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glucosim.errors import ClinicError
from glucosim.physiology import beta_cells, gut
from glucosim.physiology.glucose import plasma_glucose_mg_dl
from glucosim.physiology.indices import N_STATES, STATE_NAMES, Par, St
from glucosim.physiology.model import capacity_without_gut, rhs
from glucosim.physiology.units import grams_to_mg_per_kg

REPLAY_STEP_MIN = 0.5
"""Sampling of the oral test's glucose curve for the replay. The second phase follows its target at 0.05/min and
the first phase follows dG/dt, which changes over tens of minutes after a drink; at 0.5 min the replay of the oral
test's own second phase reproduces the model's to ~1e-4 of its peak (tests/test_incretin.py)."""
REPLAY_TOLERANCE = 0.005
"""Largest relative error of the replay's check on itself (``IsoglycaemicComparison.replay_error``) accepted."""


@dataclass(frozen=True)
class IsoglycaemicComparison:
    """An oral load and its isoglycaemic intravenous twin, sampled every ``REPLAY_STEP_MIN``.

    Attributes:
        time_min: minutes from the drink.
        glucose_mg_dl: plasma glucose of the oral test (and, by construction, of the infusion).
        oral_secretion_pmol_kg_min: insulin entering the portal vein during the oral test.
        intravenous_secretion_pmol_kg_min: the same during the isoglycaemic infusion.
        gut_factor: the gut's factors during the oral test, on capacity and on the second phase's dose-response
            together (1 without them).
        replay_error: the replay's check on itself: the largest difference between the oral test's second-phase
            secretion as the model integrated it and as the replay gives it from the same glucose and capacity,
            relative to its peak.
    """

    time_min: np.ndarray
    glucose_mg_dl: np.ndarray
    oral_secretion_pmol_kg_min: np.ndarray
    intravenous_secretion_pmol_kg_min: np.ndarray
    gut_factor: np.ndarray
    replay_error: float

    @property
    def total_secretion_ratio(self) -> float:
        """Total secretion of the oral test over the infusion's (Mari 2013's OGTT/IIGI ratio on total secretion)."""
        oral = np.trapezoid(self.oral_secretion_pmol_kg_min, self.time_min)
        intravenous = np.trapezoid(self.intravenous_secretion_pmol_kg_min, self.time_min)
        return float(oral / intravenous)


def replay_second_phase(time_min, glucose_mg_dl, capacity, start_fast, start_slow, p) -> np.ndarray:
    """Second-phase secretion (both parts) driven by ``glucose_mg_dl`` and ``capacity`` (both sampled at
    ``time_min``), pmol/kg/min.

    Each part follows its share of target(G, capacity) (beta_cells.beta_fast_derivatives), solved exactly for a
    target linear between samples: the fast part at secretion_delay_rate, the slow part at a rate that switches with
    the sign of its gap (beta_cells.slow_part_rate), held over each of REPLAY_SUBSTEPS pieces of a sample interval.
    """
    from glucosim.physiology._jit import as_python

    target = np.array([beta_cells.second_phase_target(g, c, p) for g, c in zip(glucose_mg_dl, capacity, strict=True)])
    slow_share = p[Par.secretion_slow_share]
    fast_rate = p[Par.secretion_delay_rate]
    slow_rate = as_python(beta_cells.slow_part_rate)
    fast = _follow(time_min, (1.0 - slow_share) * target, start_fast, lambda gap: fast_rate, 1)
    slow = _follow(time_min, slow_share * target, start_slow, lambda gap: slow_rate(gap, p), REPLAY_SUBSTEPS)
    return fast + slow


REPLAY_SUBSTEPS = 5
"""Pieces of each replay interval in which the slow part's rate is held (it switches with the sign of its gap)."""


def _follow(time_min, target, start, rate_of_gap, substeps: int) -> np.ndarray:
    """dY/dt = rate (target - Y) with ``target`` linear between samples and the rate ``rate_of_gap(target - Y)`` held
    over each of ``substeps`` pieces of a sample interval."""
    out = np.empty_like(target)
    out[0] = start
    for k in range(1, len(time_min)):
        slope = (target[k] - target[k - 1]) / (time_min[k] - time_min[k - 1])
        h = (time_min[k] - time_min[k - 1]) / substeps
        value = out[k - 1]
        for j in range(substeps):
            begin = target[k - 1] + slope * h * j
            rate = rate_of_gap(begin - value)
            # exact for dY/dt = -rate (Y - (begin + slope t)): the response to a ramp lags it by 1/rate
            value = begin + slope * h - slope / rate + (value - begin + slope / rate) * np.exp(-rate * h)
        out[k] = value
    return out


def _checked_load(glucose_g, duration_min, fat_g, protein_g) -> tuple[float, float, float, float]:
    """The load and the test's length as a clinic protocol file would accept them (scenario.protocol's bounds, one
    definition), else a ClinicError naming the argument and what is allowed."""
    from pydantic import ValidationError

    from glucosim.scenario.protocol import Action, Protocol

    names = {"oral_glucose_g": "glucose_g", "fat_g": "fat_g", "protein_g": "protein_g", "duration_min": "duration_min"}
    try:
        action = Action(at_min=0.0, oral_glucose_g=glucose_g, fat_g=fat_g, protein_g=protein_g)
        test = {"name": "isoglycaemic comparison", "kind": "meal", "samples_min": (0.0,), "actions": (action,)}
        Protocol(**test, duration_min=duration_min)
    except ValidationError as exc:
        problems = "; ".join(
            f"{names.get(str(error['loc'][-1]), error['loc'][-1])}: {error['msg']} (got {error.get('input')!r})"
            if error["loc"]
            else f"{error['msg']}"  # a check across fields (scenario.protocol's model validators)
            for error in exc.errors()
        )
        raise ClinicError(f"isoglycaemic comparison: {problems}") from None
    if not duration_min > 0.0:  # a protocol may be only its fasting sample; this test needs the load's curve
        raise ClinicError(f"isoglycaemic comparison: duration_min must be > 0, got {duration_min!r}")
    return float(glucose_g), float(duration_min), float(fat_g), float(protein_g)


def isoglycaemic_comparison(
    subject,
    glucose_g: float = 75.0,
    duration_min: float = 240.0,
    fat_g: float = 0.0,
    protein_g: float = 0.0,
    day: int = 0,
    state=None,
) -> IsoglycaemicComparison:
    """Give ``subject`` an oral load after an overnight fast and replay its glucose curve without the gut.

    Args:
        subject: a preset name, a scenario file path, or a LoadedScenario (as ``clinic.runner.run_protocol``).
        glucose_g: the load's carbohydrate, g (a fast drink, as an OGTT's).
        duration_min: the test's length (Bagger 2011 and Mari 2013: 4 h).
        fat_g, protein_g: fat and protein taken with it, g (0: an OGTT).
        day, state: as ``run_protocol``: the morning of ``day``, from the midnight state if known.

    Returns:
        ``IsoglycaemicComparison``.

    Raises:
        ClinicError: a load or length a clinic protocol file would refuse (glucose 0 < g <= the drink's bound, fat and
            protein >= 0 up to theirs, 0 < duration_min <= 600), or a replay that cannot reproduce the oral test's
            own secretion.
    """
    from glucosim.clinic.runner import morning_test_state, subject_scenario
    from glucosim.scenario.compile import absorption_speed
    from glucosim.simulation.organ import default_tolerances, organ_integrator
    from glucosim.solver import Schedule, integrate_schedule

    glucose_g, duration_min, fat_g, protein_g = _checked_load(glucose_g, duration_min, fat_g, protein_g)
    loaded = subject_scenario(subject)
    p = loaded.parameters
    y0, drv, start = morning_test_state(loaded, day, state)
    dose = grams_to_mg_per_kg(glucose_g, float(p[Par.body_weight]))
    jump, reset = gut.meal_event(N_STATES, dose, absorption_speed("fast", p), fat_g / glucose_g, protein_g / glucose_g)
    schedule = Schedule(
        np.array([start]), np.array([start + duration_min]), drv[None, :].copy(), jump[None, :], reset[None, :]
    )
    time_min = np.arange(0.0, duration_min + REPLAY_STEP_MIN / 2, REPLAY_STEP_MIN)
    result = integrate_schedule(
        organ_integrator(), schedule, y0, p, start + time_min, default_tolerances(), STATE_NAMES
    )
    rows = np.asarray(result.y)
    n = len(time_min)
    glucose, d_glucose = np.empty(n), np.empty(n)
    capacity, factor, incretin = np.empty(n), np.empty(n), np.empty(n)
    dydt = np.zeros(N_STATES)
    for k, y in enumerate(rows):
        glucose[k] = plasma_glucose_mg_dl(y, p)
        rhs(start + time_min[k], y, drv, p, dydt)
        d_glucose[k] = dydt[St.glucose_plasma_mg_kg] / p[Par.glucose_distribution_volume]
        # physiology/model.py's capacity, with the gut's factors apart
        factor[k] = gut.secretion_potentiation(y, p, glucose[k])
        capacity[k] = capacity_without_gut(y, drv, p)
        incretin[k] = gut.carbohydrate_incretin_potentiation(y, p, glucose[k])
    fast_oral = rows[:, St.secretion_second_phase_pmol_kg_min]
    slow_oral = rows[:, St.secretion_second_phase_slow_pmol_kg_min]
    second_oral = fast_oral + slow_oral
    replayed = replay_second_phase(time_min, glucose, capacity * factor * incretin, fast_oral[0], slow_oral[0], p)
    replay_error = float(np.max(np.abs(replayed - second_oral)) / np.max(second_oral))
    if replay_error > REPLAY_TOLERANCE:
        raise ClinicError(
            f"isoglycaemic replay of {loaded.scenario.name}'s {glucose_g:g} g load: the replay of its own second-phase "
            f"secretion is {replay_error:.2%} off the model's (allowed {REPLAY_TOLERANCE:.2%}), so the infusion's "
            "secretion cannot be trusted: the model's secretion now depends on something the replay does not give it"
        )
    second_iv = replay_second_phase(time_min, glucose, capacity, fast_oral[0], slow_oral[0], p)
    # beta_cells.portal_secretion on each row: the oral test's own state, and the same state with the infusion's
    # second phase (the first phase reads the row's pool and the glucose's rise, which the infusion copies)
    oral = np.array(
        [beta_cells.portal_secretion(y, p, d_glucose[k], capacity[k] * factor[k]) for k, y in enumerate(rows)]
    )
    intravenous = np.empty(n)
    for k, y in enumerate(rows):
        infused = y.copy()
        # the replay's value is both parts together: carried in the fast part's state, the slow part's set to 0
        infused[St.secretion_second_phase_pmol_kg_min] = second_iv[k]
        infused[St.secretion_second_phase_slow_pmol_kg_min] = 0.0
        intravenous[k] = beta_cells.portal_secretion(infused, p, d_glucose[k], capacity[k])
    return IsoglycaemicComparison(time_min, glucose, oral, intravenous, factor * incretin, replay_error)
