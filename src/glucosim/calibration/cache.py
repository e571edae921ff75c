"""On-disk cache of objective evaluations, so an interrupted calibration resumes without recomputing.

One JSON file per evaluation, named by the hash of the model sources and the
parameter vector (exact float reprs: the optimiser's sequence of vectors is
deterministic, so a rerun asks for the same vectors and finds them). Files are
written to a temporary name and renamed, so a crash never leaves a truncated
entry; an unreadable entry counts as missing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from glucosim.errors import CalibrationError


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/glucosim/calibration`` (``~/.cache/...`` when unset)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "glucosim" / "calibration"


def evaluation_key(model_hash: str, parameters: dict[str, float]) -> str:
    """Cache key of one parameter vector under one model version."""
    vector = sorted((name, repr(float(value))) for name, value in parameters.items())
    text = json.dumps({"model": model_hash, "parameters": vector})
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def atomic_write_json(path: Path, data) -> None:
    """Write ``data`` as JSON to ``path``, whole or not at all (``glucosim._files.write_whole``)."""
    from glucosim._files import write_text_whole

    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_whole(path, json.dumps(data, indent=1, sort_keys=True))


class EvaluationCache:
    """Evaluations by parameter vector, in ``directory`` (None: keep nothing on disk)."""

    def __init__(self, directory: Path | None, model_hash: str):
        self.directory = None if directory is None else Path(directory)
        self.model_hash = model_hash
        self.hits = 0
        self.misses = 0

    def _path(self, parameters: dict[str, float]) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"{evaluation_key(self.model_hash, parameters)}.json"

    def get(self, parameters: dict[str, float]) -> dict | None:
        """The stored evaluation of ``parameters``, or None."""
        path = self._path(parameters)
        if path is None or not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if entry.get("model") != self.model_hash or entry.get("parameters") != {
            k: float(v) for k, v in parameters.items()
        }:
            return None
        return entry["evaluation"]

    def put(self, parameters: dict[str, float], evaluation: dict) -> None:
        """Store ``evaluation`` of ``parameters`` (atomically)."""
        path = self._path(parameters)
        if path is None:
            return
        entry = {
            "model": self.model_hash,
            "parameters": {k: float(v) for k, v in parameters.items()},
            "evaluation": evaluation,
        }
        try:
            atomic_write_json(path, entry)
        except OSError as exc:  # read-only or full: said at the first evaluation, not as a traceback
            raise CalibrationError(
                f"{self.directory}: cannot write the evaluation cache: {exc.strerror or exc} "
                "(give another --cache-dir, or --no-cache)"
            ) from exc

    def evaluate(self, parameters: dict[str, float], compute, complete=lambda evaluation: True) -> dict:
        """The stored evaluation if present and ``complete(evaluation)``, else ``compute(parameters)`` stored."""
        stored = self.get(parameters)
        if stored is not None and complete(stored):
            self.hits += 1
            return stored
        self.misses += 1
        evaluation = compute(parameters)
        self.put(parameters, evaluation)
        return evaluation
