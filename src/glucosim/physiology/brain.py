"""Brain and nervous system: insulin-independent glucose uptake (Dalla Man 2007 Uii)."""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Par


@kernel
def brain_uptake(p):
    """Brain glucose uptake, mg/kg/min (saturated at physiological glucose, so constant)."""
    return p[Par.brain_glucose_uptake]
