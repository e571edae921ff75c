"""Internal: the gallery page (docs/figures.md) and its images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from glucosim._files import write_text_whole
from glucosim.figures.cache import RunCache
from glucosim.figures.registry import FIGURES, FigureSpec, _resolve_scenarios

GALLERY_IMAGE_DIR = Path("images") / "figures"
"""Where the gallery's images go, relative to the docs directory."""
GALLERY_PAGE = "figures.md"


def _command(spec: FigureSpec) -> str:
    # shipped scenarios by name (works from anywhere); sweep files by their path in a clone
    scenarios = "".join(
        f" --scenario {'scenarios/' + name if '/' in name else Path(name).stem}" for name in spec.default_scenarios
    )
    return f"glucosim figure {spec.name}{scenarios} --out {spec.name}.svg"


def write_gallery(
    docs_dir: str | Path = "docs",
    runs: RunCache | None = None,
    workers: int = 1,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Make every registered figure from its default scenarios and write the gallery page.

    Writes ``<docs_dir>/images/figures/<name>.png`` and ``<docs_dir>/figures.md``
    (no timestamps, so an unchanged model gives an unchanged page).

    Args:
        docs_dir: the documentation directory.
        runs: a ``RunCache`` (default: a new one; each scenario is simulated once for all figures).
        workers: processes to simulate the scenarios in beforehand.
        progress: called with each figure name before it is made.

    Returns:
        The path of the page.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from glucosim.plotting.style import save_figure

    docs_dir = Path(docs_dir)
    runs = runs or RunCache()
    specs = list(FIGURES.values())
    from glucosim._resources import scenario_dir

    runs.prefetch(
        list(dict.fromkeys(scenario_dir() / name for spec in specs for name in spec.default_scenarios)),
        workers=workers,
    )
    for spec in specs:
        if progress:
            progress(spec.name)
        figure = spec.build(_resolve_scenarios(spec, None), runs)
        save_figure(figure, docs_dir / GALLERY_IMAGE_DIR / f"{spec.name}.png")
        plt.close(figure)
    page = docs_dir / GALLERY_PAGE
    write_text_whole(page, gallery_text(specs))  # an interrupt leaves the previous page, never half of one
    return page


def gallery_text(specs=None) -> str:
    """The gallery page's Markdown (captions and commands; the images are written by ``write_gallery``)."""
    specs = list(FIGURES.values()) if specs is None else list(specs)
    lines = [
        "# Figure gallery",
        "",
        "Every figure glucosim makes, from the shipped scenarios. This page and its images are written by one",
        "command, `glucosim gallery --out docs` (a few minutes: each scenario is simulated once and shared by the",
        "figures, and kept on disk for later commands). Each figure also comes on its own, as PNG, SVG or PDF,",
        "from the command line or from Python:",
        "",
        "```python",
        "import glucosim",
        'glucosim.make_figure("progression", scenarios=["04_low_reserve_with_exercise"], out="fig.pdf")',
        "```",
        "",
        "Colours are the Okabe-Ito colour-blind-safe palette; every axis carries its unit.",
        "",
    ]
    for spec in specs:
        image = GALLERY_IMAGE_DIR / f"{spec.name}.png"
        lines += [
            f"## {spec.title} (`{spec.name}`)",
            "",
            f"![{spec.title}]({image.as_posix()})",
            "",
            spec.caption,
            "",
            "```bash",
            _command(spec),
            "```",
            "",
        ]
    return "\n".join(lines)
