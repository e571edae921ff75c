"""The validation suite: every case agrees with its source, or disagrees exactly as documented."""

from pathlib import Path

import numpy as np
import pytest

from glucosim.parameters import load_parameter_table
from glucosim.validation.cases import CASE_FUNCTIONS, Case, Quantity, load_cases, run_validation
from glucosim.validation.report import shipped_targets, tally, write_report

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_every_case_file_is_complete():
    cases = load_cases()
    assert {case.id for case in cases} == set(CASE_FUNCTIONS)
    for case in cases:
        assert case.source and case.protocol and case.quantities
        assert case.kind in ("validation", "reproduction"), case.id
        for q in case.quantities:
            assert q.low <= q.published <= q.high, f"{case.id}.{q.name}"
            assert q.expect in ("agree", "disagree")
            if q.expect == "disagree":
                assert len(q.remark) > 40, f"{case.id}.{q.name}: a disagreement needs an honest remark"
                # and its cause in one sentence, for the page's summary table
                assert 40 < len(q.cause) <= 400, f"{case.id}.{q.name}: a disagreement needs a cause (one sentence)"
                assert "|" not in q.cause, f"{case.id}.{q.name}: the summary table would show '|' as '/'"
            else:
                assert not q.cause, f"{case.id}.{q.name}: a cause belongs to a documented disagreement"
            if q.fit_informed_by:  # names the target file (or parameter) that fits the same relation, and says so
                file_name, _, parameter = q.fit_informed_by.partition("#")
                assert (REPO_ROOT / file_name).is_file(), f"{case.id}.{q.name}: {q.fit_informed_by}"
                if parameter:
                    assert parameter in load_parameter_table().names, f"{case.id}.{q.name}: {q.fit_informed_by}"
                assert "fit" in q.remark.lower(), f"{case.id}.{q.name}: say how the fit informs it"


@pytest.fixture(scope="module")
def evaluated():
    return run_validation()


def test_cases_behave_as_documented(evaluated):
    changed = [
        f"{case.id}.{q.name} = {q.value:.4g} (range {q.low}-{q.high}, expected to {q.expect})"
        for case in evaluated
        for q in case.quantities
        if not q.as_expected
    ]
    assert not changed, "validation changed: " + "; ".join(changed)


def test_report_lists_every_case_and_disagreement(evaluated, tmp_path):
    # the targets the page shows by default (write_report's targets=None is shipped_targets()), evaluated once
    # for both the page and the count below: each evaluation runs every clinic protocol and 20-year course scenario
    targets = shipped_targets()
    page = write_report(evaluated, tmp_path / "validation.md", figures=False, targets=targets).read_text()
    for case in evaluated:
        assert case.title in page and case.source in page
    assert "## Where glucosim disagrees" in page
    assert page.count("**disagrees**") == sum(not q.agrees for case in evaluated for q in case.quantities) + sum(
        not target.agrees(value) for target, value in targets
    )
    # the summary table gives every disagreement's cause: the cases' (checked above) and the targets' too
    summary = page.split("### Where glucosim disagrees")[1].split("What was measured behind each")[0]
    held_out = [target for target, value in targets if target.kind != "fit" and not target.agrees(value)]
    assert all(target.cause for target in held_out), [target.name for target in held_out if not target.cause]
    causes = [q.cause for case in evaluated if case.kind != "reproduction" for q in case.quantities if not q.agrees]
    for cause in causes + [target.cause for target in held_out]:
        assert f"| {cause} |" in summary


def test_the_remarks_are_on_the_notes_page_each_case_linked_from_the_page(tmp_path):
    """The page links each case's notes instead of repeating its remarks (until 2026-12-07 a disagreement's remark
    was printed twice, and the page had grown to 350 KB); nothing of a remark is lost on the way."""
    from glucosim.validation.report import notes_path

    remarked = Quantity("a", "alpha", "%", 1.0, 0.5, 1.5, remark="glucosim: 9; the history of alpha", value=9.0)
    plain = Quantity("b", "beta", "%", 1.0, 0.5, 1.5, value=1.0)
    cases = [Case("with_notes", "A case", "s", "p", [remarked, plain]), Case("without", "B case", "s", "p", [plain])]
    page = write_report(cases, tmp_path / "v.md", figures=False, targets=[]).read_text()
    notes = notes_path(tmp_path / "v.md")
    assert notes.name == "v-notes.md"
    assert "the history of alpha" not in page
    assert "[v-notes.md#with_notes](v-notes.md#with_notes)" in page and "v-notes.md#without" not in page
    text = notes.read_text()
    assert '<a id="with_notes"></a>' in text and "B case" not in text
    assert "- *alpha* (%; published 1, 0.5 to 1.5; glucosim 9, disagrees): glucosim: 9; the history of alpha" in text


def test_a_change_from_zero_is_reported_as_a_disagreement_not_a_crash(tmp_path):
    """A relative change from a reference of exactly 0 is undefined: NaN, which no range contains."""
    from glucosim.validation.cases import _percent_change

    assert _percent_change(3.0, 2.0) == pytest.approx(50.0)
    assert np.isnan(_percent_change(0.4, 0.0))
    changed = Quantity("c", "change", "%", 10.0, 0.0, 20.0, expect="disagree", remark="r", value=_percent_change(1, 0))
    assert not changed.agrees and changed.as_expected
    case = Case("c", "A case", "a source", "a protocol", [changed])
    page = write_report([case], tmp_path / "v.md", figures=False, targets=[]).read_text()
    assert "| change (%) | 10 (0 to 20) | nan | **disagrees** |" in page


def test_fit_informed_quantities_count_with_the_fit_set(tmp_path):
    def quantity(name, value, informed=""):
        return Quantity(name, name, "1", 1.0, 0.5, 1.5, fit_informed_by=informed, remark="fit", value=value)

    case = Case(
        "c",
        "A case",
        "a source",
        "a protocol",
        [quantity("independent", 1.0), quantity("fitted_elsewhere", 1.0, "validation/targets/x.toml")],
    )
    page = write_report([case], tmp_path / "v.md", figures=False, targets=[]).read_text()
    assert "**Fit set:** 1 of 1 agree" in page
    assert "**Validation set:** 1 of 1 quantities agree" in page
    assert "agrees (fit-informed: validation/targets/x.toml)" in page


def test_tally_counts_as_the_page_does_and_leaves_the_reference_models_out():
    """The command line prints this count, so it must be the page's: targets in, reproductions out (until
    2026-12-05 the command counted every case quantity, reproductions included, and no target)."""

    def quantity(name, value, informed=""):
        return Quantity(name, name, "1", 1.0, 0.5, 1.5, fit_informed_by=informed, remark="r", value=value)

    class Target:
        def __init__(self, kind):
            self.kind = kind

        def agrees(self, value):
            return value < 2

    validation = Case("v", "V", "s", "p", [quantity("a", 1.0), quantity("b", 9.0), quantity("c", 1.0, "x.toml")])
    reproduction = Case("r", "R", "s", "p", [quantity("d", 9.0)], kind="reproduction")
    targets = [(Target("fit"), 1.0), (Target("fit"), 5.0), (Target("validation"), 1.0)]
    counts = tally([validation, reproduction], targets)
    assert (counts.fit_agree, counts.fit_total) == (2, 3)  # one of two targets and the fit-informed quantity
    assert (counts.validation_agree, counts.validation_total) == (2, 3)  # one of two quantities and the held-out
    assert (counts.reproduction_agree, counts.reproduction_total) == (0, 1)
    assert counts.summary().startswith("fit set 2 of 3, validation set 2 of 3: 4 of 6 quantities agree (67 %)")


def _stated_value(remark: str) -> tuple[float, int, bool] | None:
    """The figure a remark opens with, 'glucosim: <number>' or 'glucosim: ~<number>': (value, decimals, approximate)."""
    import re

    match = re.match(r"\s*glucosim:\s*(~?)([+-]?\d+(?:\.(\d+))?)", remark)
    if match is None:
        return None
    return float(match.group(2)), len(match.group(3) or ""), match.group(1) == "~"


def test_a_remark_that_opens_with_glucosims_value_states_the_value_computed_now(evaluated):
    """A remark that opens with 'glucosim: <number>' states the value the case computes now, to the precision it
    writes: within half a unit of its last digit (a whole unit after '~', which says the figure is rounded), plus
    0.1 % for the solver's last digits. Stale figures were found by such a comparison on 2026-12-05 (Bloem's SI
    +48.9 % where the case gave +41.1 %, the Dalla Man glucose peak 144.93 where it gave 144.49): a model change
    that moves a value must move its remark's figure too, even when the verdict stands."""
    stale = []
    for case in evaluated:
        for q in case.quantities:
            stated = _stated_value(q.remark)
            if stated is None:
                continue
            value, decimals, approximate = stated
            unit = 10.0**-decimals
            tolerance = (unit if approximate else 0.5 * unit) + 1e-3 * abs(q.value)
            if abs(value - q.value) > tolerance:
                stale.append(f"{case.id}.{q.name}: the remark says {value:g}, the case gives {q.value:.4g}")
    assert not stale, "; ".join(stale)


def test_half_effect_is_read_between_steps_in_log_insulin():
    from glucosim.validation.cases import insulin_at_half_effect

    # half-way between 10 and 40 uU/ml in log insulin is 20 uU/ml
    assert insulin_at_half_effect([5.0, 10.0, 40.0, 400.0], [0.0, 0.25, 0.75, 1.0]) == pytest.approx(20.0)
    # the first crossing counts; an effect that never reaches half, or starts there, has no half-effect insulin
    assert insulin_at_half_effect([5.0, 10.0, 40.0], [0.0, 0.5, 1.0]) == pytest.approx(10.0)
    assert np.isnan(insulin_at_half_effect([5.0, 10.0, 40.0], [0.0, 0.2, 0.4]))
    assert np.isnan(insulin_at_half_effect([5.0, 10.0], [0.6, 1.0]))
