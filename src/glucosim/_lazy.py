"""Public names imported on first use (PEP 562), so importing a package stays cheap.

``glucosim`` uses it for its whole public API (numba, pandas and matplotlib load only when needed), and
``glucosim.sweep`` so that a sweep worker, which imports ``glucosim.sweep.worker`` to unpickle its chunk,
does not import the runner and designs (scipy.stats) as well.
"""

from __future__ import annotations

import importlib
from typing import Any


def resolve(namespace: dict[str, Any], table: dict[str, str], name: str) -> Any:
    """The object ``table[name]`` ("module:attribute") names, cached in the package's ``namespace``.

    The body of a package's module-level ``__getattr__``; later lookups find the name in the namespace and
    skip ``__getattr__``.
    """
    target = table.get(name)
    if target is None:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    module_name, attribute = target.split(":")
    value = getattr(importlib.import_module(module_name), attribute)
    namespace[name] = value
    return value
