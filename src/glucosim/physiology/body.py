"""Body weight from energy balance (Hall et al. 2011 rule of thumb).

A sustained energy surplus dE (kcal/day) moves weight toward dE / rho_W with
time constant tau_W. The surplus is the scenario's own plus the appetite rise
after short sleep. Weight change is taken as fat (adipose.fat_mass_ratio) and
lowers sensitivity (sensitivity.chronic_common_factor).
"""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Drv, Par, St
from glucosim.physiology.units import MINUTES_PER_YEAR


@kernel
def energy_surplus_kcal_day(drv, p):
    """Energy intake above balance, kcal/day."""
    return drv[Drv.energy_surplus_kcal_day] + p[Par.sleep_appetite_energy] * drv[Drv.sleep_deficit_h]


@kernel
def weight_derivative(y, drv, p, slow_on, dydt):
    """Write d(weight change)/dt, kg/min."""
    target = energy_surplus_kcal_day(drv, p) / p[Par.weight_energy_ratio]
    dydt[St.weight_change_kg] = slow_on * (target - y[St.weight_change_kg]) / (p[Par.weight_time] * MINUTES_PER_YEAR)
