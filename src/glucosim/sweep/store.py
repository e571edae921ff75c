"""The sweep's output directory: provenance, the design, and results written chunk by chunk.

Layout of ``DIR``::

    manifest.json        provenance: sweep hash, parameter-table hash, seed, versions, chunking; the sampled
                         columns with their design bounds and each arm's own adherence columns
    sweep.toml           the sweep file, base_scenario.toml, parameters.toml: exact copies
    design.parquet       one row per run: run_id, sample, arm, sample_seed, the variables
    chunks/chunk-000000.parquet   results of runs [0, chunk_runs), and so on
    chunks/chunk-000000.json      its record, written after it: rows, bytes, SHA-256 (and of its daily file)
    daily/chunk-000000.parquet    daily columns per run (only if the sweep asks)
    results.parquet      all chunks in run order, written when the last chunk lands
    summary.json         counts, failures, outcome by arm (written with results.parquet)
    screening/chunk-000000.parquet  a screened sweep's ([screening]) screening of samples [0, SCREENING_CHUNK_SAMPLES)
    screening/chunk-000000.json     its record (bytes, SHA-256): an edited or damaged chunk is screened again
    screening.parquet    all of them in sample order (sweep.screening.SCREENING_COLUMNS), written with results.parquet
                         from the checked chunks (an unreadable one is rebuilt from them)

Parquet, not Zarr: a run's outputs are a row of mixed types (stage names,
error messages, numbers), written and read as a table; one file per chunk
makes each chunk's write atomic (write to a temporary name, then rename), so
a sweep killed at any moment leaves only whole chunks, and a chunk done twice
(by a resumed and a lingering worker) replaces itself with identical content.

Self-healing: a chunk counts as done only when its record exists and the file
matches it (size, checksum, row count). A resume checks every chunk, moves a
missing, truncated or corrupt one aside (``*.corrupt``) and runs it again,
saying so. The records are collected into ``manifest.json`` (``chunks``) when
the sweep completes; they live beside the chunks while it runs, so job-array
tasks on several nodes never rewrite one shared file. A corrupt
``results.parquet`` is rebuilt from the chunks; a corrupt ``manifest.json`` is
an error naming the file and the way back (remove it and rerun: it is
rebuilt from the sweep file, and the chunks are kept if their records match).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import platform
import re
from functools import cache
from pathlib import Path

from glucosim._files import remove_dead_temporaries, temporary_beside, write_bytes_new, write_bytes_whole, write_whole
from glucosim.errors import SweepError
from glucosim.io.results import file_record, file_sha256
from glucosim.parameter_identity import parameter_values_sha256
from glucosim.physiology.indices import PARAMETER_TABLE_PATH
from glucosim.sweep.design import variable_bounds
from glucosim.sweep.load import identity_json
from glucosim.sweep.worker import COMPLETED_STATUSES as COMPLETED_STATUSES  # re-exported: runs with outputs
from glucosim.sweep.worker import STATUS_OK as STATUS_OK  # re-exported: the results table's status of a finished run

MANIFEST_FILE = "manifest.json"
DESIGN_FILE = "design.parquet"
RESULTS_FILE = "results.parquet"
SUMMARY_FILE = "summary.json"
CHUNK_DIR = "chunks"
DAILY_DIR = "daily"
SCREENING_DIR = "screening"
SCREENING_FILE = "screening.parquet"
SCREENING_CHUNK_SAMPLES = 20
"""Patients per screening chunk file (~1 s of CPU): the unit of screening work, of saving and of resuming."""
FORMAT_VERSION = 1
_CHUNK_NAME = re.compile(r"^chunk-(\d{6,})\.parquet$")
CORRUPT_SUFFIX = ".corrupt"
"""A chunk file that failed verification is renamed with this suffix (kept for inspection, never read)."""
IDENTITY_KEYS = (
    "format_version",
    "sweep_sha256",
    "parameter_values_sha256",
    "results_source_sha256",
    "glucosim_version",
    "n_runs",
    "chunk_runs",
)
"""What a folder's results depend on: a resume, a growth or a job-array task must match them all. The parameter
table counts by its values and ranges (``glucosim.parameter_identity.parameter_values_sha256``), so an edit of a
parameter's source text keeps finished chunks valid; a folder written before that key existed is compared by
the table file's bytes (``parameter_table_sha256``, still recorded). The code and data a run goes through count by
``results_source_sha256``; a folder written before it was recorded is not compared by it."""

RESULTS_SOURCE_FOLDERS = ("physiology", "clinic", "scenario", "simulation", "solver", "sweep", "protocols", "models")
"""Package folders whose files can change a sweep's results (its runs and their day-0 and yearly clinic tests)."""


def results_source_files() -> list[Path]:
    """The files ``results_source_sha256`` hashes: every source and data file in ``RESULTS_SOURCE_FOLDERS`` but the
    parameter table (which counts by its values, ``parameter_values_sha256``) and the cohort files.

    A cohort file counts through the sweep that names it instead (``LoadedSweep.sha256`` holds its variables,
    correlation and shared parameters, resolved): hashing it here as well made every sweep folder stale when any
    cohort file changed, even in its description, and a population library (explicit variables, no cohort named)
    stale as soon as ``--write`` wrote the cohort it had fitted, so the command could not be rerun on its own cache
    (2026-12-06)."""
    package = Path(__file__).resolve().parents[1]
    cohorts = (package / "models" / "cohorts").resolve()
    found = []
    for folder in RESULTS_SOURCE_FOLDERS:
        for file in sorted((package / folder).rglob("*")):
            if (
                file.suffix in (".py", ".toml")
                and file.is_file()
                and file.resolve() != PARAMETER_TABLE_PATH.resolve()
                and file.resolve().parent != cohorts
            ):
                found.append(file)
    return found


@cache
def results_source_sha256() -> str:
    """Hash of ``results_source_files``, by their paths in the package and their bytes: 16 hex digits.

    Until 2026-12-05 a folder recorded the glucosim version and the parameter table only, so a change of the
    model's code at the same version (the first phase's saturation, envelope following's longest step) resumed,
    or served as complete, results of the code before it: the gallery's reversibility map was redrawn from them.
    """
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for file in results_source_files():
        digest.update(file.relative_to(package).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def chunk_name(index: int) -> str:
    """File name of chunk ``index``."""
    return f"chunk-{index:06d}.parquet"


def record_name(index: int) -> str:
    """File name of chunk ``index``'s record (rows, size, checksum)."""
    return f"chunk-{index:06d}.json"


def _read_json_record(path: Path) -> dict | None:
    """A chunk's record (a JSON object with its sha256), or None when missing or unreadable."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) and "sha256" in record else None


def _matches(path: Path, record: dict | None) -> bool:
    if record is None or not path.is_file():
        return False
    return path.stat().st_size == record["bytes"] and file_sha256(path) == record["sha256"]


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


def read_parquet_file(path: Path, columns: list[str] | None = None):
    """A parquet file as a DataFrame, read on this thread only.

    pyarrow reads with its CPU and I/O thread pools by default; a process that exits soon after such a read can
    abort in pyarrow's teardown ("terminate called without an active exception", SIGABRT, exit code -6/134;
    apache/arrow#34314, #39862) after its work is complete. A healing rerun of a finished sweep did so in 2 of
    40 runs here (tests/test_sweep_faults.py in CI). The files are chunk-sized, so threads buy nothing.
    """
    return _read_table(path, columns).to_pandas(use_threads=False)


def _read_table(path: Path, columns: list[str] | None = None):
    """A parquet file as a pyarrow Table, without pyarrow's thread pools (see ``read_parquet_file``)."""
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=columns, use_threads=False, pre_buffer=False)


def write_parquet_atomically(frame, path: Path) -> None:
    """Write ``frame`` to ``path`` whole or not at all (``glucosim._files.write_whole``)."""
    write_whole(path, lambda temporary: frame.to_parquet(temporary, index=False))


def _stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


class SweepStore:
    """Reads and writes one sweep's output directory."""

    def __init__(self, out_dir, announce=None):
        self.out_dir = Path(out_dir)
        self.announce = announce or _stderr
        """Called with one line for each repair (a chunk re-run, results.parquet rebuilt)."""
        self._verified: set[int] = set()

    # ------------------------------------------------------------------ setup
    def manifest(self) -> dict | None:
        """The manifest, or None if the directory holds no sweep yet.

        Raises:
            SweepError: the manifest is unreadable (truncated, edited), naming it and how to recover.
        """
        path = self.out_dir / MANIFEST_FILE
        if not path.is_file():
            return None
        try:
            manifest = json.loads(path.read_bytes().decode("utf-8"))
            if not isinstance(manifest, dict) or "n_chunks" not in manifest or "chunk_runs" not in manifest:
                raise ValueError("not a sweep manifest")
        except (ValueError, UnicodeDecodeError) as exc:
            raise SweepError(
                f"{path}: corrupt sweep manifest ({exc}). To recover, move it away (e.g. to manifest.json.bad) and "
                "run the same sweep command again: the manifest is rebuilt from the sweep file and every finished "
                "chunk whose record matches is kept"
            ) from None
        return manifest

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
            # absolute: the DPP table finds the sweep (and its screening OGTT) from any working folder
            "sweep_source": str(Path(loaded.source).resolve()) if Path(loaded.source).is_file() else loaded.source,
            "sweep_sha256": loaded.sha256,
            "base_scenario_source": loaded.base_source,
            "parameter_table_sha256": hashlib.sha256(PARAMETER_TABLE_PATH.read_bytes()).hexdigest(),
            "parameter_values_sha256": parameter_values_sha256(),
            "results_source_sha256": results_source_sha256(),
            "glucosim_version": __version__,
            "seed": loaded.sweep.seed,
            "design": loaded.sweep.design.kind,
            "morris_levels": loaded.sweep.design.morris_levels,
            "variables": list(loaded.variable_names),
            "variable_bounds": column_bounds(loaded.sweep),
            "adherence_columns": arm_adherence_columns(loaded.sweep),
            "variable_labels": {v.name: v.label for v in loaded.sweep.variables if v.label},
            "arms": [arm.name for arm in loaded.sweep.arms],
            "n_samples": n_runs // len(loaded.sweep.arms),
            "n_runs": n_runs,
            "chunk_runs": chunk_runs,
            "n_chunks": -(-n_runs // chunk_runs),
            "runs_sha256": runs_sha256(loaded),
            "size_free_sha256": size_free_sha256(loaded),
            "n_years": loaded.n_years,
            "run_years": loaded.run_years,
            "versions": _versions(),
            "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        self._check_not_other_output()
        for sub in (CHUNK_DIR, DAILY_DIR):
            (self.out_dir / sub).mkdir(parents=True, exist_ok=True)
        existing = self.manifest()
        if existing is not None and _can_grow(existing, manifest):
            return self._grow(existing, manifest, loaded, design_table)
        if existing is not None:
            self._check_same(existing, manifest)
            self._announce_unrecorded_code(existing)
            # a resume after a kill: the killed writer's temporaries go (the consolidated files' in the top folder)
            for sub in (CHUNK_DIR, DAILY_DIR, SCREENING_DIR, "."):
                remove_dead_temporaries(self.out_dir / sub)
            self._write_copies(loaded, design_table, fresh=False)
            return existing
        # the manifest first (atomic create-if-absent, then checked): a second sweep started into the same empty
        # folder is refused before it writes anything, where it used to overwrite the first one's copies and design
        created = self._create_manifest(manifest)
        self._write_copies(loaded, design_table, fresh=created)
        return self.manifest()

    def _announce_unrecorded_code(self, existing: dict) -> None:
        """Say so when a folder predates the code's hash (``results_source_sha256``): its finished chunks are kept,
        but nothing can tell whether the model's code changed since they were made."""
        if "results_source_sha256" not in existing:
            self.announce(
                f"{self.out_dir}: written before sweep folders recorded the code their runs go through; its finished "
                "chunks are kept as they are (if the model's code changed since, use another --out directory)"
            )

    def _write_copies(self, loaded, design_table, fresh: bool) -> None:
        """The folder's copies of the sweep, base scenario and table, and its design: all of them in a folder this
        call created; else those missing (a run stopped between the manifest and its copies) and a design table
        that does not read back (it is the sweep's, computed again from its seed)."""
        copies = {
            "sweep.toml": loaded.text.encode(),
            "base_scenario.toml": loaded.base_text.encode(),
            "parameters.toml": PARAMETER_TABLE_PATH.read_bytes(),
        }
        for name, data in copies.items():
            path = self.out_dir / name
            # the sweep copy is rewritten when it differs too: a growth killed after its copies and before its
            # manifest left the larger cohort's sweep.toml beside a manifest of the smaller one
            if fresh or not path.is_file() or (name == "sweep.toml" and path.read_bytes() != data):
                write_bytes_whole(path, data)
        if not fresh:
            try:
                stored = read_parquet_file(self.out_dir / DESIGN_FILE)
            except Exception:  # noqa: BLE001 - any unreadable design is written again
                if (self.out_dir / DESIGN_FILE).exists():
                    self.announce(f"{self.out_dir / DESIGN_FILE}: unreadable; written again from the sweep's seed")
            else:
                if len(stored) == len(design_table):
                    return
                self.announce(
                    f"{self.out_dir / DESIGN_FILE}: {len(stored)} runs where the sweep has {len(design_table)} (a "
                    f"growth of the cohort stopped half-way); written again from the sweep's seed"
                )
        write_parquet_atomically(design_table, self.out_dir / DESIGN_FILE)

    def _grow(self, existing: dict, manifest: dict, loaded, design_table) -> dict:
        """A cohort asked with more patients: patient i does not depend on the cohort size, so the finished
        chunks stay valid; the manifest, design and sweep copy are rewritten and only new chunks run (a last
        chunk that was partial is run again whole)."""
        self.announce(
            f"growing the cohort in {self.out_dir} from {existing['n_samples']} to {manifest['n_samples']} patients: "
            f"the first {existing['n_samples']} are kept (a patient does not depend on the cohort size); "
            f"{manifest['n_runs'] - existing['n_runs']} new runs"
        )
        manifest = {**manifest, "created_utc": existing.get("created_utc"), "grown_from_runs": existing["n_runs"]}
        if "results_source_sha256" not in existing:
            # its first chunks' code is not known: stamping today's would pass them as today's in every later check
            del manifest["results_source_sha256"]
            self._announce_unrecorded_code(existing)
        for name in (RESULTS_FILE, SUMMARY_FILE, SCREENING_FILE):
            (self.out_dir / name).unlink(missing_ok=True)  # no longer complete
        write_bytes_whole(self.out_dir / "sweep.toml", loaded.text.encode())
        # the table may differ in its texts only (its values are checked): keep the copy the manifest describes
        write_bytes_whole(self.out_dir / "parameters.toml", PARAMETER_TABLE_PATH.read_bytes())
        write_parquet_atomically(design_table, self.out_dir / DESIGN_FILE)
        self._write_manifest(manifest)
        return manifest

    def _write_manifest(self, manifest: dict) -> None:
        write_bytes_whole(self.out_dir / MANIFEST_FILE, (json.dumps(manifest, indent=2) + "\n").encode())

    def _check_not_other_output(self) -> None:
        """A sweep never writes into a run's folder, a file, or a folder of other files."""
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise SweepError(f"{self.out_dir}: is a file, not a folder; choose another --out")
        if not self.out_dir.is_dir() or (self.out_dir / MANIFEST_FILE).exists():
            return
        names = {name for name in os.listdir(self.out_dir) if not name.startswith(".")}
        if "COMPLETE.json" in names or "daily.csv" in names:
            raise SweepError(f"{self.out_dir}: holds the results of a glucosim run; choose another --out")
        if names and not names & {CHUNK_DIR, "sweep.toml"}:  # a sweep's folder (its manifest moved away) has these
            raise SweepError(f"{self.out_dir}: is not empty and holds no sweep; choose another --out")

    def _create_manifest(self, manifest: dict) -> bool:
        """Write the manifest unless another process (a job-array task) just did; then check it.

        Returns whether this call created it (False: another process did, for this same sweep).
        """
        temporary = temporary_beside(self.out_dir / MANIFEST_FILE)
        temporary.write_text(json.dumps(manifest, indent=2) + "\n")
        try:
            os.link(temporary, self.out_dir / MANIFEST_FILE)  # atomic create-if-absent
            return True
        except FileExistsError:
            self._check_same(self.manifest(), manifest)
            return False
        finally:
            temporary.unlink()

    def _check_same(self, existing: dict, wanted: dict) -> None:
        same_but_size = existing.get("size_free_sha256") is not None and existing.get("size_free_sha256") == wanted.get(
            "size_free_sha256"
        )
        if same_but_size and existing.get("n_runs") != wanted.get("n_runs"):
            if existing.get("design") != "cohort":
                raise SweepError(
                    f"{self.out_dir}: holds this sweep with {existing.get('n_samples')} samples; only the sample "
                    f"count differs, but a '{existing.get('design')}' design cannot grow in place: its samples "
                    "depend on the sample count (a Latin hypercube's strata, a Sobol or Morris sequence), so every "
                    "run would change. Use another --out directory (only cohorts grow in place)."
                )
            raise SweepError(
                f"{self.out_dir}: holds this cohort with {existing.get('n_samples')} patients; a cohort can grow "
                f"in place but not shrink (asked for {wanted.get('n_samples')}). Use another --out directory."
            )
        reasons = {
            "format_version": "it was written by another version of the sweep format",
            "sweep_sha256": (
                "the sweep file, its base scenario or its cohort differ from those this folder was made with "
                f"(its copies: {self.out_dir / 'sweep.toml'}, {self.out_dir / 'base_scenario.toml'})"
            ),
            "parameter_values_sha256": (
                f"a value or range of the parameter table changed since (its copy: {self.out_dir / 'parameters.toml'})"
            ),
            "parameter_table_sha256": (
                f"the parameter table changed since (its copy: {self.out_dir / 'parameters.toml'})"
            ),
            "results_source_sha256": (
                "the model's or the simulator's code or data changed since it was made (the package folders "
                f"{', '.join(RESULTS_SOURCE_FOLDERS)})"
            ),
            "glucosim_version": (
                f"it was made by glucosim {existing.get('glucosim_version')}, this is {wanted.get('glucosim_version')}"
            ),
            "n_runs": f"it has {existing.get('n_runs')} runs, this sweep {wanted.get('n_runs')}",
            "chunk_runs": f"its chunks hold {existing.get('chunk_runs')} runs, {wanted.get('chunk_runs')} asked",
        }
        for key in identity_keys(existing):
            if existing.get(key) != wanted.get(key):
                hint = f" or --chunk-runs {existing.get(key)}" if key == "chunk_runs" else ""
                raise SweepError(
                    f"{self.out_dir}: holds results of a different sweep or setup: {reasons[key]}; finished chunks "
                    f"are kept. Use another --out directory{hint}."
                )

    # ----------------------------------------------------------------- chunks
    def _expected_rows(self, manifest: dict, index: int) -> int:
        return min(manifest["chunk_runs"], manifest["n_runs"] - index * manifest["chunk_runs"])

    def _read_record(self, index: int) -> dict | None:
        return _read_json_record(self.out_dir / CHUNK_DIR / record_name(index))

    def _chunk_is_sound(self, manifest: dict, index: int) -> tuple[bool, str]:
        """Whether chunk ``index`` is whole and belongs here (and why not)."""
        path = self.out_dir / CHUNK_DIR / chunk_name(index)
        record = self._read_record(index)
        expected = self._expected_rows(manifest, index)
        if record is None:
            return self._adopt(manifest, index, expected)
        if record.get("runs_sha256") != manifest.get("runs_sha256") or record.get("rows") != expected:
            return False, f"its record is of another sweep or size ({record.get('rows')} rows, {expected} expected)"
        if not _matches(path, record):
            return False, "size or checksum differs from its record (truncated or corrupt)"
        daily = record.get("daily")
        if daily is not None and not _matches(self.out_dir / DAILY_DIR / chunk_name(index), daily):
            return False, "its daily file is missing or differs from its record"
        return True, ""

    def _adopt(self, manifest: dict, index: int, expected: int) -> tuple[bool, str]:
        """A chunk file without a record (killed between the two writes, or an older glucosim): kept if it
        reads whole with the expected run ids, then recorded."""
        import numpy as np

        path = self.out_dir / CHUNK_DIR / chunk_name(index)
        first = index * manifest["chunk_runs"]
        try:
            ids = _read_table(path, columns=["run_id"]).column("run_id").to_numpy()
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a corrupt chunk
            return False, f"unreadable ({type(exc).__name__}) and without a record"
        if not np.array_equal(ids, np.arange(first, first + expected)):
            return False, f"holds {len(ids)} rows, not runs {first}-{first + expected - 1}, and has no record"
        record = {
            "runs_sha256": manifest.get("runs_sha256"),
            "chunk_runs": manifest["chunk_runs"],
            "rows": expected,
            **file_record(path),
        }
        record_path = self.out_dir / CHUNK_DIR / record_name(index)
        if record_path.exists():  # unreadable when first read, or the sweep's writer stored it since
            if _read_json_record(record_path) is not None:
                return self._chunk_is_sound(manifest, index)  # the writer's: checked as any record
            os.replace(record_path, record_path.with_name(record_path.name + CORRUPT_SUFFIX))
        # never over a record the sweep's writer stored meanwhile (a reader adopts while the sweep runs: the chunk
        # is written before its record, and the writer's record also vouches for the chunk's daily file)
        write_bytes_new(record_path, json.dumps(record).encode())
        return True, ""

    def recorded_chunk_runs(self) -> int | None:
        """The chunking of the chunks already here (to rebuild a lost manifest with it), or None."""
        record = self._read_record(0)
        return record.get("chunk_runs") if record else None

    def completed_chunks(self) -> set[int]:
        """Indices of chunks that are complete: the file is there and matches its record.

        A chunk file that is present but does not match is moved aside (``*.corrupt``) and announced, so it is
        run again; a record without its file is removed. Stray files never count.
        """
        directory = self.out_dir / CHUNK_DIR
        manifest = self.manifest()
        if not directory.is_dir() or manifest is None:
            return set()
        found = {int(m.group(1)) for m in map(_CHUNK_NAME.match, os.listdir(directory)) if m}
        found &= set(range(manifest["n_chunks"]))
        complete = set()
        for index in sorted(found):
            if index in self._verified:
                complete.add(index)
                continue
            sound, why = self._chunk_is_sound(manifest, index)
            if sound:
                self._verified.add(index)
                complete.add(index)
            else:
                self._set_aside(index, why)
        return complete

    def _set_aside(self, index: int, why: str) -> None:
        for folder in (CHUNK_DIR, DAILY_DIR):
            path = self.out_dir / folder / chunk_name(index)
            if path.exists():
                os.replace(path, path.with_name(path.name + CORRUPT_SUFFIX))
        (self.out_dir / CHUNK_DIR / record_name(index)).unlink(missing_ok=True)
        self.announce(f"chunk {index} ({CHUNK_DIR}/{chunk_name(index)}): {why}; set aside, it will be run again")

    def write_chunk(self, index: int, frame, daily=None) -> None:
        """Store one chunk's rows (and daily table), then its record, which marks it complete."""
        manifest = self.manifest()
        record = {
            "runs_sha256": manifest.get("runs_sha256") if manifest else None,
            "chunk_runs": manifest.get("chunk_runs") if manifest else None,
            "rows": len(frame),
        }
        if daily is not None:
            daily_path = self.out_dir / DAILY_DIR / chunk_name(index)
            write_parquet_atomically(daily, daily_path)
            record["daily"] = file_record(daily_path)
        path = self.out_dir / CHUNK_DIR / chunk_name(index)
        write_parquet_atomically(frame, path)
        record.update(file_record(path))
        write_bytes_whole(self.out_dir / CHUNK_DIR / record_name(index), json.dumps(record).encode())
        self._verified.add(index)

    # -------------------------------------------------------------- screening
    def screening_chunks_done(self, n_samples: int) -> set[int]:
        """Indices of the screening chunks on disk whole: readable, holding exactly their samples (of ``n_samples``,
        so the last one of a grown cohort is screened again). Any other chunk file is set aside and announced."""
        import numpy as np

        directory = self.out_dir / SCREENING_DIR
        if not directory.is_dir():
            return set()
        n_chunks = -(-n_samples // SCREENING_CHUNK_SAMPLES)
        done = set()
        for match in map(_CHUNK_NAME.match, sorted(os.listdir(directory))):
            if not match or int(match.group(1)) >= n_chunks:
                continue
            index = int(match.group(1))
            path = directory / chunk_name(index)
            first = index * SCREENING_CHUNK_SAMPLES
            expected = np.arange(first, min(first + SCREENING_CHUNK_SAMPLES, n_samples))
            record_path = directory / record_name(index)
            record = _read_json_record(record_path)
            try:
                samples = _read_table(path, columns=["sample"]).column("sample").to_numpy()
            except Exception:  # noqa: BLE001 - any unreadable file is screened again
                samples = None
            if (
                samples is not None
                and np.array_equal(samples, expected[: len(samples)])
                and len(samples) < len(expected)
            ):
                path.unlink()  # the last chunk of a cohort that grew since: screened again with its new samples
                record_path.unlink(missing_ok=True)
            elif (
                samples is not None and np.array_equal(samples, expected) and (record is None or _matches(path, record))
            ):
                if record is None:  # killed between the two writes, or written before chunks had records: adopted
                    write_bytes_whole(record_path, json.dumps(file_record(path)).encode())
                done.add(index)
            else:
                os.replace(path, path.with_name(path.name + CORRUPT_SUFFIX))
                record_path.unlink(missing_ok=True)
                self.announce(
                    f"screening chunk {index} ({SCREENING_DIR}/{chunk_name(index)}): unreadable, not its samples or "
                    "changed since it was written; set aside, it will be screened again"
                )
        return done

    def write_screening_chunk(self, index: int, frame) -> None:
        """Store one screening chunk, whole or not at all, and its record (size and checksum): a chunk edited or
        damaged later is screened again instead of being taken as it is."""
        (self.out_dir / SCREENING_DIR).mkdir(parents=True, exist_ok=True)
        path = self.out_dir / SCREENING_DIR / chunk_name(index)
        write_parquet_atomically(frame, path)
        write_bytes_whole(self.out_dir / SCREENING_DIR / record_name(index), json.dumps(file_record(path)).encode())

    def load_screening(self, samples=None, from_chunks: bool = False):
        """The screening table (one row per screened sample, in sample order), or None if the sweep was not
        screened; ``samples``: only those (read from the chunks that hold them); ``from_chunks``: built from the
        chunks even when screening.parquet is there (to write it)."""
        import pandas as pd

        final = self.out_dir / SCREENING_FILE
        manifest = self.manifest() or {}
        if final.is_file() and samples is None and not from_chunks:
            try:
                table = read_parquet_file(final)
            except Exception:  # noqa: BLE001 - an unreadable table is rebuilt from the chunks below
                self.announce(f"{final}: unreadable; read from the screening chunks instead")
                table = None
            if table is not None and len(table) == manifest.get("n_samples"):
                return table
        directory = self.out_dir / SCREENING_DIR
        if not directory.is_dir():
            return None
        indices = sorted(int(m.group(1)) for m in map(_CHUNK_NAME.match, os.listdir(directory)) if m)
        if samples is not None:
            indices = sorted(set(indices) & {int(sample) // SCREENING_CHUNK_SAMPLES for sample in samples})
        frames = [read_parquet_file(directory / chunk_name(index)) for index in indices]
        if not frames:
            return None
        table = pd.concat(frames, ignore_index=True).sort_values("sample", kind="stable").reset_index(drop=True)
        return table if samples is None else table[table["sample"].isin(set(map(int, samples)))]

    def consolidate_screening(self) -> None:
        """Write screening.parquet (every sample, in order) from the screening chunks, atomically; refused unless
        the chunks hold every sample of the design (a table short of patients would drop them from the analysis)."""
        n_samples = (self.manifest() or {}).get("n_samples")
        if n_samples is not None:
            self.screening_chunks_done(n_samples)  # checked against their records here, whoever screened them
        table = self.load_screening(from_chunks=True)
        if table is None or (n_samples is not None and list(map(int, table["sample"])) != list(range(n_samples))):
            raise SweepError(
                f"{self.out_dir}: the screening chunks do not hold every patient "
                f"({0 if table is None else len(table)} of {n_samples}); run the same command again to screen the rest"
            )
        try:
            write_parquet_atomically(table, self.out_dir / SCREENING_FILE)
        except OSError as exc:  # a full disk gave a traceback here (write_whole leaves no temporary)
            raise SweepError(
                f"{self.out_dir / SCREENING_FILE}: could not write the screening table: {exc.strerror or exc}; every "
                f"screening chunk is kept, so running the same command again finishes it"
            ) from None

    def design(self):
        """The design table (one row per run)."""

        return read_parquet_file(self.out_dir / DESIGN_FILE)

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

    def _results_file_ok(self) -> bool:
        """Whether results.parquet is there and matches the record written with it (else: rebuild it)."""
        import pyarrow.parquet as pq

        final = self.out_dir / RESULTS_FILE
        if not final.is_file():
            return False
        manifest = self.manifest() or {}
        record = manifest.get("results")
        try:
            if record is not None:
                ok = _matches(final, record)
            else:  # written by an older glucosim: readable with every run is enough
                ok = pq.read_metadata(final).num_rows == manifest.get("n_runs")
        except Exception:  # noqa: BLE001 - an unreadable file is a corrupt one
            ok = False
        if not ok:
            self.announce(f"{final}: corrupt or truncated; it is rebuilt from the chunks")
        return ok

    def load_results(self, require_complete: bool = False, columns: list[str] | None = None):
        """All finished runs, in run order (a DataFrame); ``columns`` reads only those (less memory).

        Reads results.parquet when it is sound, else the verified chunks.

        Raises:
            SweepError: no sweep here; duplicated run ids; or incomplete while ``require_complete``.
        """
        import pandas as pd

        if self._results_file_ok():
            return read_parquet_file(self.out_dir / RESULTS_FILE, columns=columns)
        wanted = None if columns is None else list(dict.fromkeys(["run_id", *columns]))
        frames = [read_parquet_file(path, columns=wanted) for path in self._chunk_paths(require_complete)]
        results = pd.concat(frames, ignore_index=True).sort_values("run_id", kind="stable").reset_index(drop=True)
        if results["run_id"].duplicated().any():
            raise SweepError(f"{self.out_dir}: duplicated run ids in the chunk files (was the directory edited?)")
        return results if columns is None else results[columns]

    def load_daily(self):
        """The daily columns of every finished run (long format), if the sweep kept them."""
        import pandas as pd

        done = sorted(self.completed_chunks())
        files = [self.out_dir / DAILY_DIR / chunk_name(i) for i in done]
        files = [path for path in files if path.is_file()]
        if not files:
            raise SweepError(f"{self.out_dir}: no daily outputs (the sweep's outputs.daily is empty)")
        return pd.concat([read_parquet_file(path) for path in files], ignore_index=True)

    def chunks_done(self) -> tuple[int, int]:
        """(chunks complete, chunks in all); (0, 0) without a manifest."""
        manifest = self.manifest()
        if manifest is None:
            return 0, 0
        return len(self.completed_chunks()), int(manifest["n_chunks"])

    def is_complete(self) -> bool:
        """Whether every chunk is done."""
        done, total = self.chunks_done()
        return self.manifest() is not None and done >= total

    def needs_consolidation(self) -> bool:
        """Whether results.parquet or summary.json is missing or unsound (every chunk being done)."""
        return not (self._results_file_ok() and (self.out_dir / SUMMARY_FILE).is_file())

    def consolidate(self, summary: dict) -> None:
        """Write results.parquet (all runs, in order) and summary.json once every chunk is done, and collect
        the chunk records and the results file's record into the manifest.

        Streams chunk by chunk, so memory does not grow with the number of runs.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        paths = self._chunk_paths(require_complete=True)
        # a chunk whose runs all failed has all-null output columns: unify to the fullest type
        schema = pa.unify_schemas([pq.read_schema(path) for path in paths], promote_options="permissive")
        schema = schema.remove_metadata()
        final = self.out_dir / RESULTS_FILE
        temporary = temporary_beside(final)
        n_rows = next_run_id = 0
        try:
            with pq.ParquetWriter(temporary, schema) as writer:
                for path in paths:  # chunk files are in run order and each is sorted
                    table = _read_table(path).select(schema.names).cast(schema)
                    ids = table.column("run_id").to_numpy()
                    if ids.size and ids[0] < next_run_id:
                        raise SweepError(f"{path}: run ids out of order or repeated (was the directory edited?)")
                    next_run_id = int(ids[-1]) + 1 if ids.size else next_run_id
                    writer.write_table(table)
                    n_rows += table.num_rows
            manifest = self.manifest()
            if n_rows != manifest["n_runs"]:
                raise SweepError(f"{self.out_dir}: {n_rows} runs in the chunks, expected {manifest['n_runs']}")
            manifest["results"] = file_record(temporary)
            manifest["chunks"] = {str(i): self._read_record(i) for i in range(manifest["n_chunks"])}
            with open(temporary, "rb") as handle:  # flushed before it is published, as every other sweep file
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except OSError as exc:
            # a full disk at the last step gave a traceback and left the temporary for good (a resume retries)
            temporary.unlink(missing_ok=True)
            raise SweepError(
                f"{final}: could not write the consolidated results: {exc.strerror or exc}; every chunk is kept, "
                f"so running the same command again finishes it"
            ) from None
        except BaseException:  # an interrupt, or an error above: no temporary of a partial file is left behind
            temporary.unlink(missing_ok=True)
            raise
        self._write_manifest(manifest)
        write_bytes_whole(self.out_dir / SUMMARY_FILE, (strict_json(summary) + "\n").encode())


def column_bounds(sweep) -> list[list[float]]:
    """[low, high] of every sampled column as the design draws it, in ``LoadedSweep.variable_names`` order: each
    variable's (``design.variable_bounds``), then each arm's adherence draws' support (``Adherence.support``: the
    bounds, else the range, else +- 4 sd)."""
    adherence = [[float(low), float(high)] for arm in sweep.arms for low, high in (e.support for e in arm.adherence)]
    return [variable_bounds(variable) for variable in sweep.variables] + adherence


def arm_adherence_columns(sweep) -> dict[str, list[str]]:
    """Each arm's own adherence columns (every arm listed). The draws are in every arm's rows of the results but act
    only in their own arm, so an arm's sensitivity analysis reads the design's variables and these only."""
    return {arm.name: [arm.adherence_column(entry) for entry in arm.adherence] for arm in sweep.arms}


def size_free_sha256(loaded) -> str:
    """Hash of the sweep without its sample count: equal when only ``design.samples`` differs."""
    import hashlib

    sweep = loaded.sweep.model_copy(update={"design": loaded.sweep.design.model_copy(update={"samples": None})})
    content = "\0".join((loaded.base_text, identity_json(sweep)))
    return hashlib.sha256(content.encode()).hexdigest()


def runs_sha256(loaded) -> str:
    """Hash of what defines each run's content: the sweep without its sample count for a cohort (patient i
    does not depend on the cohort size, so chunks stay valid when it grows), the whole sweep otherwise."""
    return size_free_sha256(loaded) if loaded.sweep.design.kind == "cohort" else loaded.sha256


def identity_keys(existing: dict) -> tuple[str, ...]:
    """The manifest keys a folder's results are checked by: ``IDENTITY_KEYS``, with the table file's bytes in
    place of its values for a folder written before ``parameter_values_sha256`` was recorded."""
    keys = tuple(key for key in IDENTITY_KEYS if key != "results_source_sha256" or key in existing)
    if "parameter_values_sha256" in existing:
        return keys
    return tuple("parameter_table_sha256" if key == "parameter_values_sha256" else key for key in keys)


def parameter_identity(manifest: dict) -> str:
    """The parameter table's identity in a manifest: its values and ranges, or (an older folder) its bytes."""
    return str(manifest.get("parameter_values_sha256") or manifest.get("parameter_table_sha256", ""))


def _can_grow(existing: dict, wanted: dict) -> bool:
    """The directory holds the same cohort with fewer patients (and the same model and chunking)."""
    same = all(
        existing.get(key) == wanted.get(key) for key in identity_keys(existing) if key not in ("sweep_sha256", "n_runs")
    )
    return (
        same
        and existing.get("design") == "cohort"
        and existing.get("runs_sha256") is not None
        and existing.get("runs_sha256") == wanted.get("runs_sha256")
        and wanted["n_runs"] > existing["n_runs"]
    )
