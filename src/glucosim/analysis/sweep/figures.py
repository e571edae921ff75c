"""Figures of a sweep: cumulative incidence by arm, sensitivity indices, and outcome maps over two variables."""

from __future__ import annotations

import numpy as np

from glucosim.parameters import DIMENSIONLESS
from glucosim.physiology.units import PERCENT
from glucosim.plotting.style import OKABE_ITO, RC, SERIES_COLOURS, STAGE_COLOURS
from glucosim.simulation import markers
from glucosim.sweep.store import COMPLETED_STATUSES

STAGE_ORDER = markers.STAGES
FIELD_UNITS = (
    ("_per_year", "1/year"),
    ("_pct_vo2max", "% VO2max"),
    ("_year", "year"),
    ("_years", "years"),
    ("_day", "day"),
    ("_h", "h"),
    ("_min", "min"),
    ("_kg", "kg"),
    ("_g", "g"),
    ("_scale", "x routine"),
    ("_rel", "x normal"),
)
"""Units of scenario fields, read off the end of their names (the schema's convention)."""
FIGURE_SIZE_IN = (7.0, 4.5)
MAP_SIZE_IN = (8.0, 6.0)
"""Tall enough for a long variable label on the y axis."""


def axis_label(variable: str, labels: dict | None = None) -> str:
    """An axis label with the unit for a sweep variable: its ``label`` in the sweep file if given, else the
    parameter-table name or scenario field path with the unit."""
    from glucosim.parameters import load_parameter_table

    if labels and variable in labels:
        return labels[variable]
    table = load_parameter_table()
    if variable in table:
        row = table[variable]
        return f"{variable} ({'relative' if row.unit == DIMENSIONLESS else row.unit})"
    for suffix, unit in FIELD_UNITS:
        if variable.endswith(suffix):
            return f"{variable} ({unit})"
    return variable


def _step_to(times, values, end):
    """Extend a step function's last value to ``end`` (the end of the runs)."""
    times, values = np.asarray(times, float), np.asarray(values, float)
    if end > times[-1]:
        times, values = np.append(times, end), np.append(values, values[-1])
    return times, values


def plot_cumulative_incidence(incidence, title: str = "", survival=None, hazards: dict | None = None):
    """Percent of each arm with diabetes (solid) and at least prediabetes (dashed), as steps.

    Args:
        incidence: the yearly table (``cumulative_incidence``).
        survival: optional Kaplan-Meier table (``kaplan_meier_incidence``): then the steps are at the
            onsets, with the confidence band of the diabetes incidence.
        hazards: optional ``hazard_ratios`` result, shown in the legend.
    """
    import matplotlib.pyplot as plt

    end = float(incidence["year"].max())
    with plt.rc_context(RC):
        figure, ax = plt.subplots(figsize=FIGURE_SIZE_IN)
        for index, (arm, group) in enumerate(incidence.groupby("arm", sort=False)):
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            label = f"{arm}: diabetes"
            found = (hazards or {}).get(arm)
            if found is not None and np.isfinite(found["hazard_ratio"]):
                label += f" (HR {found['hazard_ratio']:.2f}, {found['ci_low']:.2f}-{found['ci_high']:.2f})"
            if survival is not None:
                rows = survival[survival["arm"] == arm]
                diabetes = rows[rows["endpoint"] == "diabetes"]
                times, values = _step_to(diabetes["time_years"], diabetes["incidence"], end)
                _, low = _step_to(diabetes["time_years"], diabetes["ci_low"], end)
                _, high = _step_to(diabetes["time_years"], diabetes["ci_high"], end)
                ax.fill_between(times, PERCENT * low, PERCENT * high, step="post", color=colour, alpha=0.2, lw=0)
                worse = rows[rows["endpoint"] == "prediabetes_or_worse"]
                worse_times, worse_values = _step_to(worse["time_years"], worse["incidence"], end)
            else:
                times, values = group["year"], group["diabetes_fraction"]
                worse_times, worse_values = group["year"], group["prediabetes_or_worse_fraction"]
            ax.step(times, PERCENT * np.asarray(values), where="post", color=colour, lw=2.2, label=label)
            ax.step(
                worse_times,
                PERCENT * np.asarray(worse_values),
                where="post",
                color=colour,
                lw=1.4,
                ls="--",
                label=f"{arm}: prediabetes or worse",
            )
        ax.set_xlabel("time (years)")
        ax.set_ylabel("patients reaching the stage (%)")
        ax.set_ylim(0, PERCENT)
        ax.set_xlim(0, end)
        band = ", shaded: 95 % confidence band (Kaplan-Meier)" if survival is not None else ""
        ax.set_title(title or f"Cumulative incidence by arm (ADA thresholds{band})")
        ax.legend(frameon=False, fontsize="small")
        figure.tight_layout()
    return figure


def plot_sensitivity(indices, column: str, title: str = ""):
    """Tornado-style bars of one index per variable, largest at the top, with confidence intervals."""
    import matplotlib.pyplot as plt

    ordered = indices.sort_values(column)
    conf = ordered[f"{column}_conf"] if f"{column}_conf" in ordered else None
    with plt.rc_context(RC):
        figure, ax = plt.subplots(figsize=(FIGURE_SIZE_IN[0], 1.2 + 0.5 * len(ordered)))
        ax.barh(ordered["variable"], ordered[column], xerr=conf, color=OKABE_ITO["blue"], capsize=3)
        ax.axvline(0.0, color=OKABE_ITO["black"], lw=0.8)
        output = ordered["output"].iloc[0]
        ax.set_xlabel(f"{column} of {output} (dimensionless)")
        ax.set_title(title or f"What matters most for {output} ({ordered['method'].iloc[0]} design)")
        figure.tight_layout()
    return figure


def plot_outcome_map(
    stage_grid, value_grid=None, x_label: str = "", y_label: str = "", title: str = "", value_format: str = "{:.0f}"
):
    """Categorical map of the final stage over two variables, cells annotated with ``value_grid``.

    Args:
        stage_grid: DataFrame of stage names (rows: y values, columns: x values).
        value_grid: optional DataFrame of numbers written in each cell (e.g. final fasting glucose, mg/dl).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    codes = stage_grid.apply(lambda column: column.map({s: i for i, s in enumerate(STAGE_ORDER)})).to_numpy(float)
    colours = ListedColormap([STAGE_COLOURS[stage] for stage in STAGE_ORDER])
    with plt.rc_context(RC):
        figure, ax = plt.subplots(figsize=MAP_SIZE_IN)
        ax.imshow(
            np.ma.masked_invalid(codes),
            origin="lower",
            aspect="auto",
            cmap=colours,
            vmin=-0.5,
            vmax=len(STAGE_ORDER) - 0.5,
        )
        ax.set_xticks(range(stage_grid.shape[1]), [f"{v:g}" for v in stage_grid.columns])
        ax.set_yticks(range(stage_grid.shape[0]), [f"{v:g}" for v in stage_grid.index])
        if value_grid is not None:
            for (row, column), value in np.ndenumerate(value_grid.to_numpy(float)):
                if np.isfinite(value):
                    ax.text(column, row, value_format.format(value), ha="center", va="center", fontsize=9)
        ax.set_xlabel(x_label or str(stage_grid.columns.name))
        ax.set_ylabel(y_label or str(stage_grid.index.name))
        ax.set_title(title)
        handles = [Patch(color=STAGE_COLOURS[stage], label=stage) for stage in STAGE_ORDER]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="final stage")
        figure.tight_layout()
    return figure


def plot_stage_map(results, manifest: dict, arm: str, title: str = ""):
    """The final stage of one arm of a two-variable grid sweep, cells labelled with final fasting glucose (mg/dl).

    Args:
        results: the sweep's results table (``glucosim.sweep.load_results``).
        manifest: the sweep's manifest (variables, their labels).
        arm: which arm to draw.
    """
    from glucosim.analysis.sweep.sensitivity import outcome_grid

    x, y = manifest["variables"]
    labels = manifest.get("variable_labels")
    ok = results[(results["arm"] == arm) & results["status"].isin(COMPLETED_STATUSES)]
    stages = outcome_grid(ok, x, y, "final_stage")
    glucose = outcome_grid(ok, x, y, "final_fasting_glucose_mg_dl")
    return plot_outcome_map(stages, glucose, x_label=axis_label(x, labels), y_label=axis_label(y, labels), title=title)
