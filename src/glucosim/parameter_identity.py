"""The parameter table's identity: what results computed with it depend on (its values and ranges, not its texts).

Kept apart from ``glucosim.parameters`` on purpose: that module is one of the model's sources, whose bytes key the
calibration caches (``glucosim.calibration.measure.MODEL_SOURCES``), so a helper added there would make every
cached evaluation stale without changing a single simulation.
"""

from __future__ import annotations

from pathlib import Path

from glucosim._toml import load_toml
from glucosim.physiology.indices import PARAMETER_TABLE_PATH


def parameter_values_key(path: Path = PARAMETER_TABLE_PATH) -> str:
    """What a simulation reads from the table at ``path``, as canonical JSON text: every parameter's name, value
    and plausible range (ranges clip cohort draws), in table order; not the units, symbols, descriptions or
    sources, so an edit of a parameter's text does not make results computed with the table stale."""
    import json

    return json.dumps([(name, entry["value"], entry["range"]) for name, entry in load_toml(path).items()])


def parameter_values_sha256(path: Path = PARAMETER_TABLE_PATH) -> str:
    """SHA-256 (hex) of ``parameter_values_key``: the identity of the table's values and ranges."""
    import hashlib

    return hashlib.sha256(parameter_values_key(path).encode()).hexdigest()
