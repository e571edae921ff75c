"""Liver: endogenous glucose production (Dalla Man 2007 EGP) with cortisol, NEFA and exercise.

EGP = kp1 * cortisol effect * NEFA effect - kp2 * Gp - SI_liver * (kp3 * Id + kp4 * Ipo),
clipped at zero, plus the exercise-driven output of Roy & Parker 2007. Hepatic
insulin resistance lowers SI_liver, so insulin suppresses output less: the
fasting glucose rises first (Ha & Sherman 2020).
"""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Par, St


@kernel
def liver_glucose_output(y, p, sensitivity_liver, nefa_ratio, cortisol_rel):
    """Net liver glucose output, mg/kg/min."""
    drive = (
        p[Par.liver_output_extrapolated]
        * (1.0 + p[Par.liver_output_cortisol_gain] * (cortisol_rel - 1.0))
        * (1.0 + p[Par.liver_output_nefa_gain] * (nefa_ratio - 1.0))
    )
    glucose_suppression = p[Par.liver_output_glucose_effect] * y[St.glucose_plasma_mg_kg]
    insulin_suppression = sensitivity_liver * (
        p[Par.liver_output_insulin_effect] * y[St.insulin_liver_delayed_pmol_l]
        + p[Par.liver_output_portal_insulin_effect] * y[St.insulin_portal_pmol_kg]
    )
    output = drive - glucose_suppression - insulin_suppression
    if output < 0.0:
        output = 0.0
    return output + y[St.exercise_liver_output_mg_kg_min]
