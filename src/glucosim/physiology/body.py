"""Body weight and fat mass from energy balance (Hall et al. 2011, Lancet 378:826).

Intake is the food of the day (meal energy, the rest of the diet, any explicit
surplus) plus the appetite rise after short sleep. Expenditure starts at the
subject's balance, PAL x Mifflin resting expenditure, and changes with body
composition (maintenance costs of fat and lean tissue, the cost of moving a
heavier body), with the thermic effect of food and adaptive thermogenesis
(Hall 2011's beta_TEF and beta_AT), and with exercise (METs above rest).

The imbalance is stored as fat and lean tissue in Forbes' partition: the lean
share of the energy is C / (C + F), C = 10.4 kg * rho_L / rho_F, so lean
tissue carries more of a change in a lean than in an obese body. Only changes
from the start enter (Hall's constant K cancels); the glucose-insulin model
keeps its per-kg scaling at the starting weight.
"""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Drv, Par, St
from glucosim.physiology.units import HOURS_PER_DAY, MINUTES_PER_DAY

# Mifflin-St Jeor 1990 (AJCN 51:241): REE = 9.99 W + 6.25 H - 4.92 A + 5 (men), -161 (women).
_MIFFLIN_WEIGHT = 9.99  # kcal/day per kg
_MIFFLIN_HEIGHT = 6.25  # kcal/day per cm
_MIFFLIN_AGE = 4.92  # kcal/day per year
_MIFFLIN_MALE = 5.0  # kcal/day
_MIFFLIN_FEMALE = -161.0  # kcal/day

# Lean tissue cannot fall below this fraction of its starting mass: the model does not simulate death by
# starvation (about half the lean mass lost); it holds the body there and the plausibility checks report it.
MIN_LEAN_MASS_FRACTION = 0.5


def meal_energy_kcal(carbs_g, fat_g, protein_g, p):
    """Energy of a meal, kcal (Atwater factors of the parameter table). Plain Python: the scenario compiler's."""
    return (
        carbs_g * float(p[Par.carbohydrate_energy])
        + fat_g * float(p[Par.fat_energy])
        + protein_g * float(p[Par.protein_energy])
    )


@kernel
def resting_expenditure_kcal_day(p):
    """Resting energy expenditure at the starting weight, kcal/day (Mifflin-St Jeor)."""
    female = p[Par.sex_female]
    return (
        _MIFFLIN_WEIGHT * p[Par.body_weight]
        + _MIFFLIN_HEIGHT * p[Par.height_cm]
        - _MIFFLIN_AGE * p[Par.age_years]
        + (1.0 - female) * _MIFFLIN_MALE
        + female * _MIFFLIN_FEMALE
    )


@kernel
def balance_intake_kcal_day(p):
    """Intake that balances expenditure at the start, without exercise sessions: PAL x resting, kcal/day."""
    return p[Par.physical_activity_level] * resting_expenditure_kcal_day(p)


@kernel
def starting_fat_mass_kg(p):
    """Fat mass at the start, kg."""
    return p[Par.body_weight] * p[Par.body_fat_fraction]


@kernel
def fat_mass_kg(y, p):
    """Current fat mass, kg."""
    return starting_fat_mass_kg(p) + y[St.fat_mass_change_kg]


@kernel
def intake_kcal_day(drv, p):
    """Energy eaten, kcal/day: food, the scenario's explicit surplus, and the appetite rise after short sleep."""
    return (
        drv[Drv.food_energy_kcal_day]
        + drv[Drv.energy_surplus_kcal_day]
        + p[Par.sleep_appetite_energy] * drv[Drv.sleep_deficit_h]
    )


@kernel
def exercise_expenditure_kcal_day(y, p):
    """Energy spent by exercise above rest, kcal/day at the current rate (METs above rest x weight)."""
    weight = p[Par.body_weight] + y[St.weight_change_kg]
    mets_above_rest = y[St.exercise_vo2_pct] / p[Par.resting_intensity]
    return mets_above_rest * p[Par.met_energy] * weight * HOURS_PER_DAY


@kernel
def energy_imbalance_kcal_day(y, drv, p):
    """Intake minus expenditure, kcal/day (positive: the body stores energy)."""
    rest = resting_expenditure_kcal_day(p)
    pal = p[Par.physical_activity_level]
    tef = p[Par.thermic_effect_fraction]
    # Hall 2011: the cost of moving the body, delta * BW, sized so PAL x REE holds at the start
    activity_per_kg = ((1.0 - tef) * pal - 1.0) * rest / p[Par.body_weight]
    intake_change = intake_kcal_day(drv, p) - pal * rest
    fat_change = y[St.fat_mass_change_kg]
    lean_change = y[St.weight_change_kg] - fat_change
    expenditure_change = (
        p[Par.fat_maintenance_cost] * fat_change
        + p[Par.lean_maintenance_cost] * lean_change
        + activity_per_kg * y[St.weight_change_kg]
        + tef * intake_change
        + y[St.adaptive_thermogenesis_kcal_day]
        + exercise_expenditure_kcal_day(y, p)
        + p[Par.step_energy]
        * (drv[Drv.daily_steps] - p[Par.steps_reference])
        * (p[Par.body_weight] + y[St.weight_change_kg])
    )
    return intake_change - expenditure_change


@kernel
def body_derivatives(y, drv, p, slow_on, dydt):
    """Write d/dt of fat mass change, weight change (kg/min) and adaptive thermogenesis (kcal/day per min)."""
    imbalance = energy_imbalance_kcal_day(y, drv, p)
    fat = fat_mass_kg(y, p)
    if fat < 0.0:
        fat = 0.0
    forbes = p[Par.forbes_constant] * p[Par.lean_energy_density] / p[Par.fat_energy_density]
    lean_share = forbes / (forbes + fat)
    d_lean = lean_share * imbalance / (p[Par.lean_energy_density] + p[Par.lean_deposition_cost])
    d_fat = (1.0 - lean_share) * imbalance / (p[Par.fat_energy_density] + p[Par.fat_deposition_cost])
    lean_change = y[St.weight_change_kg] - y[St.fat_mass_change_kg]
    starting_lean = p[Par.body_weight] - starting_fat_mass_kg(p)
    if d_lean < 0.0 and starting_lean + lean_change <= MIN_LEAN_MASS_FRACTION * starting_lean:
        d_lean = 0.0
    intake_change = intake_kcal_day(drv, p) - balance_intake_kcal_day(p)
    d_adaptive = (p[Par.adaptive_thermogenesis_fraction] * intake_change - y[St.adaptive_thermogenesis_kcal_day]) / (
        p[Par.adaptive_thermogenesis_time]
    )
    dydt[St.fat_mass_change_kg] = slow_on * d_fat / MINUTES_PER_DAY
    dydt[St.weight_change_kg] = slow_on * (d_fat + d_lean) / MINUTES_PER_DAY
    dydt[St.adaptive_thermogenesis_kcal_day] = slow_on * d_adaptive / MINUTES_PER_DAY
