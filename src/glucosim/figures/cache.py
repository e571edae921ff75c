"""Internal: the simulations behind figures, run once per scenario and kept on disk across commands.

A ``RunCache`` keeps each result in memory for one session; with a
``cache_dir`` it also stores it on disk (``joblib.Memory``) under a hash of
the validated scenario, the run options and a fingerprint of the model (the
package's source and data files), so the next command that draws a figure of
the same scenario loads it instead of simulating again, and a changed model
or scenario never reuses a stale run.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

KEPT_DAYS_AT_EACH_END = 7
"""Runs keep the 5-minute trajectories of the first and last week, so a figure can pick e.g. an exercise day."""
SWEEP_RESULTS_DIR = Path("results") / "sweeps"
"""Where figures run the sweeps they read (relative to the working directory; resumable)."""
SWEEP_HASH_CHARS = 8
"""A sweep's results directory carries this much of its hash, so a changed sweep gets a new directory."""
DRAFT_SWEEP_SAMPLES = 4
"""Samples of a non-grid sweep in a draft ``RunCache``."""
CACHE_ENV = "GLUCOSIM_CACHE_DIR"
"""Environment variable naming the disk cache of figure runs (default: ~/.cache/glucosim)."""

ScenarioLike = Any
"""A scenario file path (str or Path), a shipped scenario name, or a ``LoadedScenario``."""


def default_cache_dir() -> Path:
    """Where the command line keeps figure runs: ``$GLUCOSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/glucosim``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "glucosim"


@lru_cache(maxsize=1)
def model_fingerprint() -> str:
    """Hash of the package's Python sources and shipped data: any change of the model gives new cache keys."""
    from importlib.resources import files

    package = Path(str(files("glucosim")))
    digest = hashlib.sha256()
    for pattern in ("**/*.py", "models/**/*.toml", "protocols/*.toml"):
        for path in sorted(package.glob(pattern)):
            if "figures" in path.parts or "plotting" in path.parts or path.name == "cli.py":
                continue  # drawing code does not change the runs
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _simulate_stored(fingerprint: str, scenario_json: str, source: str, text: str, options: dict):
    """Run a scenario given as validated JSON (the disk cache's unit of work; ``fingerprint`` is part of the key)."""
    import json

    from glucosim.clinic.visits import simulate_with_visits as simulate
    from glucosim.scenario.load import parse_scenario

    return simulate(parse_scenario(json.loads(scenario_json), source=source, text=text), **options)


class RunCache:
    """Simulations shared by the figures of one session: each scenario is run once.

    Every run keeps the midnight state of each year boundary (for clinic tests
    on the patient as they are then) and the trajectories of its first and last
    week.

    Figures that read a sweep get its results directory from ``sweep``: the
    sweep is run (or resumed) once, into ``sweep_dir``.

    Args:
        until_day: stop every run at this day (shorter runs for tests and drafts); None: the full scenario.
            A draft cache also cuts sweeps down: a grid keeps the first and last value of each variable,
            other designs ``DRAFT_SWEEP_SAMPLES`` samples.
        sweep_dir: where sweeps are run (default: ``results/sweeps``; a temporary directory for drafts).
        cache_dir: keep runs on disk here too, shared by later sessions and commands (default: memory only;
            the command line uses ``default_cache_dir()``).
    """

    def __init__(
        self, until_day: int | None = None, sweep_dir: str | Path | None = None, cache_dir: str | Path | None = None
    ):
        self.until_day = until_day
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._stored = None
        if self.cache_dir is not None:
            import joblib

            self._stored = joblib.Memory(self.cache_dir / "runs", verbose=0).cache(_simulate_stored)
        self._results: dict[tuple[str, str], Any] = {}
        self._sweep_dir = Path(sweep_dir) if sweep_dir is not None else None
        self._sweeps: dict[str, Path] = {}

    def _load_sweep(self, path: Path):
        from glucosim._toml import load_toml
        from glucosim.sweep import load_sweep, parse_sweep

        if self.until_day is None:
            return load_sweep(path)
        data = load_toml(path)
        if data.get("design", {}).get("kind") == "grid":
            for variable in data.get("variables", []):
                if "values" in variable:
                    variable["values"] = [variable["values"][0], variable["values"][-1]]
                else:
                    variable["levels"] = 2
        else:
            data["design"]["samples"] = DRAFT_SWEEP_SAMPLES
        return parse_sweep(data, source=str(path), text=path.read_text() + "\n# draft: cut down by RunCache")

    def _sweep_out(self, path: Path, loaded) -> Path:
        if self._sweep_dir is None:
            import tempfile

            draft = self.until_day is not None
            self._sweep_dir = Path(tempfile.mkdtemp(prefix="glucosim-sweeps-")) if draft else SWEEP_RESULTS_DIR
        import hashlib

        from glucosim.parameter_identity import parameter_values_sha256
        from glucosim.sweep.store import results_source_sha256

        # the model (its code and its parameter values) as well as the sweep file: a folder holds one model's
        # results, so a changed model runs its own sweep instead of meeting the old folder, which would refuse it
        # (sweep.store.IDENTITY_KEYS)
        model = hashlib.sha256((results_source_sha256() + parameter_values_sha256()).encode()).hexdigest()
        return self._sweep_dir / f"{path.stem}-{loaded.sha256[:SWEEP_HASH_CHARS]}-{model[:SWEEP_HASH_CHARS]}"

    def sweep_plan(self, path: str | Path) -> tuple[Path, int, float, bool]:
        """(results directory, runs, years per run, whether it is already complete) of the sweep at ``path``."""
        from glucosim.sweep.runner import design_table

        path = Path(path)
        loaded = self._load_sweep(path)
        out = self._sweep_out(path, loaded)
        return out, len(design_table(loaded)), loaded.run_years, (out / "results.parquet").is_file()

    def sweep(self, path: str | Path) -> Path:
        """The results directory of the sweep at ``path``, run (or resumed) on first request.

        Raises:
            SweepError: the file is not a valid sweep.
        """
        from glucosim.sweep import run_sweep

        path = Path(path)
        if str(path) not in self._sweeps:
            loaded = self._load_sweep(path)
            out = self._sweep_out(path, loaded)
            run_sweep(loaded, out, progress=self.until_day is None)
            self._sweeps[str(path)] = out
        return self._sweeps[str(path)]

    @staticmethod
    def _load(scenario: ScenarioLike):
        from glucosim.api import load_scenario

        return load_scenario(scenario)

    def _options(self, loaded) -> dict:
        n_days = (
            loaded.scenario.n_days if self.until_day is None else max(1, min(loaded.scenario.n_days, self.until_day))
        )
        from glucosim.simulation.result import year_start_days

        years = year_start_days(n_days)
        ends = [*range(min(KEPT_DAYS_AT_EACH_END, n_days)), *range(max(n_days - KEPT_DAYS_AT_EACH_END, 0), n_days)]
        return {
            "until_day": self.until_day,
            "state_days": tuple(sorted(set(years))),
            "trajectory_days": tuple(ends),
            "progress": False,
        }

    @staticmethod
    def _key(loaded) -> tuple[str, str]:
        # the validated content, not the file text: scenarios built in Python have no text
        import hashlib

        content = loaded.scenario.model_dump_json().encode() + loaded.parameters.tobytes()
        return (str(loaded.source), hashlib.sha256(content).hexdigest())

    def _stored_call(self, loaded):
        return (
            model_fingerprint(),
            loaded.scenario.model_dump_json(),
            str(loaded.source),
            loaded.text,
            self._options(loaded),
        )

    def is_stored(self, scenario: ScenarioLike) -> bool:
        """Whether ``scenario``'s run is in memory or in the disk cache (no simulation needed)."""
        loaded = self._load(scenario)
        if self._key(loaded) in self._results:
            return True
        return self._stored is not None and self._stored.check_call_in_cache(*self._stored_call(loaded))

    def add(self, result) -> None:
        """Use ``result`` (e.g. ``SimulationResult.load(DIR)``) for its scenario instead of simulating it."""
        self._results[self._key(result.loaded)] = result

    def get(self, scenario: ScenarioLike):
        """The ``SimulationResult`` of ``scenario`` (simulated on first request, or loaded from the disk cache)."""
        from glucosim.clinic.visits import simulate_with_visits as simulate

        loaded = self._load(scenario)
        key = self._key(loaded)
        if key not in self._results:
            if self._stored is not None:
                self._results[key] = self._stored(*self._stored_call(loaded))
            else:
                self._results[key] = simulate(loaded, **self._options(loaded))
        return self._results[key]

    def prefetch(self, scenarios: Sequence[ScenarioLike], workers: int = 1) -> None:
        """Simulate the scenarios not yet cached, in ``workers`` processes (results are identical).

        Inputs that are not scenario files (e.g. a sweep file that a figure reads itself) are skipped.
        """
        from glucosim.errors import ScenarioError

        loaded = {}
        for scenario in scenarios:
            try:
                found = self._load(scenario)
            except ScenarioError:
                continue
            loaded[self._key(found)] = found
        missing = [s for key, s in loaded.items() if key not in self._results and not self.is_stored(s)]
        if workers <= 1 or len(missing) <= 1:
            for scenario in missing:
                self.get(scenario)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, as the sweep backends: forking a process that holds numba's and matplotlib's state is unsafe
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            # with a disk cache the workers run the cached function, so the runs are stored for later commands
            run = self._stored if self._stored is not None else _simulate_stored
            futures = {self._key(s): pool.submit(run, *self._stored_call(s)) for s in missing}
            for key, future in futures.items():
                self._results[key] = future.result()
