"""Where glucose goes over a day: glucose entering plasma (liver, gut) against its disposal by tissue.

In this model the liver's exchange is net: it releases glucose (net hepatic
output, suppressed by insulin) rather than taking it up, so it is drawn above
zero with the gut, and the four sinks (brain, muscle, adipose, kidney) below.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from glucosim.errors import FigureError
from glucosim.physiology.indices import Par
from glucosim.physiology.units import DAYS_PER_YEAR, mg_per_kg_to_grams
from glucosim.plotting.day import HOUR_TICK_STEP, HOURS_PER_DAY, meals_g, shade_exercise, shade_sleep, sleep_window_h
from glucosim.plotting.style import (
    EXERCISE_COLOUR,
    OKABE_ITO,
    RC,
    SHADE_ALPHA,
    SLEEP_COLOUR,
    SLIDE_WIDTH_IN,
    TISSUE_COLOURS,
    finish,
    panel_letter,
)

SOURCES = (("liver", "liver_output", "liver (net output)"), ("gut", "gut_appearance", "gut (meal appearance)"))
SINKS = (
    ("brain", "brain_uptake", "brain"),
    ("muscle", "muscle_uptake", "muscle"),
    ("adipose", "adipose_uptake", "adipose"),
    ("splanchnic", "splanchnic_uptake", "gut and liver (basal)"),
    ("kidney", "renal_excretion", "kidney (urine)"),
)
"""(colour key, column stem, label): trajectory columns are ``<stem>_mg_kg_min``, daily ones ``<stem>_mg_kg_day``."""
DISPOSAL_HEIGHT_IN = 6.5
LEGEND_COLUMNS = 4
TOTALS_WIDTH_RATIO = 0.55
"""Width of the daily-totals panel relative to one 24-h panel."""
SLIDE_DAYS = 2
"""Day panels a slide's width holds (the default figure: the first and the last day); more days widen the figure
in proportion (nine days on a slide's width left no room for their axes: matplotlib gave up the layout)."""


def daily_totals_g(result, day: int) -> dict[str, float]:
    """Glucose per tissue over ``day`` in grams (sources positive, sinks positive too), from the daily table."""
    row = result.daily.loc[result.daily["day"] == day].iloc[0]
    body_weight_kg = float(result.loaded.parameters[Par.body_weight])
    return {
        key: mg_per_kg_to_grams(float(row[f"{stem}_mg_kg_day"]), body_weight_kg) for key, stem, _ in SOURCES + SINKS
    }


def _draw_day(ax, result, day: int) -> None:
    trajectory = result.trace(day)
    hours = trajectory["clock_h"].to_numpy()
    bedtime, wake = sleep_window_h(result, day)
    shade_sleep(ax, bedtime, wake)
    shade_exercise(ax, hours, trajectory["exercise_intensity_pct"].to_numpy() > 0)
    ax.stackplot(
        hours,
        *[trajectory[f"{stem}_mg_kg_min"] for _, stem, _ in SOURCES],
        colors=[TISSUE_COLOURS[key] for key, _, _ in SOURCES],
        labels=[label for _, _, label in SOURCES],
        alpha=0.85,
        lw=0,
    )
    ax.stackplot(
        hours,
        *[-trajectory[f"{stem}_mg_kg_min"] for _, stem, _ in SINKS],
        colors=[TISSUE_COLOURS[key] for key, _, _ in SINKS],
        labels=[label for _, _, label in SINKS],
        alpha=0.85,
        lw=0,
    )
    ax.axhline(0.0, color=OKABE_ITO["black"], lw=0.8)
    for hour, _ in meals_g(result, day):
        ax.plot(
            [hour], [1.0], marker="v", ms=9, color=OKABE_ITO["blue"], clip_on=False, transform=ax.get_xaxis_transform()
        )
    ax.set_xlim(0.0, HOURS_PER_DAY)
    ax.set_xticks(np.arange(0, HOURS_PER_DAY + 1, HOUR_TICK_STEP))
    ax.set_xlabel("time of day (h)")
    ax.set_title(f"day {day} (year {day / DAYS_PER_YEAR:.1f})", pad=12)


def _draw_totals(ax, result, days: Sequence[int]) -> None:
    keys = [key for key, _, _ in SOURCES + SINKS]
    labels = [label.split(" (")[0] for _, _, label in SOURCES + SINKS]
    width = 0.8 / len(days)
    positions = np.arange(len(keys))
    for k, day in enumerate(days):
        totals = daily_totals_g(result, day)
        values = [totals[key] if key in dict((s[0], s) for s in SOURCES) else -totals[key] for key in keys]
        ax.barh(
            positions + (k - (len(days) - 1) / 2.0) * width,
            values,
            height=width,
            color=[TISSUE_COLOURS[key] for key in keys],
            alpha=1.0 if k == len(days) - 1 else 0.45,
            edgecolor=OKABE_ITO["black"],
            lw=0.6,
            label=f"year {day / DAYS_PER_YEAR:.1f}",
        )
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    ax.axvline(0.0, color=OKABE_ITO["black"], lw=0.8)
    ax.set_xlabel("glucose over the day (g)\nin (+) / out (\u2212)")
    ax.set_title("24-h totals", pad=12)


def _year_proxies(days: Sequence[int]) -> list:
    """Legend entries telling the totals' bars apart: faint for earlier days, solid for the last."""
    return [
        Patch(
            facecolor=OKABE_ITO["grey"],
            alpha=1.0 if k == len(days) - 1 else 0.45,
            edgecolor=OKABE_ITO["black"],
            lw=0.6,
            label=f"totals, year {day / DAYS_PER_YEAR:.1f}",
        )
        for k, day in enumerate(days)
    ]


def plot_disposal(result, days: Sequence[int] | int | None = None):
    """Glucose fluxes by tissue over one or more days, with daily totals; returns the Figure.

    Each 24-h panel stacks glucose entering plasma above zero (net liver
    output, gut appearance; mg/kg/min) and glucose leaving it below zero
    (brain, muscle, adipose uptake and renal excretion). The last panel gives
    each tissue's total over the day in grams. Grey shading: sleep; green:
    exercise; triangles: meals.

    **Main arguments:**

    - `result`: a ``SimulationResult``.
    - `days`: days to draw side by side (any days of the run, or one day; default: the first and the last).

    **Raises:**

    - `FigureError`: `days` is empty (a figure of daily totals over no day has nothing to show: an error says so
      where an empty figure would not).
    - `ResultError`: a day is not a day of the run.
    """
    if days is None:
        days = sorted({0, result.n_days - 1})
    elif isinstance(days, (int, np.integer)) and not isinstance(days, bool):
        days = [days]  # plot_disposal(result, days=365) meant that one day
    else:
        days = list(days)
    if not days:
        raise FigureError(f"plot_disposal: days is empty; give at least one day of the run (0 to {result.n_days - 1})")
    with plt.rc_context(RC):
        fig, axes = plt.subplots(
            1,
            len(days) + 1,
            figsize=(
                SLIDE_WIDTH_IN * max(1.0, (len(days) + TOTALS_WIDTH_RATIO) / (SLIDE_DAYS + TOTALS_WIDTH_RATIO)),
                DISPOSAL_HEIGHT_IN,
            ),
            width_ratios=[1.0] * len(days) + [TOTALS_WIDTH_RATIO],
        )
        for ax, day in zip(axes, days):
            _draw_day(ax, result, day)
        for ax in axes[1:-1]:
            ax.sharey(axes[0])  # one flux scale, so days compare at a glance
        axes[0].set_ylabel("glucose flux (mg/kg/min)\n\u2190 leaving plasma | entering \u2192")
        for ax in axes[1:-1]:
            ax.tick_params(labelleft=False)
        _draw_totals(axes[-1], result, days)
        for letter, ax in zip(string.ascii_lowercase, axes):  # "abcdefgh" left the panels of an 8th day on unnamed
            panel_letter(ax, letter)
        handles, _ = axes[0].get_legend_handles_labels()
        handles += [Patch(color=SLEEP_COLOUR, alpha=SHADE_ALPHA * 2, label="sleep")]
        if len(days) > 1:
            handles += _year_proxies(days)
        if any((result.trace(day)["exercise_intensity_pct"] > 0).any() for day in days):
            handles.append(Patch(color=EXERCISE_COLOUR, alpha=SHADE_ALPHA * 2, label="exercise"))
        fig.legend(handles=handles, loc="lower center", ncol=LEGEND_COLUMNS, frameon=False, bbox_to_anchor=(0.5, -0.02))
        fig.suptitle(f"{result.name}: where glucose comes from and goes")
        fig.tight_layout(rect=(0.0, 0.1, 1.0, 1.0))
    return finish(fig)


__all__ = ["plot_disposal", "daily_totals_g"]
