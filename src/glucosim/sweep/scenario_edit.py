"""Build one run's scenario: the base, plus an arm's changes, with the variables set.

Works on the scenario as plain data (the dict read from TOML), so the run is
validated by exactly the same schema as a scenario file.
"""

from __future__ import annotations

import copy
import re

from glucosim.physiology.units import DAYS_PER_YEAR, year_start_day

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def field_path_tokens(path: str) -> list[str | int]:
    """``'changes[0].from_year'`` -> ``['changes', 0, 'from_year']``.

    Raises:
        ValueError: the path is not dotted names with optional [index] parts.
    """
    tokens: list[str | int] = []
    for part in path.split("."):
        matches = list(_TOKEN.finditer(part))
        if not matches or "".join(m.group(0) for m in matches) != part or matches[0].group(1) is None:
            raise ValueError(f"bad field path {path!r}: use names joined by '.', with [index] for lists")
        tokens += [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in matches]
    return tokens


def set_field(data: dict, path: str, value: float) -> None:
    """Set the scenario field at ``path`` in ``data``, creating missing tables on the way.

    Raises:
        IndexError: a list index beyond the list (e.g. ``changes[2]`` with two changes).
        TypeError: the path runs through a value that is not a table or list.
    """
    tokens = field_path_tokens(path)
    node = data
    for token, following in zip(tokens[:-1], tokens[1:]):
        if isinstance(token, int):
            if not isinstance(node, list) or token >= len(node):
                raise IndexError(
                    f"{path}: no element [{token}] here (the list has {len(node) if isinstance(node, list) else 0})"
                )
            node = node[token]
        else:
            if not isinstance(node, dict):
                raise TypeError(f"{path}: '{token}' is not inside a table")
            node = node.setdefault(token, [] if isinstance(following, int) else {})
    last = tokens[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise IndexError(f"{path}: no element [{last}] here")
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise TypeError(f"{path}: '{last}' is not inside a table")
        node[last] = value


def _start_day(change: dict) -> float:
    """A change's first day, for ordering (the schema checks the fields themselves: a value that is not a
    number sorts last here, and the schema then names it; found by the property tests, it was a traceback)."""
    try:
        if change.get("from_day") is not None:
            return float(change["from_day"])
        return float(change.get("from_year", 0.0)) * DAYS_PER_YEAR
    except (TypeError, ValueError, OverflowError, AttributeError):
        return float("inf")


def _resolve(changes: list, path: str):
    """The (container, key) of ``path`` (``changes[i]...``) inside an arm's changes.

    Raises:
        ValueError: the path does not start at ``changes[i]`` or does not reach an existing entry.
    """
    tokens = field_path_tokens(path)
    if len(tokens) < 3 or tokens[0] != "changes" or not isinstance(tokens[1], int):
        raise ValueError(f"{path!r} must start with 'changes[i].' (a change of this arm)")
    node: object = {"changes": changes}
    for token in tokens[:-1]:
        try:
            node = node[token]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            raise ValueError(f"{path!r}: the arm has no {token!r} here") from None
    last = tokens[-1]
    try:
        node[last]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"{path!r}: the arm's change has no {last!r} (give it in the change)") from None
    return node, last


def _scale_sessions(sessions, factor: float) -> list:
    """An exercise list with each session's duration times ``factor``; sessions scaled to nothing are dropped."""
    scaled = [dict(session, duration_min=float(session["duration_min"]) * factor) for session in sessions]
    return [session for session in scaled if session["duration_min"] > 0.0]


def check_adherence_targets(arm) -> None:
    """Each ``scales`` path reaches a number or an exercise list of the arm's changes, each ``adds`` path a number.

    Raises:
        ValueError: naming the adherence entry, the path and what it must reach.
    """
    changes = [copy.deepcopy(dict(change)) for change in arm.changes]
    for entry in arm.adherence:
        for kind, paths in (("scales", entry.scales), ("adds", [term.field for term in entry.adds])):
            for path in paths:
                container, key = _resolve(changes, path)
                target = container[key]
                is_number = isinstance(target, (int, float)) and not isinstance(target, bool)
                is_sessions = kind == "scales" and key == "exercise" and isinstance(target, list)
                if not (is_number or is_sessions):
                    allowed = "a number or an 'exercise' list" if kind == "scales" else "a number"
                    raise ValueError(f"adherence '{entry.name}'.{kind}: {path!r} is {target!r}; it must be {allowed}")


def apply_adherence(arm, changes: list[dict], values: dict[str, float]) -> list[dict]:
    """The arm's changes with this patient's adherence draws applied (``values`` holds them by column)."""
    if not arm.adherence:
        return changes
    changes = copy.deepcopy(changes)
    for entry in arm.adherence:
        draw = float(values[arm.adherence_column(entry)])
        for path in entry.scales:
            container, key = _resolve(changes, path)
            if key == "exercise":
                container[key] = _scale_sessions(container[key], draw)
            else:
                container[key] = float(container[key]) * draw
        for term in entry.adds:
            container, key = _resolve(changes, term.field)
            container[key] = float(container[key]) + term.per_unit * draw
    return changes


def run_scenario_data(loaded, arm, values: dict[str, float]) -> dict:
    """The scenario dict of one run.

    The variables are set on the base scenario first, so a field path means
    the same in every arm (``changes[0]`` is the base's first change); then the
    arm's changes, with the patient's adherence draws applied (``apply_adherence``:
    their paths count the arm's own changes), are added and all changes put in
    time order.

    Args:
        loaded: the ``LoadedSweep``.
        arm: the ``Arm``.
        values: variable name (and adherence column) -> value of this run's sample.
    """
    data = copy.deepcopy(loaded.base_data)
    for variable in loaded.sweep.variables:
        value = float(values[variable.name])
        if variable.parameter is not None:
            data.setdefault("subject", {}).setdefault("parameters", {})[variable.parameter] = value
        else:
            set_field(data, variable.field, value)
    arm_changes = apply_adherence(arm, [dict(change) for change in arm.changes], values)
    changes = list(data.get("changes", [])) + arm_changes
    if changes:
        data["changes"] = _fold_same_day(sorted(changes, key=_start_day))  # stable: equal days keep base-then-arm
    return data


def _fold_same_day(changes: list) -> list:
    """Changes in time order with those that start on the same day made one, the later one's fields winning.

    An arm's change on the day of one of the base scenario's overrides the base's fields that it gives (the arm is
    the intervention); the schema refuses two changes of one day that set the same field, because in a scenario file
    the earlier value would never apply (scenario.schema.Scenario._check).
    """
    folded: list = []
    for change in changes:
        day = _whole_start_day(change)
        if folded and day is not None and day == _whole_start_day(folded[-1]):
            earlier = folded[-1]
            later = {k: v for k, v in change.items() if k not in ("from_day", "from_year", "label") and v is not None}
            labels = [label for label in (earlier.get("label"), change.get("label")) if label]
            folded[-1] = {**earlier, **later} | ({"label": "; ".join(labels)} if labels else {})
        else:
            folded.append(change)
    return folded


def _whole_start_day(change) -> int | None:
    """The day a change starts, as the schema counts it (a year rounded to whole days); None if it is malformed."""
    if not isinstance(change, dict):
        return None
    day = _start_day(change)
    if day == float("inf"):
        return None
    return (
        int(change["from_day"]) if change.get("from_day") is not None else year_start_day(change.get("from_year", 0.0))
    )
