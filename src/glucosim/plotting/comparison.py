"""Scenarios side by side: the same markers of several runs on shared axes."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from glucosim.errors import FigureError
from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.plotting.progression import SMOOTHING_DAYS
from glucosim.plotting.style import (
    GLUCOSE_BANDS,
    HBA1C_BANDS,
    OKABE_ITO,
    RC,
    SLIDE_WIDTH_IN,
    finish,
    panel_letter,
    series_style,
    stage_bands,
)

COMPARISON_HEIGHT_IN = 8.5
PANELS = (
    ("fasting_glucose_mg_dl", "fasting glucose\n(mg/dl)", GLUCOSE_BANDS),
    ("hba1c_percent", "HbA1c (%)", HBA1C_BANDS),
    ("fasting_insulin_uU_ml", "fasting insulin\n(\u00b5U/ml)", None),
    ("beta_cell_function_rel", "beta-cell function\n(healthy = 1)", None),
)
"""(daily column, axis label, ADA bands or None) of each panel."""
ONSET_MARKER_SIZE = 9
"""A filled circle marks where each run's fasting glucose first reaches 126 mg/dl."""


def plot_comparison(results: Sequence, labels: Sequence[str] | None = None, title: str = "Scenarios compared"):
    """Fasting glucose, HbA1c, fasting insulin and beta-cell function of several runs; returns the Figure.

    Args:
        results: ``SimulationResult`` objects (up to seven; colours and line styles cycle after that).
        labels: legend labels (default: the scenario names).
        title: figure title.
    """
    if not results:
        raise FigureError("plot_comparison needs at least one result")
    labels = list(labels) if labels is not None else [result.name for result in results]
    if len(labels) != len(results):  # zip left out the runs beyond the labels without a word
        raise FigureError(
            f"plot_comparison: {len(labels)} labels for {len(results)} results; give one label per result"
        )
    with plt.rc_context(RC):
        fig, axes = plt.subplots(2, 2, figsize=(SLIDE_WIDTH_IN, COMPARISON_HEIGHT_IN), sharex=True)
        axes = axes.ravel()
        for k, (result, label) in enumerate(zip(results, labels)):
            daily = result.daily
            style = series_style(k)
            for ax, (column, _, _) in zip(axes, PANELS):
                ax.plot(
                    daily["year"],
                    daily[column].rolling(SMOOTHING_DAYS, min_periods=1, center=True).mean(),
                    label=label if ax is axes[0] else None,
                    **style,
                )
            onset = result.summary["first_crossing_day"].get("fasting_glucose_126")
            if onset is not None:
                axes[0].plot(
                    [onset / DAYS_PER_YEAR],
                    [GLUCOSE_BANDS[1]],
                    marker="o",
                    ms=ONSET_MARKER_SIZE,
                    color=style["color"],
                    markeredgecolor=OKABE_ITO["black"],
                    zorder=4,
                )
        end = max(float(result.daily["year"].iloc[-1]) for result in results)
        for letter, ax, (_, ylabel, bands) in zip("abcd", axes, PANELS):
            if bands is not None:
                stage_bands(ax, *bands)
            else:
                ax.set_ylim(bottom=0.0)
            ax.set_ylabel(ylabel)
            ax.set_xlim(0.0, max(end, 1.0 / DAYS_PER_YEAR))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            panel_letter(ax, letter)
        for ax in axes[2:]:
            ax.set_xlabel("time (years)")
        handles, legend_labels = axes[0].get_legend_handles_labels()
        handles.append(
            plt.Line2D(
                [],
                [],
                marker="o",
                ls="",
                ms=ONSET_MARKER_SIZE,
                color=OKABE_ITO["grey"],
                markeredgecolor=OKABE_ITO["black"],
            )
        )
        legend_labels.append("fasting glucose first \u2265 126 mg/dl")
        fig.legend(handles, legend_labels, loc="lower center", ncol=2, frameon=False, bbox_to_anchor=(0.5, -0.01))
        fig.suptitle(title)
        fig.align_ylabels(axes)
        rows = (len(legend_labels) + 1) // 2
        fig.tight_layout(rect=(0.0, 0.04 * rows + 0.01, 1.0, 1.0))
    return finish(fig)


__all__ = ["plot_comparison"]
