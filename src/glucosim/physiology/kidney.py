"""Kidney: renal glucose excretion above the threshold (Dalla Man 2007 E)."""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Par, St


@kernel
def renal_excretion(y, p):
    """Glucose lost in urine, mg/kg/min: zero below the renal threshold, linear above."""
    excess = y[St.glucose_plasma_mg_kg] - p[Par.renal_threshold]
    if excess <= 0.0:
        return 0.0
    return p[Par.renal_excretion_rate] * excess
