"""One day as a CGM-like trace: glucose and insulin every 5 minutes, meals, exercise and sleep marked."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from glucosim.physiology.indices import Par
from glucosim.physiology.units import DAYS_PER_YEAR, HOURS_PER_DAY, mg_per_kg_to_grams
from glucosim.plotting.style import EXERCISE_COLOUR, OKABE_ITO, RC, SHADE_ALPHA, SLEEP_COLOUR, SLIDE_WIDTH_IN, finish
from glucosim.simulation.markers import RANGE_HIGH_MG_DL, RANGE_LOW_MG_DL

WAKE_BEFORE_FIRST_MEAL_H = 0.5
"""Sleep is drawn ending half an hour before the first meal, for the routine's hours. The model has no clock
of sleep (short sleep acts through the day's sleep deficit), so this only places the shading sensibly."""
DEFAULT_WAKE_H = 7.0
"""Wake time drawn on days without meals."""
CGM_TARGET_RANGE_MG_DL = (RANGE_LOW_MG_DL, RANGE_HIGH_MG_DL)
"""The consensus CGM target range (simulation.markers, Battelino et al. 2019): time in range is reported for it."""
HOUR_TICK_STEP = 3
DAY_HEIGHT_IN = 7.0
CGM_MARKER_SIZE = 2.5
MEAL_LABEL_HEADROOM = 1.12
"""The glucose axis ends this factor above the data, so meal labels at the top do not sit on the trace."""
"""Dots at each 5-minute sample, as a CGM plots its readings."""


def sleep_window_h(result, day: int) -> tuple[float, float]:
    """(bedtime, wake time) in clock hours drawn for ``day``; bedtime may be before midnight (> wake)."""
    from glucosim.scenario.compile import ScenarioProgram

    program = ScenarioProgram(result.loaded)
    sleep_h = program.routine_on(day).sleep_h
    plan = program.day_plan(day)
    wake = plan.meals[0][0] / 60.0 - WAKE_BEFORE_FIRST_MEAL_H if plan.meals else DEFAULT_WAKE_H
    return (wake - sleep_h) % HOURS_PER_DAY, wake


def shade_sleep(ax, bedtime_h: float, wake_h: float) -> None:
    """Grey shading over the sleep window (split across midnight when needed)."""
    if bedtime_h > wake_h:
        ax.axvspan(bedtime_h, HOURS_PER_DAY, color=SLEEP_COLOUR, alpha=SHADE_ALPHA, lw=0)
        ax.axvspan(0.0, wake_h, color=SLEEP_COLOUR, alpha=SHADE_ALPHA, lw=0)
    else:
        ax.axvspan(bedtime_h, wake_h, color=SLEEP_COLOUR, alpha=SHADE_ALPHA, lw=0)


def shade_exercise(ax, hours: np.ndarray, exercising: np.ndarray) -> None:
    """Green shading while the trajectory's exercise intensity is above rest."""
    if exercising.any():
        ax.fill_between(
            hours,
            0,
            1,
            where=exercising,
            transform=ax.get_xaxis_transform(),
            color=EXERCISE_COLOUR,
            alpha=SHADE_ALPHA * 1.5,
            lw=0,
            step="mid",
        )


def meals_g(result, day: int) -> list[tuple[float, float]]:
    """(clock hour, carbohydrate in g) of each meal of ``day``."""
    from glucosim.scenario.compile import ScenarioProgram

    body_weight = float(result.loaded.parameters[Par.body_weight])
    plan = ScenarioProgram(result.loaded).day_plan(day)
    return [(minute / 60.0, mg_per_kg_to_grams(dose_mg_kg, body_weight)) for minute, dose_mg_kg, _ in plan.meals]


def time_in_range_percent(glucose_mg_dl) -> float:
    """Percent of readings within the CGM target range 70-180 mg/dl (``glucosim.cgm_metrics``)."""
    from glucosim.simulation.trace import cgm_metrics

    return cgm_metrics(glucose_mg_dl)["time_in_range_70_180_percent"]


def _day_readings(trace) -> np.ndarray:
    """A day's CGM readings: midnight to the last reading before the next midnight."""
    return trace.loc[trace["clock_h"] < HOURS_PER_DAY, "glucose_mg_dl"].to_numpy()


def plot_day(
    result,
    day: int | None = None,
    axes: Sequence | None = None,
    reference_day: int | None = None,
    sensor=None,
    seed: int = 0,
):
    """24-h profile of one day (default: the last) as a CGM-like trace; returns the Figure.

    Top: plasma glucose (mg/dl) every 5 minutes with the CGM target range
    70-180 mg/dl and the time in range; triangles mark meals with their
    carbohydrate (g). Bottom: plasma insulin (uU/ml). Grey shading: sleep;
    green shading: exercise. Glucose by tissue over a day is ``plot_disposal``.

    **Main arguments:**

    - `result`: a ``SimulationResult``.
    - `day`: the day to draw (any day of the run: ``result.trace(day)``).

    **Other arguments:**

    - `axes`: two axes (glucose, insulin) to draw into; default: a new figure.
    - `reference_day`: another day drawn thinly in grey for comparison (e.g. 0, the start).
    - `sensor`: a CGM (`"dexcom_g6"`, or a ``glucosim.load_sensor`` model) whose readings of the day are drawn as
      dots over the plasma glucose line, with their own time in range, as the device would show the day: a
      sensor inserted at the day's midnight (``glucosim.sensor_readings``). Default: plasma glucose only.
    - `seed`: the sensor noise's seed (the same seed draws the same readings).
    """
    day = result.n_days - 1 if day is None else day
    trajectory = result.trace(day)
    if sensor is not None:  # read (and refuse a bad sensor) before a figure is made
        from glucosim.clinic.cgm_sensor import SensorModel, load_sensor, sensor_readings

        model = sensor if isinstance(sensor, SensorModel) else load_sensor(sensor)
        readings = sensor_readings(_day_readings(trajectory), sensor=model, seed=seed)
    hours = trajectory["clock_h"].to_numpy()
    glucose = trajectory["glucose_mg_dl"].to_numpy()
    exercising = trajectory["exercise_intensity_pct"].to_numpy() > 0
    bedtime, wake = sleep_window_h(result, day)
    year = day / DAYS_PER_YEAR

    with plt.rc_context(RC):
        created = axes is None
        if axes is None:
            fig, axes = plt.subplots(
                2, 1, figsize=(SLIDE_WIDTH_IN, DAY_HEIGHT_IN), sharex=True, height_ratios=(1.6, 1.0)
            )
        else:
            fig = axes[0].figure
        ax_glucose, ax_insulin = axes
        for ax in axes:
            shade_sleep(ax, bedtime, wake)
            shade_exercise(ax, hours, exercising)

        low, high = CGM_TARGET_RANGE_MG_DL
        ax_glucose.axhspan(low, high, color=OKABE_ITO["green"], alpha=0.07, lw=0)
        for limit in CGM_TARGET_RANGE_MG_DL:
            ax_glucose.axhline(limit, color=OKABE_ITO["green"], lw=0.8, ls="--")
        label = f"year {year:.1f}: time in range {time_in_range_percent(_day_readings(trajectory)):.0f} %"
        if reference_day is not None:
            reference = result.trace(reference_day)
            reference_glucose = reference["glucose_mg_dl"].to_numpy()
            ref_label = (
                f"year {reference_day / DAYS_PER_YEAR:.1f}: time in range "
                f"{time_in_range_percent(_day_readings(reference)):.0f} %"
            )
            ax_glucose.plot(reference["clock_h"], reference_glucose, color=OKABE_ITO["grey"], lw=1.5, label=ref_label)
            ax_insulin.plot(
                reference["clock_h"],
                reference["insulin_uU_ml"],
                color=OKABE_ITO["grey"],
                lw=1.5,
                label=f"year {reference_day / DAYS_PER_YEAR:.1f}",
            )
        if sensor is None:
            ax_glucose.plot(
                hours, glucose, color=OKABE_ITO["black"], lw=1.2, marker="o", ms=CGM_MARKER_SIZE, label=label
            )
        else:
            day_hours = hours[hours < HOURS_PER_DAY]
            ax_glucose.plot(hours, glucose, color=OKABE_ITO["black"], lw=1.2, label=f"plasma, {label}")
            ax_glucose.plot(
                day_hours,
                readings,
                ls="",
                marker="o",
                ms=CGM_MARKER_SIZE,
                color=OKABE_ITO["vermillion"],
                label=f"{model.name} readings: time in range {time_in_range_percent(readings):.0f} %",
            )
        top = max(ax_glucose.get_ylim()[1], high) * MEAL_LABEL_HEADROOM
        ax_glucose.set_ylim(min(ax_glucose.get_ylim()[0], low * 0.85), top)
        for hour, grams in meals_g(result, day):
            ax_glucose.plot([hour], [top], marker="v", ms=10, color=OKABE_ITO["blue"], clip_on=False)
            ax_glucose.annotate(
                f"{grams:.0f} g",
                (hour, top),
                xytext=(6, -4),
                textcoords="offset points",
                ha="left",
                va="top",
                color=OKABE_ITO["blue"],
                fontsize=11,
            )
        ax_glucose.set_ylabel("plasma glucose (mg/dl)" if sensor is None else "glucose (mg/dl)")

        ax_insulin.plot(
            hours,
            trajectory["insulin_uU_ml"],
            color=OKABE_ITO["blue"],
            label=f"year {year:.1f}",
        )
        ax_insulin.set_ylabel("plasma insulin (\u00b5U/ml)")
        ax_insulin.set_ylim(bottom=0.0)
        ax_insulin.set_xlabel("time of day (h)")
        ax_insulin.set_xlim(0.0, HOURS_PER_DAY)
        ax_insulin.set_xticks(np.arange(0, HOURS_PER_DAY + 1, HOUR_TICK_STEP))

        handles, _ = ax_glucose.get_legend_handles_labels()
        handles += [
            Patch(color=OKABE_ITO["green"], alpha=0.25, label=f"target range {low:.0f}-{high:.0f} mg/dl"),
            Patch(color=SLEEP_COLOUR, alpha=SHADE_ALPHA * 2, label="sleep"),
        ]
        if exercising.any():
            handles.append(Patch(color=EXERCISE_COLOUR, alpha=SHADE_ALPHA * 2, label="exercise"))
        handles.append(
            plt.Line2D([], [], marker="v", ls="", ms=9, color=OKABE_ITO["blue"], label="meal (carbohydrate)")
        )
        ax_glucose.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        if reference_day is not None:
            ax_insulin.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.suptitle(f"{result.name}: 24 h on day {day} (year {year:.1f})")
        fig.align_ylabels(axes)
        fig.tight_layout()
    return finish(fig) if created else fig


__all__ = ["plot_day", "sleep_window_h", "meals_g", "time_in_range_percent"]
