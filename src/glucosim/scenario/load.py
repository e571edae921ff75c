"""Load and validate scenario files; every error names the file, the field and what is allowed."""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from glucosim._toml import read_toml_file
from glucosim.errors import ParameterError, ScenarioError
from glucosim.parameters import available_presets, load_parameter_table, load_preset
from glucosim.scenario.schema import Scenario, combined_sensitivity_problem


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


def _is_union_tag(part) -> bool:
    """Pydantic adds the tried union member ("literal[...]", "constrained-float") to error locations."""
    return isinstance(part, str) and not part.isidentifier()


def _field_path(loc) -> str:
    path = ""
    for part in loc:
        if _is_union_tag(part):
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _model_at(loc, root: type[BaseModel] = Scenario) -> type[BaseModel] | None:
    """The pydantic model class that holds the field at ``loc`` (for listing allowed field names)."""
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _innermost_model(field.annotation)
        if model is None:
            return None
    return model


def _innermost_model(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None:
        for arg in get_args(annotation):
            found = _innermost_model(arg)
            if found is not None:
                return found
    return None


def _describe(error: dict, root: type[BaseModel] = Scenario) -> str:
    loc = error["loc"]
    where = _field_path(loc)
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        model = _model_at(loc, root)
        allowed = ", ".join(model.model_fields) if model else "see the schema"
        return f"{where}: unknown field; allowed fields here: {allowed}"
    if error["type"] == "missing":
        return f"{where}: required field is missing"
    value = error.get("input")
    shown = f" (got {value!r})" if not isinstance(value, (dict, list)) else ""
    return f"{where}: {message}{shown}"


def format_validation_error(
    source: str, exc: ValidationError, root: type[BaseModel] = Scenario, what: str = "scenario"
) -> str:
    """One readable message for all of a pydantic error's problems: file, field, what is allowed."""
    by_field: dict[str, list[str]] = {}
    for error in exc.errors():
        where = _field_path(error["loc"])
        by_field.setdefault(where, []).append(_describe(error, root).split(": ", 1)[1])
    count = len(by_field)
    lines = [f"{source}: invalid {what} ({count} problem{'s' if count > 1 else ''})"]
    lines += [f"  - {where}: {'; or '.join(messages)}" for where, messages in by_field.items()]
    return "\n".join(lines)


def _check_protocol(name: str, where: str, base: Path) -> None:
    from glucosim.clinic.protocol import load_protocol

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
    problem = combined_sensitivity_problem(scenario, parameters)
    if problem is not None:
        raise ScenarioError(f"{source}: subject and routine.drift: {problem}")
    return LoadedScenario(scenario, source, text, parameters, overrides)


def load_scenario(path) -> LoadedScenario:
    """Read and validate the scenario file at ``path``.

    Raises:
        ScenarioError: naming the file, each wrong field and the allowed values.
    """
    data, text = read_toml_file(path, ScenarioError, "scenario")
    return parse_scenario(data, source=str(path), text=text)
