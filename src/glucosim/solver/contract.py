"""The solver contract: what every integration method in ``glucosim.solver`` promises, and the registry of methods.

Like scipy's ``OdeSolver`` (``scipy/integrate/_ivp/base.py``), a method is
anything that meets these rules; the callers (``simulation``, ``clinic``,
``reference_models``) rely on them and on nothing else, and choose a method by
its registered name (``simulate(..., method="dopri5")``, recorded in each
result's provenance).

1. **Problem.** A method integrates ``dy/dt = rhs(t, y, drv, p)`` where
   ``rhs(t, y, drv, p, dydt)`` is a numba-compiled function that writes the
   derivative into ``dydt`` and allocates nothing; ``y`` (states), ``drv``
   (drivers, constant within a segment) and ``p`` (parameters) are float64
   arrays. The method never reads the model's meaning: it knows states by
   position only.
2. **Binding.** ``method.bind(rhs, name)`` returns a compiled integrator
   ``f(y0, seg_t0, seg_t1, seg_drivers, seg_jumps, seg_resets, params, t_out, rtol, atol,
   n_controlled, h_init, h_max, max_steps)`` returning ``(y_out, out_segment,
   y_final, status, t_final, stats, n_written, h_next)``; ``method.bind_ensemble``
   the same for many parameter/state rows at once (``y0`` and ``params`` 2-D,
   every output gaining a leading patient axis, no ``h_next``), each row giving
   bit-identical results to a single integration. ``name`` names the on-disk
   compilation cache and must change when the right-hand side's source does.
3. **Schedule.** Inputs are piecewise constant over a ``Schedule`` of
   contiguous segments ``[t0[k], t1[k])`` with driver row ``drivers[k]``. The
   method stops exactly at every segment boundary (it never steps across
   one), then sets the states marked in ``resets[k]`` to 0 and adds
   ``jumps[k]`` to the state (a meal into the stomach, the carbohydrate
   emptied since the latest meal began back to 0) and goes on with the new
   drivers.
4. **Outputs.** States are returned at every requested time ``t_out``
   (increasing, within the schedule), from the method's dense output where the
   time falls inside a step: requesting outputs never changes the steps
   taken (a method may spend right-hand-side evaluations on its dense output,
   as dop853 does; they are counted, rule 8). An output exactly at a segment boundary is the state *before* that
   segment's jump; ``out_segment`` gives the segment each output belongs to.
5. **Error control.** Each accepted step keeps the local error estimate
   within ``atol[i] + rtol * |y[i]|`` in the root-mean-square norm over the
   first ``n_controlled`` states; states from ``n_controlled`` on are
   quadratures (running integrals) that are integrated but never steer the
   step, and that the right-hand side never reads (a method may leave them
   out of its stage values). Steps never exceed ``h_max``; ``h_init`` is the first step tried.
6. **Continuation.** ``h_next`` is the step the method would take next;
   passing it as ``h_init`` of the next call continues a split run with the
   same steps as an unsplit one.
7. **Status.** ``status`` is ``STATUS_OK`` (0) or one of ``STATUS_MESSAGES``'
   keys (non-finite state, step-size underflow, too many steps), with
   ``t_final``/``y_final`` where it stopped. The Python side
   (``integrate_schedule``, ``integrate_ensemble``) turns any failure into a
   ``SolverError`` naming the time and every state, so a caller never sees
   NaNs or a partial output grid.
8. **Counters.** ``stats`` holds ``N_COUNTERS`` work counters in the order of
   ``SolverStats``' fields: right-hand-side evaluations, accepted steps,
   rejected steps, Jacobian evaluations, LU factorisations. A method without
   Jacobians (an explicit Runge-Kutta method) reports 0 for the last two.
9. **Registry.** A method is registered once under a lower-case name with
   ``register``; ``get_method(name)`` returns it or raises ``UnknownMethodError``
   listing the registered names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from glucosim.errors import GlucosimError

STATUS_OK = 0
STATUS_NON_FINITE = 1
STATUS_STEP_UNDERFLOW = 2
STATUS_TOO_MANY_STEPS = 3
STATUS_MESSAGES = {
    STATUS_NON_FINITE: "state became non-finite (NaN or inf) and shrinking the step did not help",
    STATUS_STEP_UNDERFLOW: "step size underflow (the problem may be stiff or discontinuous here)",
    STATUS_TOO_MANY_STEPS: "too many steps",
}

N_COUNTERS = 5
"""Work counters per integration (rule 8), in the order of ``SolverStats``' fields."""


@dataclass(frozen=True)
class SolverStats:
    """Work counters of one integration (rule 8)."""

    rhs_evaluations: int
    accepted_steps: int
    rejected_steps: int
    jacobian_evaluations: int = 0
    factorizations: int = 0

    @classmethod
    def from_counters(cls, counters) -> SolverStats:
        """From a compiled integrator's counter array (rule 8's order)."""
        return cls(*(int(value) for value in counters[:N_COUNTERS]))

    def __add__(self, other: SolverStats) -> SolverStats:
        return SolverStats(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple())))

    def as_tuple(self) -> tuple[int, ...]:
        """The counters in rule 8's order (spelled out: ``dataclasses.asdict`` deep-copies every field, and this
        runs after every integration, some 5 % of an envelope-following run's own Python time)."""
        return (
            self.rhs_evaluations,
            self.accepted_steps,
            self.rejected_steps,
            self.jacobian_evaluations,
            self.factorizations,
        )

    def as_dict(self) -> dict[str, int]:
        """The counters by name (as written to a result's provenance)."""
        return asdict(self)


class UnknownMethodError(GlucosimError, ValueError):
    """A solver method name that is not registered."""


@dataclass(frozen=True)
class Method:
    """One registered integration method (rules 1-8).

    Attributes:
        name: registry name (recorded in provenance).
        summary: one line for help texts.
        order: order of the solution used to continue (the error estimate is one lower).
        bind: ``bind(rhs, name)`` -> compiled single integrator (rule 2).
        bind_ensemble: ``bind_ensemble(rhs, name)`` -> compiled parallel integrator (rule 2).
        source: the file whose text the compiled integrator depends on (for cache names).
    """

    name: str
    summary: str
    order: int
    bind: Callable
    bind_ensemble: Callable
    source: Path


_REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add ``method`` to the registry (rule 9); a name is registered once."""
    if method.name in _REGISTRY and _REGISTRY[method.name] is not method:
        raise ValueError(f"solver method {method.name!r} is already registered")
    _REGISTRY[method.name] = method
    return method


def method_names() -> tuple[str, ...]:
    """Names of the registered methods."""
    return tuple(_REGISTRY)


def get_method(name: str) -> Method:
    """The registered method called ``name``.

    Raises:
        UnknownMethodError: naming the registered methods.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownMethodError(
            f"unknown solver method {name!r}; choose one of: {', '.join(sorted(_REGISTRY))}"
        ) from None
