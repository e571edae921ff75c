"""The exercise cases' subjects are chosen by written rules (validation/cases.py); these tests check the rules'
search and that the shipped subjects are still what the rules choose on today's model."""

import pytest
from click.testing import CliRunner

from glucosim.cli import main
from glucosim.validation import cases


def test_nearest_on_grid_walks_to_the_point_nearest_the_target_from_either_side():
    def measure(x):
        return 10.0 * x  # rises with x; 2.54 is nearest at x = 0.25 on a 0.05 grid

    for start in (0.05, 0.25, 0.6):
        chosen, measured = cases._nearest_on_grid(measure, start, 0.05, 2.54)
        assert chosen == 0.25
        assert all(value == pytest.approx(10.0 * x) for x, value in measured.items())
    # a tie breaks towards the start: neither neighbour is nearer
    assert cases._nearest_on_grid(measure, 0.3, 0.05, 2.75)[0] == 0.3


def test_highest_on_grid_where_finds_the_last_point_that_holds_from_above_and_below():
    def two_hour(x):
        return 200.0 - 150.0 * x  # IGT (>= 140) up to x = 0.4

    for start in (0.1, 0.4, 0.9):
        chosen, _ = cases._highest_on_grid_where(two_hour, lambda g: g >= 140.0, start, 0.02 if start != 0.9 else 0.1)
        assert chosen == pytest.approx(0.4)


def test_a_rule_that_cannot_be_met_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="holds nowhere"):
        cases._highest_on_grid_where(lambda x: x, lambda v: v > 10.0, 0.5, 0.1)
    with pytest.raises(ValueError, match="still holds"):
        cases._highest_on_grid_where(lambda x: x, lambda v: v > 0.0, 0.5, 0.1)


def test_subjects_check_writes_no_page_and_excludes_the_page_options():
    runner = CliRunner()
    result = runner.invoke(main, ["validation", "--subjects", "--no-figures"])
    assert result.exit_code == 2 and "--subjects writes no page" in result.output
    result = runner.invoke(main, ["validation", "--subjects", "--case", "step_reduction"])
    assert result.exit_code == 2 and "one or the other" in result.output


@pytest.mark.slow
def test_the_shipped_exercise_subjects_are_what_their_rules_choose():
    # a model change that moves a rule's choice must re-choose the subject (glucosim validation --subjects),
    # not leave a subject picked on an older model
    chosen, two_hour = cases.bloem_sensitivity_by_rule()
    assert chosen == cases.BLOEM_SENSITIVITY, two_hour
    chosen, si = cases.walking_sensitivity_by_rule()
    assert chosen == cases.WALK_SUBJECT["insulin_sensitivity_whole_body"], si
