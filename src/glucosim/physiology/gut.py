"""Gut: stomach (solid, liquid) and intestine, Dalla Man 2007 eqs. for Qsto1, Qsto2, Qgut, and mixed meals.

A meal adds its glucose to the solid stomach compartment as a jump; gastric
emptying slows mid-meal as a function of the stomach content relative to the
dose D being emptied (the tanh shape of DM2007; D is ``gastric_dose``).

Mixed meals (model 0.2): duodenal feedback holds the energy leaving the
stomach below F_max whatever its source (Hunt & Stubbs 1975), so the
carbohydrate flux kempt*Qsto2 saturates smoothly at the carbohydrate's share of
F_max: a meal's fat and protein slow its carbohydrate, and a very large meal
empties at a capped rate. While protein is absorbed, amino acids and incretins
potentiate glucose-stimulated insulin secretion.

Each meal's food keeps its composition (2026-12-04): a meal's fat, protein and
absorption speed enter with its carbohydrate as amounts (``add_meal``; the
states stomach_fat_mg_kg ... gut_speed_carb_mg_kg, speed as speed x
carbohydrate) that leave the stomach at its carbohydrate's fractional rate and
are absorbed at the intestine's, so a compartment's speed and composition are
the carbohydrate-weighted means of the meals in it. While every meal has one
composition this gives exactly the equations of the former drivers, which took
the latest meal's values and so relabelled food already in the gut (a protein
snack after breakfast: 1,758 uU/ml of insulin in the healthy preset, now 12;
docs/model.md, Gut). The dose D that shapes DM2007's emptying is the stomach's
glucose when the latest meal began plus that meal (``gastric_dose``; the state
stomach_emptied_mg_kg, set to 0 by each meal, holds what has left since), as
the UVA/Padova simulator's open implementation sets it; it was the latest
meal's own dose, so a small meal eaten while a large one was in the stomach
emptied the whole stomach at kmax.

Duodenal fat brake (issue 11): fat in the small intestine slows gastric
emptying itself (CCK, the duodenal and ileal brake), beyond the share of the
energy cap it takes: a liquid carrying 48 g of fat takes ~120 min to half-empty
(Houghton, Mangnall & Read 1990). The brake divides the emptying rate by
1 + E/E50, where E is the energy of the fat in the small intestine. Protein
acts through the energy cap only. A meal without fat is unchanged. Known limit:
a large fat-rich dinner is delayed into DM2007's slow kmin tail, so ~2 % of
its carbohydrate is still in the stomach 12 h later and the next fasting
sample sees a small appearance (~0.2 mg/kg/min); people have emptied by then
(scenario 32's dinner: 37, 21, 5.3, 2.3 % left after 4, 6, 10, 12 h;
calibration.measure.stomach_fraction_left). Two other forms were tried and not
adopted (2026-12-02, fattail): braking only the part of the rate above kmin
cannot make Houghton's liquid half-empty slower than ~79 min however strong the
brake (the liquid sits on DM2007's kmin plateau, at 1.6*kmin for a fast meal);
dividing the energy cap F_max instead of the rate constant (zero-order,
calorie-regulated emptying) refits E50 to 11.9 kcal, leaves 0.03 % after 12 h
(2 % after 10 h) and keeps Gannon's and Knuth's checks, but the half-emptying
times of the 150/300/600 kcal meals then rise by +7 and +36 min against
scintigraphy's +13 and +25 (the test's 8-20 and 18-35 fail). The tail also
flatters the fat-starch validation case (50 g starch with 41 g fat, 5-h glucose
area, Gannon 1993: -41 %): glucosim's -9.8 % comes from starch still in the
stomach at 5 h (32 %); the cap form, which leaves no tail, gives +11 %.

Fat and insulin secretion (issue 11). While a meal's fat is absorbed, its GIP potentiates glucose-stimulated
secretion (``fat_gip_potentiation``, since 2026-12-04 night): a factor 1 + k_F x (fat being absorbed) on the
beta cells' capacity, open only above ~fasting glucose (a smoothstep from gip_glucose_threshold, 90 mg/dl, to
gip_glucose_full, 140: Verdonk 1980, none at 43 mg/dl, small at 88, +72 % at 141) and weakened by the glucotoxic
load (gip_diabetes_loss: in type 2 diabetes GIP's effect is about halved, Nauck 1993, and returns with
normoglycaemia, Hojberg 2009). k_F is derived from fat's effect at a matched glucose (+60-72 %: Collier 1988,
Verdonk 1980) at the absorption of a 50-g-fat meal, not fitted to a meal test (models/parameters.toml). Amino
acids act the same way through amino_acid_potentiation (protein). Both are applied in model.py's secretion
capacity and mirrored in io/sbml.py. Without the GIP term a fat-starch meal lowered insulin with glucose (5-h
insulin area -36 %, secretion -27 %, glucose area -9.4 %), as when lipid is infused into the duodenum
(Welch et al. 1987 Clin Sci 72:209, abstract read) or an oil preload precedes potato in type 2 diabetes
(Gentilcore et al. 2006, abstract read: insulin and GIP rises attenuated); with it the glucose area of 50 g of
starch with 41 g of fat falls 38 % over 4 h (Gannon 1993: -41 %, a validation quantity; 28 % over 5 h) and
insulin per unit of glucose falls a little (x0.67 against x0.72), where butter eaten with potato keeps or
raises insulin (Collier & O'Dea 1983 Am J Clin Nutr 37:941, abstract read; Gannon 1993: insulin +8 %, C-peptide +38 %;
tests/test_meal_fat.py, strict xfail). Knuth et al. 2008 (PMC2636944, abstract read) found no change of glucose
or insulin when 30 g of fat was removed from a 100 g carbohydrate, 30 g protein meal; with the fat glucosim's 5-h
areas are glucose -12 % and insulin -27 % (+31 and -36 % before the GIP term; tools/fat_meal.py --knuth).
"""

import math

import numpy as np

from glucosim.physiology import beta_cells
from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Par, St
from glucosim.physiology.units import MAX_ABSORPTION_MULTIPLIER, MG_PER_G

# DM2007 sets the tanh slopes to 5 / (2 * D * (1 - b)) and 5 / (2 * D * d).
_TANH_SLOPE_NUMERATOR = 2.5


EMPTY_MG_KG = 1e-6
"""A compartment with less carbohydrate than this (mg/kg, ~1e-9 of a meal) counts as empty: its mean speed and
composition are not defined, and every flux out of it is negligible."""


MEAL_RESETS = (St.stomach_emptied_mg_kg,)
"""States a meal sets to 0 (before adding its food): the glucose emptied since the latest meal began."""


def _add_food(y, dose_mg_kg, speed, fat_per_carb, protein_per_carb):
    y[St.stomach_solid_mg_kg] += dose_mg_kg
    y[St.stomach_fat_mg_kg] += fat_per_carb * dose_mg_kg
    y[St.stomach_protein_mg_kg] += protein_per_carb * dose_mg_kg
    y[St.stomach_speed_carb_mg_kg] += speed * dose_mg_kg


def add_meal(y, dose_mg_kg, speed, fat_per_carb, protein_per_carb):
    """Eat a meal of ``dose_mg_kg`` carbohydrate: state vector ``y``, in place (a schedule's is ``meal_event``).

    The meal's fat and protein (g per g of carbohydrate) and its absorption speed enter as amounts that travel
    with its carbohydrate, so food from earlier meals keeps its own composition; the glucose emptied since the
    latest meal began starts again from 0, so DM2007's dose D becomes the stomach's glucose with this meal.
    """
    for index in MEAL_RESETS:
        y[index] = 0.0
    _add_food(y, dose_mg_kg, speed, fat_per_carb, protein_per_carb)


def meal_event(n_states, dose_mg_kg, speed, fat_per_carb, protein_per_carb):
    """A meal as a schedule's event: (jump, resets) vectors of ``n_states`` (solver contract rule 3), the same
    change of the state as ``add_meal``. Scenarios, clinic tests and the SBML export's events use it."""
    jump = np.zeros(n_states)
    resets = np.zeros(n_states, dtype=np.bool_)
    _add_food(jump, dose_mg_kg, speed, fat_per_carb, protein_per_carb)
    for index in MEAL_RESETS:
        resets[index] = True
    return jump, resets


@kernel
def _mean_speed(speed_carb, carbohydrate):
    """Carbohydrate-weighted mean absorption speed of a compartment (0 if empty), within the meals' bounds."""
    if carbohydrate <= EMPTY_MG_KG:
        return 0.0
    speed = speed_carb / carbohydrate
    return min(max(speed, 0.0), MAX_ABSORPTION_MULTIPLIER)


@kernel
def stomach_carbohydrate(y):
    """Carbohydrate in the stomach (solid and liquid), mg/kg."""
    return y[St.stomach_solid_mg_kg] + y[St.stomach_liquid_mg_kg]


@kernel
def stomach_speed(y):
    """Mean absorption speed of the food in the stomach: grinding and emptying follow it."""
    return _mean_speed(y[St.stomach_speed_carb_mg_kg], stomach_carbohydrate(y))


@kernel
def gut_speed(y):
    """Mean absorption speed of the food in the intestine: absorption follows it."""
    return _mean_speed(y[St.gut_speed_carb_mg_kg], y[St.gut_mg_kg])


@kernel
def gastric_dose(y):
    """DM2007's dose D (mg/kg): the stomach's glucose when the latest meal began, with that meal.

    The stomach's glucose now plus what it has emptied since the meal began. The UVA/Padova simulator's open
    implementation sets D so (simglucose, patient/t1dpatient.py: the stomach at the meal's start plus the food
    taken); glucosim set it to the latest meal's own dose until 2026-12-04, so a small meal eaten while a large one
    was in the stomach emptied the whole stomach at kmax.
    """
    emptied = y[St.stomach_emptied_mg_kg]
    return stomach_carbohydrate(y) + (emptied if emptied > 0.0 else 0.0)


@kernel
def gastric_emptying_rate(stomach_mg_kg, dose_mg_kg, speed, p):
    """Gastric emptying rate constant (1/min) given stomach content and the dose D being emptied (mg/kg)."""
    k_max = p[Par.gastric_emptying_max]
    k_min = p[Par.gastric_emptying_min]
    if dose_mg_kg <= 0.0:
        return k_max * speed
    b = p[Par.gastric_emptying_shape_b]
    d = p[Par.gastric_emptying_shape_d]
    slope_fall = _TANH_SLOPE_NUMERATOR / (dose_mg_kg * (1.0 - b))
    slope_rise = _TANH_SLOPE_NUMERATOR / (dose_mg_kg * d)
    shape = (
        math.tanh(slope_fall * (stomach_mg_kg - b * dose_mg_kg))
        - math.tanh(slope_rise * (stomach_mg_kg - d * dose_mg_kg))
        + 2.0
    )
    return (k_min + 0.5 * (k_max - k_min) * shape) * speed


@kernel
def carbohydrate_emptying_cap(y, p):
    """Largest carbohydrate flux out of the stomach, mg/kg/min: its energy share of F_max."""
    carbohydrate = stomach_carbohydrate(y)
    carb_energy_share = 1.0
    if carbohydrate > EMPTY_MG_KG:
        carb_energy = carbohydrate * p[Par.carbohydrate_energy]
        other_energy = (
            max(y[St.stomach_fat_mg_kg], 0.0) * p[Par.fat_energy]
            + max(y[St.stomach_protein_mg_kg], 0.0) * p[Par.protein_energy]
        )
        carb_energy_share = carb_energy / (carb_energy + other_energy)
    kcal_per_mg_kg = p[Par.carbohydrate_energy] * p[Par.body_weight] / MG_PER_G
    return p[Par.gastric_energy_emptying_max] * carb_energy_share / kcal_per_mg_kg


@kernel
def intestinal_fat_energy_kcal(y, p):
    """Energy of the fat in the small intestine, kcal."""
    return max(y[St.gut_fat_mg_kg], 0.0) * p[Par.fat_energy] * p[Par.body_weight] / MG_PER_G


@kernel
def duodenal_brake(y, p):
    """Factor (<= 1; 1 without fat) on gastric emptying: fat in the small intestine holds the stomach back."""
    return 1.0 / (1.0 + intestinal_fat_energy_kcal(y, p) / p[Par.duodenal_fat_brake_half_kcal])


@kernel
def capped_emptying(flux, cap):
    """Smooth saturation of the emptying flux at ``cap``: flux / sqrt(1 + (flux/cap)^2)."""
    ratio = flux / cap
    return flux / math.sqrt(1.0 + ratio * ratio)


@kernel
def protein_absorption(y):
    """Protein being absorbed, mg/kg/min per unit kabs (it travels with its meal's carbohydrate)."""
    return max(y[St.gut_protein_mg_kg], 0.0) * gut_speed(y)


@kernel
def amino_acid_potentiation(y, p):
    """Factor (>= 1) on beta-cell secretory capacity while a meal's protein is absorbed."""
    return 1.0 + p[Par.protein_insulin_potentiation] * p[Par.gut_absorption_rate] * protein_absorption(y)


@kernel
def fat_absorption(y):
    """Fat being absorbed, mg/kg/min per unit kabs (it travels with its meal's carbohydrate)."""
    return max(y[St.gut_fat_mg_kg], 0.0) * gut_speed(y)


@kernel
def fat_gip_potentiation(y, p, glucose_mg_dl):
    """Factor (>= 1) on beta-cell secretory capacity while a meal's fat is absorbed: fat's GIP, behind GIP's glucose
    gate and weakened by the beta cells' glucotoxic load."""
    fat = fat_absorption(y)
    if fat <= 0.0:
        return 1.0  # most of the time: the gate and the load are not computed on the right-hand side's hot path
    gate = gip_glucose_gate(glucose_mg_dl, p)
    if gate <= 0.0:
        return 1.0  # below the gate: the load is not computed
    return 1.0 + p[Par.fat_gip_potentiation] * p[Par.gut_absorption_rate] * fat * gate * incretin_kept(y, p)


@kernel
def gip_glucose_gate(glucose_mg_dl, p):
    """0 to 1: how much of GIP's potentiation the beta cells answer at this plasma glucose. It opens from
    gip_glucose_threshold to gip_glucose_full (GIP potentiates glucose-stimulated secretion only: Verdonk 1980)."""
    span = p[Par.gip_glucose_full] - p[Par.gip_glucose_threshold]
    x = (glucose_mg_dl - p[Par.gip_glucose_threshold]) / span
    if x <= 0.0:
        return 0.0
    # a smoothstep, not a linear ramp: its slope is continuous at both ends, so the right-hand side stays smooth
    # where glucose crosses them (at a kink no step control reaches its tolerance, and high-order methods lose most)
    return 1.0 if x >= 1.0 else x * x * (3.0 - 2.0 * x)


@kernel
def incretin_kept(y, p):
    """0 to 1: the share of the gut's incretin potentiation that the glucotoxic load leaves (gip_diabetes_loss of it
    is lost under a full load: the incretins' action is lost in type 2 diabetes and returns with normoglycaemia)."""
    load = beta_cells.glucotoxicity(y[St.glucose_mean_mg_dl], beta_cells.compensation_setpoint(y, p), p)
    return 1.0 - p[Par.gip_diabetes_loss] * load


@kernel
def carbohydrate_absorption(y):
    """Carbohydrate being absorbed, mg/kg/min per unit kabs (as fat_absorption and protein_absorption)."""
    return max(y[St.gut_mg_kg], 0.0) * gut_speed(y)


@kernel
def carbohydrate_incretin_potentiation(y, p, glucose_mg_dl):
    """Factor (>= 1) on the second phase's dose-response while carbohydrate is absorbed: the incretins that glucose
    in the gut releases. GLP-1's share (carbohydrate_incretin_glp1_share) acts at any glucose, a gain on
    glucose-stimulated secretion (Kjems 2003); GIP's share, the rest, sits behind GIP's glucose gate
    (``gip_glucose_gate``). Both are lost under the glucotoxic load (``incretin_kept``).

    It multiplies the glucose-driven (second-phase) secretion only, not the first phase's response to the rate of
    rise: in Mari's beta-cell model the incretin potentiation factor multiplies the dose-response, and the
    derivative component is apart (Mari A et al. 2002 Am J Physiol 283:E1159, as the incretin case's sources use
    it). The dose-response itself is the intravenous one (secretion_hill, secretion_glucose_half), so an
    isoglycaemic infusion meets it without the factor (clinic.incretin).
    """
    carbohydrate = carbohydrate_absorption(y)
    if carbohydrate <= 0.0:
        return 1.0  # fasting and between meals: the gate and the load are not computed on the hot path
    potentiation = p[Par.carbohydrate_incretin_potentiation] * p[Par.gut_absorption_rate] * carbohydrate
    glp1_share = p[Par.carbohydrate_incretin_glp1_share]
    answered = glp1_share + (1.0 - glp1_share) * gip_glucose_gate(glucose_mg_dl, p)
    return 1.0 + potentiation * answered * incretin_kept(y, p)


@kernel
def secretion_potentiation(y, p, glucose_mg_dl):
    """The gut's factor (>= 1) on beta-cell secretory capacity: protein's amino acids and fat's GIP together (one
    definition for physiology/model.py and for clinic.incretin, which sets it to 1 for an isoglycaemic infusion)."""
    return amino_acid_potentiation(y, p) * fat_gip_potentiation(y, p, glucose_mg_dl)


@kernel
def rate_of_appearance(y, p):
    """Meal glucose appearing in plasma, mg/kg/min."""
    return p[Par.gut_bioavailability] * p[Par.gut_absorption_rate] * gut_speed(y) * y[St.gut_mg_kg]


@kernel
def gut_derivatives(y, p, dydt):
    """Write d/dt of the gut states: carbohydrate (mg/kg/min) and what travels with it."""
    solid = y[St.stomach_solid_mg_kg]
    liquid = y[St.stomach_liquid_mg_kg]
    in_stomach = solid + liquid
    speed = stomach_speed(y)
    k_grind = p[Par.gastric_grinding_rate] * speed
    k_empty = gastric_emptying_rate(in_stomach, gastric_dose(y), speed, p) * duodenal_brake(y, p)
    emptied = capped_emptying(k_empty * liquid, carbohydrate_emptying_cap(y, p))
    k_abs = p[Par.gut_absorption_rate] * gut_speed(y)
    dydt[St.stomach_solid_mg_kg] = -k_grind * solid
    dydt[St.stomach_liquid_mg_kg] = k_grind * solid - emptied
    dydt[St.gut_mg_kg] = emptied - k_abs * y[St.gut_mg_kg]
    dydt[St.stomach_emptied_mg_kg] = emptied
    # the stomach's contents are taken as mixed: its fat, protein and speed leave in proportion to its carbohydrate
    leaving = emptied / in_stomach if in_stomach > EMPTY_MG_KG else 0.0
    _carry(y, dydt, St.stomach_fat_mg_kg, St.gut_fat_mg_kg, leaving, k_abs)
    _carry(y, dydt, St.stomach_protein_mg_kg, St.gut_protein_mg_kg, leaving, k_abs)
    _carry(y, dydt, St.stomach_speed_carb_mg_kg, St.gut_speed_carb_mg_kg, leaving, k_abs)


@kernel
def _carry(y, dydt, in_stomach, in_gut, leaving, k_abs):
    """d/dt of one amount travelling with the carbohydrate: emptied at the stomach's, absorbed at the gut's rate."""
    emptied = leaving * y[in_stomach]
    dydt[in_stomach] = -emptied
    dydt[in_gut] = emptied - k_abs * y[in_gut]
