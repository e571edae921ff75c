"""The validation page's numbers as data (glucosim.validation.results), the comparison of two runs, and
tools/refit.py's order. Fast: synthetic cases and targets, no simulation."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from glucosim.calibration.targets import Target
from glucosim.cli import main
from glucosim.errors import CalibrationError
from glucosim.validation.cases import Case, Quantity
from glucosim.validation.report import tally
from glucosim.validation.results import compare_results, load_results, result_records, write_results
from tests.conftest import load_tool

REPO_ROOT = Path(__file__).resolve().parent.parent


def _quantity(name, value, informed=""):
    return Quantity(name, f"label {name}", "mg/dl", 1.0, 0.5, 1.5, fit_informed_by=informed, remark="r", value=value)


def _target(name, kind, published=10.0):
    return Target(
        published=published,
        spread=1.0,
        low=published - 2.0,
        high=published + 2.0,
        name=name,
        kind=kind,
        label=f"target {name}",
        unit="%",
        source="s",
        protocol="p",
        subject="healthy",
        measure="m",
        group="some_file",
    )


def _run():
    """Cases and targets of every kind the page counts: independent, fit-informed, missing (NaN), reproduction."""
    validation = Case(
        "v",
        "V",
        "s",
        "p",
        [_quantity("a", 1.0), _quantity("b", 9.0), _quantity("c", 1.0, "x.toml"), _quantity("d", float("nan"))],
    )
    reproduction = Case("r", "R", "s", "p", [_quantity("e", 9.0)], kind="reproduction")
    targets = [(_target("t1", "fit"), 10.5), (_target("t2", "fit"), 20.0), (_target("t3", "validation"), 9.0)]
    return [validation, reproduction], targets


def test_records_put_every_quantity_in_the_pages_set_and_count_as_the_page():
    cases, targets = _run()
    records = result_records(cases, targets)
    by_key = {record["key"]: record for record in records}
    assert len(by_key) == len(records) == 8  # keys are unique
    assert by_key["case:v.c"]["set"] == "fit" and by_key["case:v.c"]["fit_informed_by"] == "x.toml"
    assert by_key["case:v.a"]["set"] == "validation" and by_key["case:r.e"]["set"] == "reproduction"
    assert by_key["target:some_file.t3"]["set"] == "validation" and by_key["target:some_file.t1"]["set"] == "fit"
    assert by_key["case:v.d"]["value"] is None and by_key["case:v.d"]["agrees"] is False  # NaN: JSON has none
    counts = tally(cases, targets)
    for name in ("fit", "validation", "reproduction"):
        in_set = [r for r in records if r["set"] == name]
        agree, total = {
            "fit": (counts.fit_agree, counts.fit_total),
            "validation": (counts.validation_agree, counts.validation_total),
            "reproduction": (counts.reproduction_agree, counts.reproduction_total),
        }[name]
        assert (sum(r["agrees"] for r in in_set), len(in_set)) == (agree, total), name


def test_a_results_file_round_trips_and_holds_the_pages_count(tmp_path):
    cases, targets = _run()
    path = write_results(tmp_path / "sub" / "v.json", cases, targets)
    data = json.loads(path.read_text())
    assert data["summary"] == tally(cases, targets).summary()
    assert load_results(path) == {record["key"]: record for record in result_records(cases, targets)}
    assert not [p for p in path.parent.iterdir() if p.name != "v.json"]  # no temporary left beside it


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such validation results file"),
        ("{not json", "not a validation results file"),
        (json.dumps({"format": 99, "quantities": []}), "not a validation results file of format 1"),
        (json.dumps({"format": 1, "quantities": [{"key": "k"}]}), "quantity 0 lacks label"),
    ],
)
def test_a_bad_results_file_is_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CalibrationError, match=re.escape(str(path))) as error:
        load_results(path)
    assert message in str(error.value)


def test_a_record_in_an_unknown_set_is_refused_naming_the_allowed_sets(tmp_path):
    cases, targets = _run()
    record = result_records(cases, targets)[0] | {"set": "other"}
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"format": 1, "quantities": [record]}))
    with pytest.raises(CalibrationError, match="set 'other', allowed: fit, validation, reproduction"):
        load_results(path)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("key", ["a", "list"], 'quantity 0: key ["a", "list"], allowed: a non-empty string'),
        ("key", {"an": "object"}, "allowed: a non-empty string"),
        ("value", "1.5", "value '1.5', allowed: a finite number or null"),
        ("value", True, "value true, allowed: a finite number or null"),
        ("agrees", "yes", "agrees 'yes', allowed: true or false"),
        ("agrees", None, "agrees null, allowed: true or false"),
        ("published", None, "published null, allowed: a finite number"),
        ("high", "2", "high '2', allowed: a finite number"),
        ("set", ["fit"], 'set ["fit"], allowed: fit, validation, reproduction'),
        ("label", 3, "label 3, allowed: a string"),
        ("fit_informed_by", None, "fit_informed_by null, allowed: a string"),
    ],
)
def test_a_record_of_a_wrong_type_is_refused_at_load_naming_the_quantity_and_field(tmp_path, field, value, message):
    """Until 2026-12-07 (thirty-first session) only the fields' presence was checked: a list key stopped the load with
    a TypeError, a string value or agreement stopped the comparison after the whole run."""
    cases, targets = _run()
    records = result_records(cases, targets)
    records[0] = records[0] | {field: value}
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"format": 1, "quantities": records}))
    with pytest.raises(CalibrationError) as error:
        load_results(path)
    assert str(error.value).startswith(f"{path}: quantity 0")
    assert message in str(error.value)
    if field != "key":
        assert "(target:some_file.t1)" in str(error.value)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_naming_the_quantity(tmp_path, constant):
    """Python's json reads them; the writer writes a missing value as null, and a NaN never moves: 'nothing moved'."""
    cases, targets = _run()
    path = tmp_path / "results.json"
    text = json.dumps({"format": 1, "quantities": result_records(cases, targets)}, indent=1)
    path.write_text(text.replace('"value": 10.5', f'"value": {constant}', 1))
    with pytest.raises(
        CalibrationError, match=re.escape(f"{path}: quantity 0 (target:some_file.t1): value {constant}")
    ):
        load_results(path)


def test_a_repeated_key_or_field_is_refused_naming_it(tmp_path):
    """A second record of a key, or a field given twice in one object, silently replaced the first."""
    cases, targets = _run()
    records = result_records(cases, targets)
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"format": 1, "quantities": [*records, records[2]]}))
    with pytest.raises(CalibrationError, match=re.escape("key 'target:some_file.t3' is also quantity 2's")):
        load_results(path)
    path.write_text(json.dumps({"format": 1, "quantities": records})[:-1] + ', "quantities": []}')
    with pytest.raises(CalibrationError, match=re.escape(f"{path}: not a validation results file: field 'quantities'")):
        load_results(path)
    path.write_text(json.dumps({"format": True, "quantities": records}))
    with pytest.raises(CalibrationError, match="not a validation results file of format 1"):
        load_results(path)


def test_the_comparison_names_what_began_and_stopped_agreeing_and_what_moved():
    cases, targets = _run()
    before = {record["key"]: record for record in result_records(cases, targets)}
    cases[0].quantities[1].value = 1.2  # b: 9 -> 1.2, now agrees
    cases[0].quantities[0].value = 3.0  # a: 1 -> 3, no longer agrees
    cases[0].quantities[2].value = 1.1  # c: 1 -> 1.1, moved 9 %, still agrees
    cases[1].quantities[0].value = 9.1  # e: moved 1 %, below the threshold: not listed
    cases[0].quantities.append(_quantity("new", 1.0))
    after = {record["key"]: record for record in result_records(cases, targets)}
    del after["target:some_file.t2"]
    text = "\n".join(compare_results(before, after))
    assert text.splitlines()[0] == "before: 4 of 7 agree (57 %); after: 5 of 7 agree (71 %)"
    sections = dict(re.findall(r"^(\S[^\n]*?) \(\d+\):\n((?:  [^\n]*\n?)*)", text, re.MULTILINE))
    assert "case:v.b" in sections["now agree"] and "9 -> 1.2" in sections["now agree"]
    assert "case:v.a" in sections["no longer agree"]
    assert "case:v.c" in sections["moved, same verdict"] and "case:r.e" not in text
    cases[0].quantities[2].value = 1.05  # c: 5 %, and t1: 10.5 -> 11.5, 9 %: the larger move is listed first
    targets[0] = (targets[0][0], 11.5)
    later = {record["key"]: record for record in result_records(cases, targets)}
    moved = dict(
        re.findall(r"^(\S[^\n]*?) \(\d+\):\n((?:  [^\n]*\n?)*)", "\n".join(compare_results(before, later)), re.M)
    )
    order = [line.split(":")[1].strip() for line in moved["moved, same verdict"].splitlines()]
    assert order.index("some_file.t1") < order.index("v.c")
    assert "case:v.new" in sections["only after (new quantities)"]
    assert "target:some_file.t2" in sections["only before (removed quantities)"]
    assert compare_results(before, before)[1:] == ["nothing moved"]


def test_validation_compare_refuses_a_bad_file_before_running_any_case(tmp_path, monkeypatch):
    def fail(**_):
        raise AssertionError("the cases ran before the --compare file was read")

    monkeypatch.setattr("glucosim.validation.cases.run_validation", fail)
    bad = tmp_path / "old.json"
    bad.write_text("[]")
    result = CliRunner().invoke(main, ["validation", "--out", str(tmp_path / "v.md"), "--compare", str(bad)])
    assert result.exit_code == 2 and str(bad) in result.output and "--compare" in result.output
    result = CliRunner().invoke(main, ["validation", "--case", "step_reduction", "--compare", str(bad)])
    assert result.exit_code == 2 and "--compare does not apply" in result.output


def test_the_shipped_results_file_holds_the_shipped_pages_count():
    """docs/validation.json is written with docs/validation.md; a page regenerated without it would leave the
    comparison's default 'before' stale."""
    data = json.loads((REPO_ROOT / "docs" / "validation.json").read_text())
    page = (REPO_ROOT / "docs" / "validation.md").read_text()
    counted = [r for r in data["quantities"] if r["set"] != "reproduction"]
    agree = sum(r["agrees"] for r in counted)
    assert f"All fitted and validation quantities together: {agree} of {len(counted)} agree" in page
    assert data["summary"].startswith(f"fit set {sum(r['agrees'] for r in counted if r['set'] == 'fit')} of")


def test_the_shipped_page_links_notes_that_are_there():
    """Every case link of docs/validation.md finds its anchor on docs/validation-notes.md, written with it."""
    import re

    page = (REPO_ROOT / "docs" / "validation.md").read_text()
    notes = (REPO_ROOT / "docs" / "validation-notes.md").read_text()
    linked = set(re.findall(r"\(validation-notes\.md#([a-z0-9_]+)\)", page))
    assert len(linked) > 20
    assert sorted(case for case in linked if f'<a id="{case}"></a>' not in notes) == []


def _refit_tool():
    return load_tool("refit")


def test_the_refit_runs_each_step_after_the_ones_it_needs(tmp_path):
    tool = _refit_tool()
    names = [name for name, _, _ in tool.steps(True, 2, tmp_path / "old.json", tmp_path)]
    assert names == [
        "course grid, before calibrate",
        "calibrate",
        "course grid",
        "population",
        "validation subjects",
        "validation",
    ]
    assert "population" not in [name for name, _, _ in tool.steps(False, 2, tmp_path / "old.json", tmp_path)]
    chain = {name: (command, stops) for name, command, stops in tool.steps(True, 3, tmp_path / "old.json", tmp_path)}
    assert chain["calibrate"][0][-3:] == ["calibrate", "--write", "--no-progress"] and chain["calibrate"][1]
    assert chain["course grid"][0][-3:] == ["--grid", "--wide", "--write"] and chain["course grid"][1]
    assert chain["course grid, before calibrate"] == (chain["course grid"][0], False)  # best effort before calibrate
    assert "--workers" in chain["population"][0] and chain["population"][0][-1] == "3"
    assert chain["validation"][0][-2:] == ["--compare", str(tmp_path / "old.json")] and not chain["validation"][1]


def test_the_refit_refuses_a_missing_comparison_file_before_fitting_anything(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        _refit_tool().main(["--compare", str(tmp_path / "missing.json")])
    assert exit_.value.code == 2 and "missing.json: no such file" in capsys.readouterr().err


def _refit_with(monkeypatch, statuses):
    """tools/refit.py without --population, its steps recorded instead of run: each returns
    ``statuses.get(name, 0)``."""
    tool = _refit_tool()
    names = iter([name for name, _, _ in tool.steps(False, 2, Path("c"), Path("o"))])  # the order they run in
    ran = []

    class Done:
        def __init__(self, returncode):
            self.returncode = returncode

    def run(command, cwd):
        name = next(names)
        ran.append((name, command, cwd))
        return Done(statuses.get(name, 0))

    monkeypatch.setattr(tool.subprocess, "run", run)
    return tool, ran


def test_the_refit_passes_its_paths_absolute_and_fails_when_the_validation_cannot_run(tmp_path, monkeypatch, capsys):
    """--compare and --out were checked relative to the caller's folder but passed as given to steps run in the
    repository; the validation's status 2 (it could not run) was taken for a refit that ran (thirty-first session)."""
    cases, targets = _run()
    write_results(tmp_path / "old.json", cases, targets)
    monkeypatch.chdir(tmp_path)
    tool, ran = _refit_with(monkeypatch, {"validation": 2})
    assert tool.main(["--compare", "old.json", "--out", "new"]) == 1
    assert "== failed: validation" in capsys.readouterr().out
    (validation,) = [command for name, command, _ in ran if name == "validation"]
    assert validation[-4:] == [
        "--out",
        str(tmp_path / "new" / "validation.md"),
        "--compare",
        str(tmp_path / "old.json"),
    ]
    assert {cwd for _, _, cwd in ran} == {tool.REPOSITORY} and (tmp_path / "new").is_dir()
    for status, code in ((1, 0), (0, 0), (-9, 1)):  # 1: agreement changed against the case files, a finding
        tool, ran = _refit_with(monkeypatch, {"validation": status})
        assert tool.main(["--compare", "old.json", "--out", "new"]) == code, status
        assert [name for name, _, _ in ran][-1] == "validation"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--compare", "bad.json"], "bad.json: quantity 0 (k): value '1.5', allowed: a finite number"),
        (["--out", "a_file"], "--out a_file: cannot make the folder"),
        (["--out", "a_file/under"], "--out a_file/under: cannot make the folder"),
        (["--workers", "3"], "--workers 3 sets the workers of --population: give both"),
    ],
)
def test_the_refit_refuses_a_bad_argument_before_any_step(tmp_path, monkeypatch, capsys, arguments, message):
    cases, targets = _run()
    record = result_records(cases, targets)[0] | {"key": "k", "value": "1.5"}
    (tmp_path / "bad.json").write_text(json.dumps({"format": 1, "quantities": [record]}))
    (tmp_path / "a_file").write_text("not a folder")
    monkeypatch.chdir(tmp_path)
    tool, ran = _refit_with(monkeypatch, {})
    with pytest.raises(SystemExit) as exit_:
        tool.main(arguments)
    assert exit_.value.code == 2 and message in capsys.readouterr().err and ran == []
