"""Named figures for lectures and papers, their registry, and the gallery page.

    >>> from glucosim.figures import make_figure, available_figures
    >>> available_figures()
    ('progression', 'day', 'disposal', 'ogtt', 'disposition', 'comparison')
    >>> fig = make_figure("progression", out="progression.svg")
    >>> fig = make_figure("comparison", scenarios=["scenarios/03_insulin_resistance_low_reserve.toml",
    ...                                            "scenarios/04_low_reserve_with_exercise.toml"])

A figure is one function ``build(scenarios, runs) -> matplotlib Figure``
registered with ``@register_figure``; it fetches simulations from ``runs`` (a
``RunCache``), so figures made together share one run per scenario. Adding a
figure means registering one more function: the CLI (``glucosim figure``),
``make_figure`` and the gallery (``glucosim gallery``) pick it up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glucosim.errors import GlucosimError
from glucosim.physiology.units import DAYS_PER_YEAR

KEPT_DAYS_AT_EACH_END = 7
"""Runs keep the 5-minute trajectories of the first and last week, so a figure can pick e.g. an exercise day."""
OGTT_FALLBACK_EVERY_YEARS = 4
"""When a scenario schedules no OGTT visits, the OGTT figure tests the patient every this many years."""
DISPOSITION_EVERY_YEARS = 1
"""The disposition-index path has one IVGTT per year."""
GALLERY_IMAGE_DIR = Path("images") / "figures"
"""Where the gallery's images go, relative to the docs directory."""
GALLERY_PAGE = "figures.md"
SWEEP_RESULTS_DIR = Path("results") / "sweeps"
"""Where figures run the sweeps they read (relative to the working directory; resumable)."""
SWEEP_HASH_CHARS = 8
"""A sweep's results directory carries this much of its hash, so a changed sweep gets a new directory."""
DRAFT_SWEEP_SAMPLES = 4
"""Samples of a non-grid sweep in a draft ``RunCache``."""

ScenarioLike = Any
"""A scenario file path (str or Path) or a ``LoadedScenario``."""


class FigureError(GlucosimError, ValueError):
    """A figure name, its scenarios or its output file are unusable; the message says what is allowed."""


class RunCache:
    """Simulations shared by the figures of one session: each scenario is run once.

    Every run keeps the midnight state of each year boundary (for clinic tests
    on the patient as they are then) and the trajectories of its first and last
    week.

    Figures that read a sweep get its results directory from ``sweep``: the
    sweep is run (or resumed) once, into ``sweep_dir``.

    Args:
        until_day: stop every run at this day (shorter runs for tests and drafts); None: the full scenario.
            A draft cache also cuts sweeps down: a grid keeps the first and last value of each variable,
            other designs ``DRAFT_SWEEP_SAMPLES`` samples.
        sweep_dir: where sweeps are run (default: ``results/sweeps``; a temporary directory for drafts).
    """

    def __init__(self, until_day: int | None = None, sweep_dir: str | Path | None = None):
        self.until_day = until_day
        self._results: dict[tuple[str, str], Any] = {}
        self._sweep_dir = Path(sweep_dir) if sweep_dir is not None else None
        self._sweeps: dict[str, Path] = {}

    def _load_sweep(self, path: Path):
        from glucosim._toml import load_toml
        from glucosim.sweep import load_sweep, parse_sweep

        if self.until_day is None:
            return load_sweep(path)
        data = load_toml(path)
        if data.get("design", {}).get("kind") == "grid":
            for variable in data.get("variables", []):
                if "values" in variable:
                    variable["values"] = [variable["values"][0], variable["values"][-1]]
                else:
                    variable["levels"] = 2
        else:
            data["design"]["samples"] = DRAFT_SWEEP_SAMPLES
        return parse_sweep(data, source=str(path), text=path.read_text() + "\n# draft: cut down by RunCache")

    def sweep(self, path: str | Path) -> Path:
        """The results directory of the sweep at ``path``, run (or resumed) on first request.

        Raises:
            SweepError: the file is not a valid sweep.
        """
        import tempfile

        from glucosim.sweep import run_sweep

        path = Path(path)
        if str(path) not in self._sweeps:
            loaded = self._load_sweep(path)
            if self._sweep_dir is None:
                draft = self.until_day is not None
                self._sweep_dir = Path(tempfile.mkdtemp(prefix="glucosim-sweeps-")) if draft else SWEEP_RESULTS_DIR
            out = self._sweep_dir / f"{path.stem}-{loaded.sha256[:SWEEP_HASH_CHARS]}"
            run_sweep(loaded, out, progress=self.until_day is None)
            self._sweeps[str(path)] = out
        return self._sweeps[str(path)]

    @staticmethod
    def _load(scenario: ScenarioLike):
        from glucosim.api import load_scenario

        return load_scenario(scenario)

    def _options(self, loaded) -> dict:
        n_days = (
            loaded.scenario.n_days if self.until_day is None else max(1, min(loaded.scenario.n_days, self.until_day))
        )
        from glucosim.simulation.result import whole_years

        n_years = whole_years(n_days)
        years = [min(int(round(year * DAYS_PER_YEAR)), n_days - 1) for year in range(n_years + 1)]
        ends = [*range(min(KEPT_DAYS_AT_EACH_END, n_days)), *range(max(n_days - KEPT_DAYS_AT_EACH_END, 0), n_days)]
        return {
            "until_day": self.until_day,
            "state_days": tuple(sorted(set(years))),
            "trajectory_days": tuple(ends),
            "progress": False,
        }

    @staticmethod
    def _key(loaded) -> tuple[str, str]:
        # the validated content, not the file text: scenarios built in Python have no text
        import hashlib

        content = loaded.scenario.model_dump_json().encode() + loaded.parameters.tobytes()
        return (str(loaded.source), hashlib.sha256(content).hexdigest())

    def get(self, scenario: ScenarioLike):
        """The ``SimulationResult`` of ``scenario`` (simulated on first request)."""
        from glucosim.clinic.visits import simulate_with_visits as simulate

        loaded = self._load(scenario)
        key = self._key(loaded)
        if key not in self._results:
            self._results[key] = simulate(loaded, **self._options(loaded))
        return self._results[key]

    def prefetch(self, scenarios: Sequence[ScenarioLike], workers: int = 1) -> None:
        """Simulate the scenarios not yet cached, in ``workers`` processes (results are identical).

        Inputs that are not scenario files (e.g. a sweep file that a figure reads itself) are skipped.
        """
        from glucosim.errors import ScenarioError

        loaded = {}
        for scenario in scenarios:
            try:
                found = self._load(scenario)
            except ScenarioError:
                continue
            loaded[self._key(found)] = found
        missing = [s for key, s in loaded.items() if key not in self._results]
        if workers <= 1 or len(missing) <= 1:
            for scenario in missing:
                self.get(scenario)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from glucosim.clinic.visits import simulate_with_visits as simulate

        # fork where the platform has it: workers then need no importable __main__ (scripts without a main guard)
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
            futures = {self._key(s): pool.submit(simulate, s, **self._options(s)) for s in missing}
            for key, future in futures.items():
                self._results[key] = future.result()


FigureBuilder = Callable[[list, RunCache], Any]


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure.

    Attributes:
        name: the name used by ``glucosim figure NAME`` and ``make_figure``.
        title: one line for listings and the gallery heading.
        caption: what the figure shows and how to read it (gallery text).
        build: ``build(scenarios, runs) -> Figure``.
        default_scenarios: scenario files (relative to ``scenarios/``) used when none are given.
        max_scenarios: how many scenarios it accepts (None: any number).
    """

    name: str
    title: str
    caption: str
    build: FigureBuilder
    default_scenarios: tuple[str, ...]
    max_scenarios: int | None = 1


FIGURES: dict[str, FigureSpec] = {}
"""Registered figures by name, in registration order (the gallery's order)."""


def register_figure(
    name: str, *, title: str, caption: str, scenarios: Sequence[str] = (), max_scenarios: int | None = 1
) -> Callable[[FigureBuilder], FigureBuilder]:
    """Decorator: register ``build(scenarios, runs) -> Figure`` as figure ``name``.

    Raises:
        ValueError: ``name`` is already registered.
    """

    def register(build: FigureBuilder) -> FigureBuilder:
        if name in FIGURES:
            raise ValueError(f"figure '{name}' is already registered")
        FIGURES[name] = FigureSpec(name, title, caption, build, tuple(scenarios), max_scenarios)
        return build

    return register


def available_figures() -> tuple[str, ...]:
    """Names of the registered figures."""
    return tuple(FIGURES)


def figure_spec(name: str) -> FigureSpec:
    """The registered figure ``name``.

    Raises:
        FigureError: no such figure (the message lists the registered names).
    """
    if name not in FIGURES:
        raise FigureError(f"unknown figure '{name}'; choose one of: {', '.join(FIGURES)}")
    return FIGURES[name]


def _resolve_scenarios(spec: FigureSpec, scenarios: Sequence[ScenarioLike] | None) -> list:
    if not scenarios:
        from glucosim._resources import scenario_dir

        paths = [scenario_dir() / name for name in spec.default_scenarios]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise FigureError(
                f"figure '{spec.name}': default scenario files not found ({', '.join(missing)}); "
                "pass scenarios explicitly"
            )
        return paths
    scenarios = list(scenarios)
    if spec.max_scenarios is not None and len(scenarios) > spec.max_scenarios:
        raise FigureError(f"figure '{spec.name}' takes at most {spec.max_scenarios} scenario(s), got {len(scenarios)}")
    return scenarios


def make_figure(
    name: str,
    scenarios: Sequence[ScenarioLike] | None = None,
    out: str | Path | None = None,
    runs: RunCache | None = None,
):
    """Build the registered figure ``name`` and optionally save it; returns the matplotlib Figure.

    Args:
        name: one of ``available_figures()``.
        scenarios: scenario files or LoadedScenarios (default: the figure's shipped scenarios).
        out: save to this .png, .svg or .pdf file (svg and pdf are vector).
        runs: a ``RunCache`` to share simulations between figures (default: a new one).

    Raises:
        FigureError: unknown name, too many scenarios, or an unsupported file type.
    """
    from glucosim.plotting.style import FIGURE_FORMATS, save_figure

    spec = figure_spec(name)
    if out is not None and Path(out).suffix.lower().lstrip(".") not in FIGURE_FORMATS:
        raise FigureError(f"cannot write '{out}': the file must end in " + ", ".join(f".{f}" for f in FIGURE_FORMATS))
    import matplotlib

    if out is not None:
        matplotlib.use("Agg", force=False)
    figure = spec.build(_resolve_scenarios(spec, scenarios), runs or RunCache())
    if out is not None:
        save_figure(figure, out)
    return figure


# ---------------------------------------------------------------- the figures
@register_figure(
    "progression",
    title="Progression dashboard",
    caption=(
        "Years of a run at a glance: the ADA stage (strip), fasting glucose and the glucose 2 h after "
        "breakfast with the prediabetes (yellow) and diabetes (red) ranges, HbA1c, fasting insulin, beta-cell "
        "mass and function, and insulin sensitivity. Dotted red lines mark the first crossing of each "
        "threshold. Scenario 3: the beta cells hold glucose near normal for a decade while insulin rises; "
        "then function collapses and glucose climbs. `glucosim run` writes this figure as `progression.png`."
    ),
    scenarios=("03_insulin_resistance_low_reserve.toml",),
)
def progression_figure(scenarios: list, runs: RunCache):
    """The progression dashboard of one scenario."""
    from glucosim.plotting.progression import plot_progression

    return plot_progression(runs.get(scenarios[0]))


def _last_exercise_day(result) -> int:
    """The last kept day with exercise, else the last kept day."""
    days = sorted(result.trajectories, reverse=True)
    for day in days:
        if (result.trajectories[day]["exercise_intensity_pct"] > 0).any():
            return day
    return days[0]


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
        "it goes (below zero: brain, muscle, adipose uptake and urinary loss), stacked over 24 h, on the first "
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
    days = [
        day for day in sorted(result.midnight_states) if round(day / DAYS_PER_YEAR) % OGTT_FALLBACK_EVERY_YEARS == 0
    ]
    return [run_protocol("ogtt_75g", result.loaded, day=day, state=result.midnight_states[day]) for day in days]


@register_figure(
    "ogtt",
    title="OGTT curves across a progression",
    caption=(
        "The 75 g oral glucose tolerance test at the clinic visits of scenario 3 (years 0, 4, 8, 12, 16): "
        "glucose and insulin for 3 h after the drink. The 2-h glucose moves from normal through impaired "
        "tolerance (140-199 mg/dl) to diabetes (>= 200 mg/dl) while the insulin curve first rises and "
        "is then lost."
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
        "response AIRg. Healthy compensation keeps SI x AIRg (the disposition index) constant: the patient "
        "slides along the hyperbola as sensitivity falls (scenario 2, normal reserve). With a low reserve "
        "(scenario 3) the path falls below the curve, and diabetes follows."
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
        years = [round(day / DAYS_PER_YEAR) for day in sorted(result.midnight_states)]
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
        "When does a lifestyle intervention still reverse the course? Scenario 7a's patient (sensitivity "
        "falling 3.5 % a year) starts the programme at year 2 to 16 (x) with a beta-cell secretory reserve "
        "of 1.2 to 3 times healthy function (y). Each cell is one 20-year run, coloured by the final ADA "
        "stage and labelled with the final fasting glucose (mg/dl). Early enough, or with enough reserve, "
        "glucose returns to normal; late, glucotoxicity has worn the beta cells down and the programme only "
        "improves it. A sweep (`scenarios/sweeps/reversibility_map.toml`, 48 runs); the figure runs it "
        "into `results/sweeps/` the first time, resumably."
    ),
    scenarios=("sweeps/reversibility_map.toml",),
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


# ---------------------------------------------------------------- the gallery
def _command(spec: FigureSpec) -> str:
    # shipped scenarios by name (works from anywhere); sweep files by their path in a clone
    scenarios = "".join(
        f" --scenario {'scenarios/' + name if '/' in name else Path(name).stem}" for name in spec.default_scenarios
    )
    return f"glucosim figure {spec.name}{scenarios} --out {spec.name}.svg"


def write_gallery(
    docs_dir: str | Path = "docs",
    runs: RunCache | None = None,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Make every registered figure from its default scenarios and write the gallery page.

    Writes ``<docs_dir>/images/figures/<name>.png`` and ``<docs_dir>/figures.md``
    (no timestamps, so an unchanged model gives an unchanged page).

    Args:
        docs_dir: the documentation directory.
        runs: a ``RunCache`` (default: a new one; each scenario is simulated once for all figures).
        workers: processes to simulate the scenarios in beforehand.
        progress: called with each figure name before it is made.

    Returns:
        The path of the page.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from glucosim.plotting.style import save_figure

    docs_dir = Path(docs_dir)
    runs = runs or RunCache()
    specs = list(FIGURES.values())
    from glucosim._resources import scenario_dir

    runs.prefetch(
        list(dict.fromkeys(scenario_dir() / name for spec in specs for name in spec.default_scenarios)),
        workers=workers,
    )
    lines = [
        "# Figure gallery",
        "",
        "Every figure glucosim makes, from the shipped scenarios. This page and its images are written by one",
        "command, `glucosim gallery` (a few minutes: each scenario is simulated once and shared by the figures).",
        "Each figure also comes on its own, as PNG, SVG or PDF, from the command line or from Python:",
        "",
        "```python",
        "import glucosim",
        'glucosim.make_figure("progression", scenarios=["04_low_reserve_with_exercise"], out="fig.pdf")',
        "```",
        "",
        "Colours are the Okabe-Ito colour-blind-safe palette; every axis carries its unit.",
        "",
    ]
    for spec in specs:
        if progress:
            progress(spec.name)
        figure = spec.build(_resolve_scenarios(spec, None), runs)
        image = GALLERY_IMAGE_DIR / f"{spec.name}.png"
        save_figure(figure, docs_dir / image)
        plt.close(figure)
        lines += [
            f"## {spec.title} (`{spec.name}`)",
            "",
            f"![{spec.title}]({image.as_posix()})",
            "",
            spec.caption,
            "",
            "```bash",
            _command(spec),
            "```",
            "",
        ]
    page = docs_dir / GALLERY_PAGE
    page.write_text("\n".join(lines))
    return page


__all__ = [
    "FIGURES",
    "FigureError",
    "FigureSpec",
    "RunCache",
    "available_figures",
    "figure_spec",
    "make_figure",
    "register_figure",
    "write_gallery",
    "ogtt_visits",
]
