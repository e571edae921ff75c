"""Load and validate scenario files; every error names the file, the field and what is allowed."""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from glucosim._toml import read_toml_file
from glucosim.errors import ParameterError, ScenarioError
from glucosim.parameters import available_presets, load_parameter_table, load_preset
from glucosim.scenario.messages import format_validation_error as format_validation_error  # shared by every loader
from glucosim.scenario.protocol import load_protocol
from glucosim.scenario.schema import Scenario


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from.

    Attributes:
        scenario: the validated data.
        source: path of the file, or "<string>".
        text: the file's text (kept for provenance).
        parameters: the kernel parameter vector (table, preset, overrides).
        parameter_overrides: preset and subject overrides by name.
    """

    scenario: Scenario
    source: str
    text: str
    parameters: Any
    parameter_overrides: dict

    @property
    def sha256(self) -> str:
        """Hash of the scenario text."""
        return hashlib.sha256(self.text.encode()).hexdigest()


def _check_protocol(name: str, where: str, base: Path) -> None:
    try:
        load_protocol(name if (base / name).suffix != ".toml" or not (base / name).is_file() else base / name)
    except ScenarioError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def parse_scenario(data: dict, source: str = "<string>", text: str = "") -> LoadedScenario:
    """Validate scenario ``data`` (a dict as read from TOML); ``source`` names it in errors."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(source, exc)) from None
    subject = scenario.subject
    if subject.preset not in available_presets():
        raise ScenarioError(
            f"{source}: subject.preset: unknown preset {subject.preset!r}; allowed: {', '.join(available_presets())}"
        )
    for index, visit in enumerate(scenario.clinic):
        _check_protocol(visit.protocol, f"{source}: clinic[{index}].protocol", Path(source).parent)
    overrides = dict(load_preset(subject.preset))
    overrides.update(subject.parameter_overrides())
    try:
        parameters = load_parameter_table().vector(overrides)
    except ParameterError as exc:
        raise ScenarioError(f"{source}: subject: {exc}") from None
    return LoadedScenario(scenario, source, text, parameters, overrides)


def load_scenario(path) -> LoadedScenario:
    """Read and validate the scenario file at ``path``.

    Raises:
        ScenarioError: naming the file, each wrong field and the allowed values.
    """
    data, text = read_toml_file(path, ScenarioError, "scenario")
    return parse_scenario(data, source=str(path), text=text)
