"""Daily markers from one chunk of integration output.

Fasting values are sampled just before the first meal, the post-meal value 2 h
after it; daily fluxes are differences of the running integrals between
midnights (exact mass balance, no resampling error).
"""

import numpy as np

from glucosim.analysis import markers
from glucosim.physiology.indices import Flux, Par, St
from glucosim.physiology.units import DAYS_PER_YEAR, MINUTES_PER_DAY
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


def _row_at(t: np.ndarray, times: np.ndarray) -> np.ndarray:
    rows = np.searchsorted(t, times)
    rows = np.minimum(rows, len(t) - 1)
    # np.allclose's test (rtol 1e-5, atol 1e-8) without its overhead: this runs for every simulated stretch
    if not (np.abs(t[rows] - times) <= 1e-8 + 1e-5 * np.abs(times)).all():
        raise RuntimeError("a marker sample time is missing from the output grid")
    return rows


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
    n = len(plans)
    days = np.arange(first_day, first_day + n)
    midnights = days * MINUTES_PER_DAY
    day_ends = np.minimum(midnights + MINUTES_PER_DAY, end_min)
    start_rows = _row_at(t, midnights)
    end_rows = _row_at(t, day_ends)
    day_minutes = day_ends - midnights

    fasting_times = np.array([plan.fasting_sample_min for plan in plans]) + midnights
    fasting_ok = fasting_times <= day_ends
    fasting_rows = _row_at(t, np.where(fasting_ok, fasting_times, day_ends))
    fasting = organ_fluxes()(y[fasting_rows], drivers[segment[fasting_rows]], p)

    postmeal_times = np.array([plan.postmeal_sample_min for plan in plans]) + midnights
    postmeal_ok = np.isfinite(postmeal_times) & (postmeal_times <= day_ends)
    postmeal_rows = _row_at(t, np.where(postmeal_ok, postmeal_times, day_ends))
    glucose_grid = y[:, St.glucose_plasma_mg_kg] / p[Par.glucose_distribution_volume]

    def nan_unless(ok, values):
        return np.where(ok, values, np.nan)

    fasting_glucose = nan_unless(fasting_ok, fasting[:, Flux.glucose_mg_dl])
    fasting_insulin = nan_unless(fasting_ok, markers.insulin_uU_ml(fasting[:, Flux.insulin_pmol_l]))
    integral = y[end_rows] - y[start_rows]
    columns = {
        "day": days,
        "year": days / DAYS_PER_YEAR,
        "fasting_glucose_mg_dl": fasting_glucose,
        "fasting_insulin_uU_ml": fasting_insulin,
        "fasting_nefa_mmol_l": nan_unless(fasting_ok, y[fasting_rows, St.nefa_mmol_l]),
        "homa_ir": markers.homa_ir(fasting_glucose, fasting_insulin),
        "homa_b": markers.homa_b(fasting_glucose, fasting_insulin),
        "postmeal_2h_glucose_mg_dl": nan_unless(postmeal_ok, glucose_grid[postmeal_rows]),
        "mean_glucose_mg_dl": integral[:, St.cum_glucose_mg_dl_min] / day_minutes,
        "max_glucose_mg_dl": np.array([glucose_grid[a : b + 1].max() for a, b in zip(start_rows, end_rows)]),
        "min_glucose_mg_dl": np.array([glucose_grid[a : b + 1].min() for a, b in zip(start_rows, end_rows)]),
        "mean_insulin_uU_ml": markers.insulin_uU_ml(integral[:, St.cum_insulin_pmol_l_min] / day_minutes),
    }
    for name, state in DAILY_FLUX_COLUMNS.items():
        columns[name] = integral[:, state] * (MINUTES_PER_DAY / day_minutes)
    chronic = fasting[
        :,
        [
            Flux.chronic_sensitivity_liver_rel,
            Flux.chronic_sensitivity_muscle_rel,
            Flux.chronic_sensitivity_adipose_rel,
        ],
    ]
    columns.update(
        {
            "beta_cell_mass_rel": y[fasting_rows, St.beta_mass_rel],
            "beta_cell_function_rel": y[fasting_rows, St.beta_function_rel],
            "insulin_sensitivity_liver_rel": chronic[:, 0],
            "insulin_sensitivity_muscle_rel": chronic[:, 1],
            "insulin_sensitivity_adipose_rel": chronic[:, 2],
            "insulin_sensitivity_rel": np.exp(np.log(chronic).mean(axis=1)),
            "training_level": y[fasting_rows, St.training_level],
            "weight_change_kg": y[fasting_rows, St.weight_change_kg],
            "fat_mass_change_kg": y[fasting_rows, St.fat_mass_change_kg],
            "liver_fat_pct": y[fasting_rows, St.liver_fat_pct],
            "muscle_mass_rel": y[fasting_rows, St.muscle_mass_rel],
            "activity_sensitivity_rel": y[fasting_rows, St.activity_sensitivity_rel],
        }
    )
    return columns
