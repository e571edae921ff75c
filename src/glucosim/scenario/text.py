"""Scenario data written back as TOML text that reads back to the same data.

A scenario changed in Python (``glucosim.load_scenario(..., **overrides)``, or a copy made with
``dataclasses.replace``) is saved with its results as this text, so the saved copy reproduces the run.
"""

from __future__ import annotations

from collections.abc import Mapping


def _toml_value(value) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def to_toml(data: Mapping, table: str = "") -> str:
    """Scenario ``data`` as TOML text that reads back to the same data (tables, arrays of tables, scalars).

    A scenario changed in Python is saved with its results as this text, so the copy reproduces the run.
    """
    scalars, tables, arrays = [], [], []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            tables.append((key, value))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(item, Mapping) for item in value):
            arrays.append((key, value))
        else:
            scalars.append(f"{key} = {_toml_value(value)}")
    lines = [f"[{table}]"] if table and scalars else []
    lines += scalars
    text = "\n".join(lines) + ("\n" if lines else "")
    for key, value in tables:
        text += "\n" + to_toml(value, f"{table}.{key}" if table else key)
    for key, items in arrays:
        name = f"{table}.{key}" if table else key
        for item in items:
            inline = {k: v for k, v in item.items() if v is not None}
            text += f"\n[[{name}]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in inline.items())
    return text
