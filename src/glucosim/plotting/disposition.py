"""The disposition-index hyperbola: insulin sensitivity against secretion, and a patient's path across it.

Kahn et al. 1993 (Diabetes 42:1663) found that in people with normal glucose
tolerance the acute insulin response to IV glucose (AIRg) rises as the
minimal-model insulin sensitivity (SI) falls, so that SI x AIRg, the
disposition index, stays constant: the pairs lie on a hyperbola. Falling
below it means the beta cells no longer compensate. Here both are measured
on the virtual patient with the ``ivgtt_0.3g`` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from glucosim.physiology.units import year_start_day
from glucosim.plotting.style import OKABE_ITO, RC, STAGE_COLOURS, finish, series_style

DISPOSITION_SIZE_IN = (13.0, 7.0)
"""Wide enough for the legend beside the axes (inside, it would hide points of the paths)."""
HYPERBOLA_FRACTIONS = (1.0, 0.5, 0.25)
"""Hyperbolae drawn through the first visit's disposition index and these fractions of it."""
HYPERBOLA_POINTS = 200
LABEL_EVERY_YEARS = 4
YEAR_LABEL_OFFSETS_PT = ((0, 13), (0, -14))
"""Year labels sit above the points of the first path and below those of the second, so paths do not collide."""
"""Years labelled next to the path (every point is drawn)."""


def disposition_path(result, years: Sequence[float]):
    """IVGTT indices of a run at the given years, from its kept midnight states.

    Returns:
        DataFrame with year, day, si_1e4_per_min_per_uU_ml, air_glucose_uU_ml,
        disposition_index, fasting_glucose_mg_dl and stage (ADA, from the
        year's fasting glucose and HbA1c).
    """
    import pandas as pd

    from glucosim.clinic.runner import run_protocol
    from glucosim.simulation import markers

    rows = []
    for year in years:
        day = min(year_start_day(year), len(result.daily) - 1)
        state = result.midnight_states.get(day)
        if state is None:
            raise KeyError(
                f"no state kept for day {day}; simulate with state_days=... (kept: {sorted(result.midnight_states)})"
            )
        indices = run_protocol("ivgtt_0.3g", result.loaded, day=day, state=state).indices
        hba1c = float(result.daily["hba1c_percent"].iloc[day])
        rows.append(
            {
                "year": year,
                "day": day,
                "si_1e4_per_min_per_uU_ml": float(indices["si_1e4_per_min_per_uU_ml"]),
                "air_glucose_uU_ml": float(indices["air_glucose_uU_ml"]),
                "disposition_index": float(indices["disposition_index"]),
                "fasting_glucose_mg_dl": float(indices["fasting_glucose_mg_dl"]),
                "stage": markers.stage(float(indices["fasting_glucose_mg_dl"]), hba1c),
            }
        )
    return pd.DataFrame(rows)


def plot_disposition(paths, title: str = "Disposition index: compensation, then falling off the curve"):
    """SI (x) against AIRg (y) with hyperbolae of constant SI x AIRg and each patient's path; returns the Figure.

    Args:
        paths: label -> DataFrame from ``disposition_path`` (one row per visit, in time order), or one DataFrame.
            The hyperbolae pass through the first path's first visit (100 %, 50 %, 25 % of its SI x AIRg).
        title: figure title.

    Points are coloured by the visit's ADA stage (green normal, yellow
    prediabetes, red diabetes); the line style tells the patients apart.
    """
    if not isinstance(paths, dict):
        paths = {"patient": paths}
    first = next(iter(paths.values()))
    si_all = np.concatenate([path["si_1e4_per_min_per_uU_ml"].to_numpy() for path in paths.values()])
    air_all = np.concatenate([path["air_glucose_uU_ml"].to_numpy() for path in paths.values()])
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=DISPOSITION_SIZE_IN)
        reference = float(first["disposition_index"].iloc[0])
        x = np.linspace(max(si_all.min(), 1e-3) * 0.3, si_all.max() * 1.3, HYPERBOLA_POINTS)
        for fraction, style in zip(HYPERBOLA_FRACTIONS, ("-", "--", ":")):
            ax.plot(
                x,
                fraction * reference / x,
                color=OKABE_ITO["grey"],
                ls=style,
                lw=1.5,
                label=f"SI \u00d7 AIRg = {fraction:.0%} of the first visit",
            )
        labelled_stages = set()
        for k, (label, path) in enumerate(paths.items()):
            si = path["si_1e4_per_min_per_uU_ml"].to_numpy()
            air = path["air_glucose_uU_ml"].to_numpy()
            ax.plot(si, air, color=OKABE_ITO["black"], lw=1.4, ls=series_style(k)["ls"], zorder=2, label=label)
            for stage, colour in STAGE_COLOURS.items():
                rows = (path["stage"] == stage).to_numpy()
                if rows.any():
                    ax.scatter(
                        si[rows],
                        air[rows],
                        s=70,
                        color=colour,
                        edgecolor=OKABE_ITO["black"],
                        zorder=3,
                        label=None if stage in labelled_stages else f"visit: {stage}",
                    )
                    labelled_stages.add(stage)
            last_year = path["year"].iloc[-1]
            for year, x_value, y_value in zip(path["year"], si, air):
                if year % LABEL_EVERY_YEARS == 0 or year == last_year:
                    ax.annotate(
                        f"{year:g}",
                        (x_value, y_value),
                        xytext=YEAR_LABEL_OFFSETS_PT[k % 2],
                        textcoords="offset points",
                        ha="center",
                        va="center",
                        fontsize=11,
                    )
        ax.set_xlim(0.0, si_all.max() * 1.15)
        ax.set_ylim(0.0, air_all.max() * 1.25)
        ax.set_xlabel("insulin sensitivity SI (10\u207b\u2074 min\u207b\u00b9 per \u00b5U/ml)")
        ax.set_ylabel("acute insulin response AIRg (\u00b5U/ml)")
        handles, labels = ax.get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda i: labels[i].startswith("visit"))  # paths first, then stages
        ax.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            frameon=False,
        )
        ax.text(
            1.02,
            0.0,
            "numbers next to points: years\nSI and AIRg from a 0.3 g/kg IVGTT\n(Bergman minimal model)",
            transform=ax.transAxes,
            ha="left",
            va="bottom",
            fontsize=11,
            color=OKABE_ITO["grey"],
        )
        ax.set_title(title)
        fig.tight_layout()
    return finish(fig)


__all__ = ["disposition_path", "plot_disposition"]
