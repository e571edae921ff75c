"""OGTT curves at successive visits of a progression: how glucose tolerance is lost over the years."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt

from glucosim.errors import FigureError
from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.plotting.style import (
    OKABE_ITO,
    RC,
    SLIDE_WIDTH_IN,
    TWO_HOUR_BANDS,
    finish,
    panel_letter,
    series_style,
    stage_bands,
)
from glucosim.simulation import markers

OGTT_HEIGHT_IN = 6.0
TWO_HOUR_MIN = 120.0
"""The 2-h sample that classifies glucose tolerance (WHO 1999, ADA)."""
TWO_HOUR_BAND_HALF_WIDTH_MIN = 8.0
"""The tolerance ranges are shaded this far either side of the 2-h sample: they classify that sample only."""
TIME_TICK_STEP_MIN = 30
LEGEND_ROW_FRACTION = 0.045
"""Figure height kept free below the axes per row of the legend."""


def plot_ogtt_visits(visits: Sequence, title: str | None = None):
    """Glucose and insulin of each OGTT visit against minutes after the drink; returns the Figure.

    Args:
        visits: ``ClinicResult`` objects of OGTT protocols (e.g. ``SimulationResult.clinic``), in time order.
        title: figure title (default: the subject's name).

    The glucose panel shades, at the 2-h sample only (where they apply), the
    ranges of impaired glucose tolerance (140-199 mg/dl, yellow) and diabetes
    (>= 200 mg/dl, red); the legend gives each visit's year and tolerance class
    from its 2-h glucose.
    """
    visits = [visit for visit in visits if visit.protocol.protocol.kind == "ogtt"]
    if not visits:
        raise FigureError("no OGTT visits to plot: give ClinicResult objects of an 'ogtt' protocol")
    with plt.rc_context(RC):
        fig, (ax_glucose, ax_insulin) = plt.subplots(1, 2, figsize=(SLIDE_WIDTH_IN, OGTT_HEIGHT_IN), sharex=True)
        for k, visit in enumerate(visits):
            samples = visit.samples
            label = (
                f"year {visit.day / DAYS_PER_YEAR:.0f}: 2 h {visit.indices['two_hour_glucose_mg_dl']:.0f} mg/dl, "
                f"{visit.indices['glucose_tolerance']}"
            )
            style = series_style(k)
            ax_glucose.plot(samples["time_min"], samples["glucose_mg_dl"], marker="o", ms=5, label=label, **style)
            ax_insulin.plot(samples["time_min"], samples["insulin_uU_ml"], marker="o", ms=5, **style)
        ax_glucose.set_ylim(
            min(ax_glucose.get_ylim()[0], markers.FASTING_GLUCOSE_PREDIABETES_MG_DL * 0.7),
            max(ax_glucose.get_ylim()[1], TWO_HOUR_BANDS[1] * 1.1),
        )
        stage_bands(
            ax_glucose,
            *TWO_HOUR_BANDS,
            at_x=(TWO_HOUR_MIN - TWO_HOUR_BAND_HALF_WIDTH_MIN, TWO_HOUR_MIN + TWO_HOUR_BAND_HALF_WIDTH_MIN),
        )
        for ax in (ax_glucose, ax_insulin):
            ax.axvline(TWO_HOUR_MIN, color=OKABE_ITO["grey"], ls=":", lw=1.2)
            ax.set_xlabel("time after 75 g glucose drink (min)")
            ax.set_xticks(range(0, int(visits[0].samples["time_min"].max()) + 1, TIME_TICK_STEP_MIN))
        ax_glucose.set_ylabel("plasma glucose (mg/dl)")
        ax_insulin.set_ylabel("plasma insulin (\u00b5U/ml)")
        ax_insulin.set_ylim(bottom=0.0)
        panel_letter(ax_glucose, "a")
        panel_letter(ax_insulin, "b")
        fig.legend(
            *ax_glucose.get_legend_handles_labels(),
            loc="lower center",
            ncol=2,
            frameon=False,
            bbox_to_anchor=(0.5, -0.01),
        )
        fig.suptitle(title or f"75 g OGTT over the years: {visits[0].subject}")
        fig.tight_layout(rect=(0.0, 0.02 + LEGEND_ROW_FRACTION * ((len(visits) + 1) // 2), 1.0, 1.0))
    return finish(fig)


__all__ = ["plot_ogtt_visits"]
