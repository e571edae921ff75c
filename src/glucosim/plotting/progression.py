"""The progression figure: fasting glucose, insulin, HbA1c, beta cells and sensitivity over years."""

import matplotlib.pyplot as plt

from glucosim.physiology.units import DAYS_PER_YEAR
from glucosim.plotting.style import GLUCOSE_BANDS, HBA1C_BANDS, OKABE_ITO, RC, TISSUE_COLOURS, stage_bands

SMOOTHING_DAYS = 7
"""Daily markers are shown as 7-day means so weekly routines do not make the lines ragged."""


def _smooth(series):
    return series.rolling(SMOOTHING_DAYS, min_periods=1, center=True).mean()


def _mark_changes(ax, result):
    for day, label in result.change_days:
        ax.axvline(day / DAYS_PER_YEAR, color=OKABE_ITO["grey"], ls="--", lw=1)


def _mark_crossings(ax, result, names):
    for name in names:
        day = result.summary["first_crossing_day"].get(name)
        if day is not None:
            ax.axvline(day / DAYS_PER_YEAR, color=OKABE_ITO["vermillion"], ls=":", lw=1)


def plot_progression(result, axes=None):
    """Five stacked panels over the run; returns the matplotlib Figure.

    Stage bands: ADA prediabetes (yellow) and diabetes (red) ranges; dotted red
    lines: first crossings of 100/126 mg/dl and 5.7/6.5 %; dashed grey lines:
    scenario changes.
    """
    daily = result.daily
    years = daily["year"]
    with plt.rc_context(RC):
        if axes is None:
            fig, axes = plt.subplots(5, 1, figsize=(8, 11), sharex=True)
        else:
            fig = axes[0].figure
        ax = axes[0]
        ax.plot(years, _smooth(daily["fasting_glucose_mg_dl"]), color=OKABE_ITO["black"], label="fasting")
        ax.plot(years, _smooth(daily["postmeal_2h_glucose_mg_dl"]), color=OKABE_ITO["sky"], label="2 h after breakfast")
        ax.set_ylim(min(70.0, ax.get_ylim()[0]), max(ax.get_ylim()[1], 150.0))
        stage_bands(ax, *GLUCOSE_BANDS)
        ax.set_ylabel("glucose (mg/dl)")
        ax.legend(loc="upper left", frameon=False)
        _mark_crossings(ax, result, ("fasting_glucose_100", "fasting_glucose_126"))

        ax = axes[1]
        ax.plot(years, _smooth(daily["fasting_insulin_uU_ml"]), color=OKABE_ITO["blue"])
        ax.set_ylabel("fasting insulin\n(\u00b5U/ml)")
        ax.set_ylim(bottom=0.0)

        ax = axes[2]
        ax.plot(years, daily["hba1c_percent"], color=OKABE_ITO["black"])
        ax.set_ylim(min(4.5, ax.get_ylim()[0]), max(ax.get_ylim()[1], 7.0))
        stage_bands(ax, *HBA1C_BANDS)
        ax.set_ylabel("HbA1c (%)")
        _mark_crossings(ax, result, ("hba1c_5.7", "hba1c_6.5"))

        ax = axes[3]
        ax.plot(years, daily["beta_cell_mass_rel"], color=OKABE_ITO["green"], label="mass")
        ax.plot(years, daily["beta_cell_function_rel"], color=OKABE_ITO["orange"], label="function")
        ax.set_ylabel("beta cells\n(healthy = 1)")
        ax.set_ylim(bottom=0.0)
        ax.legend(loc="upper left", frameon=False)

        ax = axes[4]
        for tissue, style in (("liver", "-"), ("muscle", "--"), ("adipose", ":")):
            ax.plot(years, daily[f"insulin_sensitivity_{tissue}_rel"], color=TISSUE_COLOURS[tissue], ls=style,
                    lw=2, label=tissue)
        ax.set_ylabel("insulin sensitivity\n(healthy = 1)")
        ax.set_ylim(bottom=0.0)
        ax.legend(loc="upper right", frameon=False)
        ax.set_xlabel("time (years)")

        for ax in axes:
            _mark_changes(ax, result)
            ax.set_xlim(0.0, max(float(years.iloc[-1]), 1.0 / DAYS_PER_YEAR))
        stage = result.summary["final_stage"]
        fig.suptitle(f"{result.name}\nfinal stage: {stage}", y=0.995)
        fig.align_ylabels(axes)
        fig.tight_layout()
    return fig


__all__ = ["plot_progression"]
