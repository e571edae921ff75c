"""Set the shipped DPP sweep's diet and regain draws from the DPP's weight shares (not from its diabetes outcome).

The lifestyle arm's adherence draws (scenarios/sweeps/prediabetes_lifestyle.toml, ``[[arms.adherence]]``) decide
how much weight each virtual participant loses. Three published shares of the DPP's lifestyle arm pin them:

- 49 % at the 7 % weight-loss goal at week 24 (Wing 2004, Obes Res 12:1426, abstract);
- 62.6 % with a loss of at least 5 % at year 1 (Apolzan 2019, Ann Intern Med 170:682, abstract);
- 37 % at the 7 % goal at the last visit, mean 3.2 years (Wing 2004), read at year 3.

(``glucosim.analysis.sweep.dpp.WEIGHT_LOSS_SHARES`` holds them.) The year-1 share is what pins the spread: with
the other two alone, a narrow spread around the goal fits as well as a wide one.

How: a finished prevention sweep that kept the daily weight supplies each enrolled lifestyle patient's simulated
weight change at week 24, year 1 and year 3. Each is regressed, in % of the patient's starting weight, on
100/weight times (1, diet, activity, regain): the energy balance makes the change in kg close to linear in the
draws (Hall 2011; rmse 0.2-0.5 % of body weight). Then the diet's mean and SD and the regain's upper bound are
solved so that the three shares, over the enrolled's own weights and fresh normal scores (the activity's draw as
the sweep file has it, its mean tied to 74 % at the activity goal), equal the published ones.

    glucosim sweep scenarios/sweeps/prediabetes_lifestyle.toml --out R --workers 2
    python tools/dpp_adherence.py R [--bands]

The sweep's own draws are a finite sample: rerun with the solved values, it gives the shares within ~2
percentage points (51 %, 65 % and 37 % on 2026-12-04), which ``python -m glucosim.analysis.sweep.dpp R`` reports.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from glucosim.analysis.sweep.dpp import (
    FOLLOW_UP_YEARS,
    WEIGHT_GOAL_FRACTION,
    WEIGHT_LOSS_SHARES,
    YEAR_ONE_LOSS_FRACTION,
    events_and_person_years,
    load_trial_results,
    rate_per_100py,
)
from glucosim.sweep.store import COMPLETED_STATUSES

ARM = "lifestyle"
BANDS = (
    ("gained", 0.0, 1e9),
    ("0-3 %", -3.0, 0.0),
    ("3-5 %", -5.0, -3.0),
    ("5-7 %", -7.0, -5.0),
    ("7-10 %", -10.0, -7.0),
    (">= 10 %", -1e9, -10.0),
)
"""Week-24 weight change bands, % of the starting weight (Maruthur 2013's, J Gen Intern Med 28:1629)."""
MONTE_CARLO_DRAWS = 200_000
SEED = 20021


WEIGHT_COLUMNS = {
    "week 24": "weight_change_week24_kg",
    "year 1 (5 %)": "weight_change_year1_kg",
    "end": "weight_change_end_kg",
}
"""Where ``dpp.weight_columns`` puts each share's weight change (week 24, the year-1 visit, the follow-up's last
day), keyed as ``WEIGHT_LOSS_SHARES``."""


def _read(out_dir: str):
    """The lifestyle arm's runs of the patients the trial table enrols (the reference arm's enrolment, as
    ``dpp.trial_table`` counts them), with their weight changes (``dpp.weight_columns``), and the whole results."""
    results = load_trial_results(out_dir)
    reference = results[results["arm"] == results["arm"].iloc[0]]
    enrolled_samples = set(reference.loc[reference["clinic_enrolled"].astype(bool), "sample"])
    lifestyle = results[(results["arm"] == ARM) & results["sample"].isin(enrolled_samples)]
    enrolled = lifestyle[lifestyle["status"].isin(COMPLETED_STATUSES)].set_index("run_id")
    return enrolled, results, enrolled_samples


def bands(results, enrolled_samples) -> None:
    """Incidence of the enrolled by their weight change at week 24 in the lifestyle arm, beside the same
    patients' control arm (the table of docs/sweeps.md)."""

    def rate(rows) -> float:
        return rate_per_100py(*events_and_person_years(rows["clinic_diagnosis_day"].to_numpy(float), FOLLOW_UP_YEARS))

    arms = {arm: group.set_index("sample") for arm, group in results.groupby("arm")}
    lifestyle = arms[ARM].loc[sorted(enrolled_samples)]
    control = arms[results["arm"].iloc[0]].loc[lifestyle.index]
    percent = 100.0 * lifestyle[WEIGHT_COLUMNS["week 24"]] / lifestyle["body_weight"]
    print("\n| lost at week 24 | enrolled | lifestyle per 100 py | same patients' control | ratio |")
    print("|---|---|---|---|---|")
    for label, low, high in BANDS:
        rows = (percent > low) & (percent <= high)
        if rows.any():
            here, there = rate(lifestyle[rows]), rate(control[rows])
            print(f"| {label} | {int(rows.sum())} | {here:.1f} | {there:.1f} | {here / there:.2f} |")


def surrogate(enrolled, column: str) -> tuple[np.ndarray, float]:
    """Coefficients of the % weight change in ``column`` (kg terms over the starting weight) and the rmse."""
    kg = enrolled["body_weight"].to_numpy(float)
    observed = 100.0 * enrolled[column].to_numpy(float) / kg
    terms = np.column_stack(
        [
            100.0 / kg,
            100.0 * enrolled["lifestyle.diet"].to_numpy(float) / kg,
            100.0 * enrolled["lifestyle.activity"].to_numpy(float) / kg,
            100.0 * enrolled["lifestyle.regain"].to_numpy(float) / kg,
            np.ones_like(kg),
        ]
    )
    coefficients, *_ = np.linalg.lstsq(terms, observed, rcond=None)
    return coefficients, float(np.sqrt(np.mean((terms @ coefficients - observed) ** 2)))


def main(argv: list[str] | None = None) -> int:
    from scipy.optimize import least_squares

    from glucosim.sweep.load import load_sweep

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", help="a finished prevention sweep that kept the daily weight_change_kg")
    parser.add_argument("--sweep", default="scenarios/sweeps/prediabetes_lifestyle.toml", help="its sweep file")
    parser.add_argument("--bands", action="store_true", help="also the incidence by week-24 weight change")
    args = parser.parse_args(argv)

    loaded = load_sweep(args.sweep)
    entries = {entry.name: entry for arm in loaded.sweep.arms if arm.name == ARM for entry in arm.adherence}
    diet_low, diet_high = entries["diet"].bounds
    activity = entries["activity"]
    enrolled, results, enrolled_samples = _read(args.results)
    losses = {"week 24": WEIGHT_GOAL_FRACTION, "year 1 (5 %)": YEAR_ONE_LOSS_FRACTION, "end": WEIGHT_GOAL_FRACTION}
    fits = {}
    for label, column in WEIGHT_COLUMNS.items():
        fits[label], rmse = surrogate(enrolled, column)
        print(f"surrogate {label} ({column}): rmse {rmse:.2f} % of body weight")

    rng = np.random.default_rng(SEED)
    kg = rng.choice(enrolled["body_weight"].to_numpy(float), MONTE_CARLO_DRAWS)
    diet_score, activity_score = rng.standard_normal(MONTE_CARLO_DRAWS), rng.standard_normal(MONTE_CARLO_DRAWS)
    uniform = rng.random(MONTE_CARLO_DRAWS)
    activity_draw = np.clip(activity.mean + activity.sd * activity_score, *activity.bounds)

    def shares(parameters) -> np.ndarray:
        diet_mean, diet_sd, regain_high = parameters
        diet = np.clip(diet_mean + diet_sd * diet_score, diet_low, diet_high)
        regain = regain_high * uniform
        out = []
        for label, c in fits.items():
            percent = 100.0 * (c[0] + c[1] * diet + c[2] * activity_draw + c[3] * regain) / kg + c[4]
            out.append(100.0 * np.mean(percent <= -100.0 * losses[label]))
        return np.array(out)

    target = np.array([WEIGHT_LOSS_SHARES[label].value for label in WEIGHT_COLUMNS])
    solution = least_squares(
        lambda p: shares(p) - target,
        x0=[1.1, 1.0, 60.0],
        bounds=([0.0, 0.05, 0.0], [3.0, 4.0, 400.0]),
        diff_step=0.02,
    )
    diet_mean, diet_sd, regain_high = solution.x
    print(f"\ndiet: mean {diet_mean:.2f}, sd {diet_sd:.2f} (bounds [{diet_low:g}, {diet_high:g}])")
    print(f"regain: 0-{regain_high:.0f} kcal/day")
    for label, share, goal in zip(WEIGHT_COLUMNS, shares(solution.x), target):
        print(f"  {label}: {share:.1f} % (published {goal:g} %)")
    unclipped = diet_mean + diet_sd * diet_score
    print(f"  clipped diet draws: {100 * np.mean((unclipped <= diet_low) | (unclipped >= diet_high)):.2f} %")
    if args.bands:
        bands(results, enrolled_samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
