"""The package version: its one definition (pyproject.toml reads it; ``glucosim.__version__`` re-exports it).

Internal modules import it from here, not from ``glucosim``, so no module
depends on the public package (which imports them lazily).
"""

__version__ = "0.1.0"
