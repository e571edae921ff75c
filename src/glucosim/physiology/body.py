"""Body weight and fat mass from energy balance (Hall et al. 2011, Lancet 378:826).

Intake is the food of the day (meal energy, the rest of the diet, any explicit
surplus) plus the appetite rise after short sleep, less the glucose lost in the
urine above the renal threshold (kidney.py). Expenditure starts at the
subject's balance, PAL x Mifflin resting expenditure, and changes with body
composition (maintenance costs of fat and lean tissue, the cost of moving a
heavier body), with the thermic effect of food and adaptive thermogenesis
(Hall 2011's beta_TEF and beta_AT), and with exercise (METs above rest).

The imbalance is stored as fat and lean tissue in Forbes' partition: the lean
share of the energy is C / (C + F), C = 10.4 kg * rho_L / rho_F, so lean
tissue carries more of a change in a lean than in an obese body. Only changes
from the start enter (Hall's constant K cancels); the glucose-insulin model
keeps its per-kg scaling at the starting weight.

Weight also holds Hall 2011's two compartments without fat or lean tissue, both
moved by carbohydrate intake CI relative to the reference CI_ref:
- body glycogen G (liver and muscle) with 2.7 g of bound water per g:
  rho_G dG/dt = CI - CI_ref (G / G_0)^2, so it settles at G_0 sqrt(CI / CI_ref)
  within days; its energy comes out of (or goes into) the imbalance first;
- extracellular fluid: [Na] dECF/dt = -zeta_Na dECF - zeta_CI max(1 - CI / CI_ref, 0),
  the natriuresis of a low-carbohydrate diet.
So a very-low-calorie, low-carbohydrate diet sheds ~1.7 kg of glycogen with its water (~0.8 kg) and
extracellular fluid (~0.9 kg) in its first days besides tissue. This whole-body G is bookkeeping for weight;
the liver's own store, which sets its glucose output, is glycogen.py's.
"""

from glucosim.physiology._jit import inlined_kernel, kernel
from glucosim.physiology.indices import Drv, Par, St
from glucosim.physiology.kidney import renal_excretion
from glucosim.physiology.units import HOURS_PER_DAY, MG_PER_G, MINUTES_PER_DAY

# Mifflin-St Jeor 1990 (AJCN 51:241): REE = 9.99 W + 6.25 H - 4.92 A + 5 (men), -161 (women).
_MIFFLIN_WEIGHT = 9.99  # kcal/day per kg
_MIFFLIN_HEIGHT = 6.25  # kcal/day per cm
_MIFFLIN_AGE = 4.92  # kcal/day per year
_MIFFLIN_MALE = 5.0  # kcal/day
_MIFFLIN_FEMALE = -161.0  # kcal/day

# Lean tissue cannot fall below this fraction of its starting mass: the model does not simulate death by
# starvation (about half the lean mass lost); it holds the body there and the plausibility checks report it.
MIN_LEAN_MASS_FRACTION = 0.5


def atwater_kcal_per_g(p) -> dict[str, float]:
    """kcal per gram of each scenario Meal field (``carbs_g``, ``fat_g``, ``protein_g``): the parameter table's Atwater
    factors. Plain Python: for building meals of a given energy and composition."""
    return {
        "carbs_g": float(p[Par.carbohydrate_energy]),
        "fat_g": float(p[Par.fat_energy]),
        "protein_g": float(p[Par.protein_energy]),
    }


def meal_energy_kcal(carbs_g, fat_g, protein_g, p):
    """Energy of a meal, kcal (Atwater factors of the parameter table). Plain Python: the scenario compiler's."""
    kcal_per_g = atwater_kcal_per_g(p)
    return carbs_g * kcal_per_g["carbs_g"] + fat_g * kcal_per_g["fat_g"] + protein_g * kcal_per_g["protein_g"]


def body_surface_area_m2(weight_kg, p):
    """Body surface area (m^2) at ``weight_kg``: ``body_surface_area`` at the starting weight, moved with weight as
    Mosteller's formula moves it at a fixed height (the square root of weight; Mosteller 1987 N Engl J Med 317:1098).
    Studies report secretion and doses per m^2; the clinic's clamp doses use the starting area."""
    return p[Par.body_surface_area] * (weight_kg / p[Par.body_weight]) ** 0.5


def meals_energy_kcal(meals, carbs_scale, p):
    """Energy of a day's ``meals`` (scenario Meal entries), their carbohydrate scaled by ``carbs_scale``, kcal. Plain
    Python: the scenario compiler's balance and the load check of what the stomach can empty."""
    return sum(meal_energy_kcal(meal.carbs_g * carbs_scale, meal.fat_g, meal.protein_g, p) for meal in meals)


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
def water_weight_change_kg(y, p):
    """Weight change carried by glycogen with its bound water and by extracellular fluid, kg."""
    return p[Par.glycogen_weight_factor] * y[St.body_glycogen_change_kg] + y[St.extracellular_fluid_change_kg]


@kernel
def tissue_weight_change_kg(y, p):
    """Change of fat plus lean tissue, kg: body weight change less glycogen, its water and extracellular fluid."""
    return y[St.weight_change_kg] - water_weight_change_kg(y, p)


@kernel
def carbohydrate_ratio(drv, p):
    """Carbohydrate eaten relative to the reference intake (Hall's CI / CI_b)."""
    return drv[Drv.carbohydrate_g_day] / p[Par.carbohydrate_reference]


@kernel
def glycogen_change_rate_kg_day(y, drv, p):
    """d(body glycogen)/dt, kg/day: (CI - CI_ref (G / G_0)^2) / rho_G (Hall 2011)."""
    reference_kcal = p[Par.carbohydrate_reference] * p[Par.carbohydrate_energy]
    relative = 1.0 + y[St.body_glycogen_change_kg] / p[Par.body_glycogen_reference]
    if relative < 0.0:
        relative = 0.0
    return reference_kcal * (carbohydrate_ratio(drv, p) - relative * relative) / p[Par.glycogen_energy_density]


@kernel
def extracellular_fluid_rate_kg_day(y, drv, p):
    """d(extracellular fluid)/dt, kg/day (1 l = 1 kg): sodium balance with carbohydrate natriuresis (Hall 2011).

    Only carbohydrate below the reference drives the natriuresis: Hall's linear term describes the fluid lost
    on restriction; carried to a four-fold intake it would retain ~4 l, which is not physiology (a judgement:
    no overfeeding data were read), so an excess of carbohydrate retains no extra fluid.
    """
    excretion = p[Par.ecf_sodium_excretion] * y[St.extracellular_fluid_change_kg]
    shortfall = 1.0 - carbohydrate_ratio(drv, p)
    if shortfall < 0.0:
        shortfall = 0.0
    natriuresis = p[Par.ecf_carbohydrate_sodium] * shortfall
    return -(excretion + natriuresis) / p[Par.ecf_sodium_concentration]


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
def urinary_glucose_kcal_day(y, p):
    """Energy lost as glucose in the urine, kcal/day (at the carbohydrate Atwater factor).

    Absorbed and counted as intake, it never reaches the tissues: in untreated diabetes it is the
    weight loss of glucosuria (tens of kcal/day a few years after diagnosis in glucosim), and it is
    the energy an SGLT2 inhibitor's extra glucosuria takes away.
    """
    return urinary_energy_kcal_day(renal_excretion(y, p), p)


@kernel
def urinary_energy_kcal_day(renal_excretion_mg_kg_min, p):
    """``urinary_glucose_kcal_day`` from the renal excretion (kidney.renal_excretion, mg/kg/min) already known."""
    mg_per_day = renal_excretion_mg_kg_min * p[Par.body_weight] * MINUTES_PER_DAY
    return mg_per_day / MG_PER_G * p[Par.carbohydrate_energy]


@kernel
def energy_imbalance_kcal_day(y, drv, p):
    """Intake minus expenditure, kcal/day (positive: the body stores energy)."""
    return energy_imbalance_from_excretion(y, drv, p, renal_excretion(y, p))


@kernel
def energy_imbalance_from_excretion(y, drv, p, renal_excretion_mg_kg_min):
    """``energy_imbalance_kcal_day`` from the renal excretion (kidney.renal_excretion, mg/kg/min) already known.

    The right-hand side computes the excretion once for the plasma glucose balance and passes it here, and the
    imbalance once for body composition and liver fat (issue 12: each was computed up to three times).
    """
    rest = resting_expenditure_kcal_day(p)
    pal = p[Par.physical_activity_level]
    tef = p[Par.thermic_effect_fraction]
    # Hall 2011: the cost of moving the body, delta * BW, sized so PAL x REE holds at the start
    activity_per_kg = ((1.0 - tef) * pal - 1.0) * rest / p[Par.body_weight]
    intake_change = intake_kcal_day(drv, p) - pal * rest
    fat_change = y[St.fat_mass_change_kg]
    lean_change = tissue_weight_change_kg(y, p) - fat_change
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
    return intake_change - expenditure_change - urinary_energy_kcal_day(renal_excretion_mg_kg_min, p)


@kernel
def body_derivatives(y, drv, p, slow_on, dydt):
    """Write d/dt of fat mass, glycogen, extracellular fluid and weight change (kg/min) and adaptive
    thermogenesis (kcal/day per min)."""
    body_derivatives_from_imbalance(y, drv, p, slow_on, energy_imbalance_kcal_day(y, drv, p), dydt)


@inlined_kernel
def body_derivatives_from_imbalance(y, drv, p, slow_on, energy_imbalance, dydt):
    """``body_derivatives`` with the energy imbalance (``energy_imbalance_kcal_day``, kcal/day) already known."""
    d_glycogen = glycogen_change_rate_kg_day(y, drv, p)
    d_fluid = extracellular_fluid_rate_kg_day(y, drv, p)
    # glycogen takes or gives its energy first; fat and lean tissue store the rest
    imbalance = energy_imbalance - p[Par.glycogen_energy_density] * d_glycogen
    fat = fat_mass_kg(y, p)
    if fat < 0.0:
        fat = 0.0
    forbes = p[Par.forbes_constant] * p[Par.lean_energy_density] / p[Par.fat_energy_density]
    lean_share = forbes / (forbes + fat)
    d_lean = lean_share * imbalance / (p[Par.lean_energy_density] + p[Par.lean_deposition_cost])
    d_fat = (1.0 - lean_share) * imbalance / (p[Par.fat_energy_density] + p[Par.fat_deposition_cost])
    lean_change = tissue_weight_change_kg(y, p) - y[St.fat_mass_change_kg]
    starting_lean = p[Par.body_weight] - starting_fat_mass_kg(p)
    if d_lean < 0.0 and starting_lean + lean_change <= MIN_LEAN_MASS_FRACTION * starting_lean:
        d_lean = 0.0
    intake_change = intake_kcal_day(drv, p) - balance_intake_kcal_day(p)
    d_adaptive = (p[Par.adaptive_thermogenesis_fraction] * intake_change - y[St.adaptive_thermogenesis_kcal_day]) / (
        p[Par.adaptive_thermogenesis_time]
    )
    dydt[St.fat_mass_change_kg] = slow_on * d_fat / MINUTES_PER_DAY
    dydt[St.body_glycogen_change_kg] = slow_on * d_glycogen / MINUTES_PER_DAY
    dydt[St.extracellular_fluid_change_kg] = slow_on * d_fluid / MINUTES_PER_DAY
    water = p[Par.glycogen_weight_factor] * d_glycogen + d_fluid
    dydt[St.weight_change_kg] = slow_on * (d_fat + d_lean + water) / MINUTES_PER_DAY
    dydt[St.adaptive_thermogenesis_kcal_day] = slow_on * d_adaptive / MINUTES_PER_DAY
