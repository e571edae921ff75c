"""The validation suite: every case agrees with its source, or disagrees exactly as documented."""

import pytest

from glucosim.validation.cases import CASE_FUNCTIONS, load_cases, run_validation
from glucosim.validation.report import shipped_targets, write_report

pytestmark = pytest.mark.slow


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
    page = write_report(evaluated, tmp_path / "validation.md", figures=False).read_text()
    for case in evaluated:
        assert case.title in page and case.source in page
    assert "## Where glucosim disagrees" in page
    targets = shipped_targets()
    assert page.count("**disagrees**") == sum(not q.agrees for case in evaluated for q in case.quantities) + sum(
        not target.agrees(value) for target, value in targets
    )
