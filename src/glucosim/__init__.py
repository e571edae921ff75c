"""glucosim: a glucose-insulin physiology simulator, from one meal to decades.

The public API is this module: everything the README and the notebooks use is
importable from ``glucosim`` itself. Submodules are implementation and may
change; modules whose names start with ``_`` are internal.

    >>> import glucosim
    >>> result = glucosim.simulate("01_healthy_baseline")          # a shipped scenario, or a file path
    >>> result.yearly                                               # fasting glucose, HOMA, HbA1c, ...
    >>> what_if = glucosim.simulate("03_insulin_resistance_low_reserve", duration_years=5, beta_cell_reserve=3.0)
    >>> result.trace(200)                                           # any day's 5-minute trace, recomputed
    >>> result.plot_progression()

Running:
    simulate, load_scenario, available_scenarios, SimulationResult, LoadedScenario, Scenario
Traces and metrics:
    cgm_metrics, sensor_readings, load_sensor
Parameters:
    load_parameter_table, available_presets
Clinic:
    run_protocol, available_protocols, isoglycaemic_comparison
Figures:
    make_figure, available_figures, RunCache, plot_progression, plot_day, plot_disposal,
    plot_ogtt_visits, plot_comparison, explore, OKABE_ITO, PLOT_STYLE, series_style
Sweeps and cohorts:
    run_sweep, load_sweep, parse_sweep, load_results, analyze_sweep, cumulative_incidence,
    kaplan_meier_incidence, hazard_ratios, arm_comparison, plot_cumulative_incidence, plot_sensitivity
Units:
    insulin_uU_ml
Errors (every one a ``GlucosimError``; catch that to catch them all):
    GlucosimError, ScenarioError, ParameterError, SolverError, SweepError, ClinicError,
    ResultError, OutputError, FigureError, CalibrationError, MissingDependencyError

Everything but the errors loads on first use (numba kernels, pandas,
matplotlib), so ``import glucosim`` stays fast.
"""

from glucosim._lazy import resolve
from glucosim._version import __version__
from glucosim.errors import (
    CalibrationError,
    ClinicError,
    FigureError,
    GlucosimError,
    MissingDependencyError,
    OutputError,
    ParameterError,
    ResultError,
    ScenarioError,
    SolverError,
    SweepError,
)

# public name -> "module:attribute"; imported on first access
_LAZY = {
    "simulate": "glucosim.api:simulate",
    "load_scenario": "glucosim.api:load_scenario",
    "available_scenarios": "glucosim.api:available_scenarios",
    "SimulationResult": "glucosim.simulation.result:SimulationResult",
    "LoadedScenario": "glucosim.scenario.load:LoadedScenario",
    "Scenario": "glucosim.scenario.schema:Scenario",
    "cgm_metrics": "glucosim.simulation.trace:cgm_metrics",
    "sensor_readings": "glucosim.clinic.cgm_sensor:sensor_readings",
    "load_sensor": "glucosim.clinic.cgm_sensor:load_sensor",
    "load_parameter_table": "glucosim.parameters:load_parameter_table",
    "available_presets": "glucosim.parameters:available_presets",
    "run_protocol": "glucosim.api:run_protocol",
    "available_protocols": "glucosim.clinic.protocol:available_protocols",
    "isoglycaemic_comparison": "glucosim.clinic.incretin:isoglycaemic_comparison",
    "make_figure": "glucosim.figures:make_figure",
    "available_figures": "glucosim.figures:available_figures",
    "RunCache": "glucosim.figures:RunCache",
    "plot_progression": "glucosim.plotting.progression:plot_progression",
    "plot_day": "glucosim.plotting.day:plot_day",
    "plot_disposal": "glucosim.plotting.disposal:plot_disposal",
    "plot_ogtt_visits": "glucosim.plotting.clinic:plot_ogtt_visits",
    "plot_comparison": "glucosim.plotting.comparison:plot_comparison",
    "explore": "glucosim.plotting.notebook:explore",
    "OKABE_ITO": "glucosim.plotting.style:OKABE_ITO",
    "PLOT_STYLE": "glucosim.plotting.style:RC",
    "series_style": "glucosim.plotting.style:series_style",
    "run_sweep": "glucosim.sweep.runner:run_sweep",
    "load_sweep": "glucosim.sweep.load:load_sweep",
    "parse_sweep": "glucosim.sweep.load:parse_sweep",
    "load_results": "glucosim.sweep:load_results",
    "analyze_sweep": "glucosim.analysis.sweep:analyze_sweep",
    "cumulative_incidence": "glucosim.analysis.sweep.cohort:cumulative_incidence",
    "arm_comparison": "glucosim.analysis.sweep.cohort:arm_comparison",
    "kaplan_meier_incidence": "glucosim.analysis.sweep.cohort:kaplan_meier_incidence",
    "hazard_ratios": "glucosim.analysis.sweep.cohort:hazard_ratios",
    "plot_cumulative_incidence": "glucosim.analysis.sweep.figures:plot_cumulative_incidence",
    "plot_sensitivity": "glucosim.analysis.sweep.figures:plot_sensitivity",
    "insulin_uU_ml": "glucosim.simulation.markers:insulin_uU_ml",
}

__all__ = [
    "__version__",
    "CalibrationError",
    "ClinicError",
    "FigureError",
    "GlucosimError",
    "MissingDependencyError",
    "OutputError",
    "ParameterError",
    "ResultError",
    "ScenarioError",
    "SolverError",
    "SweepError",
    *_LAZY,
]


def __getattr__(name: str):
    return resolve(globals(), _LAZY, name)
