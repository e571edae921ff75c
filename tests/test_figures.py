"""Figures: every registered figure builds on short runs, labels its axes with units, saves as png/svg/pdf;
the CLI's figure and gallery commands fail clearly."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from glucosim.cli import main  # noqa: E402
from glucosim.figures import (  # noqa: E402
    FIGURES,
    FigureError,
    RunCache,
    available_figures,
    make_figure,
    register_figure,
    write_gallery,
)
from tests.conftest import SCENARIO_DIR  # noqa: E402

SHORT_RUN_DAYS = 400
"""Long enough for two yearly states (years 0 and 1) and an OGTT visit, short enough to run in seconds."""
UNIT = re.compile(r"\(.+\)")
FILE_MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}

SHORT_SCENARIO = """# Teaches: nothing, it is a test
name = "three days"
duration_days = 3
[[routine.meals]]
time_h = 8
carbs_g = 75
"""


@pytest.fixture(scope="module")
def runs():
    """One cache of short runs shared by every figure of this module."""
    return RunCache(until_day=SHORT_RUN_DAYS)


def _is_categorical(axis) -> bool:
    """True when an axis shows no numbers: hidden ticks (the stage strip) or text labels (tissue names)."""
    labels = [label.get_text() for label in axis.get_ticklabels()]
    return not len(axis.get_ticklocs()) or any(re.search(r"[A-Za-z]", text) for text in labels)


def _data_axes(figure):
    return [ax for ax in figure.axes if ax.lines or ax.collections or ax.patches or ax.images]


def _assert_units(figure, name):
    figure.canvas.draw()
    for ax in _data_axes(figure):
        for which, axis, shared in (("x", ax.xaxis, ax.get_shared_x_axes()), ("y", ax.yaxis, ax.get_shared_y_axes())):
            if _is_categorical(axis):
                continue
            labels = [
                sibling.xaxis.get_label_text() if which == "x" else sibling.yaxis.get_label_text()
                for sibling in shared.get_siblings(ax)
            ]
            assert any(UNIT.search(label) for label in labels), (
                f"figure '{name}': a numeric {which} axis has no label with a unit (labels: {labels})"
            )


SLOW_FIGURES = {"reversibility"}
"""Figures that run a sweep of their own (~1.5 min): in the full suite, not the quick tier."""


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=pytest.mark.slow) if name in SLOW_FIGURES else name for name in available_figures()],
)
def test_every_figure_builds_with_units(name, runs, tmp_path):
    figure = make_figure(name, runs=runs, out=tmp_path / f"{name}.png")
    try:
        assert _data_axes(figure), f"figure '{name}' drew nothing"
        _assert_units(figure, name)
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    finally:
        plt.close(figure)


@pytest.mark.parametrize("suffix", sorted(FILE_MAGIC))
def test_figures_save_as_png_svg_and_pdf(suffix, runs, tmp_path):
    out = tmp_path / f"progression.{suffix}"
    plt.close(make_figure("progression", runs=runs, out=out))
    assert out.read_bytes().startswith(FILE_MAGIC[suffix])


def test_unknown_figure_lists_the_names():
    with pytest.raises(FigureError) as error:
        make_figure("no_such_figure")
    message = str(error.value)
    assert "unknown figure 'no_such_figure'" in message
    assert all(name in message for name in available_figures())


def test_bad_output_type_and_too_many_scenarios(runs, tmp_path):
    with pytest.raises(FigureError, match=r"\.png, \.svg, \.pdf"):
        make_figure("progression", out=tmp_path / "figure.jpg", runs=runs)
    with pytest.raises(FigureError, match="at most 1 scenario"):
        make_figure("progression", scenarios=["a.toml", "b.toml"], runs=runs)


def test_one_registered_function_is_a_new_figure(runs, tmp_path):
    """The registry's contract: registering one function makes a figure for make_figure, the CLI and the gallery."""

    @register_figure("test_only_fasting", title="Fasting glucose", caption="test", scenarios=(), max_scenarios=1)
    def fasting(scenarios, cache):
        figure, ax = plt.subplots()
        result = cache.get(scenarios[0])
        ax.plot(result.daily["day"], result.daily["fasting_glucose_mg_dl"])
        ax.set_xlabel("time (days)")
        ax.set_ylabel("fasting glucose (mg/dl)")
        return figure

    try:
        scenario = tmp_path / "three_days.toml"
        scenario.write_text(SHORT_SCENARIO)
        assert "test_only_fasting" in available_figures()
        result = CliRunner().invoke(
            main, ["figure", "test_only_fasting", "--scenario", str(scenario), "--out", str(tmp_path / "f.svg")]
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / "f.svg").stat().st_size > 1_000
        with pytest.raises(ValueError, match="already registered"):
            register_figure("test_only_fasting", title="", caption="")(fasting)
    finally:
        del FIGURES["test_only_fasting"]


def test_cli_figure_on_a_scenario_file(tmp_path):
    scenario = tmp_path / "three_days.toml"
    scenario.write_text(SHORT_SCENARIO)
    out = tmp_path / "dashboard.pdf"
    result = CliRunner().invoke(main, ["figure", "progression", "--scenario", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(FILE_MAGIC["pdf"])


def test_cli_figure_errors_are_clear(tmp_path):
    runner = CliRunner()
    unknown = runner.invoke(main, ["figure", "spaghetti"])
    assert unknown.exit_code == 2
    assert "unknown figure 'spaghetti'" in unknown.output and "progression" in unknown.output
    missing = runner.invoke(main, ["figure"])
    assert missing.exit_code == 2 and "give a figure NAME" in missing.output
    listing = runner.invoke(main, ["figure", "--list"])
    assert listing.exit_code == 0 and all(name in listing.output for name in available_figures())
    scenario = tmp_path / "three_days.toml"
    scenario.write_text(SHORT_SCENARIO)
    wrong_type = runner.invoke(main, ["figure", "progression", "--scenario", str(scenario), "--out", "x.jpg"])
    assert wrong_type.exit_code == 2 and ".svg" in wrong_type.output
    bad_scenario = runner.invoke(main, ["figure", "progression", "--scenario", str(tmp_path / "absent.toml")])
    assert bad_scenario.exit_code == 2 and "absent.toml" in bad_scenario.output


@pytest.mark.slow  # quick tier: builds every figure again (~17 s)
def test_gallery_page_shows_every_figure(runs, tmp_path):
    page = write_gallery(tmp_path, runs=runs)
    text = page.read_text()
    for name in available_figures():
        assert f"images/figures/{name}.png" in text and f"glucosim figure {name}" in text
        assert (tmp_path / "images" / "figures" / f"{name}.png").stat().st_size > 10_000


def test_prefetch_skips_inputs_that_are_not_scenarios(tmp_path):
    """A figure may read another kind of file (a sweep); the gallery's prefetch must not choke on it."""
    other = tmp_path / "sweep.toml"
    other.write_text('name = "not a scenario"\n[design]\nkind = "grid"\n')
    scenario = tmp_path / "three_days.toml"
    scenario.write_text(SHORT_SCENARIO)
    runs = RunCache()
    runs.prefetch([other, scenario])
    assert runs.get(scenario).summary["duration_days"] == 3


@pytest.fixture(autouse=True)
def _private_run_cache(tmp_path, monkeypatch):
    """The command line keeps figure runs on disk: each test gets its own cache directory."""
    monkeypatch.setenv("GLUCOSIM_CACHE_DIR", str(tmp_path / "cache"))


def test_runs_are_kept_on_disk_across_caches(tmp_path, monkeypatch):
    scenario = tmp_path / "three_days.toml"
    scenario.write_text(SHORT_SCENARIO)
    first = RunCache(cache_dir=tmp_path / "disk")
    assert not first.is_stored(scenario)
    result = first.get(scenario)
    second = RunCache(cache_dir=tmp_path / "disk")
    assert second.is_stored(scenario)

    def no_simulation(*args, **kwargs):
        raise AssertionError("simulated again")

    monkeypatch.setattr("glucosim.clinic.visits.simulate", no_simulation)
    again = second.get(scenario)
    assert again.daily.equals(result.daily)
    # a changed scenario is a new key
    scenario.write_text(SHORT_SCENARIO.replace("carbs_g = 75", "carbs_g = 70"))
    assert not RunCache(cache_dir=tmp_path / "disk").is_stored(scenario)


def test_figure_from_a_results_folder(tmp_path):
    scenario = tmp_path / "three_days.toml"
    scenario.write_text(SHORT_SCENARIO)
    runner = CliRunner()
    ran = runner.invoke(main, ["run", str(scenario), "--no-figures", "--no-progress", "--out", str(tmp_path / "r")])
    assert ran.exit_code == 0, ran.output
    for name in ("progression", "day", "disposal"):
        out = tmp_path / f"{name}.png"
        made = runner.invoke(main, ["figure", name, "--from", str(tmp_path / "r"), "--out", str(out)])
        assert made.exit_code == 0, made.output
        assert "simulating" not in made.output and out.stat().st_size > 10_000
    from glucosim.simulation.result import SimulationResult

    loaded = SimulationResult.load(tmp_path / "r")
    assert sorted(loaded.midnight_states) == [0, 1, 2, 3]
    wrong = runner.invoke(main, ["figure", "progression", "--from", str(tmp_path)])
    assert wrong.exit_code == 2 and "not a complete results folder" in wrong.output


def test_reversibility_says_what_it_will_run_and_waits_for_yes(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):  # no results/sweeps/ of an earlier run here
        result = runner.invoke(main, ["figure", "reversibility", "--out", str(tmp_path / "rev.png")])
    import tomllib

    sweep = tomllib.loads((SCENARIO_DIR / "sweeps" / "reversibility_map.toml").read_text())
    runs = len(sweep["variables"][0]["values"]) * len(sweep["variables"][1]["values"])
    assert result.exit_code == 2
    assert f"{runs} runs of {sweep['duration_years']:g} years" in result.output and "--yes" in result.output
    assert not (tmp_path / "rev.png").exists()


def test_ogtt_tolerance_bands_only_at_two_hours(runs):
    figure = make_figure("ogtt", runs=runs)
    glucose = figure.axes[0]
    extents = [c.get_paths()[0].get_extents() for c in glucose.collections if c.get_paths()]
    assert extents and all(110 <= e.x0 and e.x1 <= 130 for e in extents)
    plt.close(figure)


def test_figures_are_shown_once_in_jupyter(runs, monkeypatch):
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "module://matplotlib_inline.backend_inline")
    figure = make_figure("progression", runs=runs)
    assert not plt.fignum_exists(figure.number)  # pyplot will not show it again at the end of the cell
    assert figure.axes  # the returned figure is whole, for IPython to display once


def test_gallery_says_what_it_will_run_and_waits_for_yes(tmp_path):
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):  # no results/sweeps/ of an earlier run here
        result = runner.invoke(main, ["gallery", "--out", str(tmp_path / "docs")])
    assert result.exit_code == 2
    assert "figures to draw" in result.output and "--yes" in result.output
    assert not (tmp_path / "docs").exists()


@pytest.mark.parametrize(
    ("n_days", "expected"),
    [
        (1, [0]),
        (364, [0]),
        (365, [0, 364]),
        (730, [0, 365, 729]),
        (7305, [round(y * 365.25) for y in range(20)] + [7304]),
    ],
)
def test_year_figures_read_the_last_year_the_cache_keeps(n_days, expected):
    """The figures' year days are the days the run cache keeps: a whole-year run's last year is its last day.

    They were counted apart (the builders' int(n_days / 365.25) against whole_years' half a day of tolerance), so
    the OGTT and disposition figures of a 1-, 2-, 5- or 10-year run left out its last year.
    """
    from types import SimpleNamespace

    from glucosim.figures.builders import _year_days
    from glucosim.figures.cache import RunCache
    from glucosim.simulation.result import year_start_days

    assert year_start_days(n_days) == expected
    kept = RunCache()._options(SimpleNamespace(scenario=SimpleNamespace(n_days=n_days)))["state_days"]
    assert list(kept) == expected
    result = SimpleNamespace(n_days=n_days, midnight_states={day: None for day in kept})
    assert _year_days(result) == expected
