"""One day in detail: glucose and insulin as a CGM-like trace, and glucose fluxes by tissue."""

import matplotlib.pyplot as plt
import numpy as np

from glucosim.analysis import markers
from glucosim.physiology.indices import Par
from glucosim.physiology.units import MG_PER_G
from glucosim.plotting.style import OKABE_ITO, RC, TISSUE_COLOURS


BEDTIME_H = 23.0
"""Sleep is drawn from this clock time for the routine's hours (the model itself has no bedtime)."""


def _shade_sleep(ax, sleep_h: float):
    if sleep_h <= 0:
        return
    wake_h = BEDTIME_H + sleep_h - 24.0
    ax.axvspan(BEDTIME_H, 24.0, color=OKABE_ITO["grey"], alpha=0.12, lw=0)
    if wake_h > 0:
        ax.axvspan(0.0, wake_h, color=OKABE_ITO["grey"], alpha=0.12, lw=0)


def plot_day(result, day=None, axes=None):
    """Glucose, insulin and tissue fluxes over one kept day (default: the last); returns the Figure.

    Grey shading: sleep (drawn from 23:00 for the routine's hours); triangles:
    meals with their carbohydrate; green shading: exercise.
    """
    if day is None:
        day = max(result.trajectories)
    if day not in result.trajectories:
        raise KeyError(f"day {day} was not kept; kept days: {sorted(result.trajectories)} (use trajectory_days=...)")
    trajectory = result.trajectories[day]
    hours = trajectory["clock_h"].to_numpy()
    exercising = trajectory["exercise_intensity_pct"].to_numpy() > 0
    from glucosim.scenario.compile import ScenarioProgram

    program = ScenarioProgram(result.loaded)
    plan = program.day_plan(day)
    sleep_h = program.routine_on(day).sleep_h

    with plt.rc_context(RC):
        if axes is None:
            fig, axes = plt.subplots(3, 1, figsize=(8, 8.5), sharex=True)
        else:
            fig = axes[0].figure
        ax = axes[0]
        ax.plot(hours, trajectory["glucose_mg_dl"], color=OKABE_ITO["black"])
        ax.axhline(markers.TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL, color=OKABE_ITO["grey"], ls=":", lw=1)
        ax.set_ylabel("glucose (mg/dl)")
        top = ax.get_ylim()[1]
        for minute, dose_mg_kg, _ in plan.meals:
            grams = dose_mg_kg * float(result.loaded.parameters[Par.body_weight]) / MG_PER_G
            ax.annotate(f"{grams:.0f} g", (minute / 60.0, top), xytext=(0, -2), textcoords="offset points",
                        ha="center", va="top", fontsize=8, color=OKABE_ITO["blue"])
            ax.plot([minute / 60.0], [top], marker="v", color=OKABE_ITO["blue"], clip_on=False)

        ax = axes[1]
        ax.plot(hours, markers.insulin_uU_ml(trajectory["insulin_pmol_l"]), color=OKABE_ITO["blue"])
        ax.set_ylabel("insulin (\u00b5U/ml)")
        ax.set_ylim(bottom=0.0)

        ax = axes[2]
        uptake = [
            ("brain", trajectory["brain_uptake_mg_kg_min"]),
            ("muscle", trajectory["muscle_uptake_mg_kg_min"]),
            ("adipose", trajectory["adipose_uptake_mg_kg_min"]),
            ("kidney", trajectory["renal_excretion_mg_kg_min"]),
        ]
        labels = [f"{name} uptake" if name != "kidney" else "renal excretion" for name, _ in uptake]
        ax.stackplot(hours, *[values for _, values in uptake], labels=labels,
                     colors=[TISSUE_COLOURS[name] for name, _ in uptake], alpha=0.85)
        ax.plot(hours, trajectory["liver_output_mg_kg_min"], color=TISSUE_COLOURS["liver"], lw=2, label="liver output")
        ax.plot(hours, trajectory["gut_appearance_mg_kg_min"], color=OKABE_ITO["black"], lw=1.2, ls="--",
                label="meal appearance")
        ax.set_ylabel("glucose flux\n(mg/kg/min)")
        ax.set_xlabel("time of day (h)")
        ax.legend(loc="upper left", frameon=False, ncol=2)

        for ax in axes:
            _shade_sleep(ax, sleep_h)
            if exercising.any():
                ax.fill_between(hours, 0, 1, where=exercising, transform=ax.get_xaxis_transform(),
                                color=OKABE_ITO["green"], alpha=0.2, lw=0)
            ax.set_xlim(0.0, 24.0)
            ax.set_xticks(np.arange(0, 25, 3))
        fig.suptitle(f"{result.name}: day {day} (year {day / 365.25:.1f})", y=0.995)
        fig.align_ylabels(axes)
        fig.tight_layout()
    return fig
