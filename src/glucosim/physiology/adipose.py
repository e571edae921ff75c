"""Adipose tissue: insulin-dependent glucose uptake and insulin-suppressed lipolysis (NEFA).

Lipolysis is suppressed by remote insulin through a Hill function whose IC50
rises as adipose sensitivity falls; it scales with fat mass. Plasma NEFA is
cleared first-order. The NEFA ratio to the healthy reference then raises liver
output and blunts muscle uptake (lipotoxic cross-talk).
"""

from glucosim.physiology._jit import inlined_kernel, kernel, power
from glucosim.physiology.indices import Par, St
from glucosim.physiology.muscle import peripheral_independent_vmax, tissue_saturation

# Fat mass cannot fall below this fraction of its starting value, whatever the energy balance.
_MIN_FAT_MASS_FRACTION = 0.05


@kernel
def adipose_glucose_uptake(y, p, sensitivity_adipose):
    """Adipose glucose uptake, mg/kg/min (share f_adip of tissue uptake)."""
    insulin_term = sensitivity_adipose * p[Par.tissue_uptake_vmax_insulin] * y[St.insulin_remote_pmol_l]
    return p[Par.adipose_uptake_fraction] * (peripheral_independent_vmax(p) + insulin_term) * tissue_saturation(y, p)


@kernel
def lipolysis_suppression(insulin_pmol_l, sensitivity_adipose, p):
    """Fraction of lipolysis suppressed by insulin (0 to s_lip)."""
    hill = p[Par.lipolysis_hill]
    ic50 = p[Par.lipolysis_insulin_ic50] / sensitivity_adipose
    x = power(insulin_pmol_l, hill)
    return p[Par.lipolysis_max_suppression] * x / (x + power(ic50, hill))


@kernel
def fat_mass_ratio(y, p):
    """Fat mass relative to the start (body.py's energy partition moves it)."""
    fat0 = p[Par.body_weight] * p[Par.body_fat_fraction]
    ratio = (fat0 + y[St.fat_mass_change_kg]) / fat0
    if ratio < _MIN_FAT_MASS_FRACTION:
        return _MIN_FAT_MASS_FRACTION
    return ratio


@inlined_kernel
def lipolysis_rate(y, p, sensitivity_adipose):
    """NEFA release into plasma, mmol/l/min.

    The maximal rate is fixed by the healthy reference: NEFA equals NEFA_ref
    when remote insulin equals the DM2007 basal Ib in a fully sensitive subject.
    """
    reference_release = p[Par.nefa_clearance_rate] * p[Par.nefa_reference]
    max_rate = reference_release / (1.0 - lipolysis_suppression(p[Par.insulin_basal_reference], 1.0, p))
    suppression = lipolysis_suppression(y[St.insulin_remote_pmol_l], sensitivity_adipose, p)
    return max_rate * fat_mass_ratio(y, p) * (1.0 - suppression)


@kernel
def nefa_ratio(y, p):
    """Plasma NEFA relative to the healthy fasting reference (dimensionless)."""
    return y[St.nefa_mmol_l] / p[Par.nefa_reference]


@inlined_kernel
def nefa_derivative(y, p, sensitivity_adipose, dydt):
    """Write d(NEFA)/dt, mmol/l/min."""
    dydt[St.nefa_mmol_l] = lipolysis_rate(y, p, sensitivity_adipose) - p[Par.nefa_clearance_rate] * y[St.nefa_mmol_l]
