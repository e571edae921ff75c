"""Tests that search (hypothesis): random valid inputs give finite, plausible outputs or a named failure; random
invalid inputs give a clean GlucosimError, never a traceback.

Profiles (environment variable ``GLUCOSIM_HYPOTHESIS_PROFILE``):

- ``fast`` (default, in the normal test run): a few dozen examples per property, about 30 s in all; the
  properties that simulate every example are marked ``slow`` (out of the quick tier, in the full run).
- ``long``: 10,000 examples per property, for occasional runs (hours on two cores)::

      GLUCOSIM_HYPOTHESIS_PROFILE=long pytest tests/test_properties.py -p no:cacheprovider -s

Each property tallies what it saw (``TALLY``, printed at the end with ``-s``).
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from glucosim.errors import GlucosimError
from glucosim.parameters import available_presets, load_parameter_table
from glucosim.scenario.schema import MIN_SLEEP_H

PROFILE = os.environ.get("GLUCOSIM_HYPOTHESIS_PROFILE", "fast")
LONG_EXAMPLES = 10_000
settings.register_profile(
    "glucosim-fast", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)
settings.register_profile(
    "glucosim-long", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=LONG_EXAMPLES
)
TALLY: dict[str, Counter] = {}


def examples(fast: int):
    """Settings of one property: ``fast`` examples in the fast profile, 10,000 in the long one
    (``GLUCOSIM_HYPOTHESIS_EXAMPLES=N`` sets another count for the long profile)."""
    if PROFILE == "long":
        count = int(os.environ.get("GLUCOSIM_HYPOTHESIS_EXAMPLES", LONG_EXAMPLES))
        return settings(settings.get_profile("glucosim-long"), max_examples=count)
    return settings(settings.get_profile("glucosim-fast"), max_examples=fast)


def tally(category: str, outcome: str) -> None:
    TALLY.setdefault(category, Counter())[outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    for category, counts in TALLY.items():
        print(f"\n{category}: {sum(counts.values())} examples: {dict(counts)}")


def _table_range(name: str, low: float | None = None, high: float | None = None):
    row = load_parameter_table()[name]
    return st.floats(
        max(row.low, low if low is not None else row.low), min(row.high, high if high is not None else row.high)
    )


# ------------------------------------------------------------------ valid scenarios
meal = st.fixed_dictionaries(
    {"time_h": st.floats(0.0, 23.9), "carbs_g": st.floats(1.0, 200.0)},
    optional={"absorption": st.sampled_from(["slow", "medium", "fast"]) | st.floats(0.2, 3.0)},
)
session = st.fixed_dictionaries(
    {
        "start_h": st.floats(0.0, 20.0),
        "duration_min": st.floats(5.0, 180.0),
        # from 70 % VO2max up a session is limited by time to exhaustion (schema.longest_session_min): these are
        # valid at any duration drawn
        "intensity_pct_vo2max": st.floats(20.0, 69.0),
    },
    optional={"weekdays": st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True)},
)
drift = st.fixed_dictionaries(
    {}, optional={key: st.floats(-0.3, 0.3) for key in ("whole_body_per_year", "liver_per_year", "muscle_per_year")}
)
routine = st.fixed_dictionaries(
    {"meals": st.lists(meal, max_size=4, unique_by=lambda m: round(m["time_h"], 6))},
    optional={
        "exercise": st.lists(session, max_size=2),
        "sleep_h": st.floats(MIN_SLEEP_H, 11.0),
        "carbs_scale": st.floats(0.3, 2.0),
        "energy_surplus_kcal_per_day": st.floats(-1000.0, 1000.0),
        "cortisol_rel": st.floats(0.5, 3.0),
        "drift": drift,
    },
)
subject = st.fixed_dictionaries(
    {"preset": st.sampled_from(available_presets())},
    optional={
        "insulin_sensitivity_whole_body": _table_range("insulin_sensitivity_whole_body", 0.2, 2.0),
        "insulin_sensitivity_liver": st.floats(0.5, 1.5),
        "insulin_sensitivity_muscle": st.floats(0.5, 1.5),
        "beta_cell_reserve": _table_range("beta_function_max"),
        "start_adapted": st.booleans(),
    },
)
duration = st.one_of(
    st.integers(1, 3).map(lambda d: {"duration_days": d}), st.floats(1.0, 48.0).map(lambda h: {"duration_hours": h})
)


@st.composite
def scenarios(draw) -> dict:
    data = {"name": "random", "subject": draw(subject), "routine": draw(routine), **draw(duration)}
    return data


@pytest.mark.slow  # simulates every example
@examples(fast=12)
@given(scenarios())
def test_random_valid_scenarios_give_finite_plausible_outputs_or_a_named_failure(data):
    import glucosim
    from glucosim.scenario.load import parse_scenario

    try:
        loaded = parse_scenario(data, source="<random>")
        result = glucosim.simulate(loaded, progress=False)
    except GlucosimError as error:  # refused at load (overlapping sessions, combined sensitivity) or by the solver
        tally("valid scenarios", type(error).__name__)
        return
    glucose = result.daily[["min_glucose_mg_dl", "max_glucose_mg_dl", "mean_glucose_mg_dl"]].to_numpy()
    assert np.isfinite(glucose).all()
    assert (glucose > -1e-5).all()  # non-negative by the model's construction, up to the solver's tolerance
    assert np.isfinite(result.final_state).all()
    verdict = result.summary["plausibility"]
    assert set(verdict) == {"plausible", "glucose_band_mg_dl", "problems"}
    flagged = ", ".join(sorted({problem["marker"] for problem in verdict["problems"]}))
    tally("valid scenarios", "plausible" if verdict["plausible"] else f"flagged implausible ({flagged})")


# ------------------------------------------------------------------ valid protocols
@st.composite
def protocols(draw) -> dict:
    kind = draw(st.sampled_from(["ogtt", "meal", "ivgtt", "clamp", "fasting"]))
    duration = draw(st.floats(30.0, 240.0))
    data: dict = {"name": "random", "kind": kind, "duration_min": duration}
    if draw(st.booleans()):
        data["sample_every_min"] = draw(st.floats(1.0, 30.0))
    else:
        # the fasting sample at minute 0 is required (every kind's fasting indices are read there)
        data["samples_min"] = [0.0, *draw(st.lists(st.floats(0.0, duration), max_size=19))]
    actions = []
    if kind == "ogtt":
        actions.append({"at_min": 0.0, "oral_glucose_g": draw(st.floats(10.0, 100.0))})
    elif kind == "meal":
        meal = {"at_min": 0.0, "oral_glucose_g": draw(st.floats(10.0, 100.0))}
        actions.append(meal | {"fat_g": draw(st.floats(0.0, 60.0)), "protein_g": draw(st.floats(0.0, 60.0))})
    elif kind == "ivgtt":
        actions.append({"at_min": 0.0, "iv_glucose_g_per_kg": draw(st.floats(0.05, 0.5))})
    elif kind == "clamp":
        actions.append({"at_min": 0.0, "insulin_infusion_mU_m2_min": draw(st.floats(5.0, 1200.0))})
        target = draw(st.sampled_from(["fasting"]) | st.floats(60.0, 300.0))
        data["clamp"] = {"target_mg_dl": target, "steady_state_from_min": draw(st.floats(0.0, duration * 0.9))}
    extra = st.fixed_dictionaries(
        {"at_min": st.floats(0.0, duration)},
        optional={},
    ).flatmap(
        lambda base: st.one_of(
            st.floats(0.0, 10.0).map(lambda v: {**base, "iv_glucose_mg_kg_min": v}),
            st.floats(0.0, 300.0).map(lambda v: {**base, "insulin_infusion_mU_m2_min": v}),
        )
    )
    actions += draw(st.lists(extra, max_size=2))
    data["actions"] = actions
    return data


def _write_toml(path: Path, data: dict) -> None:
    """A minimal TOML writer for the generated dicts (strings, numbers, booleans, lists, tables)."""

    def value(item):
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, str):
            return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(item, float):
            return (
                repr(item) if math.isfinite(item) else ("nan" if math.isnan(item) else ("inf" if item > 0 else "-inf"))
            )
        if isinstance(item, (list, tuple)):
            return "[" + ", ".join(value(x) for x in item) + "]"
        if isinstance(item, dict):
            return "{" + ", ".join(f"{k} = {value(v)}" for k, v in item.items()) + "}"
        return str(item)

    path.write_text("\n".join(f"{key} = {value(item)}" for key, item in data.items()) + "\n")


WORK = Path(tempfile.mkdtemp(prefix="glucosim-properties-"))


@pytest.mark.slow  # simulates every example
@examples(fast=12)
@given(protocols(), st.sampled_from(available_presets()))
def test_random_valid_protocols_keep_glucose_non_negative_and_are_checked(data, preset):
    from glucosim.clinic.runner import run_protocol
    from glucosim.simulation.plausibility import check_clinic_samples

    path = WORK / "protocol.toml"
    _write_toml(path, data)
    try:
        result = run_protocol(str(path), preset)
    except GlucosimError as error:
        tally("valid protocols", type(error).__name__)
        return
    samples = result.samples[["glucose_mg_dl", "insulin_uU_ml"]].to_numpy()
    assert np.isfinite(samples).all()
    assert samples[:, 0].min() > -1e-5  # the non-negativity guard, whatever the insulin
    verdict = check_clinic_samples(result.samples)
    flagged = ", ".join(sorted({problem["marker"] for problem in verdict.problems}))
    tally("valid protocols", "plausible" if verdict.plausible else f"flagged implausible ({data['kind']}: {flagged})")


# ------------------------------------------------------------------ valid sweep files
BASE = 'name = "base"\nduration_days = 1\n[[routine.meals]]\ntime_h = 8\ncarbs_g = 60\n'
PARAMETERS = ("insulin_sensitivity_whole_body", "beta_function_max", "insulin_sensitivity_liver")


@st.composite
def sweeps(draw) -> dict:
    kind = draw(st.sampled_from(["grid", "latin_hypercube", "cohort", "morris", "sobol"]))
    names = draw(st.lists(st.sampled_from(PARAMETERS), min_size=1, max_size=3, unique=True))
    variables = []
    for name in names:
        row = load_parameter_table()[name]
        low = draw(st.floats(row.low, row.high))
        high = draw(st.floats(low, row.high))
        assume(high > low + 1e-6)
        variable = {"parameter": name, "unit": row.unit}
        if kind == "grid":
            if draw(st.booleans()):
                variable["values"] = draw(st.lists(st.floats(row.low, row.high), min_size=1, max_size=3))
            else:
                variable.update(range=[low, high], levels=draw(st.integers(2, 3)))
        elif kind == "cohort":
            variable.update(distribution="lognormal", median=draw(st.floats(low, high)), gsd=draw(st.floats(1.01, 2.0)))
        else:
            variable["range"] = [low, high]
        variables.append(variable)
    design: dict = {"kind": kind}
    if kind != "grid":
        design["samples"] = draw(st.sampled_from([1, 2, 4]) if kind == "sobol" else st.integers(1, 4))
    arms = [{"name": "control"}] + draw(
        st.lists(st.just({"name": "sleep", "changes": [{"from_day": 0, "sleep_h": 6.0}]}), max_size=1)
    )
    return {
        "name": "random",
        "base_scenario": "base.toml",
        "seed": draw(st.integers(0, 2**32)),
        "design": design,
        "variables": variables,
        "arms": arms,
    }


@pytest.mark.slow  # simulates every example
@examples(fast=15)
@given(sweeps(), st.data())
def test_random_valid_sweeps_have_the_planned_design_and_runs_end_named(data, draw):
    from glucosim.sweep.load import parse_sweep
    from glucosim.sweep.runner import design_table, planned_runs
    from glucosim.sweep.worker import STATUS_ERROR, RunSpec, run_one

    (WORK / "base.toml").write_text(BASE)
    try:
        loaded = parse_sweep(copy.deepcopy(data), source=str(WORK / "sweep.toml"))
    except GlucosimError as error:
        tally("valid sweeps", type(error).__name__)
        return
    design = design_table(loaded)
    assert len(design) == planned_runs(loaded)
    assert design["run_id"].tolist() == list(range(len(design)))
    for variable in loaded.sweep.variables:
        row = load_parameter_table()[variable.parameter]
        assert design[variable.name].between(row.low, row.high).all()
    r = draw.draw(st.integers(0, len(design) - 1))
    values = tuple(float(design[name].iat[r]) for name in loaded.variable_names)
    spec = RunSpec(r, int(design["sample"].iat[r]), int(design["arm_index"].iat[r]), values)
    result, _ = run_one(loaded, spec, loaded.n_years)
    assert result["status"] != STATUS_ERROR, result["error"]  # ok, failed or implausible: each named
    tally("valid sweeps (one run each)", result["status"])


# ------------------------------------------------------------------ invalid inputs: a clean error, never a traceback
junk = st.one_of(
    st.text(max_size=8),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.builds(lambda: [[[[[]]]]]),  # a fresh object each time: a shared one would grow across examples
)


def _paths(node, prefix=()):
    """Every place in a nested dict/list where a value can be replaced or added."""
    yield prefix
    if isinstance(node, dict):
        for key, item in node.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _paths(item, (*prefix, index))


@st.composite
def mutated(draw, valid):
    data = copy.deepcopy(draw(valid))
    for _ in range(draw(st.integers(1, 3))):
        places = list(_paths(data))
        place = draw(st.sampled_from(places[1:] or places))
        parent = data
        for key in place[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "add", "remove"]))
        if action == "replace" or not isinstance(parent, dict):
            parent[place[-1]] = draw(junk)
        elif action == "add":
            parent[draw(st.sampled_from(["z", "carbs_g", "duration_days", "kind", "seed", "values"]))] = draw(junk)
        else:
            parent.pop(place[-1], None)
    return data


def _clean(category, call):
    try:
        call()
    except GlucosimError as error:
        assert str(error).strip(), "an error without a message"
        tally(category, f"refused ({type(error).__name__})")
        return
    tally(category, "accepted")


@examples(fast=150)
@given(mutated(scenarios()))
def test_random_invalid_scenarios_are_refused_cleanly(data):
    from glucosim.scenario.compile import ScenarioProgram
    from glucosim.scenario.load import parse_scenario

    def load_and_plan():
        program = ScenarioProgram(parse_scenario(data, source="<mutated>"))
        for day in range(program.n_days):
            program.day_plan(day)

    _clean("invalid scenarios (mutated)", load_and_plan)


@examples(fast=100)
@given(mutated(protocols()))
def test_random_invalid_protocols_are_refused_cleanly(data):
    from glucosim.clinic.protocol import load_protocol

    path = WORK / "mutated_protocol.toml"
    _write_toml(path, data)
    _clean("invalid protocols (mutated)", lambda: load_protocol(str(path)).protocol.sample_times)


@examples(fast=60)
@given(mutated(sweeps()))
def test_random_invalid_sweeps_are_refused_cleanly(data):
    from glucosim.sweep.load import parse_sweep
    from glucosim.sweep.runner import design_table, planned_runs

    (WORK / "base.toml").write_text(BASE)

    def load_and_design():
        loaded = parse_sweep(data, source=str(WORK / "sweep.toml"))
        if planned_runs(loaded) <= 1000:
            design_table(loaded)

    _clean("invalid sweeps (mutated)", load_and_design)


@examples(fast=60)
@given(st.binary(max_size=300), st.sampled_from(["scenario", "protocol", "sweep"]))
def test_random_bytes_as_input_files_are_refused_cleanly(raw, kind):
    from glucosim.clinic.protocol import load_protocol
    from glucosim.scenario.load import load_scenario
    from glucosim.sweep.load import load_sweep

    path = WORK / f"random_{kind}.toml"
    path.write_bytes(raw)
    loader = {"scenario": load_scenario, "protocol": lambda p: load_protocol(str(p)), "sweep": load_sweep}[kind]
    _clean("random bytes as files", lambda: loader(path))
