"""glucosim: a glucose-insulin physiology simulator, from one meal to decades.

The public API is this module; everything else is implementation.

    >>> import glucosim
    >>> result = glucosim.simulate("scenarios/01_healthy_baseline.toml")
    >>> result.yearly  # fasting glucose, insulin, HOMA, HbA1c, beta cells, sensitivity
    >>> result.plot_progression()

Heavy modules (numba kernels, pandas, matplotlib) load on first use, so
``import glucosim`` stays fast.
"""

from glucosim._version import __version__

__all__ = [
    "__version__",
    "load_scenario",
    "simulate",
    "SimulationResult",
    "load_parameter_table",
    "available_presets",
    "GlucosimError",
    "ScenarioError",
    "SolverError",
    "ParameterError",
]

from glucosim.errors import GlucosimError, ParameterError, ScenarioError, SolverError


def load_scenario(path):
    """Read and validate a scenario TOML file; raises ScenarioError naming the file and field."""
    from glucosim.scenario.load import load_scenario as _load

    return _load(path)


def simulate(scenario, **options):
    """Run a scenario (path or loaded) and return a SimulationResult; see glucosim.simulation.run.simulate."""
    from glucosim.clinic.visits import simulate_with_visits as _simulate

    return _simulate(scenario, **options)


def load_parameter_table():
    """The parameter table (names, values, units, ranges, sources)."""
    from glucosim.parameters import load_parameter_table as _load

    return _load()


def available_presets():
    """Names of the subject presets."""
    from glucosim.parameters import available_presets as _presets

    return _presets()


def __getattr__(name):
    if name == "SimulationResult":
        from glucosim.simulation.result import SimulationResult

        return SimulationResult
    raise AttributeError(f"module 'glucosim' has no attribute {name!r}")
