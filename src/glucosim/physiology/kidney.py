"""Kidney: renal glucose excretion as filtration minus a saturable, splayed tubular reabsorption.

The glomeruli filter glucose at the plasma concentration G times the glomerular
filtration rate (GFR); the proximal tubules reabsorb it up to a transport
maximum TmG, and what they cannot reabsorb is excreted. If every nephron had the
same ratio of reabsorptive capacity to filtration, excretion would start sharply
at G = TmG/GFR (~300 mg/dl). Nephrons differ, so glucose appears in the urine
from ~180-200 mg/dl and all nephrons are saturated only near ~400 mg/dl: the
splay of the titration curve (textbook physiology; Gerich 2010 Diabet Med 27:136, not read: as a review cites it).
glucosim takes the nephrons' thresholds as logistically distributed around
TmG/GFR with scale s (mg/dl). Excretion is then the expected filtered excess over
the nephrons' thresholds, which for a logistic distribution is a softplus:

    E = GFR * s * ln(1 + exp((G - TmG/GFR) / s))

so E -> GFR * G - TmG (filtration minus the full transport maximum) far above the
threshold, and falls off exponentially below it (a trace of basal glucosuria). That trace sets s: it is
calibrated to healthy adults' overnight urinary glucose (validation/targets/renal_splay.toml, Kim 2017), which
keeps the textbook's onset of glucosuria near 180-200 mg/dl.

Dalla Man 2007, on which the fast model is built, used E = ke1 * (Gp - ke2) with
ke1 = 0.0005/min, ~18 times below glomerular filtration (~0.0089/min of the
plasma glucose mass: 1.25 dl/min over 75 kg x 1.88 dl/kg): their subjects never
crossed the threshold, so their data could not set it. In untreated diabetes the
filtered excess clips the glucose peaks after meals.
"""

from glucosim.physiology._jit import kernel, softplus
from glucosim.physiology.indices import Par, St

_ML_PER_DL = 100.0


@kernel
def renal_excretion_mg_min(glucose_mg_dl, p):
    """Whole-body urinary glucose excretion (mg/min) at plasma glucose ``glucose_mg_dl`` (mg/dl)."""
    gfr_dl_min = p[Par.renal_gfr] / _ML_PER_DL
    splay_mg_dl = p[Par.renal_glucose_splay]
    threshold_mg_dl = p[Par.renal_glucose_tm] / gfr_dl_min
    return gfr_dl_min * splay_mg_dl * softplus((glucose_mg_dl - threshold_mg_dl) / splay_mg_dl)


@kernel
def renal_excretion(y, p):
    """Glucose lost in urine, mg/kg/min (per kg of starting body weight, as every per-kg flux of the model)."""
    glucose_mg_dl = y[St.glucose_plasma_mg_kg] / p[Par.glucose_distribution_volume]
    return renal_excretion_mg_min(glucose_mg_dl, p) / p[Par.body_weight]
