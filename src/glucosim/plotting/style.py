"""Shared figure style: Okabe-Ito colour-blind-safe palette, readable at slide size, vector output.

Every glucosim figure draws inside ``plt.rc_context(RC)`` and saves with
``save_figure``, so fonts, line widths and file formats are the same everywhere.
"""

from __future__ import annotations

from pathlib import Path

from glucosim.simulation import markers

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
"""Okabe & Ito 2008, "Color Universal Design": distinguishable with every common colour-vision deficiency."""

TISSUE_COLOURS = {
    "liver": OKABE_ITO["vermillion"],
    "gut": OKABE_ITO["yellow"],
    "muscle": OKABE_ITO["blue"],
    "adipose": OKABE_ITO["orange"],
    "brain": OKABE_ITO["purple"],
    "kidney": OKABE_ITO["green"],
    "splanchnic": OKABE_ITO["sky"],
}

SERIES_COLOURS = (
    OKABE_ITO["black"],
    OKABE_ITO["blue"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["green"],
    OKABE_ITO["orange"],
    OKABE_ITO["purple"],
    OKABE_ITO["sky"],
)
"""Colours of successive lines (scenarios, visits); yellow is left out: too pale on white for thin lines."""
SERIES_LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))
"""Line styles paired with ``SERIES_COLOURS`` so lines stay apart in greyscale print."""

STAGE_BAND_ALPHA = 0.12
PREDIABETES_COLOUR = OKABE_ITO["yellow"]
DIABETES_COLOUR = OKABE_ITO["vermillion"]
STAGE_COLOURS = {"normal": OKABE_ITO["green"], "prediabetes": PREDIABETES_COLOUR, "diabetes": DIABETES_COLOUR}
SLEEP_COLOUR = OKABE_ITO["grey"]
EXERCISE_COLOUR = OKABE_ITO["green"]
SHADE_ALPHA = 0.18

SLIDE_WIDTH_IN = 13.0
"""Figures are drawn at the width of a 16:9 slide (13.33 in), so 12-13 pt text stays readable when projected."""

RC = {
    "font.size": 13,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 11,
    "lines.linewidth": 2.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}
"""Matplotlib settings of every glucosim figure (svg keeps text as text; pdf embeds TrueType fonts)."""

FIGURE_FORMATS = ("png", "svg", "pdf")
"""File formats ``save_figure`` writes; svg and pdf are vector."""


def stage_bands(
    ax, prediabetes: float, diabetes: float, top: float | None = None, at_x: tuple[float, float] | None = None
) -> None:
    """Shade the ADA prediabetes (yellow) and diabetes (red) ranges on a y axis, keeping its lower limit.

    ``at_x`` = (left, right) limits the shading to that stretch of x, for thresholds that apply at one time
    only (the OGTT's 2-h sample); default: the whole width.
    """
    low, high = ax.get_ylim()
    top = max(high, diabetes * 1.05) if top is None else top
    for bottom, upper, colour, alpha in (
        (prediabetes, diabetes, PREDIABETES_COLOUR, STAGE_BAND_ALPHA * 2),
        (diabetes, top, DIABETES_COLOUR, STAGE_BAND_ALPHA),
    ):
        if at_x is None:
            ax.axhspan(bottom, upper, color=colour, alpha=alpha, lw=0, zorder=0)
        else:
            ax.fill_between(at_x, bottom, upper, color=colour, alpha=alpha * 2, lw=0, zorder=0)
    ax.set_ylim(low, top)


def finish(figure):
    """Return ``figure`` ready to be returned to the caller, shown once in Jupyter.

    Under an inline (Jupyter) backend pyplot would show the figure at the end of the cell and IPython again as
    the cell's value; closing it in pyplot leaves the one display of the returned Figure. Elsewhere the figure
    stays open (``plt.show()`` in scripts, saving in the CLI).
    """
    import matplotlib

    if "inline" in matplotlib.get_backend():
        import matplotlib.pyplot as plt

        plt.close(figure)
    return figure


GLUCOSE_BANDS = (markers.FASTING_GLUCOSE_PREDIABETES_MG_DL, markers.FASTING_GLUCOSE_DIABETES_MG_DL)
TWO_HOUR_BANDS = (markers.TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL, markers.TWO_HOUR_GLUCOSE_DIABETES_MG_DL)
HBA1C_BANDS = (markers.HBA1C_PREDIABETES_PERCENT, markers.HBA1C_DIABETES_PERCENT)


def series_style(index: int) -> dict:
    """Colour and line style of the ``index``-th series of a figure (cycles)."""
    return {
        "color": SERIES_COLOURS[index % len(SERIES_COLOURS)],
        "ls": SERIES_LINESTYLES[index % len(SERIES_LINESTYLES)],
    }


def panel_letter(ax, letter: str) -> None:
    """Bold panel letter (a, b, ...) above the top-left corner of ``ax``, for citing panels in text."""
    ax.text(-0.02, 1.02, letter, transform=ax.transAxes, fontweight="bold", ha="right", va="bottom")


def save_figure(figure, path) -> Path:
    """Save ``figure`` to ``path`` (.png, .svg or .pdf) with the glucosim style; returns the path.

    Raises:
        FigureError: the suffix is not one of ``FIGURE_FORMATS``.
    """
    import matplotlib.pyplot as plt

    from glucosim._files import save_figure_whole

    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FIGURE_FORMATS:
        from glucosim.errors import FigureError

        raise FigureError(
            f"cannot save a figure as '{path.name}': use one of " + ", ".join(f".{f}" for f in FIGURE_FORMATS)
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(RC):
        # whole or not at all: an interrupted save left a truncated image under the final name
        save_figure_whole(figure, path, suffix)
    return path
