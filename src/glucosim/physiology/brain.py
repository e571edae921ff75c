"""Brain and nervous system: insulin-independent glucose uptake (Dalla Man 2007 Uii)."""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Par, St

# Positivity guard, not physiology: below this plasma glucose mass the uptake falls linearly to zero, so a
# constant drain cannot push plasma glucose below zero. 1 mg/kg is about 0.5 mg/dl, far below any glucose
# a run reports as plausible (simulation/plausibility.py), so normal runs are unchanged (the factor is 1.0).
_EMPTY_PLASMA_MG_KG = 1.0


@kernel
def brain_uptake(y, p):
    """Brain glucose uptake, mg/kg/min (saturated at physiological glucose, so constant; zero at no glucose)."""
    plasma = y[St.glucose_plasma_mg_kg]
    if plasma >= _EMPTY_PLASMA_MG_KG:
        return p[Par.brain_glucose_uptake]
    if plasma <= 0.0:
        return 0.0
    return p[Par.brain_glucose_uptake] * plasma / _EMPTY_PLASMA_MG_KG
