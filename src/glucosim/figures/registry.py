"""Internal: the figure registry, ``make_figure`` and the figure errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glucosim.errors import FigureError as FigureError  # re-exported: raised by the registry's users
from glucosim.figures.cache import RunCache, ScenarioLike

FigureBuilder = Callable[[list, RunCache], Any]


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure.

    Attributes:
        name: the name used by ``glucosim figure NAME`` and ``make_figure``.
        title: one line for listings and the gallery heading.
        caption: what the figure shows and how to read it (gallery text).
        build: ``build(scenarios, runs) -> Figure``.
        default_scenarios: scenario files (relative to ``scenarios/``) used when none are given.
        max_scenarios: how many scenarios it accepts (None: any number).
        reads_sweep: its input is a sweep file, run on first use (a long job the CLI announces first).
    """

    name: str
    title: str
    caption: str
    build: FigureBuilder
    default_scenarios: tuple[str, ...]
    max_scenarios: int | None = 1
    reads_sweep: bool = False


FIGURES: dict[str, FigureSpec] = {}
"""Registered figures by name, in registration order (the gallery's order)."""


def register_figure(
    name: str,
    *,
    title: str,
    caption: str,
    scenarios: Sequence[str] = (),
    max_scenarios: int | None = 1,
    reads_sweep: bool = False,
) -> Callable[[FigureBuilder], FigureBuilder]:
    """Decorator: register ``build(scenarios, runs) -> Figure`` as figure ``name``.

    Raises:
        ValueError: ``name`` is already registered.
    """

    def register(build: FigureBuilder) -> FigureBuilder:
        if name in FIGURES:
            raise ValueError(f"figure '{name}' is already registered")
        FIGURES[name] = FigureSpec(name, title, caption, build, tuple(scenarios), max_scenarios, reads_sweep)
        return build

    return register


def available_figures() -> tuple[str, ...]:
    """Names of the registered figures."""
    return tuple(FIGURES)


def figure_spec(name: str) -> FigureSpec:
    """The registered figure ``name``.

    Raises:
        FigureError: no such figure (the message lists the registered names).
    """
    if name not in FIGURES:
        raise FigureError(f"unknown figure '{name}'; choose one of: {', '.join(FIGURES)}")
    return FIGURES[name]


def _resolve_scenarios(spec: FigureSpec, scenarios: Sequence[ScenarioLike] | None) -> list:
    if not scenarios:
        from glucosim._resources import scenario_dir

        paths = [scenario_dir() / name for name in spec.default_scenarios]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise FigureError(
                f"figure '{spec.name}': default scenario files not found ({', '.join(missing)}); "
                "pass scenarios explicitly"
            )
        return paths
    scenarios = list(scenarios)
    if spec.max_scenarios is not None and len(scenarios) > spec.max_scenarios:
        raise FigureError(f"figure '{spec.name}' takes at most {spec.max_scenarios} scenario(s), got {len(scenarios)}")
    return scenarios


def make_figure(
    name: str,
    scenarios: Sequence[ScenarioLike] | None = None,
    out: str | Path | None = None,
    runs: RunCache | None = None,
    results: Sequence | None = None,
):
    """Build the registered figure ``name`` and optionally save it; returns the matplotlib Figure.

    **Main arguments:**

    - `name`: one of `available_figures()`.
    - `scenarios`: scenario files, shipped names or loaded scenarios (default: the figure's own).

    **Other arguments:**

    - `out`: save to this .png, .svg or .pdf file (svg and pdf are vector).
    - `runs`: a `RunCache` to share simulations between figures (default: a new one, in memory).
    - `results`: finished runs to draw instead of simulating (e.g. `SimulationResult.load(DIR)`);
      their scenarios are the figure's scenarios.

    **Raises:**

    - `FigureError`: unknown name, too many scenarios, a figure that cannot be drawn from finished
      results, or an unsupported file type.
    """
    from glucosim.plotting.style import FIGURE_FORMATS, save_figure

    spec = figure_spec(name)
    if out is not None and Path(out).suffix.lower().lstrip(".") not in FIGURE_FORMATS:
        raise FigureError(f"cannot write '{out}': the file must end in " + ", ".join(f".{f}" for f in FIGURE_FORMATS))
    import matplotlib

    if out is not None:
        matplotlib.use("Agg", force=False)
    runs = runs or RunCache()
    if results:
        if spec.reads_sweep:
            raise FigureError(f"figure '{spec.name}' reads a sweep, not a run's results; give its sweep file")
        for result in results:
            runs.add(result)
        scenarios = [result.loaded for result in results]
    figure = spec.build(_resolve_scenarios(spec, scenarios), runs)
    if out is not None:
        save_figure(figure, out)
    return figure
