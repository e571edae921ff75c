"""Shared figure style: Okabe-Ito colour-blind-safe palette, readable at slide size."""

from glucosim.analysis import markers

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}

TISSUE_COLOURS = {
    "liver": OKABE_ITO["vermillion"],
    "muscle": OKABE_ITO["blue"],
    "adipose": OKABE_ITO["orange"],
    "brain": OKABE_ITO["purple"],
    "kidney": OKABE_ITO["green"],
}

STAGE_BAND_ALPHA = 0.12
PREDIABETES_COLOUR = OKABE_ITO["yellow"]
DIABETES_COLOUR = OKABE_ITO["vermillion"]

RC = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}


def stage_bands(ax, prediabetes: float, diabetes: float, top: float | None = None):
    """Shade the ADA prediabetes and diabetes ranges on a y axis."""
    low, high = ax.get_ylim()
    top = max(high, diabetes * 1.05) if top is None else top
    ax.axhspan(prediabetes, diabetes, color=PREDIABETES_COLOUR, alpha=STAGE_BAND_ALPHA * 2, lw=0)
    ax.axhspan(diabetes, top, color=DIABETES_COLOUR, alpha=STAGE_BAND_ALPHA, lw=0)
    ax.set_ylim(low, top)


GLUCOSE_BANDS = (markers.FASTING_GLUCOSE_PREDIABETES_MG_DL, markers.FASTING_GLUCOSE_DIABETES_MG_DL)
HBA1C_BANDS = (markers.HBA1C_PREDIABETES_PERCENT, markers.HBA1C_DIABETES_PERCENT)
