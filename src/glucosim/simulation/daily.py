"""Daily markers from one chunk of integration output.

Fasting values are sampled just before the first meal, the post-meal value 2 h
after it; daily fluxes are differences of the running integrals between
midnights (exact mass balance, no resampling error).
"""

from dataclasses import dataclass, fields

import numpy as np

from glucosim.physiology.indices import Flux, Par, St
from glucosim.physiology.units import DAYS_PER_YEAR, MINUTES_PER_DAY
from glucosim.simulation import markers
from glucosim.simulation.organ import organ_fluxes

DAILY_FLUX_COLUMNS = {
    "liver_output_mg_kg_day": St.cum_liver_output_mg_kg,
    "gut_appearance_mg_kg_day": St.cum_gut_appearance_mg_kg,
    "muscle_uptake_mg_kg_day": St.cum_muscle_uptake_mg_kg,
    "adipose_uptake_mg_kg_day": St.cum_adipose_uptake_mg_kg,
    "brain_uptake_mg_kg_day": St.cum_brain_uptake_mg_kg,
    "splanchnic_uptake_mg_kg_day": St.cum_splanchnic_uptake_mg_kg,
    "renal_excretion_mg_kg_day": St.cum_renal_excretion_mg_kg,
    "insulin_secretion_pmol_kg_day": St.cum_secretion_pmol_kg,
}
"""Per-tissue glucose disposal (and insulin secretion) per day, from the running integrals."""
FASTING_STATE_COLUMNS = {
    "beta_cell_mass_rel": St.beta_mass_rel,
    "beta_cell_function_rel": St.beta_function_rel,
    "training_level": St.training_level,
    "weight_change_kg": St.weight_change_kg,
    "fat_mass_change_kg": St.fat_mass_change_kg,
    "liver_fat_pct": St.liver_fat_pct,
    "muscle_mass_rel": St.muscle_mass_rel,
    "activity_sensitivity_rel": St.activity_sensitivity_rel,
}
"""Slow states in the daily table, as they are at the fasting sample."""
CHRONIC_SENSITIVITY_COLUMNS = {
    "insulin_sensitivity_liver_rel": Flux.chronic_sensitivity_liver_rel,
    "insulin_sensitivity_muscle_rel": Flux.chronic_sensitivity_muscle_rel,
    "insulin_sensitivity_adipose_rel": Flux.chronic_sensitivity_adipose_rel,
}
"""The chronic (slow) part of each tissue's insulin sensitivity at the fasting sample."""
_FLUX_STATES = list(DAILY_FLUX_COLUMNS.values())
_FASTING_STATES = list(FASTING_STATE_COLUMNS.values())
_CHRONIC_FLUXES = list(CHRONIC_SENSITIVITY_COLUMNS.values())


def _row_at(t: np.ndarray, times: np.ndarray) -> np.ndarray:
    rows = np.searchsorted(t, times)
    np.minimum(rows, len(t) - 1, out=rows)
    # np.allclose's test (rtol 1e-5, atol 1e-8) without its overhead: this runs for every simulated stretch
    if not (np.abs(t[rows] - times) <= 1e-8 + 1e-5 * np.abs(times)).all():
        raise RuntimeError("a marker sample time is missing from the output grid")
    return rows


@dataclass
class DailySamples:
    """What the daily table's rows are computed from, for some days: the states (and drivers) at each day's fasting
    sample, the running integrals over the day, the post-meal sample and the day's glucose extremes (states, not yet
    in mg/dl). Envelope following keeps these for each simulated period and computes the table once at the end
    (``concatenate``, ``columns``): each numpy call costs about a microsecond whatever its size, and a long run
    simulates a day at a time."""

    days: np.ndarray
    day_minutes: np.ndarray
    fasting_ok: np.ndarray
    postmeal_ok: np.ndarray
    fasting_states: np.ndarray
    fasting_drivers: np.ndarray
    integral: np.ndarray
    postmeal_glucose: np.ndarray  # the plasma glucose state at the 2-h sample, mg/kg
    extremes: np.ndarray  # the plasma glucose state's largest and smallest value of each day, mg/kg
    insulin_peak: np.ndarray  # the plasma insulin state's largest value of each day, pmol/kg
    p: np.ndarray

    def __len__(self) -> int:
        return len(self.days)

    @classmethod
    def concatenate(cls, parts: "list[DailySamples]") -> "DailySamples":
        """The samples of ``parts`` one after the other (they share the parameter vector)."""
        columns = {
            item.name: np.concatenate([getattr(part, item.name) for part in parts])
            for item in fields(cls)
            if item.name != "p"
        }
        return cls(**(columns | {"p": parts[0].p}))

    def take(self, rows: np.ndarray) -> "DailySamples":
        """The samples of the days at positions ``rows``."""
        columns = {item.name: getattr(self, item.name)[rows] for item in fields(self) if item.name != "p"}
        return DailySamples(**(columns | {"p": self.p}))

    def _fasting_fluxes(self) -> np.ndarray:
        return organ_fluxes()(self.fasting_states, self.fasting_drivers, self.p)

    def glucose_columns(self, fasting: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The fasting and 2-h glucose columns (those whose threshold crossings envelope following refines as it
        goes); ``fasting``: the fluxes at the fasting samples, if computed already."""
        fasting = self._fasting_fluxes() if fasting is None else fasting
        volume = self.p[Par.glucose_distribution_volume]
        return {
            "fasting_glucose_mg_dl": _nan_unless(self.fasting_ok, fasting[:, Flux.glucose_mg_dl]),
            "postmeal_2h_glucose_mg_dl": _nan_unless(self.postmeal_ok, self.postmeal_glucose / volume, False),
        }

    def columns(self) -> dict[str, np.ndarray]:
        """The daily table's columns."""
        fasting = self._fasting_fluxes()
        glucose = self.glucose_columns(fasting)
        days, day_minutes, integral, fasting_ok = self.days, self.day_minutes, self.integral, self.fasting_ok
        volume = self.p[Par.glucose_distribution_volume]
        fasting_glucose = glucose["fasting_glucose_mg_dl"]
        fasting_insulin = _nan_unless(fasting_ok, markers.insulin_uU_ml(fasting[:, Flux.insulin_pmol_l]))
        columns = {
            "day": days,
            "year": days / DAYS_PER_YEAR,
            "fasting_glucose_mg_dl": fasting_glucose,
            "fasting_insulin_uU_ml": fasting_insulin,
            "fasting_nefa_mmol_l": _nan_unless(fasting_ok, self.fasting_states[:, St.nefa_mmol_l]),
            "homa_ir": markers.homa_ir(fasting_glucose, fasting_insulin),
            "homa_b": markers.homa_b(fasting_glucose, fasting_insulin),
            "postmeal_2h_glucose_mg_dl": glucose["postmeal_2h_glucose_mg_dl"],
            "mean_glucose_mg_dl": integral[:, St.cum_glucose_mg_dl_min] / day_minutes,
            # a division by the (positive) volume keeps the order, so the day's extremes are those of the state
            "max_glucose_mg_dl": self.extremes[:, 0] / volume,
            "min_glucose_mg_dl": self.extremes[:, 1] / volume,
            "mean_insulin_uU_ml": markers.insulin_uU_ml(integral[:, St.cum_insulin_pmol_l_min] / day_minutes),
            "max_insulin_uU_ml": markers.insulin_uU_ml(self.insulin_peak / self.p[Par.insulin_distribution_volume]),
        }
        per_day = integral[:, _FLUX_STATES] * (MINUTES_PER_DAY / day_minutes)[:, None]
        columns.update((name, per_day[:, k]) for k, name in enumerate(DAILY_FLUX_COLUMNS))
        chronic = fasting[:, _CHRONIC_FLUXES]
        slow = self.fasting_states[:, _FASTING_STATES]
        beta_cells = 2  # the table's order: the beta cells, the sensitivities, then the other slow states
        columns.update((name, slow[:, k]) for k, name in enumerate(list(FASTING_STATE_COLUMNS)[:beta_cells]))
        columns.update((name, chronic[:, k]) for k, name in enumerate(CHRONIC_SENSITIVITY_COLUMNS))
        columns["insulin_sensitivity_rel"] = np.exp(np.log(chronic).mean(axis=1))
        columns.update((name, slow[:, k]) for k, name in enumerate(FASTING_STATE_COLUMNS) if k >= beta_cells)
        return columns


def _nan_unless(ok: np.ndarray, values: np.ndarray, check: bool = True) -> np.ndarray:
    # the fasting sample is missing only on a run's partial last day: checking that costs less than masking
    if check and ok.all():
        return values
    return np.where(ok, values, np.nan)


def daily_samples(first_day, plans, t, y, segment, drivers, p, end_min) -> DailySamples:
    """What the daily table's rows of the days covered by one chunk are computed from (arguments as ``daily_rows``)."""
    n = len(plans)
    days = np.arange(first_day, first_day + n)
    midnights = days * MINUTES_PER_DAY
    day_ends = np.minimum(midnights + MINUTES_PER_DAY, end_min)
    fasting_times = np.array([plan.fasting_sample_min for plan in plans]) + midnights
    fasting_ok = fasting_times <= day_ends
    postmeal_times = np.array([plan.postmeal_sample_min for plan in plans]) + midnights
    postmeal_ok = np.isfinite(postmeal_times) & (postmeal_times <= day_ends)
    # every sample time of the chunk found in one search (envelope following calls this once per simulated day)
    wanted = np.concatenate(
        (
            midnights,
            day_ends,
            np.where(fasting_ok, fasting_times, day_ends),
            np.where(postmeal_ok, postmeal_times, day_ends),
        )
    )
    start_rows, end_rows, fasting_rows, postmeal_rows = _row_at(t, wanted).reshape(4, n)
    glucose = y[:, St.glucose_plasma_mg_kg]
    insulin = y[:, St.insulin_plasma_pmol_kg]
    return DailySamples(
        days=days,
        day_minutes=day_ends - midnights,
        fasting_ok=fasting_ok,
        postmeal_ok=postmeal_ok,
        fasting_states=y[fasting_rows],
        fasting_drivers=drivers[segment[fasting_rows]],
        integral=y[end_rows] - y[start_rows],
        postmeal_glucose=glucose[postmeal_rows],
        extremes=np.array([(glucose[a : b + 1].max(), glucose[a : b + 1].min()) for a, b in zip(start_rows, end_rows)]),
        insulin_peak=np.array([insulin[a : b + 1].max() for a, b in zip(start_rows, end_rows)]),
        p=p,
    )


def daily_rows(first_day, plans, t, y, segment, drivers, p, end_min) -> dict[str, np.ndarray]:
    """Columns of the daily table for the days covered by one chunk.

    Args:
        first_day: index of the chunk's first day.
        plans: the chunk's ``DayPlan`` per day.
        t, y, segment: integration output (minutes, states, segment index per row).
        drivers: the chunk schedule's driver rows.
        p: parameter vector.
        end_min: end of the run (the last day may be partial), minutes.
    """
    return daily_samples(first_day, plans, t, y, segment, drivers, p, end_min).columns()
