"""The sweep's output directory: provenance, the design, and results written chunk by chunk.

Layout of ``DIR``::

    manifest.json        provenance: sweep hash, parameter-table hash, seed, versions, chunking
    sweep.toml           the sweep file, base_scenario.toml, parameters.toml: exact copies
    design.parquet       one row per run: run_id, sample, arm, sample_seed, the variables
    chunks/chunk-000000.parquet   results of runs [0, chunk_runs), and so on
    daily/chunk-000000.parquet    daily columns per run (only if the sweep asks)
    results.parquet      all chunks in run order, written when the last chunk lands
    summary.json         counts, failures, outcome by arm (written with results.parquet)

Parquet, not Zarr: a run's outputs are a row of mixed types (stage names,
error messages, numbers), written and read as a table; one file per chunk
makes each chunk's write atomic (write to a temporary name, then rename), so
a sweep killed at any moment leaves only whole chunks, and a chunk done twice
(by a resumed and a lingering worker) replaces itself with identical content.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import re
import socket
import uuid
from pathlib import Path

from glucosim.errors import SweepError
from glucosim.physiology.indices import PARAMETER_TABLE_PATH
from glucosim.sweep.worker import STATUS_OK as STATUS_OK  # re-exported: the results table's status of a finished run

MANIFEST_FILE = "manifest.json"
DESIGN_FILE = "design.parquet"
RESULTS_FILE = "results.parquet"
SUMMARY_FILE = "summary.json"
CHUNK_DIR = "chunks"
DAILY_DIR = "daily"
FORMAT_VERSION = 1
_CHUNK_NAME = re.compile(r"^chunk-(\d{6,})\.parquet$")
IDENTITY_KEYS = ("format_version", "sweep_sha256", "parameter_table_sha256", "glucosim_version", "n_runs", "chunk_runs")
"""Manifest entries that must match for a directory to be resumed."""


def chunk_name(index: int) -> str:
    """File name of chunk ``index``."""
    return f"chunk-{index:06d}.parquet"


def _versions() -> dict:
    import importlib.metadata as metadata

    names = ("glucosim", "numpy", "scipy", "numba", "pandas", "pyarrow", "SALib", "pydantic")
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _temporary(path: Path) -> Path:
    """A temporary name beside ``path``, unique across processes and nodes (job-array tasks may share a pid)."""
    return path.with_name(f".{path.name}.{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex}.tmp")


def _finite(value):
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def strict_json(data) -> str:
    """JSON any parser accepts: NaN and infinities become null (e.g. a reduction against an empty arm)."""
    return json.dumps(_finite(data), indent=2, default=str, allow_nan=False)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    temporary = _temporary(path)
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _atomic_parquet(frame, path: Path) -> None:
    temporary = _temporary(path)
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)


class SweepStore:
    """Reads and writes one sweep's output directory."""

    def __init__(self, out_dir):
        self.out_dir = Path(out_dir)

    # ------------------------------------------------------------------ setup
    def manifest(self) -> dict | None:
        """The manifest, or None if the directory holds no sweep yet."""
        path = self.out_dir / MANIFEST_FILE
        return json.loads(path.read_text()) if path.is_file() else None

    def initialise(self, loaded, design_table, chunk_runs: int) -> dict:
        """Create the directory for ``loaded``, or check that it already belongs to it (resume).

        Raises:
            SweepError: the directory holds another sweep, another model version or other chunking.
        """
        import hashlib

        from glucosim._version import __version__

        n_runs = len(design_table)
        manifest = {
            "format_version": FORMAT_VERSION,
            "sweep_name": loaded.sweep.name,
            "sweep_source": loaded.source,
            "sweep_sha256": loaded.sha256,
            "base_scenario_source": loaded.base_source,
            "parameter_table_sha256": hashlib.sha256(PARAMETER_TABLE_PATH.read_bytes()).hexdigest(),
            "glucosim_version": __version__,
            "seed": loaded.sweep.seed,
            "design": loaded.sweep.design.kind,
            "morris_levels": loaded.sweep.design.morris_levels,
            "variables": list(loaded.variable_names),
            "variable_labels": {v.name: v.label for v in loaded.sweep.variables if v.label},
            "arms": [arm.name for arm in loaded.sweep.arms],
            "n_samples": n_runs // len(loaded.sweep.arms),
            "n_runs": n_runs,
            "chunk_runs": chunk_runs,
            "n_chunks": -(-n_runs // chunk_runs),
            "n_years": loaded.n_years,
            "run_years": loaded.run_years,
            "versions": _versions(),
            "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        for sub in (CHUNK_DIR, DAILY_DIR):
            (self.out_dir / sub).mkdir(parents=True, exist_ok=True)
        existing = self.manifest()
        if existing is not None:
            self._check_same(existing, manifest)
            return existing
        _atomic_write_bytes(self.out_dir / "sweep.toml", loaded.text.encode())
        _atomic_write_bytes(self.out_dir / "base_scenario.toml", loaded.base_text.encode())
        _atomic_write_bytes(self.out_dir / "parameters.toml", PARAMETER_TABLE_PATH.read_bytes())
        _atomic_parquet(design_table, self.out_dir / DESIGN_FILE)
        self._create_manifest(manifest)
        return self.manifest()

    def _create_manifest(self, manifest: dict) -> None:
        """Write the manifest unless another process (a job-array task) just did; then check it."""
        temporary = _temporary(self.out_dir / MANIFEST_FILE)
        temporary.write_text(json.dumps(manifest, indent=2) + "\n")
        try:
            os.link(temporary, self.out_dir / MANIFEST_FILE)  # atomic create-if-absent
        except FileExistsError:
            self._check_same(self.manifest(), manifest)
        finally:
            temporary.unlink()

    def _check_same(self, existing: dict, wanted: dict) -> None:
        for key in IDENTITY_KEYS:
            if existing.get(key) != wanted.get(key):
                hint = f" or --chunk-runs {existing.get(key)}" if key == "chunk_runs" else ""
                raise SweepError(
                    f"{self.out_dir}: holds results of a different sweep or setup ({key}: "
                    f"{existing.get(key)!r} there, {wanted.get(key)!r} now); finished chunks are kept. "
                    f"Use another --out directory{hint}."
                )

    # ----------------------------------------------------------------- chunks
    def completed_chunks(self) -> set[int]:
        """Indices of chunks whose file is complete (chunk files only ever appear whole)."""
        directory = self.out_dir / CHUNK_DIR
        manifest = self.manifest()
        if not directory.is_dir() or manifest is None:
            return set()
        found = {int(m.group(1)) for m in map(_CHUNK_NAME.match, os.listdir(directory)) if m}
        return found & set(range(manifest["n_chunks"]))  # stray files never count

    def write_chunk(self, index: int, frame, daily=None) -> None:
        """Store one chunk's rows (and daily table); the rows file lands last and marks it complete."""
        if daily is not None:
            _atomic_parquet(daily, self.out_dir / DAILY_DIR / chunk_name(index))
        _atomic_parquet(frame, self.out_dir / CHUNK_DIR / chunk_name(index))

    def design(self):
        """The design table (one row per run)."""
        import pandas as pd

        return pd.read_parquet(self.out_dir / DESIGN_FILE)

    def _chunk_paths(self, require_complete: bool) -> list[Path]:
        manifest = self.manifest()
        if manifest is None:
            raise SweepError(f"{self.out_dir}: no sweep results here (no {MANIFEST_FILE})")
        chunks = sorted(self.completed_chunks())
        if require_complete and len(chunks) < manifest["n_chunks"]:
            raise SweepError(
                f"{self.out_dir}: {len(chunks)} of {manifest['n_chunks']} chunks done; run the sweep again to finish"
            )
        if not chunks:
            raise SweepError(f"{self.out_dir}: no finished runs yet")
        return [self.out_dir / CHUNK_DIR / chunk_name(i) for i in chunks]

    def load_results(self, require_complete: bool = False, columns: list[str] | None = None):
        """All finished runs, in run order (a DataFrame); ``columns`` reads only those (less memory).

        Raises:
            SweepError: no sweep here; duplicated run ids; or incomplete while ``require_complete``.
        """
        import pandas as pd

        final = self.out_dir / RESULTS_FILE
        if final.is_file():
            return pd.read_parquet(final, columns=columns)
        wanted = None if columns is None else list(dict.fromkeys(["run_id", *columns]))
        frames = [pd.read_parquet(path, columns=wanted) for path in self._chunk_paths(require_complete)]
        results = pd.concat(frames, ignore_index=True).sort_values("run_id", kind="stable").reset_index(drop=True)
        if results["run_id"].duplicated().any():
            raise SweepError(f"{self.out_dir}: duplicated run ids in the chunk files (was the directory edited?)")
        return results if columns is None else results[columns]

    def load_daily(self):
        """The daily columns of every finished run (long format), if the sweep kept them."""
        import pandas as pd

        directory = self.out_dir / DAILY_DIR
        files = sorted(directory.glob("chunk-*.parquet")) if directory.is_dir() else []
        if not files:
            raise SweepError(f"{self.out_dir}: no daily outputs (the sweep's outputs.daily is empty)")
        return pd.concat([pd.read_parquet(path) for path in files], ignore_index=True)

    def is_complete(self) -> bool:
        """Whether every chunk is done."""
        manifest = self.manifest()
        return manifest is not None and len(self.completed_chunks()) >= manifest["n_chunks"]

    def consolidate(self, summary: dict) -> None:
        """Write results.parquet (all runs, in order) and summary.json once every chunk is done.

        Streams chunk by chunk, so memory does not grow with the number of runs.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        paths = self._chunk_paths(require_complete=True)
        # a chunk whose runs all failed has all-null output columns: unify to the fullest type
        schema = pa.unify_schemas([pq.read_schema(path) for path in paths], promote_options="permissive")
        schema = schema.remove_metadata()
        final = self.out_dir / RESULTS_FILE
        temporary = _temporary(final)
        n_rows = next_run_id = 0
        with pq.ParquetWriter(temporary, schema) as writer:
            for path in paths:  # chunk files are in run order and each is sorted
                table = pq.read_table(path).select(schema.names).cast(schema)
                ids = table.column("run_id").to_numpy()
                if ids.size and ids[0] < next_run_id:
                    writer.close()
                    temporary.unlink()
                    raise SweepError(f"{path}: run ids out of order or repeated (was the directory edited?)")
                next_run_id = int(ids[-1]) + 1 if ids.size else next_run_id
                writer.write_table(table)
                n_rows += table.num_rows
        if n_rows != self.manifest()["n_runs"]:
            temporary.unlink()
            raise SweepError(f"{self.out_dir}: {n_rows} runs in the chunks, expected {self.manifest()['n_runs']}")
        os.replace(temporary, final)
        _atomic_write_bytes(self.out_dir / SUMMARY_FILE, (strict_json(summary) + "\n").encode())
