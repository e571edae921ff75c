"""Exercise: Roy & Parker 2007 oxygen-uptake, liver-output and uptake states, plus after-effects.

During exercise, PVO2max follows the intensity above rest; it drives an
insulin-independent muscle uptake (toward 0.0402 mg/kg/min per %VO2max) and a
matching rise of liver output. Not modelled from RP2007: glycogen depletion in
prolonged exercise and the extra insulin removal (Ie).

After each session muscle insulin sensitivity stays raised and fades over
about a day (post_exercise_sensitivity); repeated aerobic sessions build a
durable training level (weeks) that raises muscle and adipose sensitivity;
repeated resistance sessions build muscle mass (months), and insulin-stimulated
muscle uptake scales with it. Both fade when training stops. Everyday activity
(steps outside sessions) sets a muscle sensitivity factor that follows within
days: fewer steps lower it (by 17 % at the clamp after two weeks at an eighth of habitual steps: Krogh-Madsen
2010, inactivity_sensitivity_loss's calibration), resuming restores it.
"""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Drv, Par, St
from glucosim.physiology.units import MINUTES_PER_DAY, MINUTES_PER_HOUR, PERCENT

# Inactivity cannot take muscle insulin sensitivity below this fraction of habitual.
_MIN_ACTIVITY_SENSITIVITY = 0.2


@kernel
def exercise_derivatives(y, drv, p, slow_on, dydt):
    """Write d/dt of the exercise states (per minute)."""
    vo2 = y[St.exercise_vo2_pct]
    intensity_fraction = vo2 / PERCENT
    dydt[St.exercise_vo2_pct] = p[Par.exercise_vo2_response_rate] * (drv[Drv.exercise_intensity_pct] - vo2)
    dydt[St.exercise_liver_output_mg_kg_min] = (
        p[Par.exercise_liver_output_gain] * vo2
        - p[Par.exercise_liver_output_decay] * y[St.exercise_liver_output_mg_kg_min]
    )
    dydt[St.exercise_uptake_mg_kg_min] = (
        p[Par.exercise_uptake_gain] * vo2 - p[Par.exercise_uptake_decay] * y[St.exercise_uptake_mg_kg_min]
    )
    dydt[St.post_exercise_sensitivity] = p[Par.post_exercise_sensitivity_gain] * intensity_fraction - y[
        St.post_exercise_sensitivity
    ] / (p[Par.post_exercise_sensitivity_time] * MINUTES_PER_HOUR)
    # aerobic sessions build the training level (GLUT4, oxidative capacity); resistance sessions build muscle
    resistance = drv[Drv.resistance_exercise]
    dydt[St.training_level] = (
        slow_on
        * (p[Par.training_gain] * intensity_fraction * (1.0 - resistance) - y[St.training_level])
        / (p[Par.training_time] * MINUTES_PER_DAY)
    )
    dydt[St.muscle_mass_rel] = (
        slow_on
        * (p[Par.muscle_mass_gain] * intensity_fraction * resistance - (y[St.muscle_mass_rel] - 1.0))
        / (p[Par.muscle_mass_time] * MINUTES_PER_DAY)
    )
    dydt[St.activity_sensitivity_rel] = (
        slow_on
        * (activity_sensitivity_target(drv, p) - y[St.activity_sensitivity_rel])
        / (p[Par.inactivity_time] * MINUTES_PER_DAY)
    )


@kernel
def activity_sensitivity_target(drv, p):
    """Muscle sensitivity that everyday activity settles to: 1 - a (1 - steps / habitual), within [0.2, 1 + a]."""
    loss = p[Par.inactivity_sensitivity_loss]
    target = 1.0 - loss * (1.0 - drv[Drv.daily_steps] / p[Par.steps_reference])
    if target < _MIN_ACTIVITY_SENSITIVITY:
        return _MIN_ACTIVITY_SENSITIVITY
    if target > 1.0 + loss:
        return 1.0 + loss
    return target
