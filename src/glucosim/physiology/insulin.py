"""Insulin kinetics: liver and plasma insulin, hepatic extraction, delayed and remote action.

Dalla Man 2007 eqs. for Il, Ip, I1, Id and X, with two changes. The remote
action X follows *absolute* plasma insulin (DM2007 tracks I - Ib), because over
years the basal insulin itself moves and must act in full. And the action
states (I1, Id, X) follow the *acting* insulin, insulin_action_scale x plasma
insulin: DM2007's action parameters (Vmx, kp3, kp4, Ib) belong to a subject with
a fasting insulin of ~25 pmol/l, where healthy adults measured with specific
assays have ~36 pmol/l and clamp insulin twice what DM2007's clearance gives.
With human kinetics the scale re-references DM2007's insulin action to human
concentrations (fitted in validation/targets/insulin_kinetics.toml), so the
action states are in DM2007-equivalent pmol/l.
"""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Par, St


@kernel
def plasma_insulin_pmol_l(y, p):
    """Plasma insulin concentration, pmol/l."""
    return y[St.insulin_plasma_pmol_kg] / p[Par.insulin_distribution_volume]


@kernel
def acting_insulin_pmol_l(insulin_pmol_l, p):
    """DM2007-equivalent acting insulin of a plasma (or portal) insulin level: insulin_action_scale x it."""
    return p[Par.insulin_action_scale] * insulin_pmol_l


@kernel
def hepatic_extraction(secretion, p):
    """Fraction of secreted insulin removed by the liver in first pass: HE = m6 - m5 S / (1 + m5 S / dHE_max).

    Extraction falls as secretion rises (DM2007's HE = m6 - m5 S at low secretion, which is part of why
    compensating insulin-resistant subjects are hyperinsulinemic), but by at most dHE_max
    (hepatic_extraction_fall_max): people's extraction stays near 40-50 % over oral and intravenous tests, where
    the linear fall reaches 0 near 12 pmol/kg/min with the refitted m5 (DM2007's own, near 21). Kept in [0, m6].
    """
    linear_fall = p[Par.hepatic_extraction_secretion_slope] * secretion
    extraction = p[Par.hepatic_extraction_max] - linear_fall / (1.0 + linear_fall / p[Par.hepatic_extraction_fall_max])
    if extraction < 0.0:
        return 0.0
    return extraction


@kernel
def insulin_derivatives(y, p, secretion, infusion, dydt):
    """Write d/dt of liver, plasma, delayed and remote insulin (the last two follow the acting insulin).

    ``secretion`` (portal, first-passes the liver) and ``infusion`` (intravenous,
    enters plasma) in pmol/kg/min.
    """
    liver = y[St.insulin_liver_pmol_kg]
    plasma = y[St.insulin_plasma_pmol_kg]
    m1 = p[Par.insulin_liver_to_plasma_rate]
    m2 = p[Par.insulin_plasma_to_liver_rate]
    m4 = p[Par.insulin_peripheral_clearance_rate]
    extraction = hepatic_extraction(secretion, p)
    # DM2007: m3 = HE * m1 / (1 - HE) makes the liver remove the fraction HE of what reaches it.
    m3 = extraction * m1 / (1.0 - extraction)
    dydt[St.insulin_liver_pmol_kg] = -(m1 + m3) * liver + m2 * plasma + secretion
    dydt[St.insulin_plasma_pmol_kg] = -(m2 + m4) * plasma + m1 * liver + infusion

    insulin = acting_insulin_pmol_l(plasma_insulin_pmol_l(y, p), p)
    k_delay = p[Par.liver_insulin_delay_rate]
    dydt[St.insulin_liver_delay1_pmol_l] = -k_delay * (y[St.insulin_liver_delay1_pmol_l] - insulin)
    dydt[St.insulin_liver_delayed_pmol_l] = -k_delay * (
        y[St.insulin_liver_delayed_pmol_l] - y[St.insulin_liver_delay1_pmol_l]
    )
    dydt[St.insulin_remote_pmol_l] = -p[Par.remote_insulin_action_rate] * (y[St.insulin_remote_pmol_l] - insulin)
