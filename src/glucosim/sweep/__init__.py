"""Parameter sweeps and virtual cohorts: one file, one command, local cores or a cluster.

    >>> from glucosim.sweep import run_sweep, load_results
    >>> run_sweep("scenarios/sweeps/prediabetes_lifestyle.toml", "results/dpp")
    >>> load_results("results/dpp")   # one row per run, in run order

See ``glucosim.sweep.schema`` for the sweep file, ``glucosim.sweep.store`` for
the output directory, ``glucosim.analysis.sweep`` for the analysis.
"""

from glucosim.sweep.backends import SlurmOptions
from glucosim.sweep.load import LoadedSweep, load_sweep, parse_sweep
from glucosim.sweep.runner import SweepOutcome, design_table, run_sweep
from glucosim.sweep.store import SweepStore

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
    return SweepStore(out_dir).load_results(require_complete=require_complete)
