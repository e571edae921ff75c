"""Traces on demand and CGM metrics (Battelino 2019 consensus, Bergenstal 2018 GMI)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import glucosim
from glucosim.physiology.units import MINUTES_PER_DAY
from glucosim.simulation.trace import CGM_COLUMNS, cgm_metrics
from tests.conftest import scenario_dict

# Bergenstal et al. 2018 Diabetes Care 41:2275, Table 1: mean CGM glucose (mg/dl) -> GMI (%), to one decimal.
GMI_TABLE = {100: 5.7, 125: 6.3, 150: 6.9, 175: 7.5, 200: 8.1, 250: 9.3, 300: 10.5, 350: 11.7}


@pytest.mark.parametrize(("mean_mg_dl", "gmi_percent"), GMI_TABLE.items())
def test_gmi_matches_published_table(mean_mg_dl, gmi_percent):
    assert round(cgm_metrics([mean_mg_dl] * 3)["gmi_percent"], 1) == gmi_percent


def test_ranges_follow_consensus_bounds():
    # 20 readings: bounds 70 and 180 are in range; 54 is not below 54; 250 is not above 250.
    readings = [50, 53, 54, 69, 70, 100, 120, 150, 180, 180, 181, 200, 249, 250, 251, 300, 100, 110, 120, 130]
    metrics = cgm_metrics(readings)
    assert metrics["time_below_54_percent"] == pytest.approx(100 * 2 / 20)
    assert metrics["time_below_70_percent"] == pytest.approx(100 * 4 / 20)
    assert metrics["time_in_range_70_180_percent"] == pytest.approx(100 * 10 / 20)
    assert metrics["time_above_180_percent"] == pytest.approx(100 * 6 / 20)
    assert metrics["time_above_250_percent"] == pytest.approx(100 * 2 / 20)
    assert (
        metrics["time_below_70_percent"] + metrics["time_in_range_70_180_percent"] + metrics["time_above_180_percent"]
    ) == pytest.approx(100.0)


def test_cv_is_sd_over_mean():
    # mean 150, population SD 50 (readings 100 and 200) -> CV 33.3 %, under the consensus's 36 % cut-off
    metrics = cgm_metrics([100, 200, 100, 200, np.nan])
    assert metrics["mean_glucose_mg_dl"] == 150.0 and metrics["sd_glucose_mg_dl"] == 50.0
    assert metrics["cv_percent"] == pytest.approx(100 / 3)
    assert set(metrics) == set(CGM_COLUMNS)


@pytest.fixture(scope="module")
def week():
    return glucosim.simulate(scenario_dict(duration_days=6), trajectory_days=(3,), progress=False)


def test_recomputed_trace_matches_the_trace_kept_during_the_run(week):
    kept = week.trace(3)
    week.trajectories.pop(3)  # force a recomputation from the stored midnight state
    week._traces.clear()
    recomputed = week.trace(3)
    assert list(recomputed.columns) == list(kept.columns)
    assert len(recomputed) == len(kept) == 289
    # the run and the recomputation take different first steps: they agree to the integrator's error (rtol 1e-6)
    for column in ("glucose_mg_dl", "insulin_uU_ml", "muscle_uptake_mg_kg_min"):
        np.testing.assert_allclose(recomputed[column], kept[column], rtol=1e-4, atol=1e-6)


def test_trace_units_match_the_daily_table(week):
    trace = week.trace(4)
    assert "insulin_uU_ml" in trace and "insulin_pmol_l" not in trace
    readings = trace["glucose_mg_dl"].to_numpy()[:-1]
    daily = week.daily.iloc[4]
    assert readings.mean() == pytest.approx(daily["mean_glucose_mg_dl"], rel=0.01)
    assert trace["insulin_uU_ml"].to_numpy()[:-1].mean() == pytest.approx(daily["mean_insulin_uU_ml"], rel=0.02)


def test_trace_of_a_day_outside_the_run_is_a_clear_error(week):
    with pytest.raises(glucosim.GlucosimError, match="outside the run: it has days 0 to 5"):
        week.trace(6)
    with pytest.raises(glucosim.GlucosimError, match="integer"):
        week.trace(1.5)


def test_cgm_metrics_per_day(week):
    table = week.cgm_metrics(range(1, 3))
    assert list(table["day"]) == [1, 2]
    assert (table["time_in_range_70_180_percent"] > 50).all()  # a healthy subject
    expected = cgm_metrics(week.trace(2)["glucose_mg_dl"].to_numpy()[:-1])
    assert table.iloc[1]["gmi_percent"] == pytest.approx(expected["gmi_percent"])


def test_trace_without_stored_midnights_integrates_from_the_start():
    from glucosim.simulation.run import simulate

    result = simulate(glucosim.load_scenario(scenario_dict(duration_days=3)), progress=False)
    assert result.midnight_states == {}
    full = glucosim.simulate(scenario_dict(duration_days=3), progress=False)
    np.testing.assert_allclose(result.trace(1)["glucose_mg_dl"], full.trace(1)["glucose_mg_dl"], rtol=1e-4)


@pytest.fixture(scope="module")
def yearly_midnights():
    """An envelope run: it stores only the first midnight of each year (0, 365 and the end, 380)."""
    return glucosim.simulate(scenario_dict(duration_days=380), resolution="envelope", progress=False)


def _untraced(result):
    """A copy of ``result`` that has traced nothing yet (no kept trajectories, no cached traces)."""
    return dataclasses.replace(result, trajectories={}, _traces={}, _tracer=None)


def test_envelope_runs_keep_yearly_midnights_and_trace_in_full_resolution(yearly_midnights):
    from glucosim.api import trace_state_days

    # an envelope run must land on every kept midnight: it keeps one a year, a full run every one
    assert trace_state_days(800, "envelope") == (0, 365, 730, 800)
    assert trace_state_days(30, None) == tuple(range(31))
    assert trace_state_days(800, "full") == tuple(range(801))
    envelope = yearly_midnights
    assert envelope.summary["provenance"]["solver"]["resolution"] == "envelope"
    assert sorted(envelope.midnight_states)[:2] == [0, 365]
    full = glucosim.simulate(scenario_dict(duration_days=380), resolution="full", progress=False)
    # day 200 recomputed from day 0 in full resolution matches the full run's own day 200
    np.testing.assert_allclose(envelope.trace(200)["glucose_mg_dl"], full.trace(200)["glucose_mg_dl"], rtol=1e-4)


def test_days_traced_in_order_are_the_days_traced_alone(yearly_midnights):
    # tracing carries on from the end of the last day traced: the same values as tracing each day from its stored
    # midnight, also across the stored midnight of day 365 (days from there start from it)
    in_order = _untraced(yearly_midnights)
    for day in (40, 41, 42, 45, 364, 365, 366):
        pd.testing.assert_frame_equal(in_order.trace(day), _untraced(yearly_midnights).trace(day), check_exact=True)


def _days_integrated(monkeypatch) -> list:
    """Records the days each integration of a trace covers."""
    from glucosim.solver import segments

    spans = []
    integrate = segments.integrate_schedule

    def recorded(integrator, schedule, *args):
        spans.append((schedule.t1[-1] - schedule.t0[0]) / MINUTES_PER_DAY)
        return integrate(integrator, schedule, *args)

    monkeypatch.setattr(segments, "integrate_schedule", recorded)
    return spans


def test_tracing_consecutive_days_integrates_each_day_once(yearly_midnights, monkeypatch, tmp_path):
    # days 100-129 of a run that stores only yearly midnights: each day was integrated from day 0 (3435 days of
    # work for 30 traces; days 0-364 took 245 s of CPU), now from where the last one ended (130 days), whatever
    # the order they are asked in
    spans = _days_integrated(monkeypatch)
    days = list(range(129, 99, -1))
    table = _untraced(yearly_midnights).cgm_metrics(days)
    assert list(table["day"]) == days
    assert sum(spans) == pytest.approx(130)
    spans.clear()
    result = _untraced(yearly_midnights)
    paths = result.write_traces(tmp_path, days)
    assert sum(spans) == pytest.approx(130)  # each day once: its CGM metrics come from the trace written
    assert sorted(path.name for path in (tmp_path / "traces").iterdir()) == [f"day_{d:05d}.csv" for d in days[::-1]]
    written = pd.read_csv(paths["cgm_metrics"])
    assert list(written["day"]) == days
    np.testing.assert_allclose(written["gmi_percent"], table["gmi_percent"], rtol=1e-5)
    spans.clear()
    for day in range(130, 135):  # a notebook's loop over days, one trace at a time
        result.trace(day)
    assert sum(spans) == pytest.approx(5)


def test_trace_files_hold_the_text_pandas_writes(week, tmp_path):
    # the traces are written a row at a time (4-5 times faster than pandas): the same text, and frames that are
    # not all finite floats still go through pandas (NaN as an empty field, integers as integers)
    from glucosim.simulation.result import _csv_text

    paths = week.write_traces(tmp_path, [1])
    expected = week.trace(1).to_csv(index=False, float_format="%.6g")
    assert paths["trace_1"].read_text() == expected
    mixed = pd.DataFrame({"day": [1, 2], "glucose_mg_dl": [90.123456789, np.nan], "flag": [True, False]})
    assert (
        _csv_text(mixed)
        == mixed.to_csv(index=False, float_format="%.6g")
        == "day,glucose_mg_dl,flag\n1,90.1235,True\n2,,False\n"
    )


@pytest.mark.slow  # compiles the organ model's ros34pw2 integrator (~11 s when numba's cache is cold)
def test_recomputed_trace_uses_the_runs_method(monkeypatch):
    # a run by ros34pw2 recomputed its traces with dopri5 until 2026-12-03; the recomputation now asks the
    # organ model's integrator for the method the run's provenance records
    from glucosim.simulation import organ

    run = glucosim.simulate(scenario_dict(duration_days=3), method="ros34pw2", trajectory_days=(1,), progress=False)
    assert run.summary["provenance"]["solver"]["method"] == "ros34pw2"
    asked = []
    real = organ.organ_integrator

    def recording(method=organ.DEFAULT_METHOD):
        asked.append(method)
        return real(method)

    monkeypatch.setattr(organ, "organ_integrator", recording)
    kept = run.trace(1)
    run.trajectories.pop(1)
    run._traces.clear()
    recomputed = run.trace(1)
    assert asked == ["ros34pw2"]
    np.testing.assert_allclose(recomputed["glucose_mg_dl"], kept["glucose_mg_dl"], rtol=1e-4)
