"""User-triggerable errors are GlucosimError subclasses that name the file, the field and what is allowed."""

import warnings

import pytest

from glucosim.clinic.runner import subject_state
from glucosim.errors import ClinicError, GlucosimError, ScenarioError
from glucosim.scenario.compile import ScenarioProgram
from glucosim.scenario.load import parse_scenario
from tests.conftest import scenario_dict

MORNING_RUN = {"start_h": 7.0, "duration_min": 60, "intensity_pct_vo2max": 50, "weekdays": [0, 2]}


def _with_exercise(sessions, changes=()):
    data = scenario_dict(duration_days=10, changes=list(changes))
    data["routine"] = {**data["routine"], "exercise": sessions}
    return parse_scenario(data, "week.toml")


def test_overlapping_exercise_sessions_name_file_field_and_weekday():
    late = {**MORNING_RUN, "start_h": 7.5, "weekdays": [2]}
    with pytest.raises(ScenarioError, match=r"week.toml: routine.exercise: sessions overlap on weekday 2 \(7-8 h"):
        ScenarioProgram(_with_exercise([MORNING_RUN, late]))


def test_overlap_introduced_by_a_change_names_the_change():
    change = {"from_day": 5, "label": "second run", "exercise": [MORNING_RUN, {**MORNING_RUN, "start_h": 7.25}]}
    with pytest.raises(ScenarioError, match=r"changes\[0\].exercise: sessions overlap on weekday 0"):
        ScenarioProgram(_with_exercise([MORNING_RUN], [change]))


def test_a_session_at_or_below_rest_names_the_field_and_suggests_a_percentage():
    """60 % VO2max written as 0.6 ran without error and without any exercise (intensity above rest: 0)."""
    with pytest.raises(ScenarioError) as info:
        ScenarioProgram(_with_exercise([{**MORNING_RUN, "intensity_pct_vo2max": 0.6}]))
    message = str(info.value)
    assert message.startswith("week.toml: routine.exercise[0].intensity_pct_vo2max: 0.6 % VO2max is at or below rest")
    assert "allowed: above 8 up to 100" in message
    change = {"from_day": 5, "exercise": [{**MORNING_RUN, "intensity_pct_vo2max": 8.0}]}
    with pytest.raises(ScenarioError, match=r"changes\[0\].exercise\[0\].intensity_pct_vo2max: 8 % VO2max"):
        ScenarioProgram(_with_exercise([MORNING_RUN], [change]))
    ScenarioProgram(_with_exercise([{**MORNING_RUN, "intensity_pct_vo2max": 8.5}]))  # just above rest: allowed


def test_sessions_on_different_weekdays_may_share_a_time():
    ScenarioProgram(_with_exercise([MORNING_RUN, {**MORNING_RUN, "weekdays": [1, 3]}]))


def test_clinic_day_outside_the_scenario_is_a_clinic_error_with_the_allowed_range():
    loaded = parse_scenario(scenario_dict(duration_days=3), "short.toml")
    with pytest.raises(ClinicError, match=r"short.toml: day 5 is outside the scenario \(allowed: 0 to 2"):
        subject_state(loaded, 5)
    assert issubclass(ClinicError, GlucosimError)


@pytest.fixture(scope="module")
def three_days():
    import glucosim

    return glucosim.simulate(scenario_dict(duration_days=3), progress=False)


def test_figures_of_nothing_are_figure_errors_saying_what_to_give(three_days):
    import matplotlib

    matplotlib.use("Agg")
    import glucosim
    from glucosim.errors import FigureError

    # days=[] was a TypeError from matplotlib ('Axes' object is not iterable): a figure of no day shows nothing
    with pytest.raises(FigureError, match=r"days is empty; give at least one day of the run \(0 to 2\)"):
        glucosim.plot_disposal(three_days, days=[])
    with pytest.raises(FigureError, match="at least one result"):  # was a bare ValueError
        glucosim.plot_comparison([])
    with pytest.raises(FigureError, match="2 labels for 1 results"):  # the label beyond the runs was dropped
        glucosim.plot_comparison([three_days], labels=["a", "b"])
    with pytest.raises(FigureError, match="no OGTT visits"):
        glucosim.plot_ogtt_visits([])


def test_disposal_of_one_day_given_as_a_number(three_days):
    import matplotlib

    matplotlib.use("Agg")
    import glucosim

    # days=2 was a TypeError ('int' object is not iterable): one day and its totals
    figure = glucosim.plot_disposal(three_days, days=2)
    assert len(figure.axes) == 2
    assert three_days.cgm_metrics([]).columns.tolist()[:2] == ["day", "mean_glucose_mg_dl"]


def test_every_panel_of_a_disposal_figure_has_its_letter(three_days):
    import matplotlib

    matplotlib.use("Agg")
    import glucosim

    # nine days and the totals: the panels after the eighth had no letter to cite them by, and the slide's width
    # had no room for their axes (matplotlib warned it could not lay them out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = glucosim.plot_disposal(three_days, days=[0, 1, 2] * 3)
    letters = [text.get_text() for ax in figure.axes for text in ax.texts if len(text.get_text()) == 1]
    assert letters == list("abcdefghij")
