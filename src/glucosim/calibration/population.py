"""Population calibration: fit a named cohort's distributions to a trial population's statistics.

The targets are a data file (``validation/targets/population/dpp.toml``): the
trial's baseline characteristics and the course of its control arm (incidence
of diabetes, return to normal regulation), each with its spread and source,
the cohort variables whose distribution parameters the fit moves, and those
set from the data directly. The fit regenerates the cohort file
(``models/cohorts/<cohort>.toml``), which then names what it was fitted to.

Method: importance reweighting of one simulated library. Course statistics
of a virtual cohort are counts (who is enrolled, who converts), so an
objective computed from a fresh cohort at every parameter vector is a step
function of the parameters, even with common random numbers, and
finite-difference optimisers stall on it. Instead, a library of virtual
patients is simulated once, drawn from a proposal (the start distributions,
widened, uncorrelated): a cohort sweep of the control arm over the trial's
follow-up, run by ``glucosim.sweep.run_sweep`` (chunked, resumable, progress
bar) into a cache folder keyed by the model's source hash. A candidate
cohort distribution p_theta then weights each library patient by
p_theta(x) / q(x) (self-normalised), and each statistic is a weighted
average: smooth in theta, and free to evaluate, so
``scipy.optimize.least_squares`` (trust-region reflective, bounded) fits in
well under a second. The effective sample size of the weights is reported;
the fitted cohort is then checked by simulating it directly (the shipped
prevention sweep). Why not a Bayesian/ABC package: the same reweighted
library would serve one (the likelihood is cheap once the library exists),
but with three free parameters and four summary targets the local analysis
below (Jacobian, local covariance) says what the targets pin down.

Rerun after any model change: ``python -m glucosim.calibration.population``
(or ``glucosim calibrate-population``) simulates a new library (the old one is
kept under its own hash) and refits.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glucosim._toml import TOMLDecodeError, load_toml
from glucosim.calibration.targets import TARGET_DIR, PublishedValue
from glucosim.errors import CalibrationError
from glucosim.physiology.units import DAYS_PER_YEAR

POPULATION_TARGET_DIR = TARGET_DIR / "population"
"""validation/targets/population: one file per trial population."""
DEFAULT_TARGETS = POPULATION_TARGET_DIR / "dpp.toml"
ENROLLED_STAGE = "prediabetes"
"""A library patient counts as enrolled when at this stage at year 0 (the trial's screening)."""
NORMAL_STAGE = "normal"
STATISTICS = (
    "diabetes_incidence_per_100py",
    "regression_per_100py",
    "baseline_fasting_glucose_mg_dl",
    "baseline_hba1c_percent",
    "enrolled_fraction",
)
"""What a target may measure (``statistics`` computes each, on the enrolled, weighted)."""
MIN_EFFECTIVE_SAMPLES = 30.0
"""Fewer effective enrolled patients than this at the fit: the library is too thin there (enlarge it)."""
FIELDS_OF = {"lognormal": ("median", "gsd"), "normal": ("mean", "sd")}
TARGET_FIELDS = {"name", "label", "statistic", "unit", "published", "spread", "low", "high", "source"}


# ---------------------------------------------------------------------------------------------- the targets
@dataclass(frozen=True)
class PopulationTarget(PublishedValue):
    """One published population statistic."""

    name: str
    label: str
    statistic: str
    unit: str
    source: str


@dataclass(frozen=True)
class FreeField:
    """A distribution parameter the fit moves: ``field`` (median, mean, ...) of cohort variable ``variable``."""

    variable: str
    field: str
    start: float
    low: float
    high: float
    source: str = ""
    """Why the start value (the hand-set cohort's): what the cohort keeps while a fit is not adopted."""
    proposal: float | None = None
    """Where the library's proposal is centred (default: ``start``): near a previous fit, so that the
    importance weights there are even (a larger effective sample)."""

    @property
    def name(self) -> str:
        return f"{self.variable}.{self.field}"


@dataclass(frozen=True)
class FixedField:
    """A distribution parameter set from the data directly."""

    variable: str
    field: str
    value: float
    source: str


@dataclass
class PopulationProblem:
    """A population target file, read and checked."""

    id: str
    title: str
    description: str
    cohort: str
    sweep: Path
    follow_up_years: int
    library_samples: int
    library_seed: int
    spread_factor: float
    free: list[FreeField]
    fixed: list[FixedField]
    targets: list[PopulationTarget]
    path: Path
    text: str = ""
    adopted: bool = True
    """Whether the cohort file takes the fitted values; a fit not adopted is run and reported, never written."""
    not_adopted_because: str = ""

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.free]


def _fail(path, message: str):
    raise CalibrationError(f"{path}: {message}")


def _repository_root() -> Path:
    """The folder holding models/ and scenarios/ (the parameter table's parent's parent)."""
    from glucosim.physiology.indices import PARAMETER_TABLE_PATH

    return PARAMETER_TABLE_PATH.resolve().parent.parent


def load_population_targets(path: Path | str = DEFAULT_TARGETS) -> PopulationProblem:
    """Read a population target file.

    Raises:
        CalibrationError: a missing or unknown field, a statistic that does not exist, a free field that
            the cohort's variable does not have.
    """
    path = Path(path)
    try:
        data = load_toml(path)
    except (OSError, TOMLDecodeError) as exc:
        _fail(path, f"cannot read: {exc}")
    for key in ("id", "title", "cohort", "sweep", "follow_up_years", "library", "free", "targets"):
        if key not in data:
            _fail(path, f"missing field '{key}'")
    targets = []
    for index, entry in enumerate(data["targets"]):
        if set(entry) != TARGET_FIELDS:
            _fail(path, f"targets[{index}]: fields must be {sorted(TARGET_FIELDS)} (got {sorted(entry)})")
        if entry["statistic"] not in STATISTICS:
            _fail(path, f"targets[{index}].statistic: {entry['statistic']!r} (allowed: {', '.join(STATISTICS)})")
        if not entry["spread"] > 0 or not entry["low"] <= entry["published"] <= entry["high"]:
            _fail(path, f"targets[{index}]: spread must be > 0 and low <= published <= high")
        targets.append(PopulationTarget(**entry))
    free = [FreeField(**entry) for entry in data["free"]]
    for f in free:
        if not f.low <= f.start <= f.high:
            _fail(path, f"free {f.name}: start {f.start} outside [{f.low}, {f.high}]")
        if f.proposal is not None and not f.low <= f.proposal <= f.high:
            _fail(path, f"free {f.name}: proposal {f.proposal} outside [{f.low}, {f.high}]")
    fixed = [FixedField(**entry) for entry in data.get("fixed", [])]
    library = data["library"]
    root = _repository_root()
    problem = PopulationProblem(
        id=data["id"],
        title=data["title"],
        description=data.get("description", ""),
        cohort=data["cohort"],
        sweep=(root / data["sweep"]).resolve(),
        follow_up_years=int(data["follow_up_years"]),
        library_samples=int(library["samples"]),
        library_seed=int(library["seed"]),
        spread_factor=float(library.get("spread_factor", 1.8)),
        free=free,
        fixed=fixed,
        targets=targets,
        path=path.resolve(),  # through the package's validation/data link: the repository's file
        text=path.read_text(),
        adopted=bool(data.get("adopted", True)),
        not_adopted_because=str(data.get("not_adopted_because", "")),
    )
    if not problem.adopted and len(problem.not_adopted_because) < 40:
        _fail(path, "not_adopted_because: a fit that is not adopted needs its reason (at least 40 characters)")
    variables, _ = start_cohort(problem)
    known = {v["name"]: v for v in variables}
    entries: list[FreeField | FixedField] = [*free, *fixed]
    for entry in entries:
        variable = known.get(entry.variable)
        if variable is None:
            _fail(path, f"{entry.variable!r} is not a variable of cohort {problem.cohort!r} ({', '.join(known)})")
            continue
        allowed = FIELDS_OF[variable["distribution"]]
        if entry.field not in allowed:
            _fail(path, f"{entry.variable}.{entry.field}: a {variable['distribution']} variable has {allowed}")
    return problem


# ---------------------------------------------------------------------------------------------- the cohort
def cohort_path(cohort: str) -> Path:
    from glucosim.sweep.load import COHORT_DIR

    return COHORT_DIR / f"{cohort}.toml"


def _variable_dicts(cohort_data: dict) -> list[dict]:
    rows = []
    for entry in cohort_data["variables"]:
        row = dict(entry)
        row["name"] = entry.get("parameter") or entry["field"]
        rows.append(row)
    return rows


def start_cohort(problem: PopulationProblem) -> tuple[list[dict], np.ndarray]:
    """The cohort's variables (dicts with 'name') with every free field at its start value and every fixed
    field at its value, and the correlation matrix of their normal scores."""
    data = load_toml(cohort_path(problem.cohort))
    variables = _variable_dicts(data)
    by_name = {v["name"]: v for v in variables}
    for f in problem.free:
        if f.variable in by_name:
            by_name[f.variable][f.field] = f.start
    for f in problem.fixed:
        if f.variable in by_name:
            by_name[f.variable][f.field] = f.value
    n = len(variables)
    correlation = np.asarray(data.get("correlation", np.eye(n)), dtype=float)
    return variables, correlation


def with_values(variables: list[dict], free: list[FreeField], values) -> list[dict]:
    """Copies of ``variables`` with the free fields set to ``values``."""
    out = [dict(v) for v in variables]
    by_name = {v["name"]: v for v in out}
    for f, value in zip(free, values):
        by_name[f.variable][f.field] = float(value)
    return out


def _scores(variables: list[dict], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normal scores of library values ``x`` (rows: patients) under ``variables``, and log |dz/dx| per row."""
    z = np.empty_like(x)
    log_jacobian = np.zeros(len(x))
    for j, v in enumerate(variables):
        if v["distribution"] == "lognormal":
            log_sd = math.log(v["gsd"])
            z[:, j] = (np.log(x[:, j]) - math.log(v["median"])) / log_sd
            log_jacobian -= np.log(x[:, j]) + math.log(log_sd)
        elif v["distribution"] == "normal":
            z[:, j] = (x[:, j] - v["mean"]) / v["sd"]
            log_jacobian -= math.log(v["sd"])
        else:
            raise CalibrationError(f"cohort variable {v['name']}: distribution {v['distribution']!r} is not fitted")
    return z, log_jacobian


def log_density(variables: list[dict], correlation: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Log density of the cohort distribution (Gaussian copula of the marginals) at each row of ``x``.

    Draws are clipped to bounds in the sweep; the density here is the unclipped one (the library stays away
    from the bounds, and a clipped row carries a negligible weight).
    """
    z, log_jacobian = _scores(variables, x)
    inverse = np.linalg.inv(correlation)
    _, log_det = np.linalg.slogdet(correlation)
    quadratic = np.einsum("ij,jk,ik->i", z, inverse, z)
    return -0.5 * quadratic - 0.5 * log_det - 0.5 * len(variables) * math.log(2 * math.pi) + log_jacobian


def proposal_variables(problem: PopulationProblem) -> list[dict]:
    """The library's distributions: the start cohort, each free field moved to its ``proposal`` centre where
    one is given, with every spread widened by ``spread_factor``."""
    variables, _ = start_cohort(problem)
    variables = with_values(
        variables, problem.free, [f.start if f.proposal is None else f.proposal for f in problem.free]
    )
    widened = []
    for v in variables:
        w = dict(v)
        if v["distribution"] == "lognormal":
            w["gsd"] = float(v["gsd"] ** problem.spread_factor)
        else:
            w["sd"] = float(v["sd"] * problem.spread_factor)
        widened.append(w)
    return widened


# ---------------------------------------------------------------------------------------------- the library
def library_sweep_data(problem: PopulationProblem) -> tuple[dict, str]:
    """The library as sweep data (and the sweep file's text): the trial sweep's base scenario and seed-free
    settings, its control arm only, ``follow_up_years`` long, the proposal's independent variables."""
    from glucosim._toml import read_toml_file
    from glucosim.errors import SweepError

    data, _ = read_toml_file(problem.sweep, SweepError, "sweep")
    variables = []
    for v in proposal_variables(problem):
        entry = {
            k: v[k]
            for k in ("parameter", "field", "unit", "distribution", "median", "gsd", "mean", "sd", "bounds")
            if k in v
        }
        variables.append(entry)
    reference_arm = (data.get("arms") or [{"name": "control"}])[0]["name"]
    library = {
        "name": f"Population library of {problem.id} ({problem.cohort}, control arm)",
        "description": f"Proposal draws for the population fit of {problem.path.name}",
        "base_scenario": data["base_scenario"],
        "duration_years": problem.follow_up_years,
        "seed": problem.library_seed,
        "design": {"kind": "cohort", "samples": problem.library_samples},
        "variables": variables,
        "arms": [{"name": reference_arm}],
    }
    if "outputs" in data:
        library["outputs"] = data["outputs"]
    # the library's identity is what defines its runs (not the sweep file's comments or other arms)
    return library, "# population library\n" + repr(library)


def library_dir(problem: PopulationProblem, cache_dir: Path | None = None) -> Path:
    """Where the library lives: keyed by the model's source hash and by the library sweep (base scenario,
    proposal, size, seed): any change of either makes a new library, and the old one stays for a rerun."""
    from glucosim.calibration.cache import default_cache_dir
    from glucosim.calibration.measure import model_source_hash

    root = Path(cache_dir) if cache_dir is not None else default_cache_dir().parent / "population"
    return root / f"{problem.id}-{model_source_hash()}-{library_sweep(problem).sha256[:12]}"


def library_sweep(problem: PopulationProblem):
    """The library as a checked ``LoadedSweep``."""
    from glucosim.sweep.load import parse_sweep

    data, text = library_sweep_data(problem)
    return parse_sweep(data, source=str(problem.sweep), text=text)


def run_library(problem: PopulationProblem, cache_dir: Path | None = None, progress: bool = True, workers: int = 1):
    """Simulate (or resume, or reuse) the library; returns its results table."""
    from glucosim.sweep.runner import run_sweep

    loaded = library_sweep(problem)
    out = library_dir(problem, cache_dir)
    outcome = run_sweep(loaded, out, workers=workers, progress=progress)
    if not outcome.complete:
        raise CalibrationError(f"{out}: the library is not complete ({outcome.n_done} of {outcome.n_runs} runs)")
    return library_results(out)


def library_results(out: Path):
    """The library's results table, with the virtual DPP clinic's columns (screening, confirmed diagnosis,
    return to normal: ``analysis.sweep.clinic``) when the library kept the daily values the clinic reads."""
    from glucosim.analysis.sweep.dpp import load_trial_results

    return load_trial_results(out)


# ---------------------------------------------------------------------------------------------- statistics
def _stage_columns(results, n_years: int) -> np.ndarray:
    return np.column_stack([results[f"y{year}_stage"].astype(object).to_numpy() for year in range(n_years + 1)])


@dataclass
class Library:
    """The library's columns the statistics need, as arrays (so a fit evaluates in microseconds)."""

    x: np.ndarray
    variable_names: list[str]
    ok: np.ndarray
    enrolled: np.ndarray
    fasting_glucose_0: np.ndarray
    hba1c_0: np.ndarray
    diabetes_years: np.ndarray
    regression_years: np.ndarray
    follow_up_years: float
    log_proposal: np.ndarray | None = None

    @classmethod
    def from_results(cls, results, variable_names: list[str], follow_up_years: int, proposal=None):
        from glucosim.sweep.store import COMPLETED_STATUSES

        ok = results["status"].isin(COMPLETED_STATUSES).to_numpy()
        if "clinic_enrolled" in results.columns:
            # what the virtual DPP clinic sees (analysis.sweep.clinic): tests with their day-to-day variability,
            # screening by the DPP's fasting window, diagnoses confirmed by a repeat test, yearly returns to normal
            enrolled = ok & results["clinic_enrolled"].to_numpy(bool)
            diabetes_years = results["clinic_diagnosis_day"].to_numpy(float) / DAYS_PER_YEAR
            regression = results["clinic_normal_day"].to_numpy(float) / DAYS_PER_YEAR
            fasting_0 = results["clinic_screen_fasting_glucose_mg_dl"].to_numpy(float)
            hba1c_0 = results["clinic_screen_hba1c_percent"].to_numpy(float)
        else:  # the true course: stage at year 0, first day past a threshold, yearly stage
            stages = _stage_columns(results, follow_up_years)
            enrolled = ok & (stages[:, 0] == ENROLLED_STAGE)
            diabetes_years = results["diabetes_onset_day"].to_numpy(float) / DAYS_PER_YEAR
            # first yearly check (years 1..T) at normal regulation, before any diabetes onset
            regression = np.full(len(results), np.nan)
            for year in range(follow_up_years, 0, -1):
                normal = (stages[:, year] == NORMAL_STAGE) & ~(diabetes_years <= year)
                regression[normal] = year
            fasting_0 = results["y0_fasting_glucose_mg_dl"].to_numpy(float)
            hba1c_0 = results["y0_hba1c_percent"].to_numpy(float)
        x = results[variable_names].to_numpy(float)
        library = cls(
            x=x,
            variable_names=list(variable_names),
            ok=ok,
            enrolled=enrolled,
            fasting_glucose_0=fasting_0,
            hba1c_0=hba1c_0,
            diabetes_years=diabetes_years,
            regression_years=regression,
            follow_up_years=float(follow_up_years),
        )
        if proposal is not None:
            library.log_proposal = log_density(proposal, np.eye(len(proposal)), x)
        return library


def _rate_per_100py(weights: np.ndarray, event_years: np.ndarray, censor_years: np.ndarray, horizon: float) -> float:
    """100 x weighted events / weighted person-years at risk (each at risk until its event, censoring or the
    horizon)."""
    event = ~np.isnan(event_years) & (event_years <= horizon)
    end = np.fmin(np.where(event, event_years, horizon), censor_years)
    event &= event_years <= end
    years = float(np.sum(weights * end))
    return 100.0 * float(np.sum(weights * event)) / years if years > 0 else float("nan")


def statistics(library: Library, weights: np.ndarray) -> dict[str, float]:
    """Each statistic of STATISTICS on the enrolled, under ``weights`` (one per library patient).

    Incidence: diabetes onsets / person-years over the follow-up. Regression: first returns to normal at a
    yearly check / person-years at risk of it (until it, diabetes or the end).
    """
    w_all = np.where(library.ok, weights, 0.0)
    w = np.where(library.enrolled, w_all, 0.0)
    total = float(np.sum(w))
    horizon = library.follow_up_years
    never = np.full(len(w), np.inf)
    dm = np.where(np.isnan(library.diabetes_years), np.inf, library.diabetes_years)
    return {
        "diabetes_incidence_per_100py": _rate_per_100py(w, library.diabetes_years, never, horizon),
        "regression_per_100py": _rate_per_100py(w, library.regression_years, dm, horizon),
        "baseline_fasting_glucose_mg_dl": float(np.sum(w * library.fasting_glucose_0) / total) if total else math.nan,
        "baseline_hba1c_percent": float(np.sum(w * library.hba1c_0) / total) if total else math.nan,
        "enrolled_fraction": total / float(np.sum(w_all)) if np.sum(w_all) else math.nan,
    }


def importance_weights(library: Library, variables: list[dict], correlation: np.ndarray) -> np.ndarray:
    """Self-normalised weights p_theta(x) / q(x) of the library patients (sum 1 over completed runs)."""
    log_w = log_density(variables, correlation, library.x) - library.log_proposal
    log_w = np.where(library.ok, log_w, -np.inf)
    log_w -= np.max(log_w)
    w = np.exp(log_w)
    return w / np.sum(w)


def effective_samples(weights: np.ndarray) -> float:
    """Kish's effective sample size, (sum w)^2 / sum w^2."""
    total = float(np.sum(weights))
    return total * total / float(np.sum(weights * weights)) if total > 0 else 0.0


# ---------------------------------------------------------------------------------------------- the fit
@dataclass
class PopulationFit:
    """What the fit found."""

    problem: PopulationProblem
    values: dict[str, float]
    statistics: dict[str, float]
    start_statistics: dict[str, float]
    cost: float
    start_cost: float
    effective_enrolled: float
    library_size: int
    library_enrolled: int
    status: str
    jacobian: np.ndarray
    log_sd: list[float]
    runtime_s: float = 0.0
    library_path: str = ""

    def residuals(self) -> dict[str, float]:
        return {t.name: t.residual(self.statistics[t.statistic]) for t in self.problem.targets}


class Objective:
    """Weighted residuals of the targets as a function of the free values (reweighting the library)."""

    def __init__(self, problem: PopulationProblem, library: Library):
        self.problem = problem
        self.library = library
        self.variables, self.correlation = start_cohort(problem)

    def weights(self, values) -> np.ndarray:
        return importance_weights(
            self.library, with_values(self.variables, self.problem.free, values), self.correlation
        )

    def statistics(self, values) -> dict[str, float]:
        return statistics(self.library, self.weights(values))

    def __call__(self, values) -> np.ndarray:
        found = self.statistics(values)
        return np.array([t.residual(found[t.statistic]) for t in self.problem.targets])


def fit_population(problem: PopulationProblem, library: Library) -> PopulationFit:
    """Least squares over the free distribution parameters (bounded; steps relative to each parameter's range)."""
    from scipy.optimize import least_squares

    started = time.perf_counter()
    objective = Objective(problem, library)
    # from the library's centre: where the weights are even, not from a start the library may cover thinly
    start = np.array([f.start if f.proposal is None else f.proposal for f in problem.free])
    low = np.array([f.low for f in problem.free])
    high = np.array([f.high for f in problem.free])
    scale = (high - low) / 10.0
    r0 = objective(start)
    solution = least_squares(objective, start, bounds=(low, high), x_scale=scale, diff_step=1e-3, method="trf")
    values = solution.x
    jac = solution.jac
    try:
        covariance = np.linalg.inv(jac.T @ jac)
        sd = [float(math.sqrt(max(c, 0.0))) for c in np.diag(covariance)]
    except np.linalg.LinAlgError:
        sd = [math.inf] * len(values)
    weights = objective.weights(values)
    enrolled_weights = np.where(library.enrolled, weights, 0.0)
    return PopulationFit(
        problem=problem,
        values={f.name: float(v) for f, v in zip(problem.free, values)},
        statistics=objective.statistics(values),
        start_statistics=objective.statistics(start),
        cost=float(0.5 * np.sum(solution.fun**2)),
        start_cost=float(0.5 * np.sum(r0**2)),
        effective_enrolled=effective_samples(enrolled_weights),
        library_size=len(library.x),
        library_enrolled=int(np.sum(library.enrolled)),
        status=str(solution.message),
        jacobian=jac,
        log_sd=sd,
        runtime_s=time.perf_counter() - started,
    )


def calibrate_population(
    path: Path | str = DEFAULT_TARGETS, cache_dir: Path | None = None, progress: bool = True, workers: int = 1
) -> PopulationFit:
    """Simulate (or reuse) the library and fit the cohort's free distribution parameters to the targets."""
    problem = load_population_targets(path)
    results = run_library(problem, cache_dir, progress=progress, workers=workers)
    variables, _ = start_cohort(problem)
    library = Library.from_results(
        results, [v["name"] for v in variables], problem.follow_up_years, proposal=proposal_variables(problem)
    )
    fit = fit_population(problem, library)
    fit.library_path = str(library_dir(problem, cache_dir))
    return fit


# ---------------------------------------------------------------------------------------------- outputs
def _fmt(value: float) -> str:
    return f"{value + 0.0 if abs(value) > 1e-12 else 0.0:.4g}"  # a value at a bound of 0 prints 0, not -1e-15


def summary_lines(fit: PopulationFit) -> list[str]:
    """Plain-text lines: fitted values, targets against the model, effective sample size."""
    lines = [f"{'distribution parameter':45s} {'start':>9s} {'fitted':>9s} {'local SD':>9s}"]
    for f, sd in zip(fit.problem.free, fit.log_sd):
        lines.append(f"{f.name:45s} {f.start:9.4g} {fit.values[f.name]:9.4g} {sd:9.3g}")
    lines.append("")
    for t in fit.problem.targets:
        value = fit.statistics[t.statistic]
        verdict = "agrees" if t.agrees(value) else "DISAGREES"
        lines.append(
            f"{t.name:26s} {value:8.4g} (start {fit.start_statistics[t.statistic]:.4g}; published {t.published:g},"
            f" {t.low:g}-{t.high:g} {t.unit}): {verdict}"
        )
    lines.append(
        f"enrolled (by the virtual clinic): {fit.statistics['enrolled_fraction']:.0%} of the screened cohort;"
        f" library {fit.library_size} patients, {fit.library_enrolled} enrolled, effective {fit.effective_enrolled:.0f}"
        f" at the fit"
    )
    lines.append(f"cost {fit.cost:.4g} (start {fit.start_cost:.4g}); {fit.status}")
    if fit.effective_enrolled < MIN_EFFECTIVE_SAMPLES:
        lines.append(
            f"WARNING: fewer than {MIN_EFFECTIVE_SAMPLES:.0f} effective enrolled patients: enlarge [library] samples"
        )
    return lines


def _toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(round(float(value), 4) + 0.0) if isinstance(value, float) else repr(value)  # + 0.0: no -0.0


def cohort_text(fit: PopulationFit, command: str) -> str:
    """The regenerated cohort file: the distributions (fitted if the fit is adopted, else the start values) and
    what they were fitted to, or why the fit was not adopted."""
    problem = fit.problem
    data = load_toml(cohort_path(problem.cohort))
    written = [fit.values[f.name] if problem.adopted else f.start for f in problem.free]
    variables = with_values(start_cohort(problem)[0], problem.free, written)
    residuals = fit.residuals()
    target_text = "; ".join(
        f"{t.label} {_fmt(fit.statistics[t.statistic])} {t.unit} (published {t.published:g}, {t.low:g}-{t.high:g};"
        f" {residuals[t.name]:+.2f} spreads)"
        for t in problem.targets
    )
    fitted_text = ", ".join(f"{name} = {_fmt(value)}" for name, value in fit.values.items())
    fixed_text = "; ".join(f"{f.variable}.{f.field} = {f.value:g} ({f.source})" for f in problem.fixed)
    relative = (
        problem.path.relative_to(_repository_root())
        if problem.path.is_relative_to(_repository_root())
        else problem.path
    )
    library = (
        f"Library: {fit.library_size} virtual patients x {problem.follow_up_years} years, {fit.library_enrolled}"
        f" enrolled, {fit.effective_enrolled:.0f} effective at the fit (docs/population.md)"
    )
    if problem.adopted:
        source = (
            f"fitted by `{command}` to {relative} ({problem.title}): {fitted_text}. At the fit: {target_text}."
            f" Set from the baseline data: {fixed_text}. Spreads and correlations are the hand-set cohort's (not"
            f" fitted). {library}"
        )
    else:
        start_text = ", ".join(f"{f.name} = {f.start:g}" + (f" ({f.source})" if f.source else "") for f in problem.free)
        source = (
            f"set by hand, not fitted: {start_text} (the start of the population fit). The fit to {relative}"
            f" ({problem.title}) is run by `{command}` and reported, and not adopted: {problem.not_adopted_because}"
            f" Its best point: {fitted_text}; there: {target_text}. Set from the baseline data: {fixed_text}."
            f" {library}"
        )
    header = [
        "# GENERATED by glucosim.calibration.population from",
        f"# {relative}: edit the targets there and rerun",
        f"#   {command}",
        "# (the comments and numbers below are rewritten by every fit).",
        "#",
        "# A virtual cohort of obese, insulin-resistant adults screened for a",
        "# prevention trial like the Diabetes Prevention Program (NEJM 2002;346:393);",
        "# those the virtual DPP clinic enrols are the trial. Whole-body insulin",
        "# sensitivity, the secretory reserve and the yearly drift of sensitivity",
        "# are the free parameters of a fit to the DPP's baseline glucose and HbA1c",
        "# and to the course of its placebo arm (incidence of diabetes, return to",
        "# normal regulation): adopted or not, `source` says which, and why.",
        "# Body weight is set from the DPP's baseline. The normal scores are correlated",
        "# (Gaussian copula): heavier patients are more insulin resistant (r = -0.4)",
        "# and lose sensitivity a little faster.",
    ]
    lines = header + [
        f"description = {_toml_value(data['description'])}",
        f"source = {_toml_value(source)}",
        "",
        "# correlation of the normal scores, in the order of the variables below",
        "correlation = [",
        *[f"  {_toml_value([float(c) for c in row])}," for row in data["correlation"]],
        "]",
    ]
    for v in variables:
        lines += ["", "[[variables]]"]
        for key in ("parameter", "field", "unit", "distribution", "median", "gsd", "mean", "sd", "bounds"):
            if key in v:
                lines.append(f"{key} = {_toml_value(v[key])}")
    return "\n".join(lines) + "\n"


def write_cohort(fit: PopulationFit, command: str = "python -m glucosim.calibration.population --write") -> Path:
    """Regenerate the cohort file from the fit."""
    path = cohort_path(fit.problem.cohort)
    path.write_text(cohort_text(fit, command))
    return path


REPORT_PATH = _repository_root() / "docs" / "population.md"


def report_markdown(fit: PopulationFit, runtime_s: float | None = None) -> str:
    """The fit as a Markdown page: method, fitted values with their local SD, targets against the model."""
    problem = fit.problem
    relative = problem.path.name
    lines = [
        f"# Population calibration: {problem.title}",
        "",
        "Generated by `python -m glucosim.calibration.population --write` (also `glucosim calibrate-population"
        f" --write`) from `validation/targets/population/{relative}`; do not edit by hand.",
        "",
        f"Cohort `models/cohorts/{problem.cohort}.toml`: {problem.description}",
        "",
        "**Method.** A library of virtual patients is simulated once (a cohort sweep of the control arm over"
        f" {problem.follow_up_years} years, {fit.library_size} patients drawn from the cohort's distributions,"
        " each free field centred at its `proposal` value (its start where none is given), with every spread"
        f" widened x{problem.spread_factor:g}, uncorrelated; resumable, cached by the model's source hash; the fit"
        " starts at the proposal centre). A candidate cohort distribution weights each library patient by its"
        " density over the proposal's"
        " (importance reweighting, self-normalised); each statistic is a weighted average over the enrolled,"
        " so the objective is smooth in the distribution parameters and costs no simulation. Enrolment, diagnosis"
        " and return to normal are what a virtual DPP clinic sees of each patient's daily course"
        " (`glucosim.analysis.sweep.clinic`): a screening fasting glucose of 95-125 mg/dl at the prediabetes stage,"
        " fasting glucose every 6 months and HbA1c every year, each test off the true value by its within-person"
        " variability (CV 5.7 % and 3.6 %, Selvin 2007 Arch Intern Med 167:1545; the patient's own draws), diabetes"
        " confirmed by a repeat test, return to normal at a yearly visit (fasting glucose < 100 mg/dl and HbA1c"
        " < 5.7 %, HbA1c standing in for the DPP's OGTT). `scipy.optimize.least_squares` (bounded trust-region)"
        " minimises the targets' residuals in units of their spread. The fitted cohort is then simulated directly"
        " in the prevention sweep, which checks"
        " the reweighting.",
        "",
        (
            "**Adopted:** yes: the cohort file holds the fitted values."
            if problem.adopted
            else f"**Not adopted:** the cohort file keeps the start (hand-set) values. {problem.not_adopted_because}"
        ),
        "",
        "| distribution parameter | start | fitted | local SD | bounds |",
        "|---|---|---|---|---|",
    ]
    for f, sd in zip(problem.free, fit.log_sd):
        lines.append(f"| `{f.name}` | {f.start:g} | {_fmt(fit.values[f.name])} | {sd:.2g} | [{f.low:g}, {f.high:g}] |")
    lines += ["", "Set from the data, not fitted:", ""]
    lines += [f"- `{f.variable}.{f.field}` = {f.value:g}: {f.source}" for f in problem.fixed]
    lines += [
        "",
        "| target | published (range) | start | at the fit | residual (spreads) | verdict |",
        "|---|---|---|---|---|---|",
    ]
    residuals = fit.residuals()
    for t in problem.targets:
        value = fit.statistics[t.statistic]
        verdict = "agrees" if t.agrees(value) else "**disagrees**"
        lines.append(
            f"| {t.label} ({t.unit}) | {t.published:g} ({t.low:g}-{t.high:g}) "
            f"| {_fmt(fit.start_statistics[t.statistic])} | {_fmt(value)} | {residuals[t.name]:+.2f} | {verdict} |"
        )
    lines += [
        "",
        f"Enrolled: {fit.statistics['enrolled_fraction']:.0%} of the screened cohort. Library: {fit.library_size}"
        f" patients, {fit.library_enrolled} enrolled; effective sample size of the enrolled at the fit"
        f" {fit.effective_enrolled:.0f}. Cost {fit.cost:.3g} (start {fit.start_cost:.3g}). {fit.status}",
        "",
    ]
    if fit.effective_enrolled < MIN_EFFECTIVE_SAMPLES:
        lines += [
            f"**Thin library at the fit:** fewer than {MIN_EFFECTIVE_SAMPLES:.0f} effective enrolled patients; the"
            " reweighted statistics are uncertain, which is why the fitted cohort is checked by simulating it"
            " directly (the prevention sweep).",
            "",
        ]
    at_bound = [
        f.name
        for f in problem.free
        if min(abs(fit.values[f.name] - f.low), abs(fit.values[f.name] - f.high))
        <= 1e-6 * max(abs(f.high - f.low), 1e-12)
    ]
    if at_bound:
        lines += [f"**At a bound:** {', '.join(f'`{name}`' for name in at_bound)}.", ""]
    lines += [
        f"Library folder (named by the model source hash and the library sweep hash): `{Path(fit.library_path).name}`.",
        "",
        "Local SD: from the Jacobian of the residuals at the fit, sqrt(diag((J^T J)^-1)), in the parameter's"
        " units; a large SD means the targets leave that parameter free.",
        "",
        "Sources:",
        "",
    ]
    lines += [f"- *{t.label}:* {t.source}" for t in problem.targets]
    if runtime_s is not None:
        lines += ["", f"Runtime of the last run: {runtime_s:.0f} s (library included if it was simulated)."]
    return "\n".join(lines) + "\n"


def table_values(problem: PopulationProblem) -> dict[str, float]:
    """The free fields' values in the cohort file now."""
    data = load_toml(cohort_path(problem.cohort))
    by_name = {v["name"]: v for v in _variable_dicts(data)}
    return {f.name: float(by_name[f.variable][f.field]) for f in problem.free}


REPRODUCTION_TOLERANCE = 0.01
"""Relative agreement between a rerun's fitted values and the cohort file's (written with 4 digits)."""


def main(argv: list[str] | None = None) -> int:
    """``python -m glucosim.calibration.population [TARGETS] [--write] [--cache-dir DIR] [--workers N]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m glucosim.calibration.population", description=__doc__.split("\n")[0]
    )
    parser.add_argument("targets", nargs="?", default=str(DEFAULT_TARGETS))
    parser.add_argument("--write", action="store_true", help="regenerate the cohort file from the fit")
    parser.add_argument("--cache-dir", default=None, help="where libraries are kept (default: the user cache)")
    parser.add_argument("--workers", type=int, default=1, help="local worker processes for the library")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        fit = calibrate_population(args.targets, args.cache_dir, progress=not args.no_progress, workers=args.workers)
    except CalibrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in summary_lines(fit):
        print(line)
    print(f"library: {fit.library_path}; total {time.perf_counter() - started:.0f} s")
    if args.write:
        print(f"wrote {write_cohort(fit)}")
        REPORT_PATH.write_text(report_markdown(fit, time.perf_counter() - started))
        print(f"wrote {REPORT_PATH}")
        return 0
    table = table_values(fit.problem)
    expected = fit.values if fit.problem.adopted else {f.name: f.start for f in fit.problem.free}
    far = [n for n, v in expected.items() if abs(v - table[n]) > REPRODUCTION_TOLERANCE * max(abs(table[n]), 1e-3)]
    if far:
        print(f"the cohort file differs from the fit in {', '.join(far)} (rerun with --write)", file=sys.stderr)
        return 1
    held = "fitted" if fit.problem.adopted else "hand-set (the fit is not adopted)"
    print(f"the cohort file holds the {held} values (within {REPRODUCTION_TOLERANCE:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
