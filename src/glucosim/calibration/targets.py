"""Calibration targets: published numbers the model is fitted to, or held out from the fit.

Each file in ``validation/targets/`` is one group: the parameters it is meant
to pin (with their start values, so a rerun starts where the first fit started,
not at its own result) and its targets. A target names the published value and
its spread (the weight of its residual), the agreement range, its source, and
the measurement: a clinic protocol run on a subject preset, read at one of the
protocol's indices (``glucosim clinic``'s names) or at one of the few derived
quantities of ``measure.DERIVED``. ``kind = "fit"`` targets enter the objective;
``kind = "validation"`` targets are held out and reported beside the validation
cases (docs/validation.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from glucosim._toml import TOMLDecodeError, load_toml
from glucosim.errors import CalibrationError

TARGET_DIR = Path(__file__).resolve().parents[1] / "validation" / "data" / "targets"
"""validation/targets in a clone (validation/data links to the repository's validation folder)."""
KINDS = ("fit", "validation")
TARGET_FIELDS = {
    "name",
    "kind",
    "label",
    "unit",
    "published",
    "spread",
    "low",
    "high",
    "source",
    "protocol",
    "subject",
    "measure",
}
OPTIONAL_TARGET_FIELDS = {"cause"}
"""Text a target may add: ``cause``, one sentence on why glucosim disagrees with it (the validation page's summary)."""
GROUP_FIELDS = {"id", "title", "description", "parameters", "targets", "adopted", "not_adopted_because"}
NUMBER_FIELDS = ("published", "spread", "low", "high")
"""A target's fields that are numbers; the others are text."""


@dataclass(frozen=True)
class PublishedValue:
    """A published number with its spread and agreement range: what every calibration target shares.

    The clinic targets here, the course targets (calibration.course) and the population targets
    (calibration.population) add how glucosim measures the number.
    """

    published: float
    spread: float
    low: float
    high: float

    def residual(self, value: float) -> float:
        """Residual weighted by the published spread: (model - published) / spread."""
        return (value - self.published) / self.spread

    def agrees(self, value: float) -> bool:
        """Whether ``value`` lies in the published range."""
        return bool(self.low <= value <= self.high)


@dataclass(frozen=True)
class Target(PublishedValue):
    """One published number and how glucosim measures it (a shipped clinic protocol on a subject)."""

    name: str
    kind: str
    label: str
    unit: str
    source: str
    protocol: str
    subject: str
    measure: str
    cause: str = ""
    """Why glucosim disagrees, in one sentence (optional; the validation page's summary table shows it)."""
    group: str = ""

    @property
    def run_key(self) -> str:
        """The protocol run this target reads (targets sharing it share one simulation)."""
        return f"{self.protocol}|{self.subject}"


@dataclass(frozen=True)
class FreeParameter:
    """A parameter the fit moves, and where every fit of it starts."""

    name: str
    start: float
    group: str
    adopted: bool = True


@dataclass(frozen=True)
class TargetGroup:
    """One target file."""

    id: str
    title: str
    description: str
    parameters: tuple[FreeParameter, ...]
    targets: tuple[Target, ...]
    path: Path
    adopted: bool = True
    """Whether the table holds this group's fit; a fit not adopted is run and reported, never written."""
    not_adopted_because: str = ""


PROTEIN_RATIO_MEASURE = "insulin_area_ratio_to_meal_without_protein"
"""The derived measure that runs its meal protocol with and without the meal's protein (a 'meal' kind with protein)."""
SENSITIVITY_STEP_MEASURE = "ivgtt_early_insulin_change_percent"
"""The derived measures of a step of insulin sensitivity held for days, one per arm: ``<this>_<arm>``
(calibration.measure.ivgtt_after_sensitivity_step)."""
SENSITIVITY_STEP_ARMS = {"dexamethasone_2mg": 0.54, "dexamethasone_6mg": 0.31}
"""Whole-body insulin sensitivity over its value before, per arm of Matsumoto K et al. 1996 (J Clin Endocrinol Metab
81:2621): their minimal-model SI fell 46 % (2 mg/day) and 69 % (6 mg/day). glucosim does not model dexamethasone:
the measure imposes the sensitivity it caused and asks how the beta cells follow."""
INCRETIN_RATIO_MEASURE = "oral_over_isoglycaemic_secretion_ratio"
"""The derived measure that gives its protocol's glucose drink and replays the same plasma glucose by vein
(clinic.incretin.isoglycaemic_comparison): total insulin secretion of the oral test over the infusion's (an 'ogtt')."""
GLUCONEOGENIC_SHARE_MEASURE = "gluconeogenic_share_type2_before_breakfast"
"""The derived measure of the gluconeogenic share of fasting liver output in type 2 diabetes
(calibration.measure.FATTY_LIVER_SCENARIO's subject at diagnosis)."""
TYPE2_GLYCOGEN_MEASURE = "liver_glycogen_type2_over_healthy"
"""The derived measures of the diabetic liver's glycogen against a healthy liver's, one per reading:
``<this>_<reading>`` (calibration.measure.type2_liver_glycogen)."""
TYPE2_GLYCOGEN_READINGS = ("before_dinner", "after_dinner_synthesis", "fasting_early", "after_meals_early")
DERIVED_MEASURES = (
    "fasting_secretion_pmol_kg_min",
    "fasting_hepatic_extraction",
    "infused_insulin_hepatic_share",
    "hepatic_extraction_fall_fasting",
    "disposition_index_ratio_to_healthy",
    PROTEIN_RATIO_MEASURE,
    INCRETIN_RATIO_MEASURE,
    "secretion_weighted_hepatic_extraction",
    "renal_excretion_at_healthy_fasting_glucose_mg_min",
    GLUCONEOGENIC_SHARE_MEASURE,
    *(f"{TYPE2_GLYCOGEN_MEASURE}_{reading}" for reading in TYPE2_GLYCOGEN_READINGS),
    *(f"{SENSITIVITY_STEP_MEASURE}_{arm}" for arm in SENSITIVITY_STEP_ARMS),
)
"""The measurements a target may name that are not an index of its protocol: calibration.measure.DERIVED computes them
(a test holds the two to the same names; measure imports this module, so the names are read here)."""
SMALLEST_RELATIVE_SPREAD = 1e-6
"""A target's spread is more than a millionth of its published value (the residuals divide by it)."""


def _fail(path: Path, message: str):
    raise CalibrationError(f"{path}: {message}")


def _is_number(value) -> bool:
    """A TOML number (integer or float), not a boolean or text."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _tables(path: Path, data: dict, key: str) -> list[dict]:
    """``data[key]`` as a list of tables, else a CalibrationError naming the field."""
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        _fail(path, f"{key}: must be an array of tables ([[{key}]] entries), got {entries!r}")
    return entries


def _check_measurement(path: Path, where: str, entry: dict) -> None:
    """The target's protocol loads and its subject is a preset, else a CalibrationError naming the file and field.

    Checked when the file is read: a wrong name used to surface after the first evaluation had started, without
    the file or the field (``clamp_99mU: no such protocol``).
    """
    from glucosim.errors import ScenarioError
    from glucosim.parameters import available_presets
    from glucosim.scenario.protocol import load_protocol

    try:
        protocol = load_protocol(entry["protocol"])
    except ScenarioError as exc:
        _fail(path, f"{where}.protocol: {exc}")
    from glucosim.clinic.analysis import INDEX_NAMES

    indices = INDEX_NAMES[protocol.protocol.kind]
    if entry["measure"] not in indices and entry["measure"] not in DERIVED_MEASURES:
        # it was found only at the first evaluation, without the file or the field
        _fail(
            path,
            f"{where}.measure: '{entry['measure']}' is neither an index of {entry['protocol']} ({', '.join(indices)}) "
            f"nor a derived measurement ({', '.join(DERIVED_MEASURES)})",
        )
    if entry["measure"] == PROTEIN_RATIO_MEASURE and not (
        protocol.protocol.kind == "meal" and any(action.protein_g for action in protocol.protocol.actions)
    ):
        # it compares the meal test with the same meal without its protein: found only at the first evaluation,
        # as a bare KeyError, before this check
        _fail(
            path,
            f"{where}.protocol: '{entry['protocol']}' is kind = {protocol.protocol.kind!r}"
            + ("" if protocol.protocol.kind != "meal" else " without protein")
            + f"; {PROTEIN_RATIO_MEASURE} needs a kind = 'meal' protocol whose meal has protein_g",
        )
    if entry["measure"] == INCRETIN_RATIO_MEASURE and not (
        protocol.protocol.kind == "ogtt" and protocol.protocol.oral_glucose_total_g > 0
    ):
        _fail(
            path,
            f"{where}.protocol: '{entry['protocol']}' is kind = {protocol.protocol.kind!r}; {INCRETIN_RATIO_MEASURE} "
            "needs a kind = 'ogtt' protocol with an oral glucose load",
        )
    presets = available_presets()
    if entry["subject"] not in presets:
        _fail(path, f"{where}.subject: '{entry['subject']}' is not a subject preset (allowed: {', '.join(presets)})")


def _load_group(path: Path) -> TargetGroup:
    from glucosim.parameters import load_parameter_table

    try:
        data = load_toml(path)
    except TOMLDecodeError as exc:
        _fail(path, f"not valid TOML: {exc}")
    except UnicodeDecodeError as exc:
        _fail(path, f"not a text file (TOML is UTF-8): {exc}")
    except OSError as exc:
        _fail(path, f"cannot be read: {exc}")
    unknown = set(data) - GROUP_FIELDS
    if unknown:
        _fail(path, f"unknown fields {sorted(unknown)} (allowed: {sorted(GROUP_FIELDS)})")
    for key in ("id", "title", "targets"):
        if key not in data:
            _fail(path, f"missing field '{key}'")
    adopted = data.get("adopted", True)
    if not isinstance(adopted, bool):
        _fail(path, f"adopted: {adopted!r} (allowed: true, false)")
    reason = data.get("not_adopted_because", "")
    if not isinstance(reason, str):
        _fail(path, f"not_adopted_because: {reason!r} is not text")
    if not adopted and len(reason) < 40:
        _fail(path, "not_adopted_because: a fit that is not adopted needs its reason (at least 40 characters)")
    table = load_parameter_table()
    parameters = []
    for index, entry in enumerate(_tables(path, data, "parameters")):
        where = f"parameters[{index}]"
        if set(entry) != {"name", "start"}:
            _fail(path, f"{where}: fields must be exactly name and start (got {sorted(entry)})")
        if not _is_number(entry["start"]):
            _fail(path, f"{where}.start: {entry['start']!r} is not a number")
        if not isinstance(entry["name"], str) or entry["name"] not in table.names:
            _fail(path, f"{where}.name: '{entry['name']}' is not in models/parameters.toml")
        row = table[entry["name"]]
        row.check(entry["start"], where=f"{path}: {where}.start")
        if entry["start"] in (row.low, row.high):
            # least_squares moves a start on a bound 1e-10 inside and sizes its first trust region by that offset:
            # the fit of a start at 0 stopped at 2e-10 and reported ftol satisfied
            _fail(
                path,
                f"{where}.start: {entry['start']} is a bound of the range [{row.low:g}, {row.high:g}] of "
                f"{entry['name']} (allowed: a value inside it; the optimiser cannot leave a bound it starts on)",
            )
        parameters.append(FreeParameter(entry["name"], float(entry["start"]), data["id"], adopted))
    targets = []
    target_entries = _tables(path, data, "targets")
    if not target_entries:  # an empty list fitted nothing and reported success, as an empty folder did
        _fail(path, "targets: at least one [[targets]] entry is needed")
    for index, entry in enumerate(target_entries):
        where = f"targets[{index}]"
        missing = TARGET_FIELDS - set(entry)
        extra = set(entry) - TARGET_FIELDS - OPTIONAL_TARGET_FIELDS
        if missing or extra:
            _fail(
                path,
                f"{where}: missing {sorted(missing)}, unknown {sorted(extra)} (fields: {sorted(TARGET_FIELDS)}; "
                f"optional: {sorted(OPTIONAL_TARGET_FIELDS)})",
            )
        for field in sorted(TARGET_FIELDS | (OPTIONAL_TARGET_FIELDS & set(entry))):
            wanted_number = field in NUMBER_FIELDS
            if (wanted_number and not _is_number(entry[field])) or (
                not wanted_number and not isinstance(entry[field], str)
            ):
                kind = "a number" if wanted_number else "text"
                _fail(path, f"{where}.{field}: {entry[field]!r} is not {kind}")
        _check_measurement(path, where, entry)
        if entry["kind"] not in KINDS:
            _fail(path, f"{where}.kind: '{entry['kind']}' (allowed: {', '.join(KINDS)})")
        not_finite = [field for field in sorted(NUMBER_FIELDS) if not math.isfinite(entry[field])]
        if not_finite:
            _fail(path, f"{where}.{not_finite[0]}: {entry[not_finite[0]]} (allowed: a finite number)")
        if not entry["spread"] > SMALLEST_RELATIVE_SPREAD * max(1.0, abs(entry["published"])):
            # the fit divides by it: 5e-324 passed "> 0" and made every residual infinite
            _fail(
                path,
                f"{where}.spread: {entry['spread']} (allowed: more than {SMALLEST_RELATIVE_SPREAD:g} x the published "
                "value, and more than 0)",
            )
        if not entry["low"] <= entry["published"] <= entry["high"]:
            _fail(
                path, f"{where}: published {entry['published']} outside [low, high] = [{entry['low']}, {entry['high']}]"
            )
        targets.append(Target(group=data["id"], **entry))
    return TargetGroup(
        id=data["id"],
        title=data["title"],
        description=data.get("description", ""),
        parameters=tuple(parameters),
        targets=tuple(targets),
        path=path,
        adopted=adopted,
        not_adopted_because=reason,
    )


def load_target_groups(directory: Path = TARGET_DIR) -> list[TargetGroup]:
    """Every target file of ``directory``, in file-name order.

    Raises:
        CalibrationError: a malformed file, a repeated target name or a parameter freed by two groups.
    """
    if not Path(directory).is_dir():
        raise CalibrationError(f"{directory}: not a folder of target files")
    paths = sorted(Path(directory).glob("*.toml"))
    if not paths:  # an empty or mistyped folder once fitted nothing and reported success
        raise CalibrationError(f"{directory}: no target files (*.toml) in this folder")
    groups = [_load_group(path) for path in paths]
    seen_targets: dict[str, Path] = {}
    seen_parameters: dict[str, Path] = {}
    for group in groups:
        for target in group.targets:
            if target.name in seen_targets:
                _fail(group.path, f"target '{target.name}' is already defined in {seen_targets[target.name]}")
            seen_targets[target.name] = group.path
        for parameter in group.parameters:
            if parameter.name in seen_parameters:
                _fail(
                    group.path, f"parameter '{parameter.name}' is already fitted by {seen_parameters[parameter.name]}"
                )
            seen_parameters[parameter.name] = group.path
    return groups


def fit_targets(groups: list[TargetGroup]) -> list[Target]:
    """The targets of kind fit, in file order."""
    return [target for group in groups for target in group.targets if target.kind == "fit"]


def held_out_targets(groups: list[TargetGroup]) -> list[Target]:
    """The targets of kind validation (held out of the fit), in file order."""
    return [target for group in groups for target in group.targets if target.kind == "validation"]


def free_parameters(groups: list[TargetGroup]) -> list[FreeParameter]:
    """Every parameter the fit moves, in file order."""
    return [parameter for group in groups for parameter in group.parameters]
