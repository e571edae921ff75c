"""The decorator for physiology kernels, and the arithmetic helpers they share.

Kernels are not cached on their own: they are compiled into the cached
integrator (``glucosim.simulation.organ``), whose cache key hashes these sources,
so an edited compartment can never be served from a stale cache.
"""

import math
import types
from typing import Any

import numba

_KERNEL_OPTIONS: dict[str, Any] = {"cache": False, "error_model": "numpy", "_nrt": False}

kernel = numba.njit(**_KERNEL_OPTIONS)
"""Kernels neither allocate nor return arrays, so they are compiled without numba's reference counting
(``_nrt=False``): with it, each kernel that LLVM did not inline into ``model.rhs`` took and released a reference
on each array argument (an atomic ``lock inc``/``dec`` per array per call), about a fifth of the right-hand
side's CPU (issue 12; benchmarks/rhs_cost.py). A kernel that allocates fails to compile ("NRT required but not
enabled"): give it ``array_kernel``."""

inlined_kernel = numba.njit(**_KERNEL_OPTIONS, forceinline=True)
"""A ``kernel`` marked for LLVM to inline into its callers (``alwaysinline``), for the few large kernels that LLVM's
inliner left as calls from ``model.rhs``: each such call passed every array as seven words on the stack and
spilled the caller's registers (issue 12). Every other kernel is small enough for LLVM to inline by itself.
(numba's own ``inline="always"``, which inlines in numba's IR, fails in numba's SSA pass after minutes when given
every kernel.)"""

array_kernel = numba.njit(cache=False, error_model="numpy")
"""For the few kernels that allocate an array (``model.evaluate_fluxes``), with numba's reference counting."""


@kernel
def power(x, exponent):
    """``x ** exponent``, by multiplication when the exponent is 1, 2, 3, 4 or 6 (the Hill coefficients in use).

    A parameter-valued exponent compiles to libm's ``pow`` (~20 ns, the largest single cost of the
    right-hand side, issue 12's profile); the branch on a constant parameter is free, and the result
    differs from ``pow``'s by at most a few units in the last place.
    """
    if exponent == 2.0:
        return x * x
    if exponent == 4.0:
        square = x * x
        return square * square
    if exponent == 3.0:
        return x * x * x
    if exponent == 1.0:
        return x
    if exponent == 6.0:  # the glucolipotoxic load's Hill coefficient (beta_cells.glucotoxicity)
        square = x * x
        return square * square * square
    return x**exponent


SOFTPLUS_LINEAR = 30.0
"""Above this argument softplus(x) = x to double precision (exp(-30) ~ 1e-13): avoids exp overflow."""


@kernel
def softplus(x):
    """ln(1 + e^x): a smooth positive part (x far above 0, e^x far below), for switches the step control must cross
    without a kink (at a kink no step control reaches its tolerance, and high-order methods lose most)."""
    if x > SOFTPLUS_LINEAR:
        return x
    return math.log1p(math.exp(x))


def as_python(kernel_function):
    """The plain-Python form of a kernel, whose kernel callees are plain Python too.

    For one-off calls outside the integrator, such as the scenario compiler's energy balance: compiling a
    kernel costs about a second of CPU in a fresh process (each sweep worker's start), far more than the
    call. The kernel's own code runs, so the formula keeps its one definition.
    """
    python_function = kernel_function.py_func
    namespace = python_function.__globals__
    callees = {
        name: as_python(namespace[name])
        for name in python_function.__code__.co_names
        if isinstance(namespace.get(name), numba.core.registry.CPUDispatcher)
    }
    if not callees:
        return python_function
    return types.FunctionType(
        python_function.__code__,
        {**namespace, **callees},
        python_function.__name__,
        python_function.__defaults__,
        python_function.__closure__,
    )
