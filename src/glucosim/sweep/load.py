"""Load and check a sweep file; every error names the file, the field and what is allowed.

Everything that can be checked before a single run is checked here: the
design fits the variables, parameters exist with the stated unit and their
ranges lie within the table's plausible range, scenario-field variables
produce a valid scenario in every arm, correlations form a valid matrix.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from glucosim._toml import read_toml_file
from glucosim.errors import ParameterError, ScenarioError, SweepError
from glucosim.parameters import DIMENSIONLESS, load_parameter_table
from glucosim.physiology.indices import PARAMETER_TABLE_PATH
from glucosim.scenario.load import format_validation_error, parse_scenario
from glucosim.scenario.schema import DURATION_FIELDS
from glucosim.simulation.result import YEARLY_COLUMNS, whole_years
from glucosim.sweep.scenario_edit import check_adherence_targets, field_path_tokens, run_scenario_data, set_field
from glucosim.sweep.schema import DISTRIBUTION_FIELDS, CohortFile, Design, Sweep, Variable

COHORT_DIR = PARAMETER_TABLE_PATH.parent / "cohorts"

_NEEDS = {
    "grid": "'values', or 'range' with 'levels'",
    "latin_hypercube": "'range'",
    "sobol": "'range'",
    "morris": "'range'",
    "cohort": "a 'distribution' (uniform: range; normal: mean, sd; lognormal: median, gsd)",
}
_SAMPLING_FIELDS = ("values", "range", "levels", "distribution", "median", "gsd", "mean", "sd", "bounds")
CORRELATION_TOLERANCE = 1e-9
"""Symmetry and unit-diagonal tolerance of a correlation matrix."""
CORRELATION_SMALLEST_EIGENVALUE = 1e-10
"""A correlation matrix whose smallest eigenvalue is this small is singular but for rounding: refused (its Cholesky
factor, which the design draws through, does not exist or is meaningless)."""


def identity_json(sweep: Sweep) -> str:
    """The resolved sweep as JSON, for the hashes that tie a results folder to its sweep.

    A field added to the sweep format with an inert default is left out while it holds that default, so folders
    written before the field existed keep their hashes (resume, growth): today ``adherence_correlation``,
    ``design.parameters`` and ``outputs.yearly_ogtt``.
    """
    exclude: dict = {}
    if all(arm.adherence_correlation is None for arm in sweep.arms):
        exclude["arms"] = {"__all__": {"adherence_correlation"}}
    if not sweep.design.parameters:
        exclude["design"] = {"parameters"}
    if not sweep.outputs.yearly_ogtt:
        exclude["outputs"] = {"yearly_ogtt"}
    return sweep.model_dump_json(exclude=exclude or None)


@dataclass(frozen=True)
class LoadedSweep:
    """A checked sweep with where it came from.

    Attributes:
        sweep: the validated data (a named cohort's variables filled in).
        source: path of the sweep file.
        text: the sweep file's text (kept for provenance).
        base_source: path of the base scenario.
        base_data: the base scenario as a dict (clinic visits removed, duration replaced).
        base_text: the base scenario file's text.
    """

    sweep: Sweep
    source: str
    text: str
    base_source: str
    base_data: dict
    base_text: str

    @property
    def sha256(self) -> str:
        """Hash of everything that defines the runs: the sweep and base-scenario texts, and the
        resolved sweep (which holds a named cohort's variables, so editing the cohort file changes it)."""
        content = "\0".join((self.text, self.base_text, identity_json(self.sweep)))
        return hashlib.sha256(content.encode()).hexdigest()

    @property
    def variable_names(self) -> tuple[str, ...]:
        """Column names of the variables, in order, then of the arms' adherence draws (a cohort's, per patient)."""
        return tuple(variable.name for variable in self.sweep.variables) + self.sweep.adherence_columns

    @property
    def n_years(self) -> int:
        """Whole years in each run (yearly outputs run 0..n_years)."""
        return whole_years(self._base_days)

    @property
    def n_days(self) -> int:
        """Days in each run (the arms change what happens, not how long)."""
        return self._base_days

    @property
    def run_years(self) -> float:
        """Length of each run in years (days / 365.25): where years-to-diabetes is censored."""
        from glucosim.physiology.units import DAYS_PER_YEAR

        return self._base_days / DAYS_PER_YEAR

    @cached_property
    def _base_days(self) -> int:
        return parse_scenario(self.base_data, source=self.base_source).scenario.n_days


def _fail(source: str, where: str, message: str):
    raise SweepError(f"{source}: {where}: {message}")


def _load_cohort(source: str, design: Design) -> tuple[tuple[Variable, ...], tuple | None, dict[str, float]]:
    """The variables, correlation and shared parameters of the named cohort file in models/cohorts."""
    path = COHORT_DIR / f"{design.cohort}.toml"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in COHORT_DIR.glob("*.toml")))
        _fail(source, "design.cohort", f"unknown cohort {design.cohort!r}; allowed: {available}")
    data, _ = read_toml_file(path, SweepError, "cohort")
    try:
        cohort = CohortFile.model_validate(data)
    except ValidationError as exc:
        raise SweepError(format_validation_error(str(path), exc, CohortFile, "cohort file")) from None
    _check_shared_parameters(str(path), "parameters", cohort.parameters)
    return cohort.variables, cohort.correlation, dict(cohort.parameters)


def _check_shared_parameters(source: str, where: str, parameters: dict[str, float]) -> None:
    """Each shared parameter is in the parameter table and inside its plausible range."""
    table = load_parameter_table()
    for name, value in parameters.items():
        try:
            row = table[name]
        except ParameterError as exc:
            _fail(source, f"{where}.{name}", str(exc))
        if not row.low <= value <= row.high:
            _fail(source, f"{where}.{name}", _outside_range(row, value))


def _outside_range(row, value: float) -> str:
    """Why ``value`` is refused for the parameter-table entry ``row``: its plausible range, with its unit and source."""
    unit = "" if row.unit == DIMENSIONLESS else f" {row.unit}"
    return f"{value:g}{unit} is outside the plausible range [{row.low:g}, {row.high:g}]{unit} (source: {row.source})"


def _check_sampling(source: str, index: int, variable: Variable, kind: str) -> None:
    where = f"variables[{index}] ({variable.name})"
    given = {name for name in _SAMPLING_FIELDS if getattr(variable, name) is not None}
    if kind == "grid":
        ok = given in ({"values"}, {"range", "levels"})
    elif kind == "cohort":
        wanted = set(DISTRIBUTION_FIELDS.get(variable.distribution, ())) | {"distribution"}
        ok = variable.distribution is not None and given - {"bounds"} == wanted
    else:
        ok = given == {"range"}
    if not ok:
        _fail(source, where, f"a '{kind}' design needs {_NEEDS[kind]}; got {', '.join(sorted(given)) or 'nothing'}")


def _check_parameter(source: str, index: int, variable: Variable) -> None:
    table = load_parameter_table()
    where = f"variables[{index}].parameter"
    try:
        row = table[variable.parameter]
    except ParameterError as exc:
        _fail(source, where, str(exc))
    if variable.unit != row.unit:
        _fail(source, f"variables[{index}].unit", f"'{variable.parameter}' is in '{row.unit}' (got {variable.unit!r})")
    numbers = [*(variable.values or ()), *(variable.range or ()), *(variable.bounds or ())]
    if variable.distribution == "normal":
        numbers.append(variable.mean)
    if variable.distribution == "lognormal":
        numbers.append(variable.median)
    outside = [value for value in numbers if not row.low <= value <= row.high]
    if outside:
        _fail(source, f"variables[{index}] ({variable.parameter})", _outside_range(row, outside[0]))


def _probe_value(variable: Variable) -> float:
    """A value inside the variable's support, to check a scenario field accepts it."""
    if variable.values:
        return variable.values[0]
    for interval in (variable.range, variable.bounds):
        if interval:
            return 0.5 * (interval[0] + interval[1])
    return variable.mean if variable.mean is not None else variable.median


def _edge_values(variable: Variable, kind: str) -> tuple[float, ...]:
    """The values to check a variable at before any run: every value of a grid (its list, or its range's levels),
    both ends of a continuous design's range and a point inside it that is not a whole number (a design that
    samples a range cannot vary a whole-number field such as a change's from_day)."""
    if kind == "grid":
        return variable.grid_values()
    low, high = float(variable.range[0]), float(variable.range[1])
    inside = low + 0.5123 * (high - low)
    return (low, high) if inside == round(inside) else (low, high, inside)


EDGE_HINT = "\n  (every run must be valid before any starts: narrow the variable's values or range)"

MAX_CORNER_VARIABLES = 10
"""Up to this many variables, every corner of a design's box is checked (2 ** 10 scenarios per arm, ~2 s); beyond,
each variable at its edge values with the others at their probe values."""


def _check_edges(loaded: LoadedSweep) -> None:
    """For a grid, Latin-hypercube, Sobol or Morris design (whose points fill a box), every arm's scenario is valid
    with each variable at each of its edge values (``_edge_values``), the others at their probe values, and at every
    corner of the box, where rules that combine variables (the combined sensitivity's floor) bind. A value the
    scenario refuses was a failed run found after the sweep had started, and the sweep exited 0. A cohort's draws
    are random and clipped to bounds that are generous on purpose: its patients the scenario refuses stay failed
    runs of their own (a 10-year trial's few patients whose drift takes sensitivity below the table)."""
    kind = loaded.sweep.design.kind
    if kind == "cohort":
        return
    variables = loaded.sweep.variables
    probe = _probe_point(loaded)
    points = []
    for variable in variables:
        points += [({variable.name: value}, f"{variable.name} = {value!r}") for value in _edge_values(variable, kind)]
    if 1 < len(variables) <= MAX_CORNER_VARIABLES:
        ends = [(min(_edge_values(v, kind)), max(_edge_values(v, kind))) for v in variables]
        for corner in itertools.product(*ends):
            values = dict(zip((v.name for v in variables), corner, strict=True))
            shown = ", ".join(f"{name} = {value!r}" for name, value in values.items())
            points.append((values, f"the design's corner {shown}"))
    seen = set()
    for change, label in points:
        values = {**probe, **change}
        key = tuple(sorted(values.items()))
        if key in seen:
            continue
        seen.add(key)
        _check_arms_at(loaded, values, label, EDGE_HINT)


def _same_parameter_twice(loaded: LoadedSweep) -> None:
    """A parameter varied both by its table name and through a subject field: the table name won, silently."""
    from glucosim.scenario.schema import SHORTHAND_PARAMETERS

    # every variable's parameter: its table name, or the parameter its subject field sets; the first to claim one
    # keeps it (two subject fields of one parameter, e.g. subject.body_weight_kg and subject.parameters.body_weight,
    # were accepted and the second won silently)
    parameters = {
        variable.parameter: index for index, variable in enumerate(loaded.sweep.variables) if variable.parameter
    }
    for index, variable in enumerate(loaded.sweep.variables):
        field = variable.field or ""
        if not field.startswith("subject."):
            continue
        name = SHORTHAND_PARAMETERS.get(field.removeprefix("subject."), field.removeprefix("subject.parameters."))
        if name in parameters and parameters[name] != index:
            _fail(
                loaded.source,
                f"variables[{index}].field",
                f"'{field}' sets the parameter '{name}', which variables[{parameters[name]}] varies too (only one "
                f"of them would act, silently); vary it once",
            )
        parameters.setdefault(name, index)
    for name in loaded.sweep.design.parameters:  # a shared value under a variable: the variable acted, silently
        if name in parameters:
            _fail(
                loaded.source,
                f"design.parameters.{name}",
                f"variables[{parameters[name]}] varies it too (only one of them would act, silently); give it once",
            )


def _check_fields(loaded: LoadedSweep) -> None:
    """Each field variable must reach a field of the base scenario, and every arm's scenario, with every
    variable at a probe value, must be valid."""
    _same_parameter_twice(loaded)
    for index, variable in enumerate(loaded.sweep.variables):
        if variable.field is not None:
            try:
                set_field(copy.deepcopy(loaded.base_data), variable.field, _probe_value(variable))
            except (IndexError, TypeError) as exc:
                _fail(loaded.source, f"variables[{index}].field", f"not a field of the base scenario: {exc}")
    _check_arms_at(loaded, _probe_point(loaded), "each variable at its first value or mid-range")


def _probe_point(loaded: LoadedSweep) -> dict[str, float]:
    """Every variable at its probe value and every adherence draw at the middle of its support."""
    values = {v.name: _probe_value(v) for v in loaded.sweep.variables}
    values.update(
        {arm.adherence_column(entry): sum(entry.support) / 2 for arm in loaded.sweep.arms for entry in arm.adherence}
    )
    return values


def _check_arms_at(loaded: LoadedSweep, values: dict[str, float], label: str, hint: str = "") -> None:
    """Every arm's scenario at ``values`` is valid, else a SweepError naming the arm and ``label``."""
    for arm in loaded.sweep.arms:
        try:
            parse_scenario(run_scenario_data(loaded, arm, values), source=f"{loaded.base_source} (arm '{arm.name}')")
        except ScenarioError as exc:
            _fail(
                loaded.source,
                f"arm '{arm.name}' with {label}",
                f"not a valid scenario: {exc}{_duration_note(loaded.sweep, exc)}{hint}",
            )


def _check_adherence(loaded: LoadedSweep) -> None:
    """Each adherence entry reaches numbers (or exercise lists) of its arm's changes, its column clashes with no
    variable, and the arm's scenario is valid with every draw at either end of its support."""
    clash = set(loaded.sweep.adherence_columns) & {variable.name for variable in loaded.sweep.variables}
    if clash:
        _fail(loaded.source, "arms.adherence", f"column {sorted(clash)[0]!r} is also a variable's name; rename one")
    values = {v.name: _probe_value(v) for v in loaded.sweep.variables}
    for index, arm in enumerate(loaded.sweep.arms):
        if not arm.adherence:
            continue
        if arm.adherence_correlation is not None:
            _check_correlation(
                loaded.source,
                arm.adherence_correlation,
                len(arm.adherence),
                field=f"arms[{index}].adherence_correlation (arm '{arm.name}')",
                rows=f"adherence entry ({', '.join(entry.name for entry in arm.adherence)})",
            )
        try:
            check_adherence_targets(arm)
        except ValueError as exc:
            _fail(loaded.source, f"arm '{arm.name}'.adherence", str(exc))
        for end, label in ((0, "low"), (1, "high")):
            probe = dict(values)
            probe.update({arm.adherence_column(entry): entry.support[end] for entry in arm.adherence})
            try:
                parse_scenario(run_scenario_data(loaded, arm, probe), source=f"{loaded.base_source} (arm '{arm.name}')")
            except ScenarioError as exc:
                _fail(
                    loaded.source,
                    f"arm '{arm.name}' with every adherence draw at the {label} end of its bounds "
                    f"({', '.join(f'{entry.name} = {entry.support[end]:g}' for entry in arm.adherence)})",
                    f"not a valid scenario: {exc}{_duration_note(loaded.sweep, exc)}",
                )


def _check_correlation(source: str, matrix, n: int, field: str = "design.correlation", rows: str = "variable") -> None:
    """``matrix`` is a valid n x n correlation matrix (one row per ``rows``), else a SweepError naming ``field``."""
    if any(len(row) != n for row in matrix) or len(matrix) != n:  # a ragged matrix failed in numpy: a traceback
        lengths = ", ".join(str(len(row)) for row in matrix)
        _fail(source, field, f"must be {n} x {n} (one row of {n} per {rows}), got rows of {lengths}")
    array = np.asarray(matrix, dtype=float)
    if array.shape != (n, n):
        _fail(source, field, f"must be {n} x {n} (one row per {rows}), got {array.shape}")
    if not np.allclose(array, array.T, atol=CORRELATION_TOLERANCE):
        _fail(source, field, "must be symmetric")
    if not np.allclose(np.diag(array), 1.0, atol=CORRELATION_TOLERANCE):
        _fail(source, field, "must have ones on the diagonal")
    smallest = float(np.linalg.eigvalsh(array).min())
    if smallest <= 0.0:
        _fail(source, field, "must be positive definite")
    # a matrix singular but for rounding (correlations of +-1 between entries) passed the test above and then failed
    # in the design's Cholesky factorisation with numpy's traceback
    if smallest <= CORRELATION_SMALLEST_EIGENVALUE:
        _fail(
            source,
            field,
            f"is singular (smallest eigenvalue {smallest:.1e}): one {rows} is correlated at +-1 with another or with a "
            "combination of others; use correlations of magnitude below 1",
        )


def _check_outputs(loaded: LoadedSweep) -> None:
    unknown = [name for name in loaded.sweep.outputs.yearly if name not in YEARLY_COLUMNS]
    if unknown:
        _fail(loaded.source, "outputs.yearly", f"unknown marker {unknown[0]!r}; allowed: {', '.join(YEARLY_COLUMNS)}")
    if loaded.sweep.outputs.daily:
        from glucosim.simulation.run import simulate

        probe = copy.deepcopy(loaded.base_data)
        for key in (*DURATION_FIELDS, "changes"):
            probe.pop(key, None)
        probe["duration_days"] = 1
        columns = simulate(parse_scenario(probe), progress=False).daily.columns
        unknown = [name for name in loaded.sweep.outputs.daily if name not in columns]
        if unknown:
            _fail(loaded.source, "outputs.daily", f"unknown column {unknown[0]!r}; allowed: {', '.join(columns)}")
    if loaded.sweep.outputs.yearly_ogtt:
        _check_yearly_ogtt(loaded)


def _check_yearly_ogtt(loaded: LoadedSweep) -> None:
    """The yearly OGTTs are read by the virtual clinic, with the daily values it reads its visits off: a sweep
    whose clinic could not use them (no daily values kept, or no yearly visit in the run) is refused rather than
    run with tests nobody reads."""
    from glucosim.sweep import visits

    missing = [name for name in visits.CLINIC_DAILY_COLUMNS if name not in loaded.sweep.outputs.daily]
    if missing:
        _fail(
            loaded.source,
            "outputs.yearly_ogtt",
            f"the clinic reads the yearly OGTTs with the daily {' and '.join(visits.CLINIC_DAILY_COLUMNS)}; add "
            f"{missing[0]!r} to outputs.daily, or remove yearly_ogtt",
        )
    if not visits.yearly_ogtt_days(loaded.n_days):
        _fail(
            loaded.source,
            "outputs.yearly_ogtt",
            f"the runs last {loaded.n_days} days, which hold no yearly visit (the first is on day "
            f"{visits.visit_day(visits.YEARLY_EVERY_VISITS)}, and a run needs about three quarters of a "
            "year to have it); lengthen duration_years, or remove yearly_ogtt",
        )


def _base_data(sweep: Sweep, data: dict) -> dict:
    data.pop("clinic", None)  # clinic visits are not part of sweep outputs
    subject = data.setdefault("subject", {}) if sweep.design.parameters else None
    if isinstance(subject, dict):  # shared by every run: the base subject's, before each run's variables (a subject
        # that is not a table is the scenario check's to refuse)
        subject["parameters"] = {**(subject.get("parameters") or {}), **sweep.design.parameters}
    if sweep.duration_years is not None:
        for key in DURATION_FIELDS:
            data.pop(key, None)
        data["duration_years"] = sweep.duration_years
    return data


def parse_sweep(data: dict, source: str, text: str = "") -> LoadedSweep:
    """Validate sweep ``data`` (a dict as read from TOML); ``source`` is its path (base paths are relative to it)."""
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as exc:
        raise SweepError(format_validation_error(source, exc, Sweep, "sweep")) from None
    if sweep.screening is not None and sweep.design.kind != "cohort":
        _fail(
            source,
            "screening",
            f"a screening enrols patients of a cohort: it needs design.kind = 'cohort' (got '{sweep.design.kind}'; "
            "the other designs need every design point)",
        )
    # the sweep's own shared parameters; a named cohort's are checked against its file as it loads
    _check_shared_parameters(source, "design.parameters", sweep.design.parameters)
    if sweep.design.kind == "cohort" and sweep.design.cohort is not None:
        if sweep.variables:
            _fail(source, "variables", "a named cohort brings its own variables; remove them or the cohort name")
        variables, correlation, shared = _load_cohort(source, sweep.design)
        clash = sorted(set(shared) & set(sweep.design.parameters))
        if clash:
            _fail(source, f"design.parameters.{clash[0]}", f"the cohort {sweep.design.cohort!r} sets it already")
        design = sweep.design.model_copy(
            update={
                "correlation": sweep.design.correlation or correlation,
                "parameters": {**shared, **sweep.design.parameters},
            }
        )
        sweep = sweep.model_copy(update={"variables": variables, "design": design})
    if not sweep.variables:
        _fail(source, "variables", "give at least one variable")
    for index, variable in enumerate(sweep.variables):
        _check_sampling(source, index, variable, sweep.design.kind)
        if variable.parameter is not None:
            _check_parameter(source, index, variable)
        else:
            try:
                field_path_tokens(variable.field)
            except ValueError as exc:
                _fail(source, f"variables[{index}].field", str(exc))
    if sweep.design.correlation is not None:
        _check_correlation(source, sweep.design.correlation, len(sweep.variables))

    base_path = (Path(source).parent / sweep.base_scenario).resolve()
    try:
        missing = not base_path.is_file()
    except OSError:  # e.g. a name too long: read_toml_file names it
        missing = False
    if missing:
        _fail(source, "base_scenario", f"no such scenario file: {base_path}")
    try:  # unreadable, binary, not TOML, too deep: one line naming both files
        raw_base, base_text = read_toml_file(base_path, SweepError, "scenario")
    except SweepError as exc:
        _fail(source, "base_scenario", str(exc))
    base_data = _base_data(sweep, raw_base)
    loaded = LoadedSweep(sweep, source, text, str(base_path), base_data, base_text)
    try:
        parse_scenario(base_data, source=str(base_path))
    except ScenarioError as exc:
        _fail(source, "base_scenario", f"{exc}{_duration_note(sweep, exc)}")
    _check_adherence(loaded)
    _check_fields(loaded)
    _check_edges(loaded)
    _check_outputs(loaded)
    return loaded


def _duration_note(sweep: Sweep, error: Exception) -> str:
    """What a scenario error of a sweep's run owes to the sweep's own ``duration_years``: said when the sweep sets
    one and the error is a change after the end of the run (the one way a shorter run makes a scenario invalid;
    a sweep drops the base's clinic visits)."""
    if sweep.duration_years is None or "after the end of the run" not in str(error):
        return ""
    return f" (the sweep's duration_years = {sweep.duration_years:g} replaces the base scenario's duration)"


def load_sweep(path) -> LoadedSweep:
    """Read and check the sweep file at ``path``.

    Raises:
        SweepError: naming the file, each wrong field and the allowed values.
    """
    data, text = read_toml_file(path, SweepError, "sweep")
    return parse_sweep(data, source=str(path), text=text)
