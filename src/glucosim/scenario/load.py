"""Load and validate scenario files; every error names the file, the field and what is allowed."""

import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from glucosim._toml import read_toml_file
from glucosim.errors import ParameterError, ScenarioError
from glucosim.parameters import available_presets, load_parameter_table, load_preset
from glucosim.physiology.indices import Par
from glucosim.scenario.messages import check_input_file
from glucosim.scenario.messages import format_validation_error as format_validation_error  # shared by every loader
from glucosim.scenario.protocol import load_protocol
from glucosim.scenario.schema import (
    BMI_BAND_KG_M2,
    DURATION_FIELDS,
    Scenario,
    body_mass_index,
    combined_sensitivity_problem,
    meal_energy_problem,
    reserve_drift_problem,
)


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from.

    Frozen, and the parameters are a function of ``scenario``: a copy made with
    ``dataclasses.replace(loaded, scenario=...)`` derives its own parameters
    rather than running the old ones.

    Attributes:
        scenario: the validated data.
        source: path of the file, or "<string>".
        text: the file's text (kept for provenance).
    """

    scenario: Scenario
    source: str
    text: str = ""

    def __post_init__(self):
        _ = self._derived  # derive now, so a bad preset or parameter fails here with the source named
        _ = self.source_folder  # fixed now, from the working folder the scenario was loaded in

    @cached_property
    def source_folder(self) -> Path:
        """The absolute folder of the scenario's file (the working folder for one not read from a file), fixed when
        it is loaded: where a protocol file the scenario names lies, whatever the working folder later."""
        folder = Path(self.source).parent
        try:
            return folder.resolve()
        except OSError:  # the working folder was deleted: the path as given is all there is
            return folder

    @cached_property
    def _derived(self) -> tuple[dict, np.ndarray]:
        subject = self.scenario.subject
        if subject.preset not in available_presets():
            raise ScenarioError(
                f"{self.source}: subject.preset: unknown preset {subject.preset!r}; "
                f"allowed: {', '.join(available_presets())}"
            )
        overrides = dict(load_preset(subject.preset))
        overrides.update(subject.parameter_overrides())
        try:
            vector = load_parameter_table().vector(overrides)
        except ParameterError as exc:
            raise ScenarioError(f"{self.source}: subject: {exc}") from None
        problem = parameter_relation_problem(vector)
        if problem is not None:
            raise ScenarioError(f"{self.source}: subject.parameters: {problem}")
        # here, not in parse_scenario: a copy made with dataclasses.replace(loaded, scenario=...) is checked too
        problem = combined_sensitivity_problem(self.scenario, vector)
        if problem is not None:
            raise ScenarioError(f"{self.source}: subject and routine.drift: {problem}")
        problem = reserve_drift_problem(self.scenario, vector)
        if problem is not None:
            raise ScenarioError(f"{self.source}: subject and routine.drift: {problem}")
        problem = meal_energy_problem(self.scenario, vector)
        if problem is not None:
            raise ScenarioError(f"{self.source}: {problem}")
        vector.setflags(write=False)
        return overrides, vector

    @property
    def parameters(self) -> np.ndarray:
        """The kernel parameter vector (table, preset, overrides); a fresh copy on each access."""
        return self._derived[1].copy()

    @property
    def parameter_overrides(self) -> dict:
        """Preset and subject overrides by parameter name (a copy)."""
        return dict(self._derived[0])

    @cached_property
    def text_is_scenario(self) -> bool:
        """Whether ``text`` reads back to ``scenario``. A copy made with ``dataclasses.replace(loaded,
        scenario=...)`` keeps the text of the scenario it was made from: saved with its results, that text
        reloaded as the old scenario."""
        from glucosim._toml import TOMLDecodeError, toml_reader

        if not self.text:
            return False
        try:
            return Scenario.model_validate(toml_reader.loads(self.text)) == self.scenario
        except (TOMLDecodeError, ValidationError):
            return False

    @property
    def saved_text(self) -> str:
        """TOML text that reads back to ``scenario``: ``text`` (a file's own, with its comments) when it does, else
        the scenario written out (a scenario without text was saved as an empty, unloadable file)."""
        from glucosim.scenario.text import to_toml

        if self.text_is_scenario:
            return self.text
        note = f"# {self.source}, as run (written out by glucosim: not the file's text)\n"
        return note + to_toml(self.scenario.model_dump(exclude_none=True))

    @property
    def sha256(self) -> str:
        """Hash of the scenario text (of the validated data when built from a dict, or changed from its text)."""
        text = self.text if self.text_is_scenario else self.scenario.model_dump_json()
        return hashlib.sha256(text.encode()).hexdigest()


def parameter_relation_problem(p) -> str | None:
    """Why parameters that are each in range cannot run together, or None (checked at load, so ``glucosim check``
    sees it; a run once failed at its start with a message naming neither the file nor the field)."""
    export, used = float(p[Par.liver_fat_export_capacity]), float(p[Par.liver_fat_capacity_used])
    if export <= used:
        return (
            f"liver_fat_export_capacity ({export:g}) must exceed liver_fat_capacity_used ({used:g}): below it liver "
            f"fat has no steady state; allowed: liver_fat_export_capacity > liver_fat_capacity_used"
        )
    gate_low, gate_full = float(p[Par.gip_glucose_threshold]), float(p[Par.gip_glucose_full])
    if gate_full <= gate_low:
        return (
            f"gip_glucose_full ({gate_full:g} mg/dl) must exceed gip_glucose_threshold ({gate_low:g} mg/dl): GIP's "
            f"potentiation opens between them; allowed: gip_glucose_full > gip_glucose_threshold"
        )
    emptying_min, emptying_max = float(p[Par.gastric_emptying_min]), float(p[Par.gastric_emptying_max])
    if emptying_min > emptying_max:  # equal is a constant rate, a meaningful limit
        return (
            f"gastric_emptying_min ({emptying_min:g}/min) must not exceed gastric_emptying_max ({emptying_max:g}/min): "
            f"the stomach empties between the two rates (DM2007's kmin and kmax); allowed: gastric_emptying_min <= "
            f"gastric_emptying_max"
        )
    glycogen_reference = float(p[Par.liver_glycogen_reference])
    glycogen_capacity = float(p[Par.liver_glycogen_capacity])
    if glycogen_reference >= glycogen_capacity:
        return (
            f"liver_glycogen_reference ({glycogen_reference:g} mg/kg) must be below liver_glycogen_capacity "
            f"({glycogen_capacity:g} mg/kg): the store holds its reference after a night's fast and fills toward its "
            f"capacity after meals; allowed: liver_glycogen_reference < liver_glycogen_capacity"
        )
    sex_female = float(p[Par.sex_female])
    if sex_female not in (0.0, 1.0):
        return (
            f"sex_female is {sex_female:g}; allowed: 0 (a man) or 1 (a woman) (in a sweep: a grid of the two values, "
            f"not a range)"
        )
    weight_kg, height_cm = float(p[Par.body_weight]), float(p[Par.height_cm])
    bmi = body_mass_index(weight_kg, height_cm)
    low, high = BMI_BAND_KG_M2
    if not low <= bmi <= high:
        row = load_parameter_table()["body_weight"]
        height_m2 = (height_cm / 100.0) ** 2
        return (
            f"body_weight (subject.body_weight_kg) {weight_kg:g} kg at height_cm {height_cm:g} is a body mass index "
            f"of {bmi:.3g} kg/m^2, outside the band of a living adult the model represents; allowed: a body mass "
            f"index within [{low:g}, {high:g}] kg/m^2, here {max(low * height_m2, row.low):.1f}-"
            f"{min(high * height_m2, row.high):.1f} kg at {height_cm:g} cm"
        )
    return None


def _check_protocol(name: str, where: str, base: Path) -> None:
    try:
        load_protocol(name if (base / name).suffix != ".toml" or not (base / name).is_file() else base / name)
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


SCENARIO_EXPECTED = (
    "a scenario TOML file (e.g. scenarios/01_healthy_baseline.toml) or a shipped name (glucosim scenarios lists them)"
)
"""What to give where a scenario goes, for messages about something else given there."""

SWEEP_FIELDS = {"base_scenario", "design"}
"""Top-level fields of a sweep file (glucosim.sweep.load) that no scenario has: either names a sweep file."""
PROTOCOL_FIELDS = {"kind", "duration_min", "samples_min", "sample_every_min", "actions", "clamp"}
"""Top-level fields of a protocol file (glucosim.scenario.protocol) that no scenario has."""


def _not_another_kind_of_file(data, source: str) -> None:
    """A sweep or protocol file given where a scenario goes is named as what it is (its every field was listed as
    an unknown scenario field)."""
    if not isinstance(data, dict) or "subject" in data or "routine" in data:
        return
    if data.keys() & SWEEP_FIELDS:
        raise ScenarioError(
            f"{source}: is a sweep file, not a scenario: run it with glucosim sweep (its base_scenario is the scenario)"
        )
    if "kind" in data and data.keys() & PROTOCOL_FIELDS - {"kind"}:
        raise ScenarioError(
            f"{source}: is a protocol file, not a scenario: run it with glucosim clinic, or name it in a scenario's "
            f"[[clinic]] protocol"
        )


def merge_scenario_data(base: dict, changes: Mapping) -> dict:
    """``base`` (a scenario's data) with ``changes`` applied: tables merge key by key, everything else is replaced.

    Lists (meals, exercise, changes) are replaced whole, and nothing of ``changes`` is shared with the result (it is
    copied), so the caller may go on changing either. Giving one duration field drops the base's duration
    (``DURATION_FIELDS``), so a variant may change a file's ``duration_years`` into ``duration_days``.
    """
    if any(key in changes for key in DURATION_FIELDS):
        base = {key: value for key, value in base.items() if key not in DURATION_FIELDS}
    return _merge_tables(base, changes)


def _merge_tables(base: dict, changes: Mapping) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge_tables(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_scenario(data: dict, source: str = "<string>", text: str = "") -> LoadedScenario:
    """Validate scenario ``data`` (a dict as read from TOML); ``source`` names it in errors."""
    _not_another_kind_of_file(data, source)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(source, exc)) from None
    for index, visit in enumerate(scenario.clinic):
        _check_protocol(visit.protocol, f"{source}: clinic[{index}].protocol", Path(source).parent)
    return LoadedScenario(scenario, source, text)


def load_scenario(path) -> LoadedScenario:
    """Read and validate the scenario file at ``path``.

    Raises:
        ScenarioError: naming the file, each wrong field and the allowed values.
    """
    check_input_file(path, "scenario", SCENARIO_EXPECTED, ScenarioError)
    data, text = read_toml_file(path, ScenarioError, "scenario")
    if not data:  # was "name: required field is missing", as if one field were forgotten
        raise ScenarioError(
            f"{path}: the file holds no fields (empty, or only comments); a scenario needs at least a name and one "
            f"of duration_years, duration_days or duration_hours (README.md, Scenarios)"
        )
    return parse_scenario(data, source=str(path), text=text)
