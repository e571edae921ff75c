"""Muscle: insulin-dependent uptake (GLUT4) and insulin-independent uptake during exercise.

Tissue uptake follows Dalla Man 2007, Uid = (Vm0 + Vmx * X) * Gt / (Km0 + Gt),
rewritten for absolute remote insulin X: the insulin-independent part is
Vm0 - Vmx * Ib. DM2007 fitted Uid to all non-brain disposal, so the splanchnic
bed's (gut and liver) basal uptake sits in it: the share f_spl of the
insulin-independent part is booked to the splanchnic bed (Ferrannini 1985:
~16 % of basal use), the rest to muscle and fat, which take it and the insulin
term in the shares (1 - f_adip) and f_adip. The glucose balance is DM2007's.
Muscle sensitivity scales the insulin term; raised NEFA blunts it (the Randle
effect).
"""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Par, St


@kernel
def tissue_saturation(y, p):
    """Michaelis-Menten factor Gt / (Km0 + Gt) shared by muscle and adipose (dimensionless)."""
    tissue = y[St.glucose_tissue_mg_kg]
    return tissue / (p[Par.tissue_uptake_km] + tissue)


@kernel
def insulin_independent_vmax(p):
    """Insulin-independent part of tissue Vmax, mg/kg/min (DM2007 Vm0 - Vmx * Ib)."""
    return p[Par.tissue_uptake_vmax_basal] - p[Par.tissue_uptake_vmax_insulin] * p[Par.insulin_basal_reference]


@kernel
def peripheral_independent_vmax(p):
    """Insulin-independent Vmax of muscle and fat together, mg/kg/min: DM2007's less the splanchnic share."""
    return (1.0 - p[Par.splanchnic_uptake_fraction]) * insulin_independent_vmax(p)


@kernel
def splanchnic_uptake(y, p):
    """Basal (insulin-independent) glucose uptake of the splanchnic bed, gut and liver, mg/kg/min.

    Taken out of DM2007's tissue uptake, so it leaves the same compartment at the same saturation; the
    liver's insulin-stimulated uptake is booked separately (glycogen.hepatic_glucose_uptake).
    """
    return p[Par.splanchnic_uptake_fraction] * insulin_independent_vmax(p) * tissue_saturation(y, p)


@kernel
def muscle_insulin_uptake(y, p, sensitivity_muscle, nefa_ratio):
    """Muscle glucose uptake outside exercise, mg/kg/min."""
    nefa_excess = nefa_ratio - 1.0
    if nefa_excess < 0.0:
        nefa_excess = 0.0
    insulin_term = (
        sensitivity_muscle
        * p[Par.tissue_uptake_vmax_insulin]
        * y[St.insulin_remote_pmol_l]
        / (1.0 + p[Par.muscle_uptake_nefa_gain] * nefa_excess)
    )
    muscle_share = 1.0 - p[Par.adipose_uptake_fraction]
    return muscle_share * (peripheral_independent_vmax(p) + insulin_term) * tissue_saturation(y, p)


@kernel
def muscle_exercise_uptake(y, p):
    """Insulin-independent (contraction-driven) muscle uptake, mg/kg/min (Roy & Parker 2007 Gup).

    RP2007 give Gup at normal tissue glucose; scaling by the saturation relative
    to the reference keeps the uptake from draining an empty compartment.
    """
    reference = p[Par.exercise_uptake_reference_tissue_glucose]
    reference_saturation = reference / (p[Par.tissue_uptake_km] + reference)
    return y[St.exercise_uptake_mg_kg_min] * tissue_saturation(y, p) / reference_saturation
