"""Exercise: Roy & Parker 2007 oxygen-uptake, liver-output and uptake states, plus after-effects.

During exercise, PVO2max follows the intensity above rest; it drives an
insulin-independent muscle uptake (toward 0.0402 mg/kg/min per %VO2max) and a
matching rise of liver output. Not modelled from RP2007: glycogen depletion in
prolonged exercise and the extra insulin removal (Ie).

After each session muscle insulin sensitivity stays raised and fades over
about a day (post_exercise_sensitivity); repeated sessions build a durable
training level (weeks) that raises muscle and adipose sensitivity.
"""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Drv, Par, St
from glucosim.physiology.units import MINUTES_PER_DAY, MINUTES_PER_HOUR, PERCENT


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
    dydt[St.training_level] = (
        slow_on
        * (p[Par.training_gain] * intensity_fraction - y[St.training_level])
        / (p[Par.training_time] * MINUTES_PER_DAY)
    )
