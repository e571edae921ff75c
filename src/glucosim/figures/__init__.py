"""Named figures for lectures and papers, their registry, the simulations behind them, and the gallery.

    >>> import glucosim
    >>> glucosim.available_figures()
    ('progression', 'day', 'disposal', 'ogtt', 'disposition', 'comparison', 'reversibility')
    >>> fig = glucosim.make_figure("progression", out="progression.svg")
    >>> fig = glucosim.make_figure("comparison", scenarios=["03_insulin_resistance_low_reserve",
    ...                                                     "04_low_reserve_with_exercise"])

A figure is one function ``build(scenarios, runs) -> matplotlib Figure``
registered with ``@register_figure`` (in ``builders``); it fetches simulations
from ``runs`` (a ``RunCache``, in ``cache``), so figures made together share
one run per scenario, and with a cache directory later commands share them
too. Adding a figure means registering one more function: the CLI (``glucosim
figure``), ``make_figure`` and the gallery (``glucosim gallery``, in
``gallery``) pick it up.
"""

from glucosim.figures import builders  # noqa: F401  (registers the figures)
from glucosim.figures.builders import ogtt_visits
from glucosim.figures.cache import RunCache, default_cache_dir
from glucosim.figures.gallery import write_gallery
from glucosim.figures.registry import (
    FIGURES,
    FigureError,
    FigureSpec,
    available_figures,
    figure_spec,
    make_figure,
    register_figure,
)

__all__ = [
    "FIGURES",
    "FigureError",
    "FigureSpec",
    "RunCache",
    "available_figures",
    "default_cache_dir",
    "figure_spec",
    "make_figure",
    "ogtt_visits",
    "register_figure",
    "write_gallery",
]
