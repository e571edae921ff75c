"""Classic models on glucosim's engine, for comparison and validation.

Each module defines its parameters (with sources), a numba right-hand side
meeting the solver contract, and a ``simulate`` function:

- ``topp``: Topp et al. 2000, beta-cell mass, insulin and glucose (days).
- ``bergman``: the Bergman minimal model of glucose kinetics (minutes).
"""
