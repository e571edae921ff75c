"""The DPP table of a sweep that has not finished is refused, or read under a banner with --partial.

A sweep still running (or stopped) read as a smaller, finished-looking trial: 104 of the shipped sweep's 122
enrolled gave a control incidence of 9.5 per 100 person-years, outside the DPP's interval, where the whole sweep
gives 10.6, and nothing said the table was partial.
"""

from __future__ import annotations

import pytest

from glucosim.analysis.sweep import dpp
from glucosim.sweep import store


@pytest.fixture
def four_chunk_sweep(monkeypatch):
    manifest = {"run_years": 3.0, "n_years": 3, "arms": ["control", "lifestyle"], "n_chunks": 4}
    monkeypatch.setattr(store.SweepStore, "manifest", lambda self: manifest)
    monkeypatch.setattr(dpp, "load_trial_results", lambda out_dir: "results")
    monkeypatch.setattr(dpp, "trial_table", lambda results, arm, years: "the table")
    monkeypatch.setattr(dpp, "markdown", lambda table: table + "\n")

    def finished(chunks):
        monkeypatch.setattr(store.SweepStore, "completed_chunks", lambda self: set(range(chunks)))

    return finished


def test_an_unfinished_sweep_is_refused_and_says_how_far_it_got(four_chunk_sweep, capsys):
    four_chunk_sweep(3)
    assert dpp.main(["somewhere"]) == 2
    captured = capsys.readouterr()
    assert "the table" not in captured.out
    assert "has not finished (3 of 4 chunks complete)" in captured.err
    assert "--partial" in captured.err


def test_partial_reads_the_finished_runs_under_a_banner(four_chunk_sweep, capsys):
    four_chunk_sweep(3)
    assert dpp.main(["somewhere", "--partial"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("**Partial results: 3 of 4 chunks")
    assert "the table" in out


def test_a_finished_sweep_has_no_banner(four_chunk_sweep, capsys):
    four_chunk_sweep(4)
    assert dpp.main(["somewhere"]) == 0
    assert capsys.readouterr().out == "the table\n"


def test_glucosim_analyze_heads_a_partial_sweeps_trial_table_with_its_note(tmp_path, monkeypatch):
    # `glucosim analyze` noted "partial sweep" on the terminal but wrote trial_table.md like a finished trial's
    from glucosim.analysis import sweep as analysis

    monkeypatch.setattr(dpp, "trial_table", lambda results, arm, years: "table")
    monkeypatch.setattr(dpp, "markdown", lambda table: "| the table |\n")
    manifest = {"design": "cohort", "arms": ["control", "lifestyle"]}
    note = "partial sweep: 208 of 7000 runs finished"
    analysis._trial_table(None, manifest, "control", 3.0, tmp_path, {}, partial_note=note)
    assert (tmp_path / "trial_table.md").read_text() == (
        f"**Partial results ({note}); the table reads those runs only.**\n\n| the table |\n"
    )
    analysis._trial_table(None, manifest, "control", 3.0, tmp_path, {})
    assert (tmp_path / "trial_table.md").read_text() == "| the table |\n"


def test_require_finished_names_the_folder_and_the_chunks(tmp_path, monkeypatch):
    from glucosim.errors import SweepError

    with pytest.raises(SweepError, match="no sweep results here"):
        dpp.require_finished(tmp_path)
    monkeypatch.setattr(store.SweepStore, "manifest", lambda self: {"n_chunks": 5})
    monkeypatch.setattr(store.SweepStore, "completed_chunks", lambda self: {0, 1})
    with pytest.raises(
        SweepError, match=r"has not finished \(2 of 5 chunks complete\); if it is not still running, resume it"
    ):
        dpp.require_finished(tmp_path)
    monkeypatch.setattr(store.SweepStore, "completed_chunks", lambda self: set(range(5)))
    dpp.require_finished(tmp_path)


def test_partial_before_any_chunk_finished_is_an_error_not_a_traceback(four_chunk_sweep, monkeypatch, capsys):
    from glucosim.errors import SweepError

    four_chunk_sweep(0)

    def nothing_yet(out_dir):
        raise SweepError(f"{out_dir}: no finished runs yet")

    monkeypatch.setattr(dpp, "load_trial_results", nothing_yet)
    assert dpp.main(["somewhere", "--partial"]) == 2
    assert "error: somewhere: no finished runs yet" in capsys.readouterr().err
