"""Insulin sensitivity of liver, muscle and adipose tissue.

Chronic part (changes over weeks to years): the subject's whole-body and
per-tissue factors, the scenario's drift (ageing, inactivity: accumulated in
drift_log_* states), weight change (visceral fat), liver fat (hepatic only,
ectopic_fat.py) and receptor down-regulation by chronic hyperinsulinemia.
Acute part: training and the post-exercise rise (muscle, adipose), and the
previous night's sleep deficit.
"""

import math

from glucosim.physiology._jit import kernel
from glucosim.physiology.ectopic_fat import hepatic_sensitivity_factor
from glucosim.physiology.indices import Drv, Par, St
from glucosim.physiology.units import MINUTES_PER_DAY


@kernel
def chronic_common_factor(y, p):
    """Whole-body chronic factor: subject SI x hyperinsulinemia x weight effects."""
    hyperinsulinemia = (y[St.insulin_mean_pmol_l] / p[Par.insulin_mean_reference]) ** (
        -p[Par.hyperinsulinemia_sensitivity_exponent]
    )
    weight = math.exp(-p[Par.weight_sensitivity_elasticity] * y[St.weight_change_kg] / p[Par.body_weight])
    return p[Par.insulin_sensitivity_whole_body] * hyperinsulinemia * weight


@kernel
def chronic_sensitivities(y, p):
    """Chronic (liver, muscle, adipose) sensitivities relative to healthy, without acute effects."""
    common = chronic_common_factor(y, p)
    liver = (
        common * p[Par.insulin_sensitivity_liver] * math.exp(y[St.drift_log_liver]) * hepatic_sensitivity_factor(y, p)
    )
    # insulin-stimulated muscle uptake scales with muscle mass and with everyday activity
    muscle = (
        common
        * p[Par.insulin_sensitivity_muscle]
        * math.exp(y[St.drift_log_muscle])
        * y[St.muscle_mass_rel]
        * y[St.activity_sensitivity_rel]
    )
    adipose = common * p[Par.insulin_sensitivity_adipose] * math.exp(y[St.drift_log_adipose])
    return liver, muscle, adipose


@kernel
def _sleep_factor(loss_per_h, deficit_h):
    factor = 1.0 - loss_per_h * deficit_h
    return factor if factor > 0.0 else 0.0


@kernel
def effective_sensitivities(y, drv, p):
    """(liver, muscle, adipose) sensitivities acting now, relative to healthy."""
    liver, muscle, adipose = chronic_sensitivities(y, p)
    deficit = drv[Drv.sleep_deficit_h]
    peripheral_sleep = _sleep_factor(p[Par.sleep_peripheral_sensitivity_loss], deficit)
    hepatic_sleep = _sleep_factor(p[Par.sleep_hepatic_sensitivity_loss], deficit)
    training = 1.0 + y[St.training_level]
    post_exercise = 1.0 + y[St.post_exercise_sensitivity]
    return (
        liver * hepatic_sleep,
        muscle * training * post_exercise * peripheral_sleep,
        adipose * training * peripheral_sleep,
    )


@kernel
def drift_derivatives(drv, slow_on, dydt):
    """Write d/dt of the accumulated drift (log-rate per minute)."""
    dydt[St.drift_log_liver] = slow_on * drv[Drv.drift_liver_per_day] / MINUTES_PER_DAY
    dydt[St.drift_log_muscle] = slow_on * drv[Drv.drift_muscle_per_day] / MINUTES_PER_DAY
    dydt[St.drift_log_adipose] = slow_on * drv[Drv.drift_adipose_per_day] / MINUTES_PER_DAY
