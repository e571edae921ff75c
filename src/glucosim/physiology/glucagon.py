"""Glucagon: counter-regulation against low glucose (model 0.2, issue 10).

Plasma glucagon H (pg/ml) follows a secretion target with the clearance rate
n_H. The target is suppressed by plasma insulin (the intra-islet signal, so a
high insulin blunts the response), rises linearly below the counter-regulatory
glucose threshold (Mitrakou 1991: 68 mg/dl) and rises with exercise intensity:

    H_target = H_b * [h_min + (1 - h_min)(1 + k_HI)/(1 + k_HI * I/Ib)]
               * (1 + k_hypo * max(G_th - G, 0)) * (1 + k_Hex * PVO2/100) * (1 + k_HAA * AA)

AA is the protein being absorbed (gut.py): a protein meal raises glucagon,
which keeps protein-stimulated insulin from causing hypoglycaemia.

Glucagon above basal (beyond the exercise part, whose hepatic effect is Roy &
Parker's exercise liver output) drives glycogenolysis, and glucagon drives
gluconeogenesis (glycogen.py). The counter-regulatory rise stands for the whole
fast defence (glucagon and adrenaline share the 68 mg/dl threshold).
"""

from glucosim.physiology._jit import kernel
from glucosim.physiology.gut import protein_absorption
from glucosim.physiology.indices import Par, St
from glucosim.physiology.insulin import acting_insulin_pmol_l
from glucosim.physiology.units import PERCENT


@kernel
def _insulin_factor(insulin_pmol_l, p):
    """Suppression of glucagon secretion by insulin, 1 at the DM2007 basal insulin (in acting insulin, insulin.py)."""
    k = p[Par.glucagon_insulin_suppression]
    floor = p[Par.glucagon_min_fraction]
    acting = acting_insulin_pmol_l(insulin_pmol_l, p)
    return floor + (1.0 - floor) * (1.0 + k) / (1.0 + k * acting / p[Par.insulin_basal_reference])


@kernel
def hypoglycemia_factor(glucose_mg_dl, p):
    """Rise of glucagon secretion below the counter-regulatory threshold (1 above it)."""
    deficit = p[Par.glucagon_hypoglycemia_threshold] - glucose_mg_dl
    if deficit <= 0.0:
        return 1.0
    return 1.0 + p[Par.glucagon_hypoglycemia_gain] * deficit


@kernel
def glucagon_target_at_rest(glucose_mg_dl, insulin_pmol_l, p):
    """Glucagon the islets drive toward without exercise, pg/ml."""
    return p[Par.glucagon_basal] * _insulin_factor(insulin_pmol_l, p) * hypoglycemia_factor(glucose_mg_dl, p)


@kernel
def exercise_factor(y, p):
    """Rise of glucagon secretion with exercise intensity (1 at rest)."""
    return 1.0 + p[Par.glucagon_exercise_gain] * y[St.exercise_vo2_pct] / PERCENT


@kernel
def counterregulatory_excess(y, p):
    """Glucagon above basal that is not the exercise rise, pg/ml (>= 0): what drives extra glycogenolysis."""
    at_rest = y[St.glucagon_pg_ml] / exercise_factor(y, p)
    excess = at_rest - p[Par.glucagon_basal]
    return excess if excess > 0.0 else 0.0


@kernel
def amino_acid_factor(y, p):
    """Rise of glucagon secretion while a meal's protein is absorbed (amino acids stimulate alpha cells)."""
    return 1.0 + p[Par.glucagon_amino_acid_gain] * p[Par.gut_absorption_rate] * protein_absorption(y)


@kernel
def glucagon_derivative(y, drv, p, glucose_mg_dl, insulin_pmol_l, dydt):
    """Write d(glucagon)/dt, pg/ml/min."""
    target = glucagon_target_at_rest(glucose_mg_dl, insulin_pmol_l, p) * exercise_factor(y, p) * amino_acid_factor(y, p)
    dydt[St.glucagon_pg_ml] = p[Par.glucagon_clearance_rate] * (target - y[St.glucagon_pg_ml])
