"""Reference models on glucosim's engine reproduce their published behaviour."""

import re

import numpy as np
import pytest

from glucosim.reference_models import bergman, topp
from tests.conftest import REPO

REFERENCE_DIR = REPO / "models" / "reference"


def _sbml_parameters(path) -> dict[str, float]:
    text = path.read_text()
    values = {}
    for match in re.finditer(r"<parameter\b([^>]*)>", text):
        attributes = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if "value" in attributes:
            values[attributes.get("name", attributes["id"])] = float(attributes["value"])
    return values


def test_topp_parameters_match_biomodels_file():
    sbml = {
        name.lower(): value for name, value in _sbml_parameters(REFERENCE_DIR / "BIOMD0000000341_Topp2000.xml").items()
    }
    for name, (value, _, _) in topp.PARAMETERS.items():
        assert sbml[name.lower()] == pytest.approx(value), name


def test_topp_fixed_points():
    p = topp.parameter_vector()
    points = topp.fixed_points(p)
    assert points["healthy"] == pytest.approx((100.0, 10.0, 300.0))
    assert points["saddle"] == pytest.approx((250.0, 2.8, 36.96), rel=1e-3)
    assert points["diabetic"] == pytest.approx((600.0, 0.0, 0.0))
    for point in points.values():
        derivative = np.empty(3)
        topp.rhs(0.0, np.array(point), np.zeros(1), p, derivative)
        assert np.allclose(derivative, 0.0, atol=1e-9)


def test_topp_compensation_law_and_slow_eigenvalue():
    for si in (0.72, 0.36, 0.18):
        p = topp.parameter_vector(SI=si)
        glucose, insulin, beta = topp.fixed_points(p)["healthy"]
        assert glucose == pytest.approx(100.0)
        assert insulin == pytest.approx(7.2 / si)
        assert beta == pytest.approx(30.0 * insulin)
    p = topp.parameter_vector()
    eigenvalues = np.linalg.eigvals(topp.jacobian(topp.fixed_points(p)["healthy"], p))
    assert max(eigenvalues.real) == pytest.approx(-0.0142, abs=2e-4)


def test_topp_saddle_node_at_critical_death_rate():
    p = topp.parameter_vector()
    critical = p[topp.P.r1] ** 2 / (4 * p[topp.P.r2])
    assert critical == pytest.approx(0.0735)
    merged = topp.fixed_points(topp.parameter_vector(d0=critical))
    assert merged["healthy"][0] == pytest.approx(175.0) and merged["saddle"][0] == pytest.approx(175.0)
    assert "healthy" not in topp.fixed_points(topp.parameter_vector(d0=1.01 * critical))


@pytest.mark.slow  # quick tier: compiles a peer model (~15-25 s)
def test_topp_recovers_from_the_biomodels_start_and_collapses_beyond_the_saddle():
    recovered = topp.simulate([250.0, 2.8, 37.0], 730).iloc[-1]
    assert recovered["glucose_mg_dl"] == pytest.approx(100.0, abs=0.5)
    assert recovered["beta_cell_mass_mg"] == pytest.approx(300.0, rel=0.01)
    collapsed = topp.simulate([260.0, 2.8, 30.0], 3650, every_days=365).iloc[-1]
    assert collapsed["glucose_mg_dl"] > 500.0 and collapsed["beta_cell_mass_mg"] < 1.0


@pytest.mark.slow  # quick tier: compiles a peer model (~15-25 s)
def test_bergman_steady_state_under_constant_insulin():
    p = bergman.parameter_vector()
    insulin = 58.0
    frame = bergman.simulate(200.0, insulin, 600.0)
    action = p[bergman.P.SI] * (insulin - p[bergman.P.Ib])
    expected = p[bergman.P.SG] * p[bergman.P.Gb] / (p[bergman.P.SG] + action)
    assert frame["remote_insulin_action_per_min"].iloc[-1] == pytest.approx(action, rel=1e-6)
    assert frame["glucose_mg_dl"].iloc[-1] == pytest.approx(expected, rel=1e-6)


@pytest.mark.slow  # quick tier: compiles a peer model (~15-25 s)
def test_bergman_lower_sensitivity_clears_glucose_slower():
    normal = bergman.simulate(250.0, 40.0, 120.0).iloc[-1]["glucose_mg_dl"]
    diabetic = bergman.simulate(250.0, 40.0, 120.0, p=bergman.parameter_vector(SI=0.6e-4)).iloc[-1]["glucose_mg_dl"]
    assert diabetic > normal + 15.0


@pytest.fixture(scope="module")
def ha_courses():
    from glucosim.reference_models import ha_sherman

    return {
        "untreated": ha_sherman.simulate(1800.0),
        "early": ha_sherman.simulate(1800.0, intervention_day=1100.0, si_after=0.468),
        "late": ha_sherman.simulate(1800.0, intervention_day=1400.0, si_after=0.468),
    }


@pytest.mark.slow  # quick tier: compiles a peer model (~15-25 s)
def test_ha_sherman_human_course_matches_published(ha_courses):
    # Ha, Satin & Sherman 2016 Fig. 7 (model-references.md): G crosses 126 near day 445; insulin peaks at
    # about 3x baseline (~27.6 uU/ml) while glucose is still about 120-135 mg/dl
    course = ha_courses["untreated"]
    glucose = course["glucose_mg_dl"].to_numpy()
    assert int(np.argmax(glucose >= 126.0)) == pytest.approx(445, abs=5)
    peak = int(course["insulin_uU_ml"].argmax())
    assert course["insulin_uU_ml"].iloc[peak] == pytest.approx(27.6, abs=1.0)
    assert 120.0 <= glucose[peak] <= 135.0


@pytest.mark.slow  # quick tier: compiles a peer model (~15-25 s)
def test_ha_sherman_early_intervention_reverses_late_does_not(ha_courses):
    # published: SI restored to 0.468 at day 1100 gives G ~104 at day 1800; at day 1400, G ~435
    assert ha_courses["early"]["glucose_mg_dl"].iloc[-1] == pytest.approx(104.0, abs=5.0)
    assert ha_courses["late"]["glucose_mg_dl"].iloc[-1] == pytest.approx(435.0, abs=10.0)
