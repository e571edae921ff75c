"""Malformed calibration target files are refused when read, naming the file and the field (a bad-input hunt,
2026-12-03: each case below gave a Python traceback, a message without the file, or a successful "fit" of nothing).
"""

from __future__ import annotations

import pytest

from glucosim.calibration.targets import load_target_groups
from glucosim.errors import CalibrationError
from tests.test_calibration import GROUP


def test_the_toy_group_loads(tmp_path):
    (tmp_path / "toy.toml").write_text(GROUP)
    assert len(load_target_groups(tmp_path)[0].targets) == 3


def test_a_target_may_say_why_glucosim_disagrees(tmp_path):
    (tmp_path / "toy.toml").write_text(GROUP.replace('source = "toy"', 'source = "toy"\ncause = "a reason"', 1))
    causes = [target.cause for target in load_target_groups(tmp_path)[0].targets]
    assert causes[0] == "a reason" and causes[1:] == ["", ""]


def test_an_empty_or_missing_folder_is_refused(tmp_path):
    # an empty folder once fitted nothing, printed "cost 0" and said the table held its values
    with pytest.raises(CalibrationError, match=r"no target files \(\*\.toml\) in this folder"):
        load_target_groups(tmp_path)
    with pytest.raises(CalibrationError, match="not a folder of target files"):
        load_target_groups(tmp_path / "missing")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("spread = 0.3", 'spread = "fifteen"'), r"targets\[1\]\.spread: 'fifteen' is not a number"),
        (("published = 3.0", 'published = "3"'), r"targets\[1\]\.published: '3' is not a number"),
        (("low = 2.5", "low = true"), r"targets\[1\]\.low: True is not a number"),
        (('source = "toy"', "source = 3"), r"targets\[0\]\.source: 3 is not text"),
        (('protocol = "fasting"', 'protocol = "clamp_99mU"'), r"targets\[0\]\.protocol: clamp_99mU: no such protocol"),
        (('subject = "healthy"', 'subject = "athlete"'), r"targets\[0\]\.subject: 'athlete' is not a subject preset"),
        # the fit divides by the spread: 5e-324 passed "> 0" and scipy said the residuals were not finite (2026-12-05)
        (("spread = 0.3", "spread = 5e-324"), r"targets\[1\]\.spread: 5e-324 \(allowed: more than 1e-06 x"),
        (("high = ", "high = inf #"), r"targets\[\d\]\.high: inf \(allowed: a finite number\)"),
        (('id = "toy"', 'id = "toy"\nnot_adopted_because = 12345'), r"not_adopted_because: 12345 is not text"),
        # found only at the first evaluation, without the file or the field, until 2026-12-05
        (('measure = "homa_b"', 'measure = "bogus"'), r"targets\[1\]\.measure: 'bogus' is neither an index"),
        # the optional cause is text, and a misspelt one is an unknown field, not silently dropped
        (('source = "toy"', 'source = "toy"\ncause = 7'), r"targets\[0\]\.cause: 7 is not text"),
        (('source = "toy"', 'source = "toy"\ncuase = "x"'), r"targets\[0\]: missing \[\], unknown \['cuase'\]"),
    ],
)
def test_a_wrong_field_names_the_file_and_the_field(tmp_path, edit, message):
    old, new = edit
    assert old in GROUP
    (tmp_path / "toy.toml").write_text(GROUP.replace(old, new, 1))
    with pytest.raises(CalibrationError, match=r"toy\.toml: " + message):
        load_target_groups(tmp_path)


def test_targets_and_parameters_must_be_arrays_of_tables(tmp_path):
    head = 'id = "toy"\ntitle = "toy"\n'
    (tmp_path / "toy.toml").write_text(head + "targets = [1, 2]\n")
    with pytest.raises(CalibrationError, match=r"toy\.toml: targets: must be an array of tables"):
        load_target_groups(tmp_path)
    (tmp_path / "toy.toml").write_text(head + 'targets = "oops"\n')
    with pytest.raises(CalibrationError, match=r"toy\.toml: targets: must be an array of tables"):
        load_target_groups(tmp_path)
    (tmp_path / "toy.toml").write_text(head + 'parameters = "x"\ntargets = []\n')
    with pytest.raises(CalibrationError, match=r"toy\.toml: parameters: must be an array of tables"):
        load_target_groups(tmp_path)


def test_a_binary_file_is_refused_as_not_text(tmp_path):
    (tmp_path / "toy.toml").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(CalibrationError, match=r"toy\.toml: not a text file"):
        load_target_groups(tmp_path)


def test_a_file_with_no_targets_is_refused(tmp_path):
    # targets = [] loaded as a group that fits nothing, the empty folder's failure again
    (tmp_path / "toy.toml").write_text('id = "toy"\ntitle = "toy"\ntargets = []\n')
    with pytest.raises(CalibrationError, match=r"toy\.toml: targets: at least one \[\[targets\]\] entry"):
        load_target_groups(tmp_path)


def test_the_derived_measurements_a_target_may_name_are_the_ones_measure_computes():
    from glucosim.calibration.measure import DERIVED
    from glucosim.calibration.targets import DERIVED_MEASURES

    assert tuple(DERIVED) == DERIVED_MEASURES
