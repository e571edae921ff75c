"""Glucose kinetics: plasma and tissue compartments (Dalla Man 2007 Gp, Gt)."""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Par, St


@kernel
def plasma_glucose_mg_dl(y, p):
    """Plasma glucose concentration, mg/dl."""
    return y[St.glucose_plasma_mg_kg] / p[Par.glucose_distribution_volume]


@kernel
def glucose_derivatives(y, p, liver_output, appearance, infusion, brain, renal, tissue_uptake, dydt):
    """Write d/dt of plasma and tissue glucose (mg/kg/min); returns d(plasma glucose)/dt in mg/dl/min.

    Plasma receives liver output, meal appearance and any intravenous infusion
    and loses brain uptake and renal excretion; the tissue compartment loses
    muscle and adipose uptake.
    """
    plasma = y[St.glucose_plasma_mg_kg]
    tissue = y[St.glucose_tissue_mg_kg]
    exchange = p[Par.glucose_plasma_to_tissue_rate] * plasma - p[Par.glucose_tissue_to_plasma_rate] * tissue
    d_plasma = liver_output + appearance + infusion - brain - renal - exchange
    dydt[St.glucose_plasma_mg_kg] = d_plasma
    dydt[St.glucose_tissue_mg_kg] = exchange - tissue_uptake
    return d_plasma / p[Par.glucose_distribution_volume]
