"""Liver: endogenous glucose production (Dalla Man 2007 EGP) with cortisol, NEFA, glycogen and glucagon.

The insulin-regulated output E = kp1 * cortisol effect * NEFA effect - kp2 * Gp
- SI_liver * (kp3 * Id + kp4 * Ipo), clipped at zero, is DM2007's net output.
Hepatic insulin resistance lowers SI_liver, so insulin suppresses output less:
the fasting glucose rises first (Ha & Sherman 2020). Where the output comes
from (gluconeogenesis, the glycogen store) and what counter-regulation and
exercise add to it is in glycogen.py.
"""

from glucosim.physiology import clock, glucagon, glycogen
from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Par, St
from glucosim.physiology.insulin import acting_insulin_pmol_l


@kernel
def insulin_regulated_output(y, p, sensitivity_liver, nefa_ratio, cortisol_rel, circadian=1.0):
    """(DM2007 net liver output E, its excess over a normal liver's E at the same glucose and insulin), mg/kg/min.

    E is the liver's demand with a normal glycogen store; ``circadian`` is the
    body clock's factor on kp1 (clock.py). The excess, from hepatic insulin
    resistance, cortisol, NEFA and the dawn rise, is met by gluconeogenesis
    and glycogenolysis (glycogen.py): in type 2 diabetes the raised output is mostly gluconeogenic.
    """
    base = p[Par.liver_output_extrapolated]
    glucose_suppression = p[Par.liver_output_glucose_effect] * y[St.glucose_plasma_mg_kg]
    # the delayed insulin is already acting insulin (insulin.py); portal insulin is scaled here
    insulin_suppression = p[Par.liver_output_insulin_effect] * y[St.insulin_liver_delayed_pmol_l] + p[
        Par.liver_output_portal_insulin_effect
    ] * acting_insulin_pmol_l(y[St.insulin_portal_pmol_kg], p)
    drive = (
        base
        * (1.0 + p[Par.liver_output_cortisol_gain] * (cortisol_rel - 1.0))
        * (1.0 + p[Par.liver_output_nefa_gain] * (nefa_ratio - 1.0))
        * circadian
    )
    output = drive - glucose_suppression - sensitivity_liver * insulin_suppression
    if output <= 0.0:
        return 0.0, 0.0
    normal = base - glucose_suppression - insulin_suppression
    if normal < 0.0:
        normal = 0.0
    excess = output - normal
    return output, excess if excess > 0.0 else 0.0


@kernel
def liver_output_sources(y, p, sensitivity_liver, nefa_ratio, cortisol_rel):
    """(liver glucose output, gluconeogenesis released, glycogenolysis, gluconeogenesis stored), mg/kg/min: DM2007's
    demand at the body clock's hour (clock.liver_factor), met from gluconeogenesis and the store (glycogen.py),
    counter-regulation and exercise included. The model's liver (model.py) is this function."""
    demand, excess = insulin_regulated_output(
        y, p, sensitivity_liver, nefa_ratio, cortisol_rel, clock.liver_factor(y, p)
    )
    return glycogen.liver_sources(y, p, demand, excess, glucagon.counterregulatory_excess(y, p))


@kernel
def liver_glucose_output(y, p, sensitivity_liver, nefa_ratio, cortisol_rel):
    """Liver glucose output into plasma, mg/kg/min (gluconeogenesis plus glycogenolysis, exercise included)."""
    return liver_output_sources(y, p, sensitivity_liver, nefa_ratio, cortisol_rel)[0]
