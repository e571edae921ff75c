"""Liver glycogen and gluconeogenesis: where the liver's glucose output comes from (model 0.2, issue 10).

Dalla Man 2007's net liver output E (liver.py: suppressed by glucose and
insulin) was fitted in people with a normal glycogen store, so it is kept as
the liver's demand. The liver meets it from gluconeogenesis GNG first (raised
by glucagon above basal, not suppressed by insulin) and from glycogen for the rest:

    GNG  = GNG_b * (1 + c_GNG * max(H/H_b - 1, 0)) + (1 - s_X) X
    L    = [max(E - GNG, 0) + xi * H_cr + Gprod] * A(Gly)          (glycogenolysis)
    EGP  = min(E, GNG) + L
    A    = min(1, Gly * (Gly_ref + K) / (Gly_ref * (Gly + K)))     (availability, 1 with a normal store)
    HGU  = f_HGU * (1 - f_adip) * s_muscle * Vmx * max(X - Ib, 0)
           / (1 + c_nefa_muscle * max(N/NEFA_ref - 1, 0)) * Gt/(Km0 + Gt)
    dGly/dt = [max(GNG - E, 0) + (1 - f)/f * Ra + HGU] * (1 - Gly/Gly_max) - L

X is the part of E that a normal liver would not have at the same glucose and
insulin (hepatic insulin resistance, cortisol, NEFA). Raised output in type 2
diabetes is mostly gluconeogenic (Magnusson 1992 J Clin Invest 90:1323), but
not all of it: glycogenolysis still supplies ~23-38 % of fasting output (13C MRS
and deuterated water; models/parameters.toml, excess_output_glycogenolysis_share),
so the share s_X of X is drawn from glycogen. With the whole excess
gluconeogenic, a hyperglycaemic liver (whose normal counterpart would be
suppressed to GNG_b) released no glycogen while fasting and stored its surplus
gluconeogenesis all day: its store sat at capacity without cycling, and a
low-carbohydrate diet took weeks to bring it below the overnight store (the
VLCD lag of issue 11). It now releases glycogen while fasting, but its store
still sits near capacity: type 2 diabetic livers hold less glycogen than
healthy ones (Krssak 2004 Diabetes 53:3048), where glucosim's diabetic store is
~1.9 times a healthy one's before dinner (held out and disagreeing:
validation/targets/type2_liver_glycogen.toml, which says what was tried). H_cr is the
counter-regulatory glucagon excess (glucagon.py), Gprod Roy & Parker's
exercise liver output, Ra the meal's appearance in plasma. When
insulin holds E below GNG (after a meal), new glucose is stored (the indirect
pathway); the fraction (1 - f) of the meal that DM2007 takes up on first pass
is stored too (the direct pathway), and so is the liver's uptake of plasma
glucose after a meal, HGU. DM2007 has no hepatic uptake: its insulin-stimulated
tissue uptake Uid holds it, so HGU is the share f_HGU of the insulin-stimulated
rise of that uptake, booked to the liver instead of muscle (the glucose
balance is unchanged). Taken up beyond the store's room, it is metabolised.
As the store empties in fasting or long
exercise, glycogenolysis fades and output falls to gluconeogenesis.
"""

from glucosim.physiology._jit import kernel
from glucosim.physiology.indices import Par, St
from glucosim.physiology.muscle import tissue_saturation


@kernel
def gluconeogenesis(y, p):
    """Hepatic gluconeogenesis, mg/kg/min."""
    excess = y[St.glucagon_pg_ml] / p[Par.glucagon_basal] - 1.0
    if excess < 0.0:
        return p[Par.gluconeogenesis_basal]
    return p[Par.gluconeogenesis_basal] * (1.0 + p[Par.gluconeogenesis_glucagon_gain] * excess)


@kernel
def glycogen_availability(y, p):
    """Fraction of the demanded glycogenolysis the store can supply (1 at or above the overnight store)."""
    glycogen = y[St.liver_glycogen_mg_kg]
    if glycogen <= 0.0:
        return 0.0
    reference = p[Par.liver_glycogen_reference]
    half = p[Par.liver_glycogen_half]
    availability = glycogen * (reference + half) / (reference * (glycogen + half))
    return availability if availability < 1.0 else 1.0


@kernel
def liver_sources(y, p, insulin_regulated_output, gluconeogenic_excess, counterregulatory_excess_pg_ml):
    """(liver glucose output, gluconeogenesis released, glycogenolysis, gluconeogenesis stored), mg/kg/min."""
    # the excess output X of a resistant liver is mostly gluconeogenic, partly glycogenolytic
    gng = gluconeogenesis(y, p) + (1.0 - p[Par.excess_output_glycogenolysis_share]) * gluconeogenic_excess
    demand = insulin_regulated_output - gng
    released_gng = gng
    stored_gng = 0.0
    if demand < 0.0:
        released_gng = insulin_regulated_output
        stored_gng = -demand
        demand = 0.0
    demand += p[Par.glucagon_output_effect] * counterregulatory_excess_pg_ml + y[St.exercise_liver_output_mg_kg_min]
    glycogenolysis = demand * glycogen_availability(y, p)
    return released_gng + glycogenolysis, released_gng, glycogenolysis, stored_gng


@kernel
def hepatic_glucose_uptake(y, p, sensitivity_muscle, nefa_ratio):
    """The liver's insulin-stimulated uptake of plasma glucose, mg/kg/min: the share f_HGU of DM2007's
    insulin-stimulated rise of tissue uptake above basal insulin (the muscle term of muscle.py)."""
    stimulus = y[St.insulin_remote_pmol_l] - p[Par.insulin_basal_reference]
    if stimulus <= 0.0:
        return 0.0
    nefa_excess = nefa_ratio - 1.0
    if nefa_excess < 0.0:
        nefa_excess = 0.0
    rise = (
        (1.0 - p[Par.adipose_uptake_fraction])
        * sensitivity_muscle
        * p[Par.tissue_uptake_vmax_insulin]
        * stimulus
        / (1.0 + p[Par.muscle_uptake_nefa_gain] * nefa_excess)
    )
    return p[Par.hepatic_uptake_fraction] * rise * tissue_saturation(y, p)


@kernel
def glycogen_derivative(y, p, glycogenolysis, stored_gng, appearance, hepatic_uptake, dydt):
    """Write d(liver glycogen)/dt, mg/kg/min."""
    f = p[Par.gut_bioavailability]
    direct = (1.0 - f) / f * appearance + hepatic_uptake
    room = 1.0 - y[St.liver_glycogen_mg_kg] / p[Par.liver_glycogen_capacity]
    if room < 0.0:
        room = 0.0
    dydt[St.liver_glycogen_mg_kg] = (stored_gng + direct) * room - glycogenolysis
