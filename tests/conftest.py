"""Shared fixtures: small scenarios built in code, and the compiled kernels."""

from pathlib import Path

import numpy as np
import pytest

from glucosim.scenario.load import parse_scenario

REPO = Path(__file__).resolve().parent.parent
SCENARIO_DIR = REPO / "scenarios"

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
