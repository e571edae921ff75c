"""The validation page's numbers as data: one record per compared quantity, written beside the page, and a comparison
of two such files.

A change to the model moves many quantities at once; the page (docs/validation.md) says where each one stands, this
file says what moved. ``glucosim validation`` writes ``<page>.json`` beside every page it writes, so the shipped
``docs/validation.json`` is the comparison's usual "before":

    glucosim validation --no-figures --out /tmp/after.md --compare docs/validation.json

prints the quantities that began or stopped agreeing and those whose value moved, against the shipped model. The
records hold what the page counts (the calibration targets and the validation cases' quantities, each in its set:
``report.target_set``, ``report.quantity_set``); the page's remarks and sources stay in the case files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from glucosim._files import write_text_whole
from glucosim.errors import CalibrationError
from glucosim.validation.report import quantity_set, tally, target_set

RESULTS_FORMAT = 1
"""Version of the results file's layout; ``load_results`` refuses others."""
SETS = ("fit", "validation", "reproduction")
MOVED_RELATIVE = 0.02
"""A value counts as moved when it changes by more than this fraction of the larger magnitude of the two, or when it
is missing on one side only."""


SIGNIFICANT_DIGITS = 6
"""Values are written to this many significant digits: enough to see any change that matters, few enough that the
last bits a different machine's floating point may give do not make the shipped file differ."""


def _number(value: float) -> float | None:
    """A value as written: SIGNIFICANT_DIGITS significant digits; a missing value (a case that could not measure it)
    as null, JSON having no NaN."""
    value = float(value)
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}") if math.isfinite(value) else None


def result_records(cases, targets: list[tuple]) -> list[dict]:
    """One record per quantity the page shows: every (target, value) of ``targets`` and every case quantity, in the
    page's order (targets first)."""
    records = []
    for target, value in targets:
        records.append(
            {
                "key": f"target:{target.group}.{target.name}",
                "label": target.label,
                "unit": target.unit,
                "published": float(target.published),
                "low": float(target.low),
                "high": float(target.high),
                "value": _number(value),
                "agrees": bool(target.agrees(value)),
                "set": target_set(target),
                "fit_informed_by": "",
            }
        )
    for case in cases:
        for q in case.quantities:
            records.append(
                {
                    "key": f"case:{case.id}.{q.name}",
                    "label": q.label,
                    "unit": q.unit,
                    "published": float(q.published),
                    "low": float(q.low),
                    "high": float(q.high),
                    "value": _number(q.value),
                    "agrees": bool(q.agrees),
                    "set": quantity_set(case, q),
                    "fit_informed_by": q.fit_informed_by,
                }
            )
    return records


def write_results(path, cases, targets: list[tuple]) -> Path:
    """Write the records of ``cases`` and ``targets`` and the page's count to ``path`` (JSON), whole or not at all."""
    path = Path(path)
    data = {
        "format": RESULTS_FORMAT,
        "summary": tally(cases, targets).summary(),
        "quantities": result_records(cases, targets),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_whole(path, json.dumps(data, indent=1) + "\n")
    return path


class _NotJsonNumber:
    """What json's parse_constant gives for NaN, Infinity and -Infinity: Python's json reads them, but JSON has none
    and the writer never writes them (a missing value is null), so the field's check refuses it naming its record."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


def _refuse_duplicate_fields(pairs: list[tuple[str, object]]) -> dict:
    """json's object_pairs_hook: a field given twice in one object would silently keep the last."""
    seen = set()
    for name, _ in pairs:
        if name in seen:
            raise ValueError(f"field {name!r} given twice in one object")
        seen.add(name)
    return dict(pairs)


def _is_number(value) -> bool:
    """A finite JSON number (bool is an int to Python, not to JSON)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


FIELD_TYPES = {
    "key": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "label": (lambda v: isinstance(v, str), "a string"),
    "unit": (lambda v: isinstance(v, str), "a string"),
    "published": (_is_number, "a finite number"),
    "low": (_is_number, "a finite number"),
    "high": (_is_number, "a finite number"),
    "value": (lambda v: v is None or _is_number(v), "a finite number or null (not measured)"),
    "agrees": (lambda v: isinstance(v, bool), "true or false"),
    "set": (lambda v: isinstance(v, str) and v in SETS, ", ".join(SETS)),
    "fit_informed_by": (lambda v: isinstance(v, str), "a string ('' when none)"),
}
"""The fields of a record and what ``result_records`` writes in each, which is all ``load_results`` accepts (a wrongly
typed value used to pass the load and stop the comparison with a traceback after the whole run). ``key`` is
``case:<case id>.<quantity>`` or ``target:<target file>.<target>``."""


def load_results(path) -> dict[str, dict]:
    """The records of a results file by key.

    Raises:
        CalibrationError: the file is missing, not JSON (an object with a field given twice included), of another
            format, or a record lacks a field, has one of another type than ``result_records`` writes
            (``FIELD_TYPES``; NaN and Infinity, which Python's json reads, included) or repeats another's key.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(), parse_constant=_NotJsonNumber, object_pairs_hook=_refuse_duplicate_fields)
    except FileNotFoundError:
        raise CalibrationError(
            f"{path}: no such validation results file (glucosim validation writes one beside its page)"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:  # json.JSONDecodeError is a ValueError
        raise CalibrationError(f"{path}: not a validation results file: {error}") from None
    if (
        not isinstance(data, dict)
        or type(data.get("format")) is not int  # true and 1.0 equal 1 in Python
        or data.get("format") != RESULTS_FORMAT
        or not isinstance(data.get("quantities"), list)
    ):
        raise CalibrationError(
            f"{path}: not a validation results file of format {RESULTS_FORMAT} (a JSON object with 'format' and"
            " 'quantities', as glucosim validation writes beside its page)"
        )
    records = {}
    for index, record in enumerate(data["quantities"]):
        missing = [name for name in FIELD_TYPES if not isinstance(record, dict) or name not in record]
        if missing:
            raise CalibrationError(f"{path}: quantity {index} lacks {', '.join(missing)}")
        key = record["key"]
        where = f"quantity {index} ({key})" if isinstance(key, str) else f"quantity {index}"
        for name, (allowed, description) in FIELD_TYPES.items():
            if not allowed(record[name]):
                value = record[name]
                shown = repr(value) if isinstance(value, (str, _NotJsonNumber)) else json.dumps(value, default=repr)
                raise CalibrationError(f"{path}: {where}: {name} {shown[:60]}, allowed: {description}")
        if key in records:  # a second record of a key would silently replace the first in the comparison
            raise CalibrationError(f"{path}: {where}: key {key!r} is also quantity {list(records).index(key)}'s")
        records[key] = record
    return records


def _relative_move(before: float | None, after: float | None) -> float:
    """|after - before| over the larger magnitude of the two; 0 when both are missing or 0, inf when one is missing."""
    if before is None or after is None:
        return 0.0 if before is None and after is None else math.inf
    scale = max(abs(before), abs(after))
    return abs(after - before) / scale if scale > 0.0 else 0.0


def _value(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}"


def _line(before: dict | None, after: dict) -> str:
    where = f"{after['published']:g} ({after['low']:g} to {after['high']:g})"
    start = "" if before is None else f"{_value(before['value'])} -> "
    return f"  {after['key']}: {after['label']} ({after['unit']}): {start}{_value(after['value'])}, published {where}"


def compare_results(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    """What changed from ``before`` to ``after`` (``load_results``'s or ``result_records``' records by key), as
    lines: the counts, then the quantities that began or stopped agreeing, those that moved by more than
    MOVED_RELATIVE without changing verdict (the largest relative move first), those only in one of the two, and
    those that changed set. Reproductions are listed but not counted, as on the page."""

    def count(records: dict[str, dict]) -> str:
        counted = [r for r in records.values() if r["set"] != "reproduction"]
        agree = sum(r["agrees"] for r in counted)
        return f"{agree} of {len(counted)} agree ({100 * agree / max(len(counted), 1):.0f} %)"

    common = [key for key in after if key in before]
    newly_in = [key for key in common if after[key]["agrees"] and not before[key]["agrees"]]
    newly_out = [key for key in common if before[key]["agrees"] and not after[key]["agrees"]]
    moved = [
        key
        for key in common
        if key not in newly_in
        and key not in newly_out
        and _relative_move(before[key]["value"], after[key]["value"]) > MOVED_RELATIVE
    ]
    moved.sort(key=lambda key: -_relative_move(before[key]["value"], after[key]["value"]))  # the largest first
    lines = [f"before: {count(before)}; after: {count(after)}"]
    sections = (
        ("now agree", newly_in, True),
        ("no longer agree", newly_out, True),
        ("moved, same verdict", moved, True),
        ("only after (new quantities)", [key for key in after if key not in before], False),
    )
    for title, keys, has_before in sections:
        if keys:
            lines.append(f"{title} ({len(keys)}):")
            lines += [_line(before[key] if has_before else None, after[key]) for key in keys]
    removed = [key for key in before if key not in after]
    if removed:
        lines.append(f"only before (removed quantities) ({len(removed)}):")
        lines += [f"  {key}: {before[key]['label']}" for key in removed]
    reset = [key for key in common if before[key]["set"] != after[key]["set"]]
    if reset:
        lines.append(f"changed set ({len(reset)}):")
        lines += [f"  {key}: {before[key]['set']} -> {after[key]['set']}" for key in reset]
    if len(lines) == 1:
        lines.append("nothing moved")
    return lines
