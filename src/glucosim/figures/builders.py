"""Internal: the registered figures, each a builder with the caption the gallery prints under it.

Captions say what the figure draws for the shipped scenarios of this model
version; where the model disagrees with the textbook picture, the caption says
so rather than describing the textbook.
"""

from __future__ import annotations

from glucosim.figures.cache import RunCache
from glucosim.figures.registry import FigureError, register_figure
from glucosim.physiology.units import DAYS_PER_YEAR

OGTT_FALLBACK_EVERY_YEARS = 4
"""When a scenario schedules no OGTT visits, the OGTT figure tests the patient every this many years."""
DISPOSITION_EVERY_YEARS = 1
"""The disposition-index path has one IVGTT per year."""


@register_figure(
    "progression",
    title="Progression dashboard",
    caption=(
        "Years of a run at a glance: the ADA stage (strip), fasting glucose and the glucose 2 h after "
        "breakfast with the prediabetes (yellow) and diabetes (red) ranges, HbA1c, fasting insulin, beta-cell "
        "mass and function, and insulin sensitivity. Dotted red lines mark the first crossing of each "
        "threshold. Scenario 3: at their low reserve from the start, the beta cells hold fasting glucose "
        "normal at first (95 mg/dl), then in prediabetes from year ~4.9, rising ~1 mg/dl a year, for about "
        "ten years while fasting insulin rises from 11 to 16 uU/ml; then function collapses, glucose "
        "climbs and fasting glucose reaches 126 mg/dl at year ~15. `glucosim run` writes this figure as "
        "`progression.png`."
    ),
    scenarios=("03_insulin_resistance_low_reserve.toml",),
)
def progression_figure(scenarios: list, runs: RunCache):
    """The progression dashboard of one scenario."""
    from glucosim.plotting.progression import plot_progression

    return plot_progression(runs.get(scenarios[0]))


def _last_exercise_day(result) -> int:
    """The last day of the run's last week with exercise (from kept or recomputed traces), else the last day."""
    last_week = range(result.n_days - 1, max(result.n_days - 8, -1), -1)
    for day in last_week:
        if (result.trace(day)["exercise_intensity_pct"] > 0).any():
            return day
    return result.n_days - 1


@register_figure(
    "day",
    title="24-hour profile (CGM-like)",
    caption=(
        "Plasma glucose every 5 minutes, as a continuous glucose monitor shows it, with the consensus target "
        "range 70-180 mg/dl and the time in range; plasma insulin below. Meals (triangles, grams of "
        "carbohydrate), sleep (grey) and exercise (green) are marked. The grey trace is the same routine on "
        "day 0. Scenario 4 (low reserve with exercise on weekdays), an exercise day of its last week."
    ),
    scenarios=("04_low_reserve_with_exercise.toml",),
)
def day_figure(scenarios: list, runs: RunCache):
    """The 24-h profile of the last exercise day (or last day) of the run, against day 0."""
    from glucosim.plotting.day import plot_day

    result = runs.get(scenarios[0])
    day = _last_exercise_day(result)
    return plot_day(result, day=day, reference_day=0 if day != 0 else None)


@register_figure(
    "disposal",
    title="Glucose disposal by tissue over a day",
    caption=(
        "Where glucose comes from (above zero: net liver output and meal appearance from the gut) and where "
        "it goes (below zero: brain, muscle, adipose, the gut's and liver's basal uptake, and urinary loss), "
        "stacked over 24 h, on the first "
        "and the last day of scenario 3, with each tissue's total in grams. With diabetes, muscle takes up "
        "less after meals, the liver is no longer suppressed, and the kidney spills glucose."
    ),
    scenarios=("03_insulin_resistance_low_reserve.toml",),
)
def disposal_figure(scenarios: list, runs: RunCache):
    """Per-tissue fluxes on the first and last day of the run."""
    from glucosim.plotting.disposal import plot_disposal

    return plot_disposal(runs.get(scenarios[0]))


def ogtt_visits(result) -> list:
    """The run's OGTT clinic visits; if it scheduled none, a 75 g OGTT every few years on its kept states."""
    from glucosim.clinic.runner import run_protocol

    visits = [visit for visit in result.clinic if visit.protocol.protocol.kind == "ogtt"]
    if visits:
        return visits
    days = [day for day in _year_days(result) if round(day / DAYS_PER_YEAR) % OGTT_FALLBACK_EVERY_YEARS == 0]
    return [run_protocol("ogtt_75g", result.loaded, day=day, state=result.midnight_states[day]) for day in days]


def _year_days(result) -> list[int]:
    """The kept midnight states' days that start a year of the run (one per year, however many are kept)."""
    from glucosim.simulation.result import year_start_days

    return [day for day in year_start_days(result.n_days) if day in result.midnight_states]


@register_figure(
    "ogtt",
    title="OGTT curves across a progression",
    caption=(
        "The 75 g oral glucose tolerance test at the clinic visits of scenario 3 (years 0, 4, 8, 12, 16): "
        "glucose and insulin for 3 h after the drink; the ranges of impaired tolerance (140-199 mg/dl, yellow) "
        "and diabetes (>= 200 mg/dl, red) are shaded at the 2-h sample, the only time they apply. Through the "
        "years of compensation the 2-h glucose creeps up, normal at years 0, 4 and 8 (113, 125 and 137 mg/dl) "
        "and impaired at year 12 (152 mg/dl), while the insulin response holds (peaks 157-198 uU/ml); fasting "
        "glucose first reaches 126 mg/dl at year ~15, and at the visit of year 16 the 2-h glucose is in the "
        "diabetic range (267 mg/dl) and the insulin curve is lost (peak 69 uU/ml)."
    ),
    scenarios=("03_insulin_resistance_low_reserve.toml",),
)
def ogtt_figure(scenarios: list, runs: RunCache):
    """OGTT curves at the scenario's visits."""
    from glucosim.plotting.clinic import plot_ogtt_visits

    result = runs.get(scenarios[0])
    return plot_ogtt_visits(ogtt_visits(result), title=f"75 g OGTT over the years: {result.name}")


@register_figure(
    "disposition",
    title="Disposition-index hyperbola",
    caption=(
        "A yearly IVGTT (0.3 g/kg) gives the minimal-model insulin sensitivity SI and the acute insulin "
        "response AIRg. In people, healthy compensation keeps SI x AIRg (the disposition index, DI) about "
        "constant: a hyperbola (Kahn 1993). With a normal reserve (scenario 2) AIRg rises as SI falls (124 to "
        "~300 uU/ml as SI goes from 1.8 to 0.7) and DI stays within ~3 % of its first value over 20 years: the "
        "first-phase pool follows the adapted beta-cell capacity more steeply than second phase, with an "
        "exponent fitted to Kahn 1993 (so this agreement is fit-informed, docs/validation.md). With a low "
        "reserve (scenario 3) AIRg stays near 90 uU/ml through year 12 as SI falls (1.7 to 0.7), DI halves by "
        "year 10, and diabetes follows (year ~15); from year 16 the minimal model no longer identifies SI (its "
        "fit ends on a bound of the search, drawn at 0). SI is the Bayesian fit's (a population prior on p2: "
        "clinic/minimal_model.py)."
    ),
    scenarios=("02_insulin_resistance_compensated.toml", "03_insulin_resistance_low_reserve.toml"),
    max_scenarios=None,
)
def disposition_figure(scenarios: list, runs: RunCache):
    """SI against AIRg, one path per scenario."""
    from glucosim.plotting.disposition import disposition_path, plot_disposition

    paths = {}
    for scenario in scenarios:
        result = runs.get(scenario)
        years = [round(day / DAYS_PER_YEAR) for day in _year_days(result)]
        paths[result.name] = disposition_path(result, years[::DISPOSITION_EVERY_YEARS])
    return plot_disposition(paths)


@register_figure(
    "comparison",
    title="Scenario comparison",
    caption=(
        "The same markers for several scenarios on shared axes: compensated insulin resistance with normal "
        "sleep (2) and with 5.5 h sleep from year 2 (5); low reserve sedentary (3) and with 150 min/week of "
        "exercise (4). Circles mark where fasting glucose first reaches 126 mg/dl."
    ),
    scenarios=(
        "02_insulin_resistance_compensated.toml",
        "05_compensated_with_short_sleep.toml",
        "03_insulin_resistance_low_reserve.toml",
        "04_low_reserve_with_exercise.toml",
    ),
    max_scenarios=None,
)
def comparison_figure(scenarios: list, runs: RunCache):
    """Several scenarios on shared axes."""
    from glucosim.plotting.comparison import plot_comparison

    return plot_comparison([runs.get(scenario) for scenario in scenarios])


@register_figure(
    "reversibility",
    title="Reversibility map",
    caption=(
        "When does a lifestyle intervention still reverse the course? Scenario 7a's patient (sensitivity falling "
        "3.5 % a year) starts the programme at year 2 to 27 (x) with a beta-cell secretory reserve of 1.2 to 3 "
        "times healthy function (y). Each cell is one 30-year run, coloured by the final ADA stage (normal, "
        "prediabetes, diabetes) and labelled with the final fasting glucose (mg/dl). Early enough, or with enough "
        "reserve, glucose returns to normal (90 of 102 cells: fasting glucose 75-85 mg/dl, HbA1c 5.3-5.68 %). "
        "Later, with a reserve of 1.4 or less, a band of prediabetes (3 cells: a reserve of 1.2 at 22 and 23 "
        "years, 1.4 at 24; 83-87 mg/dl, HbA1c 5.7-5.94 %; with 1.6 a start at 25 ends just normal, HbA1c 5.68 %) "
        "comes before the cells the programme no longer brings out of diabetes (9 cells, from year 24 with a "
        "reserve of 1.2, 25 with 1.4 and 26 with 1.6: 108-125 mg/dl, HbA1c 7.7-8.7 %, diabetic by HbA1c). The "
        "beta-cell function that glucotoxicity impairs recovers within weeks once glucose falls, and the mass "
        "regrows slowly; the turn is where the mass left is too small for the programme to bring glucose down far "
        "enough: function then stays impaired and mass does not regrow (a reserve of 1.2: a start at 23 years, "
        "mass 0.46 of healthy, ends with mass 0.64; at 25, mass 0.44, 0.43 at year 30 and 0.42 at 45 years). Read "
        "at year 30, the latest starts have had only 3-6 years: run on "
        "to 45 years, the first diabetic column (24 with a reserve of 1.2, 25 with 1.4, 26 with 1.6) escapes, "
        "function back at its cap by year 35 and normal by 34-39, and only the later starts stay diabetic. The "
        "turn comes years after the diagnosis the patient would have had untreated (year 12.9 with a reserve of "
        "1.2, 16.7 with 1.4, 20.1 with 1.6): in glucosim a programme still returns a low-reserve patient to "
        "normal up to ~8 years into diabetes within the map's 30 years (~11 given 45), more often than trials "
        "find (Look AHEAD's "
        "intensive lifestyle programme: any remission in 11.5 % during the first year, complete remission, "
        "fasting glucose < 100 mg/dl and HbA1c < 5.7 %, in 1.3 %; Gregg 2012 JAMA 308:2489, abstract and a "
        "summary read; not a calibration target). A sweep (`scenarios/sweeps/reversibility_map.toml`, 102 runs of "
        "30 years); the figure runs it into `results/sweeps/` the first time, resumably (`glucosim figure "
        "reversibility` says how long that takes and asks for `--yes` first)."
    ),
    scenarios=("sweeps/reversibility_map.toml",),
    reads_sweep=True,
)
def reversibility_figure(scenarios: list, runs: RunCache):
    """The final stage over a two-variable grid sweep (first arm), e.g. intervention year x reserve."""
    from glucosim.analysis.sweep.figures import plot_stage_map
    from glucosim.sweep import SweepStore, load_results

    out = runs.sweep(scenarios[0])
    manifest = SweepStore(out).manifest()
    if manifest["design"] != "grid" or len(manifest["variables"]) != 2:
        raise FigureError(
            f"figure 'reversibility' needs a grid sweep over two variables; {scenarios[0]} has "
            f"a {manifest['design']} design over {len(manifest['variables'])}"
        )
    title = f"Final stage after {manifest['n_years']} years (cells: final fasting glucose, mg/dl)"
    return plot_stage_map(load_results(out), manifest, manifest["arms"][0], title)
