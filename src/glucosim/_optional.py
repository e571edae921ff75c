"""Optional dependencies: which extra brings them, and a clear error when one is missing.

The quick start (``pip install -e .`` then ``glucosim run``) needs only the
core; sweeps and their analysis need the ``sweep`` extra, cluster sweeps the
``cluster`` extra. Modules of an extra are imported lazily where used; an
entry point calls ``require_extra`` first, so a missing package is reported
once, with the command that installs it, instead of as a bare ImportError
half-way through.
"""

from __future__ import annotations

import importlib

from glucosim.errors import MissingDependencyError

EXTRAS = {
    "sweep": ("SALib", "pyarrow", "lifelines"),
    "cluster": ("dask.distributed", "dask_jobqueue"),
    "sbml": ("libsbml",),
}
"""Extra name (pyproject.toml [project.optional-dependencies]) -> the modules glucosim imports from it."""


def require_extra(extra: str, feature: str) -> None:
    """Raise ``MissingDependencyError``, naming ``feature`` and the install command, if ``extra`` is incomplete."""
    missing = []
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module.split(".")[0])
    if missing:
        raise MissingDependencyError(
            f"{feature} needs {', '.join(missing)} (the '{extra}' extra): pip install 'glucosim[{extra}]' "
            f"(or, in a clone, pip install -e '.[{extra}]')"
        )
