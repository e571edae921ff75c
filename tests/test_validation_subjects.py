"""The subjects of two exercise cases (Bloem 2008's, Duncan 2003's) are chosen by written rules (validation/cases.py);
these tests check the rules' search and that the shipped subjects are still what the rules choose on today's model."""

import pytest
from click.testing import CliRunner

from glucosim.cli import main
from glucosim.validation import cases


def rising(x: float) -> float:
    return 10.0 * x  # a measure that rises with the sensitivity: 2.54 is nearest at x = 0.25 on a 0.05 grid


def test_nearest_on_grid_walks_to_the_point_nearest_the_target_from_either_side():
    for start in (0.05, 0.25, 0.6):
        chosen, measured = cases._nearest_on_grid(rising, start, 0.05, 2.54)
        assert chosen == 0.25
        assert all(value == 10.0 * x for x, value in measured.items())
    # a tie keeps the point nearer the start: neither neighbour is nearer
    assert cases._nearest_on_grid(rising, 0.3, 0.05, 2.75)[0] == 0.3


def test_highest_on_grid_where_finds_the_last_point_that_holds_from_above_and_below():
    def two_hour(x):
        return 201.0 - 150.0 * x  # IGT (>= 140) up to x = 0.4067

    for start, step in ((0.1, 0.02), (0.4, 0.02), (0.9, 0.1)):
        chosen, _ = cases._highest_on_grid_where(two_hour, lambda glucose: glucose >= 140.0, start, step)
        assert chosen == 0.4


def test_a_rule_that_cannot_be_met_inside_the_range_is_an_error_not_the_range_edge():
    # the sensitivity's plausible range is [0.05, 3]: a walk that would leave it stops with an error
    with pytest.raises(ValueError, match="left the sensitivity's range"):
        cases._highest_on_grid_where(rising, lambda value: value > 100.0, 0.5, 0.1)
    with pytest.raises(ValueError, match="left the sensitivity's range"):
        cases._nearest_on_grid(rising, 2.5, 0.05, 100.0)
    with pytest.raises(ValueError, match="no answer within 20 steps"):
        cases._highest_on_grid_where(rising, lambda value: value > 0.0, 0.5, 0.1)
    with pytest.raises(ValueError, match="outside the sensitivity's range"):
        cases._nearest_on_grid(rising, 5.0, 0.05, 2.54)


def test_the_shipped_subjects_sit_on_their_rules_grids():
    # the walk starts from the shipped value: one typed off the grid (0.37 on a 0.02 grid) would be confirmed by it
    for shipped, step in (
        (cases.BLOEM_SENSITIVITY, cases.BLOEM_SENSITIVITY_STEP),
        (cases.WALK_SUBJECT["insulin_sensitivity_whole_body"], cases.WALK_SENSITIVITY_STEP),
    ):
        assert abs(shipped / step - round(shipped / step)) < 1e-9


def test_subjects_check_writes_no_page_and_excludes_the_page_options():
    runner = CliRunner()
    result = runner.invoke(main, ["validation", "--subjects", "--no-figures"])
    assert result.exit_code == 2 and "--subjects writes no page, so --no-figures" in result.output
    result = runner.invoke(main, ["validation", "--subjects", "--case", "step_reduction"])
    assert result.exit_code == 2 and "--case and --subjects check different things" in result.output


def test_subjects_check_exits_1_on_a_moved_subject_and_2_on_a_rule_it_cannot_apply(monkeypatch):
    def moved(start=None):
        return 0.36, {0.36: 141.0, 0.38: 139.0}

    def impossible(start=None):
        raise ValueError("the rule's walk left the sensitivity's range")

    shipped_walk = cases.WALK_SUBJECT["insulin_sensitivity_whole_body"]
    monkeypatch.setattr(cases, "bloem_sensitivity_by_rule", moved)
    monkeypatch.setattr(
        cases, "walking_sensitivity_by_rule", lambda start=None: (shipped_walk, {shipped_walk: 2.5, 0.9: 2.9})
    )
    result = CliRunner().invoke(main, ["validation", "--subjects"])
    assert result.exit_code == 1
    assert f"sensitivity 0.36 (NOT the shipped {cases.BLOEM_SENSITIVITY:g}" in result.output
    assert f"sensitivity {shipped_walk:g} (the shipped subject)" in result.output
    monkeypatch.setattr(cases, "bloem_sensitivity_by_rule", impossible)
    result = CliRunner().invoke(main, ["validation", "--subjects"])
    assert result.exit_code == 2
    assert "its rule cannot be applied" in result.output and "the shipped subject" in result.output


@pytest.mark.slow
def test_the_shipped_exercise_subjects_are_what_their_rules_choose():
    # a model change that moves a rule's choice must re-choose the subject (glucosim validation --subjects),
    # not leave a subject picked on an older model
    chosen, two_hour = cases.bloem_sensitivity_by_rule()
    assert chosen == cases.BLOEM_SENSITIVITY, two_hour
    chosen, si = cases.walking_sensitivity_by_rule()
    assert chosen == cases.WALK_SUBJECT["insulin_sensitivity_whole_body"], si
