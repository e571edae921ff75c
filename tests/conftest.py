"""Shared fixtures: small scenarios built in code, and the compiled kernels."""

from pathlib import Path

import numpy as np
import pytest

from glucosim.scenario.load import parse_scenario

REPO = Path(__file__).resolve().parent.parent
SCENARIO_DIR = REPO / "scenarios"


def load_tool(name: str):
    """The script tools/<name>.py as a module (the tools are scripts, not a package): its functions, tested alone."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


THREE_MEALS = [
    {"time_h": 7.5, "carbs_g": 60},
    {"time_h": 12.5, "carbs_g": 80},
    {"time_h": 19.0, "carbs_g": 80},
]


def scenario_dict(**overrides) -> dict:
    """A short healthy scenario as a dict; keyword arguments replace top-level entries."""
    data = {
        "name": "test day",
        "duration_days": 1,
        "subject": {"preset": "healthy"},
        "routine": {"sleep_h": 8.0, "meals": THREE_MEALS},
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_scenario():
    """Factory: build a LoadedScenario from keyword overrides of ``scenario_dict``."""

    def factory(**overrides):
        return parse_scenario(scenario_dict(**overrides), source="<test>")

    return factory


@pytest.fixture(scope="session")
def parameters() -> np.ndarray:
    """The healthy parameter vector."""
    from glucosim.parameters import load_parameter_table

    return load_parameter_table().vector()


# ---------------------------------------------------------------- how the suite is run
TEST_WORKERS = 2
"""Worker processes for a whole-suite run (``pytest`` or ``pytest -m "not slow"`` with no paths), when
pytest-xdist is installed (the ``test`` extra brings it): the machines this project is tested on have 2 cores, and
most of the suite is single-threaded simulation. A run naming files or tests stays in one process (no worker start-up
for a single file); ``-n 0`` or ``-p no:xdist`` runs the whole suite in one process too."""

HEAVY_FILES_FIRST = (
    "test_envelope.py",  # ~175 s, and full-resolution 20-year references in 2 processes of its own: first, to overlap
    "test_calibration.py",  # ~190 s: the full calibration fit from its start values is 150 s of it
    "test_solver.py",  # ~170 s: a year against scipy; integrators compiled for test right-hand sides
    "test_notebooks.py",  # ~120 s
    "test_outputs.py",  # ~100 s: runs killed at random moments
    "test_sweep_screening.py",  # ~90 s (two 75-patient sweeps in its fixture): unlisted, it ran last on 2026-12-03
    "test_sweep_cluster.py",  # ~75 s
    "test_install.py",  # ~75 s
    "test_solver_rosw.py",  # ~70 s
    "test_validation.py",  # ~65 s
    "test_scenarios.py",  # ~60 s
    "test_sweep.py",  # ~60 s
    "test_sweep_faults.py",  # ~50 s
    "test_figures.py",  # ~50 s
    "test_reference_models.py",  # ~50 s
    "test_sbml.py",  # ~30 s since roadrunner compiles with LLJIT (its 6 roadrunner tests: 289 s, --durations, load ~4)
    "test_sweep_analysis.py",  # ~30 s
    "test_properties.py",
)
"""Test files by cost, the longest first (measured: a full run's --durations, 2026-12-03 18:30, 2 workers, load ~4);
the order within a file is kept. With workers, each file runs whole on one worker (module fixtures are computed once),
and the longest files start first so that no long file is left to run alone at the end."""


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Distribute a whole-suite run over ``TEST_WORKERS`` processes, file by file (see ``TEST_WORKERS``)."""
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return  # not installed or blocked (-p no:xdist), or this is a worker already
    option = config.option
    chosen = option.numprocesses is not None or option.dist != "no" or option.tx or option.distload
    default_paths = config.args_source is pytest.Config.ArgsSource.TESTPATHS
    interactive = option.collectonly or config.getoption("usepdb", False)
    if chosen or not default_paths or interactive:
        return
    option.numprocesses = TEST_WORKERS
    option.dist = "loadfile"
    option.loadscopereorder = False  # keep HEAVY_FILES_FIRST's order, not xdist's order by test count


def pytest_collection_modifyitems(config, items):
    """Run the files of ``HEAVY_FILES_FIRST`` first, in that order; the rest keep their order (stable sort)."""
    rank = {name: position for position, name in enumerate(HEAVY_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
