"""Insulin sensitivity of liver, muscle and adipose tissue.

Chronic part (changes over weeks to years): the subject's whole-body and
per-tissue factors, the scenario's drift (ageing, inactivity: accumulated in
drift_log_* states), weight change (visceral fat), liver fat (hepatic only,
ectopic_fat.py) and receptor down-regulation by chronic hyperinsulinemia.
Acute part: training and the post-exercise rise (muscle, adipose), and the
previous night's sleep deficit, which blunts insulin action above basal only.
"""

import math

from glucosim.physiology._jit import kernel
from glucosim.physiology.body import tissue_weight_change_kg
from glucosim.physiology.ectopic_fat import hepatic_sensitivity_factor
from glucosim.physiology.indices import Drv, Par, St
from glucosim.physiology.units import MINUTES_PER_DAY


@kernel
def chronic_common_factor(y, p):
    """Whole-body chronic factor: subject SI x hyperinsulinemia x weight effects."""
    hyperinsulinemia = (y[St.insulin_mean_pmol_l] / p[Par.insulin_mean_reference]) ** (
        -p[Par.hyperinsulinemia_sensitivity_exponent]
    )
    # fat and lean tissue, not the water that glycogen and extracellular fluid carry (body.py)
    weight = math.exp(-p[Par.weight_sensitivity_elasticity] * tissue_weight_change_kg(y, p) / p[Par.body_weight])
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
def sleep_factor(loss_per_h, deficit_h, insulin_pmol_l, basal_insulin_pmol_l):
    """Factor on a tissue's insulin sensitivity after a short night: 1 - c * deficit * max(1 - Ib / I, 0).

    Sensitivity multiplies the absolute (DM2007-equivalent) insulin I, so the factor removes the fraction
    c * deficit of the insulin action above basal, s * (I - c * deficit * (I - Ib)), and none at or below
    basal insulin: after short sleep, basal glucose, insulin and liver output are unchanged and the
    resistance shows under insulin stimulation (Rao 2015: hepatic insulin sensitivity unchanged after five
    4-h nights while clamp-stimulated peripheral sensitivity fell 29 %; Donga 2010, kept for validation).
    """
    stimulated = 1.0 - basal_insulin_pmol_l / insulin_pmol_l if insulin_pmol_l > basal_insulin_pmol_l else 0.0
    factor = 1.0 - loss_per_h * deficit_h * stimulated
    return factor if factor > 0.0 else 0.0


@kernel
def effective_sensitivities(y, drv, p):
    """(liver, muscle, adipose) sensitivities acting now, relative to healthy."""
    liver, muscle, adipose = chronic_sensitivities(y, p)
    return acute_sensitivities(y, drv, p, liver, muscle, adipose)


@kernel
def acute_sensitivities(y, drv, p, liver, muscle, adipose):
    """``effective_sensitivities`` from the chronic (liver, muscle, adipose) ones already computed: the night's sleep
    on all three, training and the last session on muscle, training on adipose (the organ model needs both)."""
    deficit = drv[Drv.sleep_deficit_h]
    basal = p[Par.insulin_basal_reference]
    # muscle and adipose see remote (interstitial) insulin, the liver its delayed insulin (insulin.py)
    peripheral_sleep = sleep_factor(
        p[Par.sleep_peripheral_sensitivity_loss], deficit, y[St.insulin_remote_pmol_l], basal
    )
    hepatic_sleep = sleep_factor(
        p[Par.sleep_hepatic_sensitivity_loss], deficit, y[St.insulin_liver_delayed_pmol_l], basal
    )
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
    dydt[St.drift_log_reserve] = slow_on * drv[Drv.drift_reserve_per_day] / MINUTES_PER_DAY
