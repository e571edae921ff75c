"""Population calibration: fit a named cohort's distributions to a trial population's statistics.

The targets are a data file (``validation/targets/population/dpp.toml``): the
trial's baseline characteristics and the course of its control arm (incidence
of diabetes, return to normal regulation), each with its spread and source,
the cohort variables whose distribution parameters the fit moves, and those
set from the data directly. The fit regenerates the cohort file
(``models/cohorts/<cohort>.toml``), which then names what it was fitted to.

Method: importance reweighting of a simulated library, then a direct check.
Course statistics of a virtual cohort are counts (who is enrolled, who
converts), so an objective computed from a fresh cohort at every parameter
vector is a step function of the parameters, even with common random numbers,
and finite-difference optimisers stall on it. Instead, a library of virtual
patients is simulated once: cohort sweeps of the control arm over the trial's
follow-up, run by ``glucosim.sweep.run_sweep`` (chunked, resumable, progress
bar) into a cache folder keyed by the model's source hash. A candidate cohort
distribution p_theta weights each library patient by p_theta(x) / q(x)
(self-normalised), and each statistic is a weighted average: smooth in theta,
and free to evaluate, so ``scipy.optimize.least_squares`` (trust-region
reflective, bounded) fits in about a second.

The library has two stages, so that its patients sit where the fit lands: a
wide stage (the cohort with each free field at its ``proposal`` centre and
the spreads of the variables with a free field widened), a first fit on it,
and a refining stage centred at that first fit (rounded to 3 significant
digits, so a rerun finds the same cache), less widened. The proposal q is the
mixture of the two stages' distributions in proportion to their sizes (each
the cohort's Gaussian copula, with its correlation). Draws clipped to a
variable's bounds (the sweep clips: a reserve below the table's range of
beta_function_max becomes 1.0) are point masses, and their density is the
probability mass beyond the bound (given the other variables' scores), under
p_theta and under q alike.

The effective sample size of the weights (Kish) and a bootstrap standard
error of each reweighted statistic are reported. The check: the cohort file
as written is simulated directly, as the shipped trial sweep draws it (its
seed, its sample count, its control arm), and read through the same virtual
clinic; each statistic must agree with the reweighted one within
``CHECK_Z`` combined standard errors (bootstrap for the library, Poisson or
sample SD for the direct cohort), or the command says the file does not hold.
Why not a Bayesian/ABC package: the same reweighted library would serve one
(the likelihood is cheap once the library exists), but with four free
parameters and six summary targets the local analysis below (Jacobian, local
covariance) says what the targets pin down.

Rerun after any model change: ``python -m glucosim.calibration.population``
(or ``glucosim calibrate-population``) simulates a new library (the old one is
kept under its own hash), refits and checks; ``--write`` regenerates the
cohort file and docs/population.md.
"""

from __future__ import annotations

import math
import re
import sys
import textwrap
import time
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

import numpy as np

from glucosim._files import write_text_whole
from glucosim._toml import TOMLDecodeError, load_toml
from glucosim.calibration.targets import TARGET_DIR, PublishedValue
from glucosim.errors import CalibrationError, GlucosimError
from glucosim.physiology.units import DAYS_PER_YEAR, PMOL_L_PER_UU_ML

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
    "baseline_two_hour_glucose_mg_dl",
    "baseline_fasting_insulin_pmol_l",
    "enrolled_fraction",
)
"""What a target may measure (``statistics`` computes each, on the enrolled, weighted)."""
MIN_EFFECTIVE_SAMPLES = 135.0
"""Fewer effective enrolled patients than this at the fit: the library is too thin there (enlarge it, or move the
``proposal`` centres to the fit). Set when the 400-patient trial sweep enrolled about 135 (the check): the bootstrap
SE of a rate of ~10 per 100 person-years is about 19 / sqrt(ESS), 1.6 at 135, under the return-to-normal target's
spread of 2.5. Since 2026-12-04 the check enrols more (1103) than the library's effective patients at the fit (464),
so the library is the less certain side of the check; the report compares the two."""
CHECK_Z = 2.5
"""The check holds when every target statistic of the directly simulated cohort lies within this many combined
standard errors (library bootstrap and the direct cohort's own bootstrap) of the reweighted value: for four
statistics, a false alarm about 5 % of the time (1 - (1 - 0.0124)^4) when the reweighting carries."""
BOOTSTRAP_REPLICATES = 200
"""Resamples of the library for the standard errors of the reweighted statistics (weights at the fit held)."""
ROUND_DIGITS = 3
"""Significant digits of the first fit where the refining stage is centred (the same cache on any machine)."""
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
    refine_samples: int = 0
    """Patients of the refining stage, centred at the first fit (0: one stage only)."""
    refine_spread_factor: float = 1.25
    parameters: dict[str, float] = dataclass_field(default_factory=dict)
    """Parameter-table entries every patient of the cohort shares (not drawn, not fitted): the target file's
    ``[parameters]``, set on every library run and written into the cohort file (whose check draws them)."""
    parameters_source: str = ""
    """Why those values (the target file's ``parameters_source``), for the cohort file's header."""

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
    _check_file_fields(path, data)
    targets = []
    for index, entry in enumerate(data["targets"]):
        _check_entry(path, f"targets[{index}]", entry, TARGET_FIELDS, TARGET_FIELDS, TARGET_NUMBER_FIELDS)
        if entry["statistic"] not in STATISTICS:
            _fail(path, f"targets[{index}].statistic: {entry['statistic']!r} (allowed: {', '.join(STATISTICS)})")
        if not entry["spread"] > 0 or not entry["low"] <= entry["published"] <= entry["high"]:
            _fail(path, f"targets[{index}]: spread must be > 0 and low <= published <= high")
        targets.append(PopulationTarget(**entry))
    for index, entry in enumerate(data["free"]):
        _check_entry(path, f"free[{index}]", entry, FREE_REQUIRED, FREE_FIELDS, FREE_NUMBER_FIELDS)
    for index, entry in enumerate(data.get("fixed", [])):
        _check_entry(path, f"fixed[{index}]", entry, FIXED_FIELDS, FIXED_FIELDS, {"value"})
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
        adopted=data.get("adopted", True),
        not_adopted_because=str(data.get("not_adopted_because", "")),
        refine_samples=int(library.get("refine_samples", 0)),
        refine_spread_factor=float(library.get("refine_spread_factor", 1.25)),
        parameters=_shared_parameters(path, data.get("parameters", {})),
        parameters_source=str(data.get("parameters_source", "")),
    )
    if problem.parameters and len(problem.parameters_source) < 40:
        _fail(path, "parameters_source: shared parameters need their reason (at least 40 characters)")
    for key in ("spread_factor", "refine_spread_factor"):
        if not 1.0 <= float(library.get(key, 1.25)) <= 3.0:
            _fail(path, f"library.{key}: {library[key]} (allowed: 1 to 3)")
    if problem.library_samples < 1 or problem.refine_samples < 0:
        _fail(path, "library.samples must be >= 1 and library.refine_samples >= 0")
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


FILE_FIELDS = {
    "id",
    "title",
    "description",
    "cohort",
    "sweep",
    "follow_up_years",
    "library",
    "free",
    "fixed",
    "targets",
    "adopted",
    "not_adopted_because",
    "parameters",
    "parameters_source",
}
FILE_REQUIRED = ("id", "title", "cohort", "sweep", "follow_up_years", "library", "free", "targets")
LIBRARY_FIELDS = {"samples", "seed", "spread_factor", "refine_samples", "refine_spread_factor"}
TARGET_NUMBER_FIELDS = {"published", "spread", "low", "high"}
FREE_REQUIRED = {"variable", "field", "start", "low", "high"}
FREE_FIELDS = FREE_REQUIRED | {"source", "proposal"}
FREE_NUMBER_FIELDS = {"start", "low", "high", "proposal"}
FIXED_FIELDS = {"variable", "field", "value", "source"}
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A target file's id names its library folders in the cache: no path separators (``../x`` left the cache)."""


def _check_file_fields(path: Path, data: dict) -> None:
    """The file's top-level fields and their kinds, else a CalibrationError naming the field and what is allowed."""
    from glucosim.calibration.targets import _is_number, _tables
    from glucosim.scenario.schema import MAX_SCENARIO_YEARS

    unknown = set(data) - FILE_FIELDS
    if unknown:
        _fail(path, f"unknown fields {sorted(unknown)} (allowed: {sorted(FILE_FIELDS)})")
    for key in FILE_REQUIRED:
        if key not in data:
            _fail(path, f"missing field '{key}' (a population target file has {', '.join(FILE_REQUIRED)})")
    for key in ("id", "title", "cohort", "sweep", "description", "not_adopted_because", "parameters_source"):
        if key in data and not isinstance(data[key], str):
            _fail(path, f"{key}: {data[key]!r} is not text")
    if not ID_PATTERN.fullmatch(data["id"]):
        _fail(path, f"id: {data['id']!r} (allowed: letters, digits, '_', '-', '.', starting with a letter or digit)")
    if not cohort_path(data["cohort"]).is_file():
        from glucosim.sweep.load import COHORT_DIR

        cohorts = sorted(p.stem for p in COHORT_DIR.glob("*.toml"))
        _fail(path, f"cohort: {data['cohort']!r} is not a cohort (allowed: {', '.join(cohorts)})")
    if not (_repository_root() / data["sweep"]).is_file():
        _fail(path, f"sweep: {data['sweep']!r} is not a sweep file (a path relative to the repository)")
    years = data["follow_up_years"]
    if not (isinstance(years, int) and not isinstance(years, bool) and 1 <= years <= MAX_SCENARIO_YEARS):
        _fail(path, f"follow_up_years: {years!r} (allowed: a whole number of years, 1 to {MAX_SCENARIO_YEARS:g})")
    if "adopted" in data and not isinstance(data["adopted"], bool):
        _fail(path, f"adopted: {data['adopted']!r} (allowed: true, false)")
    library = data["library"]
    if not isinstance(library, dict):
        _fail(path, f"library: a table (samples, seed, ...), got {library!r}")
    if set(library) - LIBRARY_FIELDS or not {"samples", "seed"} <= set(library):
        _fail(path, f"library: fields {sorted(library)} (required: samples, seed; allowed: {sorted(LIBRARY_FIELDS)})")
    for key in ("samples", "seed", "refine_samples"):
        value = library.get(key, 0)
        if not (isinstance(value, int) and not isinstance(value, bool)) or value < 0:
            _fail(path, f"library.{key}: {value!r} (allowed: a whole number >= 0)")
    for key in ("spread_factor", "refine_spread_factor"):
        if key in library and not _is_number(library[key]):
            _fail(path, f"library.{key}: {library[key]!r} is not a number")
    for key in ("targets", "free", "fixed"):
        if not _tables(path, data, key) and key != "fixed":
            _fail(path, f"{key}: at least one [[{key}]] entry is needed")


def _check_entry(path: Path, where: str, entry: dict, required: set, allowed: set, numbers: set) -> None:
    """One [[targets]], [[free]] or [[fixed]] entry: its fields, numbers where numbers go (finite), text elsewhere."""
    from glucosim.calibration.targets import _is_number

    missing, extra = required - set(entry), set(entry) - allowed
    if missing or extra:
        _fail(path, f"{where}: missing {sorted(missing)}, unknown {sorted(extra)} (fields: {sorted(allowed)})")
    for key, value in entry.items():
        if key in numbers:
            if not _is_number(value) or not math.isfinite(value):
                _fail(path, f"{where}.{key}: {value!r} is not a finite number")
        elif not isinstance(value, str):
            _fail(path, f"{where}.{key}: {value!r} is not text")


def _shared_parameters(path: Path, table) -> dict[str, float]:
    """A target or cohort file's [parameters] as numbers; each is checked against the parameter table when a sweep
    loads."""
    if not isinstance(table, dict):
        _fail(path, f"parameters: a table of parameter-table names and numbers (got {table!r})")
    shared = {}
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(
                path,
                f"parameters.{name}: a number (got {value!r}; a key written after the [parameters] header belongs "
                "to that table: put parameters_source above it)",
            )
        shared[str(name)] = float(value)
    return shared


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


def variable_bounds(variable: dict) -> tuple[float, float]:
    """Where the sweep clips a cohort variable's draws (``sweep.design._from_normal_score``): its ``bounds``, else
    the parameter table's plausible range for a parameter, else nowhere."""
    if variable.get("bounds") is not None:
        low, high = variable["bounds"]
        return float(low), float(high)
    if variable.get("parameter"):
        from glucosim.parameters import load_parameter_table

        row = load_parameter_table()[variable["parameter"]]
        return float(row.low), float(row.high)
    return -math.inf, math.inf


def _score(variable: dict, value):
    """Normal score of ``value`` (array or number) under the variable's marginal."""
    if variable["distribution"] == "lognormal":
        with np.errstate(divide="ignore"):
            return (np.log(value) - math.log(variable["median"])) / math.log(variable["gsd"])
    if variable["distribution"] == "normal":
        return (np.asarray(value, float) - variable["mean"]) / variable["sd"]
    raise CalibrationError(
        f"cohort variable {variable['name']}: distribution {variable['distribution']!r} is not fitted"
    )


def _scores(variables: list[dict], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normal scores of library values ``x`` (rows: patients) under ``variables``, and log |dz/dx| per entry."""
    z = np.empty_like(x)
    log_jacobian = np.zeros_like(x)
    for j, v in enumerate(variables):
        z[:, j] = _score(v, x[:, j])
        if v["distribution"] == "lognormal":
            log_jacobian[:, j] = -(np.log(x[:, j]) + math.log(math.log(v["gsd"])))
        else:
            log_jacobian[:, j] = -math.log(v["sd"])
    return z, log_jacobian


def _clipped_sides(variables: list[dict], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per entry: -1 at the variable's lower bound, +1 at its upper, 0 inside; and the bounds' normal scores
    (shape (2, variables)), for the variables' current distributions."""
    sides = np.zeros(x.shape, dtype=int)
    bound_scores = np.empty((2, len(variables)))
    for j, v in enumerate(variables):
        low, high = variable_bounds(v)
        sides[:, j] = np.where(x[:, j] <= low, -1, np.where(x[:, j] >= high, 1, 0))
        bound_scores[0, j] = _score(v, low) if math.isfinite(low) else -math.inf
        bound_scores[1, j] = _score(v, high) if math.isfinite(high) else math.inf
    return sides, bound_scores


def _log_mass_beyond(limits: np.ndarray, means: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """log P(Y <= limits) for Y ~ N(mean, covariance), one mean per row (the clipped scores, signs folded)."""
    from scipy import stats

    if covariance.shape == (1, 1):
        return np.asarray(stats.norm.logcdf((limits[0] - means[:, 0]) / math.sqrt(covariance[0, 0])))
    found = [stats.multivariate_normal(mean=m, cov=covariance).cdf(limits, rng=np.random.default_rng(0)) for m in means]
    return np.log(np.maximum(found, 1e-300))


def log_density(variables: list[dict], correlation: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Log density of the cohort distribution (Gaussian copula of the marginals, clipped to each variable's
    bounds as the sweep clips) at each row of ``x``.

    An entry at a bound is a point mass: its factor is the probability that the variable's score lies beyond
    the bound's, given the scores of the row's unclipped variables (the conditional normal of the copula). The
    other entries contribute the copula density of their scores times their marginals' Jacobians. Rows are
    grouped by which entries are clipped (few patterns).
    """
    correlation = np.asarray(correlation, dtype=float)
    z, log_jacobian = _scores(variables, x)
    sides, bound_scores = _clipped_sides(variables, x)
    out = np.empty(len(x))
    patterns, inverse_index = np.unique(sides, axis=0, return_inverse=True)
    for k, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse_index.ravel() == k)
        free = np.flatnonzero(pattern == 0)
        clipped = np.flatnonzero(pattern != 0)
        z_free = z[np.ix_(rows, free)]
        if len(free):
            block = correlation[np.ix_(free, free)]
            inverse = np.linalg.inv(block)
            _, log_det = np.linalg.slogdet(block)
            quadratic = np.einsum("ij,jk,ik->i", z_free, inverse, z_free)
            log_p = (
                -0.5 * quadratic
                - 0.5 * log_det
                - 0.5 * len(free) * math.log(2 * math.pi)
                + log_jacobian[np.ix_(rows, free)].sum(axis=1)
            )
        else:
            inverse = np.zeros((0, 0))
            log_p = np.zeros(len(rows))
        if len(clipped):
            cross = correlation[np.ix_(clipped, free)]
            means = z_free @ (cross @ inverse).T if len(free) else np.zeros((len(rows), len(clipped)))
            covariance = correlation[np.ix_(clipped, clipped)] - cross @ inverse @ cross.T
            sign = pattern[clipped].astype(float)  # beyond the upper bound: -z <= -bound
            limits = np.where(sign < 0, bound_scores[0, clipped], -bound_scores[1, clipped])
            log_p = log_p + _log_mass_beyond(limits, means * -sign, covariance * np.outer(sign, sign))
        out[rows] = log_p
    return out


def _centre(problem: PopulationProblem) -> list[float]:
    return [f.start if f.proposal is None else f.proposal for f in problem.free]


def proposal_variables(
    problem: PopulationProblem, centre: list[float] | None = None, spread_factor: float | None = None
) -> list[dict]:
    """A library stage's distributions: the start cohort with its free fields at ``centre`` (default: each
    ``proposal``, else its start) and the spreads of the variables with a free field widened by
    ``spread_factor`` (default: the library's); the others (set from the data) as the cohort has them."""
    variables, _ = start_cohort(problem)
    variables = with_values(variables, problem.free, _centre(problem) if centre is None else centre)
    factor = problem.spread_factor if spread_factor is None else spread_factor
    moved = {f.variable for f in problem.free}
    widened = []
    for v in variables:
        w = dict(v)
        if v["name"] in moved and v["distribution"] == "lognormal":
            w["gsd"] = float(v["gsd"] ** factor)
        elif v["name"] in moved:
            w["sd"] = float(v["sd"] * factor)
        widened.append(w)
    return widened


@dataclass(frozen=True)
class LibraryStage:
    """One cohort sweep of the library: its size, seed and proposal."""

    name: str
    samples: int
    seed: int
    centre: tuple[float, ...]
    spread_factor: float


def round_significant(value: float, digits: int = ROUND_DIGITS) -> float:
    """``value`` to ``digits`` significant digits (0 stays 0)."""
    return 0.0 if value == 0 else float(f"{value:.{digits}g}") + 0.0


def _snapped(value: float, field: FreeField) -> float:
    """A first fit's value as the refining stage's centre: at a bound when within 1e-6 of the range from it (an
    optimiser's 1e-18 is 0), else to ``ROUND_DIGITS`` significant digits, inside the bounds."""
    tolerance = 1e-6 * (field.high - field.low)
    for bound in (field.low, field.high):
        if abs(value - bound) <= tolerance:
            return float(bound)
    return min(max(round_significant(value), field.low), field.high)


def library_stages(problem: PopulationProblem, first_fit: dict[str, float] | None = None) -> list[LibraryStage]:
    """The wide stage, and (given the first fit's values) the refining stage centred at them."""
    stages = [
        LibraryStage(
            "wide", problem.library_samples, problem.library_seed, tuple(_centre(problem)), problem.spread_factor
        )
    ]
    if first_fit is not None and problem.refine_samples > 0:
        centre = tuple(_snapped(first_fit[f.name], f) for f in problem.free)
        stages.append(
            LibraryStage(
                "refine", problem.refine_samples, problem.library_seed + 1, centre, problem.refine_spread_factor
            )
        )
    return stages


def mixture_log_proposal(
    problem: PopulationProblem, stages: list[LibraryStage], correlation: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """log q(x) of the whole library: the stages' densities mixed in proportion to their sizes (each patient
    could have come from any stage: the deterministic-mixture weights, which stay bounded where one stage
    covers thinly)."""
    from scipy.special import logsumexp

    total = sum(stage.samples for stage in stages)
    parts = [
        math.log(stage.samples / total)
        + log_density(proposal_variables(problem, list(stage.centre), stage.spread_factor), correlation, x)
        for stage in stages
    ]
    return logsumexp(np.vstack(parts), axis=0)


# ---------------------------------------------------------------------------------------------- the library
VARIABLE_KEYS = ("parameter", "field", "unit", "distribution", "median", "gsd", "mean", "sd", "bounds")


def _cohort_sweep_data(
    problem: PopulationProblem,
    name: str,
    seed: int,
    samples: int,
    variables,
    correlation,
    shared: dict[str, float],
):
    """A cohort sweep of the trial sweep's control arm (its first arm, as written, with its changes), over
    ``follow_up_years``, with explicit variables and correlation (so its hash holds their values), and the
    parameters every patient shares: ``shared`` (the cohort's) with the trial sweep's own ``design.parameters``."""
    from glucosim._toml import read_toml_file
    from glucosim.errors import SweepError

    data, _ = read_toml_file(problem.sweep, SweepError, "sweep")
    reference_arm = {k: v for k, v in (data.get("arms") or [{"name": "control"}])[0].items() if k != "description"}
    if reference_arm.get("adherence"):
        _fail(problem.sweep, f"arm {reference_arm['name']!r}: the control arm has adherence draws; it must not")
    sweep = {
        "name": name,
        "description": f"for the population fit of {problem.path.name}",
        "base_scenario": data["base_scenario"],
        "duration_years": problem.follow_up_years,
        "seed": int(seed),
        "design": {
            "kind": "cohort",
            "samples": int(samples),
            "correlation": [[float(c) for c in row] for row in np.asarray(correlation, float)],
        },
        "variables": [{k: v[k] for k in VARIABLE_KEYS if k in v} for v in variables],
        "arms": [reference_arm],
    }
    trial_shared = dict(data.get("design", {}).get("parameters", {}))
    both = sorted(set(trial_shared) & set(shared))
    if both:
        _fail(problem.sweep, f"design.parameters.{both[0]}: the cohort {problem.cohort!r} sets it already")
    if shared or trial_shared:  # left out when there are none, so the libraries cached before they existed keep
        # their names
        sweep["design"]["parameters"] = {**trial_shared, **shared}
    if "outputs" in data:
        sweep["outputs"] = data["outputs"]
    return sweep


def library_sweep_data(problem: PopulationProblem, stage: LibraryStage | None = None) -> tuple[dict, str]:
    """A library stage as sweep data (and the sweep file's text): the trial sweep's base scenario and control
    arm, ``follow_up_years`` long, the stage's proposal (the cohort's correlation) and seed."""
    stage = stage or library_stages(problem)[0]
    _, correlation = start_cohort(problem)
    library = _cohort_sweep_data(
        problem,
        f"Population library of {problem.id} ({problem.cohort}, control arm), {stage.name} stage",
        stage.seed,
        stage.samples,
        proposal_variables(problem, list(stage.centre), stage.spread_factor),
        correlation,
        problem.parameters,  # the target file's: the cohort file to be written will carry them
    )
    # the library's identity is what defines its runs (not the sweep file's comments or other arms)
    return library, "# population library\n" + repr(library)


LIBRARY_SOURCES = ("sweep/worker.py", "sweep/visits.py")
"""Besides the model's sources, what a library's stored results depend on: what each run keeps (the worker) and
on which days the clinic's OGTTs were run (the schedule); the clinic's reading of them is redone at every load."""


def library_model_files() -> list[Path]:
    """The model's source and data files a library depends on (``measure.MODEL_SOURCES`` and ``LIBRARY_SOURCES``),
    without the parameter table (counted by its values) and the cohort files (the library's sweeps give their
    variables explicitly, so rewriting a cohort file keeps the cache valid: a rerun after ``--write`` replays it)."""
    from glucosim.calibration.measure import MODEL_SOURCES, PACKAGE_DIR
    from glucosim.physiology.indices import PARAMETER_TABLE_PATH
    from glucosim.sweep.load import COHORT_DIR

    table, cohorts = PARAMETER_TABLE_PATH.resolve(), COHORT_DIR.resolve()
    found = []
    for entry in (*MODEL_SOURCES, *LIBRARY_SOURCES):
        path = PACKAGE_DIR / entry
        files = sorted(p for p in path.rglob("*") if p.suffix in (".py", ".toml")) if path.is_dir() else [path]
        found += [file for file in files if file.resolve() != table and file.resolve().parent != cohorts]
    return found


def library_model_hash() -> str:
    """The model's source hash as the library sees it (16 hex digits): ``library_model_files`` and every value
    and range of the parameter table (none masked: the library simulates with the table as it is), and the sweep
    store's own code hash (``sweep.store.results_source_sha256``, which a results folder is refused by): a change
    the store sees makes a new library folder instead of a folder the store refuses to resume (2026-12-06: an edit
    of the sweep package outside ``LIBRARY_SOURCES`` left the folder's name and made the command fail on it)."""
    import hashlib

    from glucosim.calibration.measure import PACKAGE_DIR
    from glucosim.parameter_identity import parameter_values_key
    from glucosim.sweep import store

    digest = hashlib.sha256(parameter_values_key().encode())
    digest.update(store.results_source_sha256().encode())
    for file in library_model_files():
        digest.update(str(file.relative_to(PACKAGE_DIR)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _cache_root(cache_dir: Path | str | None) -> Path:
    from glucosim.calibration.cache import default_cache_dir

    return Path(cache_dir) if cache_dir is not None else default_cache_dir().parent / "population"


def library_dir(
    problem: PopulationProblem, cache_dir: Path | str | None = None, stage: LibraryStage | None = None
) -> Path:
    """Where a library stage lives: keyed by the model's source hash and by the stage's sweep (base scenario,
    proposal, size, seed): any change of either makes a new library, and the old one stays for a rerun."""
    stage = stage or library_stages(problem)[0]
    return _cache_root(cache_dir) / (
        f"{problem.id}-{stage.name}-{library_model_hash()}-{library_sweep(problem, stage).sha256[:12]}"
    )


def library_sweep(problem: PopulationProblem, stage: LibraryStage | None = None):
    """A library stage as a checked ``LoadedSweep``."""
    from glucosim.sweep.load import parse_sweep

    data, text = library_sweep_data(problem, stage)
    return parse_sweep(data, source=str(problem.sweep), text=text)


def _run(loaded, out: Path, progress: bool, workers: int, simulated: list[int] | None = None):
    """Run (or resume, or read) a cohort sweep and load it with the clinic's columns; ``simulated`` gets the number
    of runs this call simulated (0: read from the cache)."""
    from glucosim.sweep.runner import run_sweep

    if progress:
        print(f"{loaded.sweep.name}: {loaded.sweep.design.samples} patients -> {out}", file=sys.stderr)
    outcome = run_sweep(loaded, out, workers=workers, progress=progress)
    if not outcome.complete:
        raise CalibrationError(f"{out}: the sweep is not complete ({outcome.n_done} of {outcome.n_runs} runs)")
    if simulated is not None:
        simulated.append(outcome.runs_this_call)
    return library_results(out, loaded)


def run_library(
    problem: PopulationProblem,
    cache_dir: Path | str | None = None,
    progress: bool = True,
    workers: int = 1,
    stage: LibraryStage | None = None,
    simulated: list[int] | None = None,
):
    """Simulate (or resume, or reuse) one library stage; returns its results table."""
    stage = stage or library_stages(problem)[0]
    return _run(library_sweep(problem, stage), library_dir(problem, cache_dir, stage), progress, workers, simulated)


def library_results(out: Path, loaded=None):
    """The library's results table, with the virtual DPP clinic's columns (screening with its OGTT, confirmed
    diagnosis, return to normal: ``analysis.sweep.clinic``) when the library kept the daily values the clinic
    reads. ``loaded``: the library's sweep (the screening OGTT is run from it)."""
    from glucosim.analysis.sweep.dpp import load_trial_results

    return load_trial_results(out, loaded)


def check_sweep_data(problem: PopulationProblem) -> tuple[dict, str]:
    """The check: the cohort file as the trial sweep draws it (its seed, its sample count, the file's variables
    and correlation in the file's order, so patient i is the sweep's patient i), its control arm only."""
    from glucosim._toml import read_toml_file
    from glucosim.errors import SweepError

    sweep, _ = read_toml_file(problem.sweep, SweepError, "sweep")
    data = load_toml(cohort_path(problem.cohort))
    variables = _variable_dicts(data)
    correlation = np.asarray(data.get("correlation", np.eye(len(variables))), dtype=float)
    check = _cohort_sweep_data(
        problem,
        f"Check of the {problem.cohort} cohort file ({problem.id}, control arm)",
        sweep["seed"],
        sweep["design"]["samples"],
        variables,
        correlation,
        _shared_parameters(
            cohort_path(problem.cohort), data.get("parameters", {})
        ),  # the file's, as the sweep draws it
    )
    return check, "# population check\n" + repr(check)


def check_sweep(problem: PopulationProblem):
    from glucosim.sweep.load import parse_sweep

    data, text = check_sweep_data(problem)
    return parse_sweep(data, source=str(problem.sweep), text=text)


def check_dir(problem: PopulationProblem, cache_dir: Path | str | None = None) -> Path:
    return _cache_root(cache_dir) / f"{problem.id}-check-{library_model_hash()}-{check_sweep(problem).sha256[:12]}"


# ---------------------------------------------------------------------------------------------- statistics
def _stage_columns(results, n_years: int) -> np.ndarray:
    from glucosim.sweep.worker import yearly_column

    return np.column_stack(
        [results[yearly_column(year, "stage")].astype(object).to_numpy() for year in range(n_years + 1)]
    )


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
    two_hour_glucose_0: np.ndarray | None = None
    """The screening OGTT's 2-h glucose as the clinic measured it (with the test's variability); NaN for a patient
    without it (a screening that ran no OGTT: the sweep file not found unchanged), None for a library read as the
    true course (no clinic). Either way the statistic is NaN and a target on it is refused (``require_measured``)."""
    fasting_insulin_0: np.ndarray | None = None
    """Fasting plasma insulin (pmol/l) at baseline: the sweep's year-0 marker (the mean of the first week's fasting
    samples), without a test's variability (a mean over the enrolled is unbiased by it); None for a library whose
    sweep kept no fasting insulin."""

    @classmethod
    def from_results(cls, results, variable_names: list[str], follow_up_years: int, log_proposal=None):
        from glucosim.sweep.store import COMPLETED_STATUSES
        from glucosim.sweep.worker import yearly_column

        ok = results["status"].isin(COMPLETED_STATUSES).to_numpy()
        if "clinic_enrolled" in results.columns:
            # what the virtual DPP clinic sees (analysis.sweep.clinic): tests with their day-to-day variability,
            # screening by the DPP's fasting window, diagnoses confirmed by a repeat test, yearly returns to normal
            enrolled = ok & results["clinic_enrolled"].to_numpy(bool)
            diabetes_years = results["clinic_diagnosis_day"].to_numpy(float) / DAYS_PER_YEAR
            regression = results["clinic_normal_day"].to_numpy(float) / DAYS_PER_YEAR
            fasting_0 = results["clinic_screen_fasting_glucose_mg_dl"].to_numpy(float)
            hba1c_0 = results["clinic_screen_hba1c_percent"].to_numpy(float)
            column = "clinic_screen_two_hour_glucose_mg_dl"
            two_hour_0 = results[column].to_numpy(float) if column in results.columns else None
        else:  # the true course: stage at year 0, first day past a threshold, yearly stage
            stages = _stage_columns(results, follow_up_years)
            enrolled = ok & (stages[:, 0] == ENROLLED_STAGE)
            diabetes_years = results["diabetes_onset_day"].to_numpy(float) / DAYS_PER_YEAR
            # first yearly check (years 1..T) at normal regulation, before any diabetes onset
            regression = np.full(len(results), np.nan)
            for year in range(follow_up_years, 0, -1):
                normal = (stages[:, year] == NORMAL_STAGE) & ~(diabetes_years <= year)
                regression[normal] = year
            fasting_0 = results[yearly_column(0, "fasting_glucose_mg_dl")].to_numpy(float)
            hba1c_0 = results[yearly_column(0, "hba1c_percent")].to_numpy(float)
            two_hour_0 = None  # the true course runs no OGTT
        insulin_column = yearly_column(0, "fasting_insulin_uU_ml")
        insulin_0 = (
            results[insulin_column].to_numpy(float) * PMOL_L_PER_UU_ML if insulin_column in results.columns else None
        )
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
            two_hour_glucose_0=two_hour_0,
            fasting_insulin_0=insulin_0,
        )
        if log_proposal is not None:
            library.log_proposal = np.asarray(log_proposal, dtype=float)
        return library

    def subset(self, rows: np.ndarray) -> Library:
        """The patients ``rows`` (an index array; repeats allowed, as a bootstrap resample draws them)."""
        optional = {
            name: None if getattr(self, name) is None else getattr(self, name)[rows]
            for name in (*OPTIONAL_MEASURES, "log_proposal")
        }
        return Library(
            **{name: getattr(self, name)[rows] for name in PATIENT_ARRAYS},
            variable_names=self.variable_names,
            follow_up_years=self.follow_up_years,
            **optional,
        )

    @classmethod
    def concat(cls, parts: list[Library]) -> Library:
        first = parts[0]
        optional = {
            name: None
            if any(getattr(part, name) is None for part in parts)
            else np.concatenate([getattr(part, name) for part in parts])
            for name in OPTIONAL_MEASURES
        }
        return Library(
            **{name: np.concatenate([getattr(part, name) for part in parts]) for name in PATIENT_ARRAYS},
            variable_names=first.variable_names,
            follow_up_years=first.follow_up_years,
            **optional,
        )


PATIENT_ARRAYS = ("x", "ok", "enrolled", "fasting_glucose_0", "hba1c_0", "diabetes_years", "regression_years")
"""``Library``'s per-patient arrays every library has (one row per patient)."""
OPTIONAL_MEASURES = ("two_hour_glucose_0", "fasting_insulin_0")
"""``Library``'s per-patient measures a library may lack (None): a joined library has one only if every part has it."""


def _horizon_years(follow_up_years: float) -> float:
    """The follow-up's end as the DPP table counts it: the closing visit's day (``dpp.closing_visit_day``), so the
    reweighted statistics and the table of a directly simulated cohort count the same events."""
    from glucosim.analysis.sweep.dpp import closing_visit_day

    return closing_visit_day(follow_up_years) / DAYS_PER_YEAR


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
    horizon = _horizon_years(library.follow_up_years)
    never = np.full(len(w), np.inf)
    dm = np.where(np.isnan(library.diabetes_years), np.inf, library.diabetes_years)

    def enrolled_mean(values: np.ndarray | None) -> float:
        # a failed run has no baseline (NaN), and 0 x NaN is NaN: read the baselines of the enrolled only
        if values is None or not total:
            return math.nan
        return float(np.sum(w * np.where(w > 0.0, values, 0.0)) / total)

    return {
        "diabetes_incidence_per_100py": _rate_per_100py(w, library.diabetes_years, never, horizon),
        "regression_per_100py": _rate_per_100py(w, library.regression_years, dm, horizon),
        "baseline_fasting_glucose_mg_dl": enrolled_mean(library.fasting_glucose_0),
        "baseline_hba1c_percent": enrolled_mean(library.hba1c_0),
        "baseline_two_hour_glucose_mg_dl": enrolled_mean(library.two_hour_glucose_0),
        "baseline_fasting_insulin_pmol_l": enrolled_mean(library.fasting_insulin_0),
        "enrolled_fraction": total / float(np.sum(w_all)) if np.sum(w_all) else math.nan,
    }


def importance_weights(library: Library, variables: list[dict], correlation: np.ndarray) -> np.ndarray:
    """Self-normalised weights p_theta(x) / q(x) of the library patients (sum 1 over completed runs)."""
    log_w = log_density(variables, correlation, library.x) - library.log_proposal
    log_w = np.where(library.ok, log_w, -np.inf)
    log_w -= np.max(log_w)
    w = np.exp(log_w)
    return w / np.sum(w)


def statistic_errors(
    library: Library, weights: np.ndarray, replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0
) -> dict[str, float]:
    """Bootstrap standard error of each reweighted statistic: the library's patients resampled with replacement,
    each keeping its unnormalised weight (the distribution held, the weights renormalised per resample)."""
    rng = np.random.default_rng(seed)
    found: dict[str, list[float]] = {name: [] for name in STATISTICS}
    n = len(library.x)
    for _ in range(replicates):
        rows = rng.integers(0, n, n)
        resample_weights = weights[rows]
        if not np.sum(resample_weights) > 0:
            continue
        for name, value in statistics(library.subset(rows), resample_weights / np.sum(resample_weights)).items():
            found[name].append(value)
    return {name: _finite_sd(values) for name, values in found.items()}


def _finite_sd(values: list[float]) -> float:
    """The SD of the finite values (NaN if fewer than two: a statistic the library cannot measure, e.g. the 2-h
    glucose of a library without the screening OGTT, has no error, and no warning of an all-NaN list)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(np.std(finite, ddof=1)) if finite.size > 1 else math.nan


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
    start_values: dict[str, float] | None = None
    errors: dict[str, float] | None = None
    """Bootstrap standard error of each reweighted statistic at the fit."""
    stages: list[LibraryStage] | None = None
    first_fit: PopulationFit | None = None
    """The fit on the wide stage alone (where the refining stage is centred)."""
    library: Library | None = None
    library_paths: list[str] | None = None
    timings: dict[str, tuple[float, float, int]] | None = None
    """Per phase: (wall s, CPU s of this process and its finished workers, runs simulated)."""

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


def require_measured(problem: PopulationProblem, library: Library) -> None:
    """Raise ``CalibrationError`` for a target whose statistic the library cannot give (NaN under even weights):
    a fit would otherwise stop on NaN residuals without saying why."""
    n = len(library.x)
    found = statistics(library, np.full(n, 1.0 / n)) if n else {}
    unmeasured = [t.name for t in problem.targets if not math.isfinite(found.get(t.statistic, math.nan))]
    if unmeasured:
        raise CalibrationError(
            f"{problem.path}: the library gives no value for the target(s) {', '.join(unmeasured)}: a 2-h glucose"
            " needs the virtual clinic's screening OGTT (run when the library's sweep file is found unchanged and"
            " keeps the daily fasting glucose and HbA1c), a fasting insulin needs the sweep's yearly fasting insulin"
            " (fasting_insulin_uU_ml in its yearly outputs), the other statistics need enrolled patients"
        )


def fit_population(problem: PopulationProblem, library: Library, start_values=None) -> PopulationFit:
    """Least squares over the free distribution parameters (bounded; steps relative to each parameter's range),
    from ``start_values`` (default: the wide stage's centre, where the weights are even, not from a start the
    library may cover thinly)."""
    from scipy.optimize import least_squares

    started = time.perf_counter()
    require_measured(problem, library)
    objective = Objective(problem, library)
    start = np.array(_centre(problem) if start_values is None else list(start_values), dtype=float)
    low = np.array([f.low for f in problem.free])
    high = np.array([f.high for f in problem.free])
    scale = (high - low) / 10.0
    r0 = objective(start)
    solution = least_squares(objective, start, bounds=(low, high), x_scale=scale, diff_step=1e-3, method="trf")
    values = solution.x
    jac = solution.jac
    # the local SD of the fields inside their bounds (a field at a bound is held there: NaN, reported as such)
    inside = np.array([min(abs(v - a), abs(v - b)) > 1e-6 * (b - a) for v, a, b in zip(values, low, high)])
    sd = [math.nan] * len(values)
    if inside.any():
        try:
            covariance = np.linalg.inv(jac[:, inside].T @ jac[:, inside])
            for k, c in zip(np.flatnonzero(inside), np.diag(covariance)):
                sd[k] = float(math.sqrt(max(c, 0.0)))
        except np.linalg.LinAlgError:
            for k in np.flatnonzero(inside):
                sd[k] = math.inf
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
        start_values={f.name: float(v) for f, v in zip(problem.free, start)},
    )


def _clock() -> tuple[float, float]:
    """(wall s, CPU s of this process and of its finished child processes: the sweep's workers)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), time.process_time() + children.ru_utime + children.ru_stime


def _since(mark: tuple[float, float], simulated: list[int] | None = None) -> tuple[float, float, int]:
    """(wall s, CPU s, runs simulated) since ``mark``."""
    now = _clock()
    return now[0] - mark[0], now[1] - mark[1], sum(simulated or [])


def calibrate_population(
    path: Path | str = DEFAULT_TARGETS, cache_dir: Path | str | None = None, progress: bool = True, workers: int = 1
) -> PopulationFit:
    """Simulate (or reuse) the library's stages and fit the cohort's free distribution parameters to the targets:
    the wide stage, a first fit, the refining stage centred there, and the fit on both."""
    problem = load_population_targets(path)
    variables, correlation = start_cohort(problem)
    names = [v["name"] for v in variables]
    timings = {}
    stages = library_stages(problem)
    mark, simulated = _clock(), list[int]()
    wide = Library.from_results(
        run_library(problem, cache_dir, progress=progress, workers=workers, stage=stages[0], simulated=simulated),
        names,
        problem.follow_up_years,
    )
    timings[f"{stages[0].name} stage"] = _since(mark, simulated)
    wide.log_proposal = mixture_log_proposal(problem, stages, correlation, wide.x)
    first = fit_population(problem, wide)
    stages = library_stages(problem, first.values)
    parts = [wide]
    if len(stages) > 1:
        mark, simulated = _clock(), list[int]()
        parts.append(
            Library.from_results(
                run_library(
                    problem, cache_dir, progress=progress, workers=workers, stage=stages[1], simulated=simulated
                ),
                names,
                problem.follow_up_years,
            )
        )
        timings[f"{stages[1].name} stage"] = _since(mark, simulated)
    library = Library.concat(parts)
    library.log_proposal = mixture_log_proposal(problem, stages, correlation, library.x)
    mark = _clock()
    fit = fit_population(problem, library, start_values=stages[-1].centre) if len(stages) > 1 else first
    fit.errors = statistic_errors(library, fit_weights(fit, library), seed=problem.library_seed)
    timings["fit and bootstrap"] = (*_since(mark)[:2], -1)  # no sweep in this phase
    fit.first_fit = first
    fit.stages = stages
    fit.library = library
    fit.library_paths = [str(library_dir(problem, cache_dir, stage)) for stage in stages]
    fit.library_path = fit.library_paths[-1]
    fit.timings = timings
    return fit


def fit_weights(fit: PopulationFit, library: Library, values: dict[str, float] | None = None) -> np.ndarray:
    """The library's importance weights at the fit (or at ``values``)."""
    values = fit.values if values is None else values
    return Objective(fit.problem, library).weights([values[f.name] for f in fit.problem.free])


# ---------------------------------------------------------------------------------------------- the check
@dataclass
class CheckRow:
    """One statistic: reweighted from the library at the cohort file's values, and simulated directly."""

    statistic: str
    label: str
    unit: str
    reweighted: float
    reweighted_se: float
    direct: float
    direct_se: float
    target: PopulationTarget | None = None

    @property
    def z(self) -> float:
        combined = math.hypot(self.reweighted_se, self.direct_se)
        return (self.direct - self.reweighted) / combined if combined > 0 else math.nan

    @property
    def carries(self) -> bool:
        return bool(abs(self.z) <= CHECK_Z)


@dataclass
class CheckResult:
    """The cohort file simulated directly (as the trial sweep draws it), against the reweighted library."""

    rows: list[CheckRow]
    samples: int
    enrolled: int
    effective_enrolled: float
    """The library's effective enrolled patients at the file's values."""
    values: dict[str, float]
    path: str
    timing: tuple[float, float, int] = (0.0, 0.0, 0)

    @property
    def holds(self) -> bool:
        return all(row.carries for row in self.rows if row.target is not None)

    @property
    def failed(self) -> list[CheckRow]:
        return [row for row in self.rows if row.target is not None and not row.carries]

    @property
    def outside_published(self) -> list[CheckRow]:
        """Target statistics of the directly simulated cohort outside the published range: the file can carry the
        reweighted fit (``holds``) and still miss the trial, when the library's own uncertainty is wide."""
        return [row for row in self.rows if row.target is not None and not row.target.agrees(row.direct)]


def check_cohort(
    fit: PopulationFit, cache_dir: Path | str | None = None, progress: bool = True, workers: int = 1
) -> CheckResult:
    """Simulate the cohort file as it is now (``check_sweep_data``), read it through the same clinic and compare
    each statistic with the library reweighted to the file's values."""
    problem = fit.problem
    library = fit.library
    if library is None:
        raise CalibrationError("check_cohort needs the fit's library (calibrate_population keeps it)")
    mark, simulated = _clock(), list[int]()
    values = table_values(problem)
    weights = fit_weights(fit, library, values)
    reweighted = statistics(library, weights)
    reweighted_se = statistic_errors(library, weights, seed=problem.library_seed)
    names = library.variable_names
    results = _run(check_sweep(problem), check_dir(problem, cache_dir), progress, workers, simulated)
    direct_library = Library.from_results(results, names, problem.follow_up_years)
    n = len(direct_library.x)
    uniform = np.full(n, 1.0 / n)
    direct = statistics(direct_library, uniform)
    direct_se = statistic_errors(direct_library, uniform, seed=problem.library_seed)
    # a rate with no event has a bootstrap SE of 0: at least one event's worth (Poisson), over the enrolled's years
    one_event = 100.0 / max(float(np.sum(direct_library.enrolled)) * problem.follow_up_years, 1e-9)
    for name in ("diabetes_incidence_per_100py", "regression_per_100py"):
        direct_se[name] = max(direct_se[name], one_event)
    by_statistic = {t.statistic: t for t in problem.targets}
    labels = {"enrolled_fraction": ("enrolled fraction of the screened cohort", "1")}
    rows = []
    for name in STATISTICS:
        target = by_statistic.get(name)
        label, unit = (target.label, target.unit) if target else labels.get(name, (name, ""))
        rows.append(
            CheckRow(name, label, unit, reweighted[name], reweighted_se[name], direct[name], direct_se[name], target)
        )
    return CheckResult(
        rows=rows,
        samples=n,
        enrolled=int(np.sum(direct_library.enrolled)),
        effective_enrolled=effective_samples(np.where(library.enrolled, weights, 0.0)),
        values=values,
        path=str(check_dir(problem, cache_dir)),
        timing=_since(mark, simulated),
    )


# ---------------------------------------------------------------------------------------------- outputs
def _fmt(value: float) -> str:
    return f"{value + 0.0 if abs(value) > 1e-12 else 0.0:.4g}"  # a value at a bound of 0 prints 0, not -1e-15


def not_reached(fit: PopulationFit) -> list[PopulationTarget]:
    """The targets whose reweighted value at the fit lies outside the published range."""
    return [t for t in fit.problem.targets if not t.agrees(fit.statistics[t.statistic])]


def at_bound(fit: PopulationFit) -> list[str]:
    """The free fields the fit left at one of their bounds."""
    return [
        f.name
        for f in fit.problem.free
        if min(abs(fit.values[f.name] - f.low), abs(fit.values[f.name] - f.high))
        <= 1e-6 * max(abs(f.high - f.low), 1e-12)
    ]


def _stage_text(problem: PopulationProblem, stage: LibraryStage) -> str:
    centre = ", ".join(f"{f.name} {_fmt(c)}" for f, c in zip(problem.free, stage.centre))
    return (
        f"{stage.name} stage: {stage.samples} patients (seed {stage.seed}) centred at {centre},"
        f" spreads x{stage.spread_factor:g}"
    )


def _local_sd(sd: float) -> str:
    return "at bound" if math.isnan(sd) else f"{sd:.2g}"


def _se(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.2g}"


def summary_lines(fit: PopulationFit, check: CheckResult | None = None) -> list[str]:
    """Plain-text lines: the library and its effective sample size, fitted values, each target against its
    reweighted value (with the bootstrap standard error), those not reached, and the check."""
    problem = fit.problem
    errors = fit.errors or {}
    lines = [_stage_text(problem, stage) for stage in fit.stages or []]
    lines.append(
        f"library: {fit.library_size} patients, {fit.library_enrolled} enrolled by the virtual clinic;"
        f" effective sample size of the enrolled at the fit: {fit.effective_enrolled:.0f}"
        + (
            f" (the wide stage alone, at its own fit: {fit.first_fit.effective_enrolled:.0f})"
            if fit.first_fit is not None and fit.first_fit is not fit
            else ""
        )
    )
    if fit.effective_enrolled < MIN_EFFECTIVE_SAMPLES:
        lines.append(
            f"WARNING: fewer than {MIN_EFFECTIVE_SAMPLES:.0f} effective enrolled patients at the fit: enlarge"
            " [library] refine_samples or move the `proposal` centres to the fit"
        )
    lines += ["", f"{'distribution parameter':42s} {'start':>9s} {'fitted':>9s} {'local SD':>9s}"]
    for f, sd in zip(problem.free, fit.log_sd):
        start = (fit.start_values or {}).get(f.name, f.start)
        lines.append(f"{f.name:42s} {start:9.4g} {_fmt(fit.values[f.name]):>9s} {_local_sd(sd):>9s}")
    if at_bound(fit):
        lines.append(f"at a bound: {', '.join(at_bound(fit))}")
    lines.append("")
    for t in problem.targets:
        value = fit.statistics[t.statistic]
        verdict = "reached" if t.agrees(value) else "NOT REACHED"
        lines.append(
            f"{t.name:26s} fitted {value:7.4g} +- {_se(errors.get(t.statistic))} (published {t.published:g},"
            f" {t.low:g}-{t.high:g} {t.unit}; residual {t.residual(value):+.2f} spreads): {verdict}"
        )
    missed = not_reached(fit)
    lines.append(
        "not reached: " + ", ".join(t.name for t in missed) if missed else "every target reached (inside its range)"
    )
    lines.append(
        f"enrolled (by the virtual clinic): {fit.statistics['enrolled_fraction']:.0%} of the screened cohort;"
        f" cost {fit.cost:.4g} (start {fit.start_cost:.4g}); {fit.status}"
    )
    if check is not None:
        lines += ["", *check_lines(check)]
    return lines


def check_lines(check: CheckResult) -> list[str]:
    lines = [
        f"check: the cohort file simulated directly ({check.samples} patients as the trial sweep draws them,"
        f" {check.enrolled} enrolled) against the library reweighted to the file's values"
        f" ({check.effective_enrolled:.0f} effective enrolled); carries when |z| <= {CHECK_Z:g}",
        f"{'statistic':32s} {'reweighted':>17s} {'direct':>17s} {'z':>6s}",
    ]
    for row in check.rows:
        mark = "" if row.target is None else ("carries" if row.carries else "DOES NOT CARRY")
        reached = ""
        if row.target is not None:
            reached = "; in the published range" if row.target.agrees(row.direct) else "; outside the published range"
        lines.append(
            f"{row.statistic:32s} {row.reweighted:8.4g} +- {_se(row.reweighted_se):>5s} "
            f"{row.direct:8.4g} +- {_se(row.direct_se):>5s} {row.z:+6.2f} {mark}{reached}"
        )
    return lines


def _toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # 4 significant digits (not 4 decimals, which wrote a drift mean of -0.0005237 as -0.0005: 4.5 % off the fit,
    # so the file failed its own 1 % reproduction check); + 0.0: no -0.0
    return repr(float(f"{float(value):.4g}") + 0.0) if isinstance(value, float) else repr(value)


def cohort_text(fit: PopulationFit, command: str, check: CheckResult | None = None) -> str:
    """The regenerated cohort file: the distributions (fitted if the fit is adopted, else the start values), what
    they were fitted to (each target with its value at the fit, those not reached named), the library's effective
    sample size, and the direct check of the file when it has run."""
    problem = fit.problem
    data = load_toml(cohort_path(problem.cohort))
    written = [fit.values[f.name] if problem.adopted else f.start for f in problem.free]
    variables = with_values(start_cohort(problem)[0], problem.free, written)
    residuals = fit.residuals()
    target_text = "; ".join(
        f"{t.label} {_fmt(fit.statistics[t.statistic])} {t.unit} (published {t.published:g}, {t.low:g}-{t.high:g};"
        f" {residuals[t.name]:+.2f} spreads{'' if t.agrees(fit.statistics[t.statistic]) else '; NOT REACHED'})"
        for t in problem.targets
    )
    missed = not_reached(fit)
    target_text += (
        ". Not reached: " + ", ".join(t.name for t in missed) if missed else ". Every target inside its range"
    )
    fitted_text = ", ".join(f"{name} = {_fmt(value)}" for name, value in fit.values.items())
    fixed_text = "; ".join(f"{f.variable}.{f.field} = {f.value:g} ({f.source})" for f in problem.fixed)
    relative = (
        problem.path.relative_to(_repository_root())
        if problem.path.is_relative_to(_repository_root())
        else problem.path
    )
    library = (
        f"Library: {fit.library_size} virtual patients x {problem.follow_up_years} years"
        f" ({' + '.join(str(stage.samples) for stage in fit.stages or [])}: wide and refining stages),"
        f" {fit.library_enrolled} enrolled, effective sample size of the enrolled at the fit"
        f" {fit.effective_enrolled:.0f} (docs/population.md)."
    )
    if check is not None:
        carried = "; ".join(
            f"{row.statistic} {_fmt(row.direct)} (reweighted {_fmt(row.reweighted)}, z {row.z:+.1f})"
            for row in check.rows
            if row.target is not None
        )
        library += (
            f" Checked by simulating this file as the trial sweep draws it ({check.samples} patients, control arm,"
            f" {check.enrolled} enrolled): {carried}; "
            + (
                f"it holds (every target statistic within {CHECK_Z:g} combined standard errors)"
                + (
                    "; simulated directly it is OUTSIDE the published range in "
                    + ", ".join(row.statistic for row in check.outside_published)
                    + "."
                    if check.outside_published
                    else ", and inside every published range."
                )
                if check.holds
                else "it DOES NOT HOLD: " + ", ".join(row.statistic for row in check.failed) + " do not carry."
            )
        )
    if problem.adopted:
        # a spread that is itself a free field (e.g. the drift's sd) is fitted, so it is not among the hand-set ones
        free_spreads = [f.name for f in problem.free if f.field in ("sd", "gsd")]
        hand_set = (
            f"The other spreads and the correlations are the hand-set cohort's (not fitted; {', '.join(free_spreads)}"
            " is fitted, above)."
            if free_spreads
            else "Spreads and correlations are the hand-set cohort's (not fitted)."
        )
        source = (
            f"fitted by `{command}` to {relative} ({problem.title}): {fitted_text}. At the fit: {target_text}."
            f" Set from the baseline data: {fixed_text}. {hand_set} {library}"
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
        *_wrapped_comment(_cohort_summary(problem, variables, data["correlation"])),
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
    if problem.parameters:
        lines += [
            "",
            "# shared by every patient, not drawn (the target file's [parameters]; why: its parameters_source)",
        ]
        lines += ["[parameters]", *[f"{name} = {_toml_value(value)}" for name, value in problem.parameters.items()]]
    for v in variables:
        lines += ["", "[[variables]]"]
        for key in ("parameter", "field", "unit", "distribution", "median", "gsd", "mean", "sd", "bounds"):
            if key in v:
                lines.append(f"{key} = {_toml_value(v[key])}")
    return "\n".join(lines) + "\n"


_VARIABLE_WORDS = {
    "insulin_sensitivity_whole_body": "whole-body insulin sensitivity",
    "insulin_sensitivity_muscle": "muscle's own insulin sensitivity",
    "beta_function_max": "the secretory reserve",
    "routine.drift.whole_body_per_year": "the yearly drift of sensitivity",
    "glucose_sensing_offset": "the beta cells' glucose-sensing offset (the set point their compensation holds)",
    "body_weight": "body weight",
}
"""How the cohort file's header names a variable (its parameter or scenario field otherwise)."""

_FIELD_WORDS = {
    "median": "the median of ",
    "mean": "the mean of ",
    "sd": "the spread between patients of ",
    "gsd": "the spread of ",
}


def _field_words(variable: str, field: str) -> str:
    return _FIELD_WORDS.get(field, f"the {field} of ") + _VARIABLE_WORDS.get(variable, variable)


def _cohort_summary(problem: PopulationProblem, variables: list[dict], correlation) -> str:
    """The cohort file's header prose, from the target file: which fields are fitted, which set from the data, and
    which variables are drawn independently (a zero row of the copula's correlation)."""
    free = [_field_words(f.variable, f.field) for f in problem.free]
    fixed = [f"{_field_words(f.variable, f.field)} ({f.value:g})" for f in problem.fixed]
    names = [str(v.get("parameter", v.get("field"))) for v in variables]
    # the cohort loader checks the matrix against the variables; without one every variable is independent
    independent = [
        _VARIABLE_WORDS.get(name, name)
        for k, name in enumerate(names)
        if not correlation or all(c == 0.0 for j, c in enumerate(correlation[k]) if j != k)
    ]
    about = problem.description[:1].lower() + problem.description[1:]
    return (
        f"A virtual cohort of {about} Fitted to the {problem.title} (`source` says whether the fit is adopted,"
        f" and why): {', '.join(free)}."
        + (f" Set from the data: {', '.join(fixed)}." if fixed else "")
        + " The other spreads and the correlation of the normal scores (a Gaussian copula, below) are hand-set"
        + (f"; drawn independently of the rest: {', '.join(independent)}." if independent else ".")
        + (
            " Every patient shares "
            + ", ".join(f"{name} = {value:g}" for name, value in problem.parameters.items())
            + f": {problem.parameters_source.rstrip('.')}."
            if problem.parameters
            else ""
        )
    )


def _wrapped_comment(text: str, width: int = 78) -> list[str]:
    # never inside a word: a header split at "whole-" / "body" reads badly and no longer contains the phrase
    lines = textwrap.wrap(text, width - 2, break_on_hyphens=False, break_long_words=False)
    return ["# " + line for line in lines]


def write_cohort(
    fit: PopulationFit,
    command: str = "python -m glucosim.calibration.population --write",
    check: CheckResult | None = None,
) -> Path:
    """Regenerate the cohort file from the fit (and the check's result, once it has run)."""
    path = cohort_path(fit.problem.cohort)
    write_text_whole(path, cohort_text(fit, command, check))  # a sweep input: never half-written
    return path


REPORT_PATH = _repository_root() / "docs" / "population.md"
KEPT_MARKER = "<!-- kept by --write: the text below is written by hand, not by the fit -->"
"""A line of the report after which the text is hand-written (a diagnosis that needs simulations the fit does
not run, e.g. the lifestyle arm's disagreement): ``write_report`` keeps it when it regenerates the page."""


def write_report(text: str, path=None) -> None:
    """Write the generated report ``text`` to ``path`` (default ``REPORT_PATH``), keeping the hand-written tail
    of the page there (``KEPT_MARKER`` and everything after it) under the new text."""
    from pathlib import Path

    path = Path(path) if path is not None else REPORT_PATH
    kept = ""
    if path.is_file():
        old = path.read_text()
        if KEPT_MARKER in old:
            kept = old[old.index(KEPT_MARKER) :]
    write_text_whole(path, text if not kept else text.rstrip("\n") + "\n\n" + kept)  # the kept text is not regenerable


def _timing_text(timing: tuple[float, float, int]) -> str:
    wall, cpu, runs = timing
    text = f"{wall:.0f} s wall, {cpu:.0f} s CPU"
    if runs < 0:  # a phase without a sweep
        return text
    if runs:
        return f"{text}, {runs} runs simulated ({cpu / runs:.2f} s CPU a run)"
    return f"{text}, no run simulated (read from the cache)"


def report_markdown(fit: PopulationFit, runtime_s: float | None = None, check: CheckResult | None = None) -> str:
    """The fit as a Markdown page: method, library and effective sample size, fitted values with their local SD,
    each target against its reweighted value, those not reached, the direct check, the runtime."""
    from glucosim.analysis.sweep.clinic import follow_up_text

    problem = fit.problem
    relative = problem.path.name
    errors = fit.errors or {}
    lines = [
        f"# Population calibration: {problem.title}",
        "",
        "Generated by `python -m glucosim.calibration.population --write` (also `glucosim calibrate-population"
        f" --write`) from `validation/targets/population/{relative}`; do not edit by hand.",
        "",
        f"Cohort `models/cohorts/{problem.cohort}.toml`: {problem.description}",
        "",
        "**Method.** A library of virtual patients is simulated (cohort sweeps of the control arm over"
        f" {problem.follow_up_years} years; resumable, cached by the model's source hash) in two stages: a wide"
        " stage, the cohort with each free field at its `proposal` centre and the spreads of the variables with a"
        " free field widened, and a refining stage centred at a first fit on the wide stage, less widened; both"
        " keep the cohort's correlation. A candidate cohort distribution weights each library patient by its"
        " density over the library's (the two stages' densities mixed in proportion to their sizes: importance"
        " reweighting, self-normalised); a draw the sweep clipped to a bound counts as the probability mass beyond"
        " it. Each statistic is a weighted average over the enrolled, so the objective is smooth in the"
        " distribution parameters and costs no simulation. Enrolment, diagnosis"
        " and return to normal are what a virtual DPP clinic sees of each patient's daily course"
        " (`glucosim.analysis.sweep.clinic`): a staged screening as the DPP's (a preliminary fasting glucose of"
        " 95-125 mg/dl, then a 75-g OGTT at the eligibility visit, run on the patient's day-0 state: its fasting"
        " glucose in that window and its 2-h glucose at impaired glucose tolerance, 140-199 mg/dl, CV 12.7 %),"
        f" then {follow_up_text(library_sweep(problem).sweep.outputs.yearly_ogtt)}."
        " `scipy.optimize.least_squares` (bounded trust-region)"
        " minimises the targets' residuals in units of their spread. Standard errors of the reweighted statistics:"
        f" {BOOTSTRAP_REPLICATES} bootstrap resamples of the library at the fit. **The check:** the cohort file as"
        " written is simulated directly, as the shipped trial sweep draws it (its seed, its sample count, its"
        " control arm: the same patients), read through the same clinic, and each statistic compared with the"
        " library reweighted to the file's values.",
        "",
        (
            "**Adopted:** yes: the cohort file holds the fitted values."
            if problem.adopted
            else f"**Not adopted:** the cohort file keeps the start (hand-set) values. {problem.not_adopted_because}"
        ),
        "",
        "## The library",
        "",
        "| stage | patients | seed | centre (free fields) | spreads widened | enrolled | runtime |",
        "|---|---|---|---|---|---|---|",
    ]
    timings = fit.timings or {}
    offsets = np.cumsum([0] + [stage.samples for stage in fit.stages or []])
    for k, stage in enumerate(fit.stages or []):
        enrolled = (
            int(np.sum(fit.library.enrolled[offsets[k] : offsets[k + 1]])) if fit.library is not None else math.nan
        )
        timing = timings.get(f"{stage.name} stage")
        lines.append(
            f"| {stage.name} | {stage.samples} | {stage.seed} | "
            + ", ".join(_fmt(c) for c in stage.centre)
            + f" | x{stage.spread_factor:g} | {enrolled} | {_timing_text(timing) if timing else '-'} |"
        )
    lines += [
        "",
        f"Centres in the order {', '.join(f'`{f.name}`' for f in problem.free)}; the refining stage's is the first"
        " fit's, to 3 significant digits.",
        "",
        f"**Effective sample size** of the enrolled at the fit (Kish, (sum w)^2 / sum w^2):"
        f" **{fit.effective_enrolled:.0f}** of {fit.library_enrolled} enrolled library patients"
        + (
            f" (the wide stage alone, at its own fit: {fit.first_fit.effective_enrolled:.0f})."
            if fit.first_fit is not None and fit.first_fit is not fit
            else "."
        )
        + " The size: the library's statistics are certain to about 19 / sqrt(effective enrolled) per 100"
        " person-years for a rate of ~10, which should stay under the targets' spreads; the command warns below"
        f" {MIN_EFFECTIVE_SAMPLES:.0f}."
        + (
            f" The direct cohort that checks them enrols {check.enrolled}"
            + (
                ", more than the library's effective patients: the library is the less certain side of the check"
                " (compare the standard errors below)."
                if check.enrolled > fit.effective_enrolled
                else "."
            )
            if check
            else ""
        )
        + (" **Thin library at the fit.**" if fit.effective_enrolled < MIN_EFFECTIVE_SAMPLES else ""),
        "",
        "## The fit",
        "",
        "| distribution parameter | start | fitted | local SD | bounds |",
        "|---|---|---|---|---|",
    ]
    for f, sd in zip(problem.free, fit.log_sd):
        start = (fit.start_values or {}).get(f.name, f.start)
        lines.append(
            f"| `{f.name}` | {_fmt(start)} | {_fmt(fit.values[f.name])} | {_local_sd(sd)} | [{f.low:g}, {f.high:g}] |"
        )
    lines += [
        "",
        "Start: where the final fit starts (the refining stage's centre). Hand-set values before any fit: "
        + ", ".join(f"`{f.name}` {f.start:g}" for f in problem.free)
        + ".",
        "",
        "Set from the data, not fitted:",
        "",
    ]
    lines += [f"- `{f.variable}.{f.field}` = {f.value:g}: {f.source}" for f in problem.fixed]
    lines += [
        "",
        "| target | published (range) | at the start | at the fit (+- bootstrap SE) | residual (spreads) | verdict |",
        "|---|---|---|---|---|---|",
    ]
    residuals = fit.residuals()
    for t in problem.targets:
        value = fit.statistics[t.statistic]
        verdict = "reached" if t.agrees(value) else "**not reached**"
        lines.append(
            f"| {t.label} ({t.unit}) | {t.published:g} ({t.low:g}-{t.high:g}) "
            f"| {_fmt(fit.start_statistics[t.statistic])} | {_fmt(value)} +- {_se(errors.get(t.statistic))} "
            f"| {residuals[t.name]:+.2f} | {verdict} |"
        )
    missed = not_reached(fit)
    lines += [
        "",
        (
            "**Not reached:** "
            + ", ".join(
                f"{t.label} ({_fmt(fit.statistics[t.statistic])} {t.unit}, published {t.low:g}-{t.high:g})"
                for t in missed
            )
            + "."
            if missed
            else "Every target is reached (inside its published range) by the reweighted library."
        ),
        "",
        f"Enrolled: {fit.statistics['enrolled_fraction']:.0%} of the screened cohort. Cost {fit.cost:.3g}"
        f" (start {fit.start_cost:.3g}). {fit.status}",
        "",
    ]
    if at_bound(fit):
        lines += [f"**At a bound:** {', '.join(f'`{name}`' for name in at_bound(fit))}.", ""]
    lines += [
        "Local SD: from the Jacobian of the residuals at the fit, sqrt(diag((J^T J)^-1)), in the parameter's"
        " units, for the fields inside their bounds (a field at a bound is held there); a large SD means the"
        " targets leave that parameter free.",
        "",
    ]
    if check is not None:
        lines += [
            "## The check: the cohort file simulated directly",
            "",
            f"{check.samples} patients drawn from the cohort file as the trial sweep draws them (the shipped sweep's"
            f" control arm), {check.enrolled} enrolled; the library reweighted to the file's values has"
            f" {check.effective_enrolled:.0f} effective enrolled patients. A statistic carries when the two agree"
            f" within {CHECK_Z:g} combined standard errors (z; bootstrap SE of each, {BOOTSTRAP_REPLICATES}"
            f" resamples). Runtime {_timing_text(check.timing)}.",
            "",
            "| statistic | reweighted library (+- SE) | cohort file simulated (+- SE) | z | carries"
            " | published range |",
            "|---|---|---|---|---|---|",
        ]
        for row in check.rows:
            published = "-"
            if row.target is not None:
                inside = "inside" if row.target.agrees(row.direct) else "**outside**"
                published = f"{row.target.low:g}-{row.target.high:g} ({inside})"
            carries = "-" if row.target is None else ("yes" if row.carries else "**no**")
            lines.append(
                f"| {row.label} ({row.unit}) | {_fmt(row.reweighted)} +- {_se(row.reweighted_se)} | {_fmt(row.direct)}"
                f" +- {_se(row.direct_se)} | {row.z:+.2f} | {carries} | {published} |"
            )
        lines += [
            "",
            (
                f"**The cohort file holds:** every target statistic of the directly simulated cohort is within"
                f" {CHECK_Z:g} combined standard errors of the reweighted library."
                + (
                    " **But simulated directly it is outside the published range in "
                    + ", ".join(row.label for row in check.outside_published)
                    + "**: the reweighted fit is inside, the cohort drawn from the file is not."
                    if check.outside_published
                    else " Simulated directly, it is inside every published range."
                )
                if check.holds
                else "**The cohort file does not hold:** "
                + ", ".join(row.label for row in check.failed)
                + " of the directly simulated cohort differ from the reweighted library by more than"
                f" {CHECK_Z:g} combined standard errors."
            ),
            "",
        ]
    lines += [
        "Library folders (named by the stage, the model source hash and the stage's sweep hash): "
        + ", ".join(f"`{Path(path).name}`" for path in fit.library_paths or [fit.library_path])
        + ".",
        "",
        "Sources:",
        "",
    ]
    lines += [f"- *{t.label}:* {t.source}" for t in problem.targets]
    if timings or runtime_s is not None:
        lines += ["", "Runtime of the last run" + (f": {runtime_s:.0f} s wall in all" if runtime_s else "") + "."]
        lines += [f"- {phase}: {_timing_text(timing)}" for phase, timing in timings.items()]
        if check is not None:
            lines.append(f"- check: {_timing_text(check.timing)}")
        lines.append(
            "  (CPU: this process and its finished worker processes; a phase whose sweep was already in the cache"
            " costs only its reading.)"
        )
    return "\n".join(lines) + "\n"


def table_values(problem: PopulationProblem) -> dict[str, float]:
    """The free fields' values in the cohort file now."""
    data = load_toml(cohort_path(problem.cohort))
    by_name = {v["name"]: v for v in _variable_dicts(data)}
    return {f.name: float(by_name[f.variable][f.field]) for f in problem.free}


REPRODUCTION_TOLERANCE = 0.01
"""Relative agreement between a rerun's fitted values and the cohort file's (written with 4 digits)."""


def _positive_int(text: str) -> int:
    """argparse type of ``--workers``: a whole number of at least 1 (0 and -1 were taken and printed as planned)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def main(argv: list[str] | None = None, prog: str = "python -m glucosim.calibration.population") -> int:
    """``python -m glucosim.calibration.population [TARGETS] [--write] [--no-check] [--cache-dir DIR] [--workers N]``.

    Exit status 0 when the cohort file holds (its values are the fit's, within ``REPRODUCTION_TOLERANCE``, and the
    direct check carries), 1 when it does not, 2 on an error.
    """
    import argparse

    parser = argparse.ArgumentParser(
        prog=prog,
        allow_abbrev=False,  # --gri was taken for --grid
        description=__doc__.split("\n")[0],
        epilog="Simulates (or resumes, or reads from the cache) the library's two stages, fits, and checks the"
        " cohort file by simulating it as the trial sweep draws it. Exit status: 0 the cohort file holds (the"
        " fitted values, and the direct check carries), 1 it does not, 2 an error.",
    )
    parser.add_argument("targets", nargs="?", default=str(DEFAULT_TARGETS))
    parser.add_argument("--write", action="store_true", help="regenerate the cohort file and docs/population.md")
    parser.add_argument("--cache-dir", default=None, help="where libraries are kept (default: the user cache)")
    parser.add_argument("--workers", type=_positive_int, default=1, help="local worker processes for the library")
    parser.add_argument(
        "--no-check", action="store_true", help="skip simulating the cohort file directly (the file is not checked)"
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    progress = not args.no_progress
    try:
        fit = calibrate_population(args.targets, args.cache_dir, progress=progress, workers=args.workers)
        for line in summary_lines(fit):
            print(line)
        print(f"library: {', '.join(fit.library_paths or [])}")
        if args.write:
            print(f"wrote {write_cohort(fit)}")
        table = table_values(fit.problem)
        expected = fit.values if fit.problem.adopted else {f.name: f.start for f in fit.problem.free}
        far = [n for n, v in expected.items() if abs(v - table[n]) > REPRODUCTION_TOLERANCE * max(abs(table[n]), 1e-3)]
        check = None if args.no_check else check_cohort(fit, args.cache_dir, progress=progress, workers=args.workers)
    except GlucosimError as exc:  # a CalibrationError, or the sweep's or a scenario's own error
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if check is not None:
        print()
        for line in check_lines(check):
            print(line)
    if args.write:
        write_cohort(fit, check=check)
        write_report(report_markdown(fit, time.perf_counter() - started, check))
        print(f"wrote {REPORT_PATH} (and the check into the cohort file)")
    for phase, timing in (fit.timings or {}).items():
        print(f"{phase}: {_timing_text(timing)}")
    if check is not None:
        print(f"check: {_timing_text(check.timing)}")
    print(f"total {time.perf_counter() - started:.0f} s wall")
    held = "fitted" if fit.problem.adopted else "hand-set (the fit is not adopted)"
    if far:
        print(f"the cohort file differs from the fit in {', '.join(far)} (rerun with --write)", file=sys.stderr)
    elif check is None:
        print(
            f"the cohort file holds the {held} values (within {REPRODUCTION_TOLERANCE:.0%}); not checked (--no-check)"
        )
    if check is not None and not check.holds:
        print(
            "the cohort file DOES NOT HOLD: simulated directly, "
            + ", ".join(row.statistic for row in check.failed)
            + f" differ from the reweighted library by more than {CHECK_Z:g} combined standard errors",
            file=sys.stderr,
        )
    if far or (check is not None and not check.holds):
        return 1
    if check is not None:
        print(
            f"the cohort file holds: the {held} values (within {REPRODUCTION_TOLERANCE:.0%}), and simulated directly"
            f" it reproduces every reweighted target statistic within {CHECK_Z:g} combined standard errors"
        )
        if check.outside_published:
            print(
                "but simulated directly it is OUTSIDE the published range in "
                + ", ".join(row.statistic for row in check.outside_published)
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
