"""Liver glycogen and gluconeogenesis: where the liver's glucose output comes from (model 0.2, issue 10).

Dalla Man 2007's net liver output E (liver.py: suppressed by glucose and
insulin) was fitted in people with a normal glycogen store, so it is kept as
the liver's demand. The liver meets it from gluconeogenesis GNG first (raised
by glucagon above basal, not suppressed by insulin) and from glycogen for the rest:

    GNG  = GNG_b * (1 + c_GNG * max(H/H_b - 1, 0)) + (1 - s_X) X
    L    = [max(E - GNG, 0) + xi * H_cr + Gprod] * A(Gly)          (glycogenolysis)
    F    = min(s_X X, max(E - GNG, 0)) * (1 - A(Gly))              (gluconeogenic fallback)
    EGP  = min(E, GNG) + F + L
    A    = min(1, Gly * (Gly_ref + K) / (Gly_ref * (Gly + K)))     (availability, 1 with a normal store)
    HGU  = f_HGU * (1 - f_adip) * s_muscle * Vmx * max(X - Ib, 0)
           / (1 + c_nefa_muscle * max(N/NEFA_ref - 1, 0)) * Gt/(Km0 + Gt)
    dGly/dt = [max(GNG - E, 0) + (1 - f)/f * Ra + HGU] * (1 - Gly/Gly_max) * min(S_L, 1)^gamma_syn - L

X is the part of E that a normal liver would not have at the same glucose and
insulin (hepatic insulin resistance, cortisol, NEFA). Raised output in type 2
diabetes is mostly gluconeogenic (Magnusson 1992 J Clin Invest 90:1323), but
not all of it: glycogenolysis still supplies ~23-38 % of fasting output (13C MRS
and deuterated water; models/parameters.toml, excess_output_glycogenolysis_share),
so the share s_X of X is drawn from glycogen. X is the excess over a normal
liver at the same glucose and insulin, whose output a diabetic subject's
glucose and insulin suppress below a healthy adult's, so even a large s_X
leaves the diabetic liver's gluconeogenesis above a healthy one's (1.09 times
over a day in scenario 03 at 8.3 mmol/l). With the whole excess
gluconeogenic, a hyperglycaemic liver (whose normal counterpart would be
suppressed to GNG_b) released no glycogen while fasting and stored its surplus
gluconeogenesis all day: its store sat at capacity without cycling, and a
low-carbohydrate diet took weeks to bring it below the overnight store (the
VLCD lag of issue 11). It still fills by day and empties overnight. A
resistant liver also stores less: insulin's stimulation of glycogen synthesis
fails with the rest of its action, so every inflow to the store is scaled by
the chronic hepatic sensitivity S_L to the power gamma_syn (1 for S_L >= 1).
Type 2 diabetic livers hold ~17 % less glycogen than controls' before dinner
and synthesise ~45 % less after a meal (Krssak 2004 Diabetes 53:3048); s_X and
gamma_syn are fitted to those two numbers together
(validation/targets/type2_liver_glycogen.toml; the table's values). With
s_X set by hand to the gluconeogenic share of fasting output (0.45) and no
gamma_syn, the diabetic liver made its excess output all day mostly by
gluconeogenesis, released a fifth of a healthy liver's glycogen a day and sat
near capacity (~1.9 times a healthy store before dinner). What a low store
cannot give of the excess's glycogen share, gluconeogenesis makes (F): the
resistant liver's unsuppressed output goes on as its store empties, where a
healthy liver (X = 0) falls to gluconeogenesis. Without F the fitted share made
hepatic resistance alone lower fasting glucose (scenario 06a, 94 -> 74 mg/dl
over 20 years): its excess was not made once the store ran low. H_cr is the
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
    # the excess output X of a resistant liver: a share s_X from glycogen, the rest gluconeogenic
    glycogen_share_of_excess = p[Par.excess_output_glycogenolysis_share] * gluconeogenic_excess
    gng = gluconeogenesis(y, p) + gluconeogenic_excess - glycogen_share_of_excess
    demand = insulin_regulated_output - gng
    released_gng = gng
    stored_gng = 0.0
    availability = glycogen_availability(y, p)
    if demand < 0.0:
        released_gng = insulin_regulated_output
        stored_gng = -demand
        demand = 0.0
    else:
        # what a low store cannot give of the excess's glycogen share, gluconeogenesis makes: the resistant liver's
        # unsuppressed output goes on (a healthy liver, X = 0, still falls to gluconeogenesis as its store empties)
        from_excess = glycogen_share_of_excess if glycogen_share_of_excess < demand else demand
        released_gng += from_excess * (1.0 - availability)
    demand += p[Par.glucagon_output_effect] * counterregulatory_excess_pg_ml + y[St.exercise_liver_output_mg_kg_min]
    glycogenolysis = demand * availability
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
def synthesis_capacity(chronic_liver_sensitivity, p):
    """Fraction of a normal liver's glycogen synthesis a resistant liver keeps: min(S_L, 1) ** gamma_syn.

    S_L is the liver's chronic insulin sensitivity (sensitivity.chronic_sensitivities: the subject, its drift, liver
    fat and the down-regulation by hyperinsulinemia; not the night's sleep or the clock), so a sensitive or trained
    liver stores as a normal one does and the hour's acute effects do not reach the store.
    """
    s_liver = chronic_liver_sensitivity
    if s_liver >= 1.0:
        return 1.0
    if s_liver <= 0.0:
        return 0.0
    return s_liver ** p[Par.hepatic_glycogen_synthesis_exponent]


@kernel
def glycogen_derivative(y, p, glycogenolysis, stored_gng, appearance, hepatic_uptake, chronic_liver_sensitivity, dydt):
    """Write d(liver glycogen)/dt, mg/kg/min (``chronic_liver_sensitivity``: synthesis_capacity's S_L)."""
    f = p[Par.gut_bioavailability]
    direct = (1.0 - f) / f * appearance + hepatic_uptake
    room = 1.0 - y[St.liver_glycogen_mg_kg] / p[Par.liver_glycogen_capacity]
    if room < 0.0:
        room = 0.0
    synthesis = (stored_gng + direct) * room * synthesis_capacity(chronic_liver_sensitivity, p)
    dydt[St.liver_glycogen_mg_kg] = synthesis - glycogenolysis
