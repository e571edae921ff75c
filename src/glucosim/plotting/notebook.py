"""Helpers for the course notebooks: scenario variants in Python, and sliders that work without a frontend.

``scenario_variant("scenarios/03_....toml", subject={"beta_cell_reserve": 2.5})``
loads a scenario file with some fields changed (nested tables merge), so a
notebook can ask "what if" without writing files.

``explore(function, reserve=(2.0, 4.0, 0.5, 3.0))`` runs ``function`` once with
the default values (so a notebook executed headless, e.g. under nbclient in CI,
or opened where ipywidgets is missing, still shows a result), then offers
sliders and a "Run" button when ipywidgets is installed. Simulations take
seconds, so the function reruns only when the button is pressed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Slider = tuple[float, float, float, float]
"""(lowest, highest, step, default) of one numeric argument."""


def scenario_variant(path: str | Path, **changes: Any):
    """The scenario file at ``path`` with top-level fields changed; returns a ``LoadedScenario``.

    Tables merge: ``subject={"beta_cell_reserve": 2.5}`` keeps the preset and
    changes only the reserve; ``routine={"sleep_h": 5.5}`` keeps the meals.
    Lists (meals, exercise, changes) are replaced whole. Giving one duration
    field replaces the file's duration. The name gets " (variant)" unless
    ``name`` is given.

    Raises:
        ScenarioError: the changed scenario is invalid (the message names the field).
    """
    from glucosim._toml import load_toml
    from glucosim.scenario.load import merge_scenario_data, parse_scenario

    path = Path(path)
    data = merge_scenario_data(load_toml(path), changes)
    if "name" not in changes:
        data["name"] = f"{data.get('name', path.stem)} (variant)"
    return parse_scenario(data, source=str(path))


def widgets_available() -> bool:
    """Whether ipywidgets can be imported (it needs a Jupyter frontend to show anything)."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def explore(function: Callable[..., object], **sliders: Slider) -> object:
    """Call ``function`` with each slider's default, then show sliders for it if ipywidgets is installed.

    Args:
        function: called with one keyword argument per slider; may draw a figure or return a value.
        sliders: argument name -> (lowest, highest, step, default).

    Returns:
        What the first (default) call returned.
    """
    defaults = {name: spec[3] for name, spec in sliders.items()}
    value = function(**defaults)
    if not widgets_available():
        print("(install ipywidgets for sliders: pip install 'glucosim[notebooks]'; called with the defaults)")
        return value
    import ipywidgets
    from IPython.display import display

    controls = {
        name: ipywidgets.FloatSlider(
            min=low,
            max=high,
            step=step,
            value=default,
            description=name,
            continuous_update=False,
            style={"description_width": "initial"},
        )
        for name, (low, high, step, default) in sliders.items()
    }
    display(ipywidgets.interactive(function, {"manual": True, "manual_name": "Run"}, **controls))
    return value


__all__ = ["explore", "scenario_variant", "widgets_available"]
