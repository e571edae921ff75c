"""Moved to ``glucosim.simulation.markers``, kept so that imports of the old path still work.

The clinical formulas and thresholds are used by the simulation's summary, the clinic and the sweeps, and a layer
imports only from below it (README's tree).
"""

from glucosim.simulation.markers import *  # noqa: F403
