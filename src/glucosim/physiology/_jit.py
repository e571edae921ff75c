"""The decorator for physiology kernels.

Kernels are not cached on their own: they are compiled into the cached
integrator (``glucosim.simulation.organ``), whose cache key hashes these sources,
so an edited compartment can never be served from a stale cache.
"""

import numba

kernel = numba.njit(cache=False, error_model="numpy")
