"""The progression dashboard: ADA stage, glucose, HbA1c, insulin, beta cells and sensitivity over years.

``glucosim run`` writes this figure as ``progression.png``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.plotting.style import (
    GLUCOSE_BANDS,
    HBA1C_BANDS,
    OKABE_ITO,
    RC,
    SLIDE_WIDTH_IN,
    STAGE_COLOURS,
    TISSUE_COLOURS,
    TWO_HOUR_BANDS,
    finish,
    panel_letter,
    stage_bands,
)
from glucosim.simulation import markers

SMOOTHING_DAYS = 7
"""Daily markers are shown as 7-day means so weekly routines (exercise days) do not make the lines ragged."""
DASHBOARD_HEIGHT_IN = 9.5
STRIP_HEIGHT_RATIO = 0.22
"""Height of the stage strip relative to a data panel."""
SAME_SENSITIVITY_TOLERANCE = 0.01
"""Tissue sensitivities within 1 % of the whole-body value all run are drawn as one line, not three on top."""
MIN_LABEL_SPAN_YEARS_FRACTION = 0.08
"""A stage is named inside the strip only where its span covers at least this fraction of the run."""
GLUCOSE_AXIS_FLOOR_MG_DL = 70.0
BAND_HEADROOM = 1.1
"""Staged panels reach at least this multiple of the diabetes threshold, so the diabetes band always shows."""
TWO_HOUR_AXIS_FLOOR_MG_DL = 90.0
HBA1C_AXIS_FLOOR_PERCENT = 4.5
CROSSING_LABEL_FONTSIZE = 10
CROSSING_LABEL_STAGGER_PT = 30
"""Each further crossing label of a panel sits this much lower, so labels of close crossings do not overlap."""

PANEL_CROSSINGS = {
    panel: tuple((name, f"{markers.CROSSINGS[name][1]:g}") for name in names)
    for panel, names in {
        "fasting": ("fasting_glucose_100", "fasting_glucose_126"),
        "two_hour": ("postmeal_2h_140", "postmeal_2h_200"),
        "hba1c": ("hba1c_5.7", "hba1c_6.5"),
    }.items()
}
"""Which summary crossings each panel marks, with the short threshold label drawn next to the line."""


def _smooth(series):
    return series.rolling(SMOOTHING_DAYS, min_periods=1, center=True).mean()


def daily_stage(result) -> np.ndarray:
    """ADA stage code per day (0 normal, 1 prediabetes, 2 diabetes) from 7-day fasting glucose and HbA1c."""
    fasting = _smooth(result.daily["fasting_glucose_mg_dl"]).to_numpy()
    return markers.stage_code(fasting, result.daily["hba1c_percent"].to_numpy())


def _draw_stage_strip(ax, result) -> None:
    """One coloured band per run of days in the same ADA stage, named where wide enough."""
    years = result.daily["year"].to_numpy()
    codes = daily_stage(result)
    span_years = max(years[-1] - years[0], 1.0 / DAYS_PER_YEAR)
    edges = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [len(codes)]))
    step = 1.0 / DAYS_PER_YEAR
    for start, stop in zip(starts, stops):
        name = markers.STAGES[codes[start]]
        left, right = years[start], years[stop - 1] + step
        ax.axvspan(left, right, color=STAGE_COLOURS[name], alpha=0.55, lw=0)
        if (right - left) / span_years >= MIN_LABEL_SPAN_YEARS_FRACTION:
            ax.text((left + right) / 2.0, 0.5, name, ha="center", va="center", transform=ax.get_xaxis_transform())
    ax.set_yticks([])
    ax.set_ylabel("ADA\nstage", rotation=0, ha="right", va="center")
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", which="both", bottom=False, labelbottom=False)


def _mark_changes(ax, result, label: bool = False) -> None:
    for day, name in result.change_days:
        ax.axvline(day / DAYS_PER_YEAR, color=OKABE_ITO["grey"], ls="--", lw=1.2)
        if label:
            ax.annotate(
                name,
                (day / DAYS_PER_YEAR, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, 2),
                textcoords="offset points",
                ha="left",
                va="bottom",
                fontsize=CROSSING_LABEL_FONTSIZE,
                color=OKABE_ITO["grey"],
            )


def _mark_crossings(ax, result, crossings, unit: str) -> None:
    """Dotted line at each first crossing, labelled with the threshold and the year."""
    for rank, (name, threshold) in enumerate(crossings):
        day = result.summary["first_crossing_day"].get(name)
        if day is None:
            continue
        year = day / DAYS_PER_YEAR
        ax.axvline(year, color=OKABE_ITO["vermillion"], ls=":", lw=1.5)
        ax.annotate(
            f"\u2265{threshold} {unit}\nyear {year:.1f}",
            (year, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-3, -3 - rank * CROSSING_LABEL_STAGGER_PT),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=CROSSING_LABEL_FONTSIZE,
            color=OKABE_ITO["vermillion"],
        )


def _staged_panel(ax, result, years, values, colour, floor, bands, ylabel: str, crossings: str, unit: str) -> None:
    """A marker over years with its ADA prediabetes/diabetes bands and first crossings marked."""
    ax.plot(years, values, color=colour)
    ax.set_ylim(min(floor, ax.get_ylim()[0]), max(ax.get_ylim()[1], bands[1] * BAND_HEADROOM))
    stage_bands(ax, *bands)
    ax.set_ylabel(ylabel)
    _mark_crossings(ax, result, PANEL_CROSSINGS[crossings], unit)


def _sensitivity_panel(ax, daily, years) -> None:
    whole = daily["insulin_sensitivity_rel"]
    tissues = ("liver", "muscle", "adipose")
    differ = any(
        np.nanmax(np.abs(daily[f"insulin_sensitivity_{t}_rel"] - whole)) > SAME_SENSITIVITY_TOLERANCE for t in tissues
    )
    ax.plot(
        years,
        whole,
        color=OKABE_ITO["black"],
        label="whole body" if differ else "whole body (= liver, muscle, adipose)",
    )
    if differ:
        for tissue, style in zip(tissues, ("--", "-.", ":")):
            ax.plot(
                years, daily[f"insulin_sensitivity_{tissue}_rel"], color=TISSUE_COLOURS[tissue], ls=style, label=tissue
            )
    ax.set_ylabel("insulin sensitivity\n(healthy = 1)")
    ax.set_ylim(0.0, max(ax.get_ylim()[1], 1.05))
    ax.axhline(1.0, color=OKABE_ITO["grey"], lw=0.8)
    ax.legend(loc="best", frameon=False)


def _dashboard_axes():
    fig = plt.figure(figsize=(SLIDE_WIDTH_IN, DASHBOARD_HEIGHT_IN))
    grid = fig.add_gridspec(4, 2, height_ratios=(STRIP_HEIGHT_RATIO, 1.0, 1.0, 1.0))
    strip = fig.add_subplot(grid[0, :])
    first = fig.add_subplot(grid[1, 0], sharex=strip)
    panels = [first] + [
        fig.add_subplot(grid[row, col], sharex=strip) for row, col in ((1, 1), (2, 0), (2, 1), (3, 0), (3, 1))
    ]
    return fig, strip, panels


def plot_progression(result, axes: Sequence | None = None):
    """The progression dashboard of one run; returns the matplotlib Figure.

    Panels (x: years): ADA stage strip (normal / prediabetes / diabetes from
    7-day fasting glucose and HbA1c); (a) fasting glucose (mg/dl) and (b)
    glucose 2 h after the first meal (mg/dl) with the ADA prediabetes (yellow)
    and diabetes (red) ranges; (c) HbA1c (%); (d) fasting insulin (uU/ml);
    (e) beta-cell mass and function (healthy = 1); (f) insulin sensitivity
    (healthy = 1). Dotted red lines mark first threshold crossings; dashed
    grey lines mark scenario changes.

    Args:
        result: a ``SimulationResult``.
        axes: six axes to draw panels a-f into (no stage strip); default: a new figure.
    """
    daily = result.daily
    years = daily["year"]
    with plt.rc_context(RC):
        strip = None
        created = axes is None
        if axes is None:
            fig, strip, axes = _dashboard_axes()
        else:
            fig = axes[0].figure
        ax_fasting, ax_two_hour, ax_hba1c, ax_insulin, ax_beta, ax_sensitivity = axes

        _staged_panel(
            ax_fasting,
            result,
            years,
            _smooth(daily["fasting_glucose_mg_dl"]),
            OKABE_ITO["black"],
            GLUCOSE_AXIS_FLOOR_MG_DL,
            GLUCOSE_BANDS,
            "fasting glucose\n(mg/dl)",
            "fasting",
            "mg/dl",
        )
        _staged_panel(
            ax_two_hour,
            result,
            years,
            _smooth(daily["postmeal_2h_glucose_mg_dl"]),
            OKABE_ITO["sky"],
            TWO_HOUR_AXIS_FLOOR_MG_DL,
            TWO_HOUR_BANDS,
            "glucose 2 h after\nbreakfast (mg/dl)",
            "two_hour",
            "mg/dl",
        )
        _staged_panel(
            ax_hba1c,
            result,
            years,
            daily["hba1c_percent"],
            OKABE_ITO["black"],
            HBA1C_AXIS_FLOOR_PERCENT,
            HBA1C_BANDS,
            "HbA1c (%)",
            "hba1c",
            "%",
        )

        ax_insulin.plot(years, _smooth(daily["fasting_insulin_uU_ml"]), color=OKABE_ITO["blue"])
        ax_insulin.set_ylabel("fasting insulin\n(\u00b5U/ml)")
        ax_insulin.set_ylim(bottom=0.0)

        ax_beta.plot(years, daily["beta_cell_mass_rel"], color=OKABE_ITO["green"], label="mass")
        ax_beta.plot(years, daily["beta_cell_function_rel"], color=OKABE_ITO["orange"], ls="--", label="function")
        ax_beta.set_ylabel("beta cells\n(healthy = 1)")
        ax_beta.set_ylim(0.0, max(ax_beta.get_ylim()[1], 1.05))
        ax_beta.axhline(1.0, color=OKABE_ITO["grey"], lw=0.8)
        ax_beta.legend(loc="best", frameon=False)

        _sensitivity_panel(ax_sensitivity, daily, years)

        end = max(float(years.iloc[-1]), 1.0 / DAYS_PER_YEAR)
        for letter, ax in zip("abcdef", axes):
            _mark_changes(ax, result)
            ax.set_xlim(0.0, end)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            panel_letter(ax, letter)
        for ax in axes[-2:]:
            ax.set_xlabel("time (years)")
        for ax in axes[:-2]:
            ax.tick_params(labelbottom=False)
        if strip is not None:
            _draw_stage_strip(strip, result)
            _mark_changes(strip, result, label=True)
            strip.set_xlim(0.0, end)
        fig.suptitle(f"{result.name} \u2014 final stage: {result.summary['final_stage']}")
        fig.align_ylabels(axes[0::2])
        fig.align_ylabels(axes[1::2])
        fig.tight_layout()
    return finish(fig) if created else fig


__all__ = ["plot_progression", "daily_stage"]
