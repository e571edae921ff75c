"""Readable messages for invalid input files: file, field and what is allowed.

Shared by every loader (scenarios, protocols, sweeps, cohorts), so a user sees
one style of message whichever file is wrong.
"""

from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from glucosim.scenario.schema import Scenario


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


def _describe(error: Any, root: type[BaseModel] = Scenario) -> str:
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
