"""Parameter sweeps and virtual cohorts: one file, one command, local cores or a cluster.

    >>> from glucosim.sweep import run_sweep, load_results
    >>> run_sweep("scenarios/sweeps/prediabetes_lifestyle.toml", "results/dpp")
    >>> load_results("results/dpp")   # one row per run, in run order

See ``glucosim.sweep.schema`` for the sweep file, ``glucosim.sweep.store`` for
the output directory, ``glucosim.analysis.sweep`` for the analysis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glucosim._lazy import resolve

if TYPE_CHECKING:
    from glucosim.sweep.backends import SlurmOptions
    from glucosim.sweep.load import LoadedSweep, load_sweep, parse_sweep
    from glucosim.sweep.runner import SweepOutcome, design_table, run_sweep
    from glucosim.sweep.store import SweepStore

_LAZY = {
    "SlurmOptions": "glucosim.sweep.backends:SlurmOptions",
    "LoadedSweep": "glucosim.sweep.load:LoadedSweep",
    "load_sweep": "glucosim.sweep.load:load_sweep",
    "parse_sweep": "glucosim.sweep.load:parse_sweep",
    "SweepOutcome": "glucosim.sweep.runner:SweepOutcome",
    "design_table": "glucosim.sweep.runner:design_table",
    "run_sweep": "glucosim.sweep.runner:run_sweep",
    "SweepStore": "glucosim.sweep.store:SweepStore",
}
"""Public name -> "module:attribute", imported on first use (glucosim._lazy): a worker process imports
``glucosim.sweep.worker`` to unpickle its chunk, and importing the runner and designs with it (scipy.stats)
cost each worker seconds."""


def __getattr__(name: str):
    return resolve(globals(), _LAZY, name)


__all__ = [
    "SlurmOptions",
    "LoadedSweep",
    "load_sweep",
    "parse_sweep",
    "SweepOutcome",
    "design_table",
    "run_sweep",
    "SweepStore",
    "load_results",
]


def load_results(out_dir, require_complete: bool = False):
    """All finished runs of the sweep in ``out_dir``, in run order (pandas DataFrame)."""
    from glucosim.sweep.store import SweepStore

    return SweepStore(out_dir).load_results(require_complete=require_complete)
