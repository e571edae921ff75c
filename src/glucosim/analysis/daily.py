"""Moved to ``glucosim.simulation.daily``, kept so that imports of the old path still work.

The daily table is built by the simulation itself, and a layer imports only from below it (README's tree).
"""

from glucosim.simulation.daily import *  # noqa: F403
