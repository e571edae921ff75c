"""Ectopic fat: liver fat (intrahepatic triglyceride) and its effect on hepatic insulin sensitivity.

Fatty acids reach the liver from three sources, in the proportions Donnelly
et al. 2005 measured in fatty liver: adipose NEFA (59 %), de novo lipogenesis
from carbohydrate (26 %) and dietary fat (the rest). Each scales with its
driver relative to the healthy reference: plasma NEFA (relative to its 24-h
mean); carbohydrate eaten times an insulin term (lipogenesis stays
insulin-sensitive, so it follows hyperinsulinemia, saturating at twice its
reference); and food energy relative to the balance intake. An energy deficit
raises the liver's oxidation of its fat (ketogenesis): liver fat falls within
days of a deficit, faster than it rises in a surplus.

Inflow shrinks as the liver fills (1 - LF / LF_max, relative to the
reference), so liver fat stays bounded whatever the diet.
The liver exports and oxidises its triglyceride with a saturable capacity
(Michaelis-Menten). Healthy inflow uses a fixed share of that capacity; a
subject with a lower capacity (the "personal fat threshold" of the twin-cycle
account) accumulates fat steeply once inflow nears it, and loses it fast when
a deficit cuts inflow. Liver fat above the reference lowers hepatic insulin
sensitivity hyperbolically.
"""

import math

from glucosim.physiology import body
from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Drv, Par, St
from glucosim.physiology.units import MINUTES_PER_DAY


@kernel
def liver_fat_inflow_pct_day(y, drv, p):
    """Fatty acids retained in the liver as triglyceride, % of liver weight per day."""
    nefa_share = p[Par.liver_fat_nefa_share]
    dnl_share = p[Par.liver_fat_dnl_share]
    insulin_ratio = y[St.insulin_mean_pmol_l] / p[Par.insulin_mean_reference]
    # lipogenesis follows insulin up to twice its reference rate: 2 I / (I + I_ref), = 1 at the reference
    lipogenic_insulin = 2.0 * insulin_ratio / (insulin_ratio + 1.0)
    carbohydrate_ratio = drv[Drv.carbohydrate_g_day] / p[Par.carbohydrate_reference]
    food_ratio = body.intake_kcal_day(drv, p) / body.balance_intake_kcal_day(p)
    sources = (
        nefa_share * y[St.nefa_mmol_l] / p[Par.nefa_mean_reference]
        + dnl_share * carbohydrate_ratio * lipogenic_insulin
        + (1.0 - nefa_share - dnl_share) * food_ratio
    )
    room = 1.0 - y[St.liver_fat_pct] / p[Par.liver_fat_maximum]
    if room < 0.0:
        room = 0.0
    reference_room = 1.0 - p[Par.liver_fat_reference] / p[Par.liver_fat_maximum]
    reference_inflow = p[Par.liver_fat_reference] / p[Par.liver_fat_turnover_time]
    return reference_inflow * sources * room / reference_room


@kernel
def liver_fat_outflow_pct_day(y, drv, p):
    """Export (VLDL) and oxidation of liver triglyceride, % of liver weight per day.

    Saturable in liver fat; an energy deficit raises the oxidation (ketogenesis) of the fat stored above the
    reference by c_ox x deficit / balance intake.
    """
    return liver_fat_outflow_from_imbalance(y, p, body.energy_imbalance_kcal_day(y, drv, p))


@kernel
def liver_fat_outflow_from_imbalance(y, p, energy_imbalance):
    """``liver_fat_outflow_pct_day`` with the energy imbalance (body.energy_imbalance_kcal_day, kcal/day) known."""
    reference = p[Par.liver_fat_reference]
    used = p[Par.liver_fat_capacity_used]
    # at the reference, outflow = inflow = reference / turnover time, using the share `used` of the capacity
    capacity = p[Par.liver_fat_export_capacity] * reference / (p[Par.liver_fat_turnover_time] * used)
    half_saturation = reference * (1.0 / used - 1.0)
    fat = y[St.liver_fat_pct]
    if fat < 0.0:
        fat = 0.0
    deficit = -energy_imbalance / body.balance_intake_kcal_day(p)
    if deficit < 0.0:
        deficit = 0.0
    # a deficit mobilises the fat stored above the healthy reference, not the liver's normal content
    stored = fat - reference
    if stored < 0.0:
        stored = 0.0
    return capacity * (fat + p[Par.liver_fat_deficit_oxidation] * deficit * stored) / (half_saturation + fat)


@kernel
def liver_fat_start_pct(p):
    """Liver fat at balance on the reference diet for this subject's export capacity, %: where the inflow at the
    reference's sources, shrunk by the room left below LF_max (``liver_fat_inflow_pct_day``), meets the saturable
    outflow without a deficit (``liver_fat_outflow_from_imbalance``).

    With R the reference, u the share of capacity it uses, v the export capacity and a = 1 / (1 - R / LF_max), the
    balance a (1 - L / LF_max) (K + L) = (v / u) L, K = R (1 / u - 1), is a quadratic in L; its positive root is R at
    v = 1. Until 2026-12-06 the room was left out (L = R (1 - u) / (v - u)): scenario 21's fatty-liver subject
    (v = 0.56) started at 16.7 % and drifted down to its ~9.6 % over three years; it now starts at 7.5 %, the
    balance on the reference diet, and rises to its own as its hyperinsulinaemia raises lipogenesis.
    """
    reference = p[Par.liver_fat_reference]
    used = p[Par.liver_fat_capacity_used]
    maximum = p[Par.liver_fat_maximum]
    half_saturation = reference * (1.0 / used - 1.0)
    room_scale = 1.0 / (1.0 - reference / maximum)
    b = maximum - half_saturation - p[Par.liver_fat_export_capacity] * maximum / (room_scale * used)
    return 0.5 * (b + math.sqrt(b * b + 4.0 * half_saturation * maximum))


@kernel
def liver_fat_derivative(y, drv, p, slow_on, dydt):
    """Write d(liver fat)/dt, % per minute."""
    liver_fat_derivative_from_imbalance(y, drv, p, slow_on, body.energy_imbalance_kcal_day(y, drv, p), dydt)


@kernel
def liver_fat_derivative_from_imbalance(y, drv, p, slow_on, energy_imbalance, dydt):
    """``liver_fat_derivative`` with the energy imbalance (body.energy_imbalance_kcal_day, kcal/day) known."""
    net = liver_fat_inflow_pct_day(y, drv, p) - liver_fat_outflow_from_imbalance(y, p, energy_imbalance)
    dydt[St.liver_fat_pct] = slow_on * net / MINUTES_PER_DAY


@kernel
def hepatic_sensitivity_factor(y, p):
    """Factor on hepatic sensitivity from liver fat: 1 / (1 + k (LF - LF_ref) / LF_ref), 1 at or below LF_ref."""
    reference = p[Par.liver_fat_reference]
    excess = (y[St.liver_fat_pct] - reference) / reference
    if excess < 0.0:
        excess = 0.0
    return 1.0 / (1.0 + p[Par.liver_fat_sensitivity_slope] * excess)
