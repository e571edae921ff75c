"""Readable messages for invalid input files: file, field and what is allowed.

Shared by every loader (scenarios, protocols, sweeps, cohorts), so a user sees
one style of message whichever file is wrong.
"""

from pathlib import Path
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


UTF8_BOM = b"\xef\xbb\xbf"
"""The byte-order mark some editors (Windows Notepad before 2019) put at the start of a UTF-8 file."""


def check_input_file(path, what: str, expected: str, error: type[Exception]) -> None:
    """Say plainly what the TOML reader reports misleadingly: ``path`` is a folder (was "no such file"), or the file
    starts with a UTF-8 byte-order mark (was "not valid TOML: Invalid statement (at line 1, column 1)").

    ``expected`` says what to give instead of a folder, e.g. "a scenario TOML file or a shipped name".
    """
    from glucosim._toml import shown_path

    path = Path(path)
    try:
        if path.is_dir():
            raise error(f"{shown_path(path)}: is a folder, not a {what} file; give {expected}")
        if not path.is_file():
            return  # the reader names a missing file
        with open(path, "rb") as handle:
            start = handle.read(len(UTF8_BOM))
    except OSError:
        return  # the reader names an unreadable path (permissions, a name too long) in one line
    if start == UTF8_BOM:
        raise error(
            f"{shown_path(path)}: starts with a UTF-8 byte-order mark (BOM), which the TOML reader does not accept; "
            f"save the {what} file as UTF-8 without a BOM (most editors: Save as, encoding UTF-8)"
        )
