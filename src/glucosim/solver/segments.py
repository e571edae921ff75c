"""Python side of the solver contract: the schedule of segments, tolerances, error reporting, bound integrators."""

from dataclasses import dataclass, field, fields

import numpy as np

from glucosim.errors import SolverError, raise_if_interrupted
from glucosim.solver.contract import STATUS_MESSAGES, STATUS_OK, SolverStats, get_method


@dataclass(frozen=True)
class Schedule:
    """Piecewise-constant inputs: segment k spans [t0[k], t1[k]) with drivers[k].

    At the start of segment k the states marked in ``resets[k]`` are set to 0,
    then the state jumps by ``jumps[k]`` (e.g. a meal's glucose added to the
    stomach, and the carbohydrate emptied since the latest meal began set to 0).
    Segments are contiguous: t1[k] == t0[k+1]. ``resets`` defaults to none.
    """

    t0: np.ndarray
    t1: np.ndarray
    drivers: np.ndarray
    jumps: np.ndarray
    resets: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    def __post_init__(self):
        if np.shape(self.resets) != np.shape(self.jumps):
            if np.size(self.resets):
                raise ValueError("a schedule's resets must have the shape of its jumps (segments x states)")
            object.__setattr__(self, "resets", np.zeros(np.shape(self.jumps), dtype=np.bool_))
        if len(self.t0) and not np.all(self.t1 > self.t0):
            raise ValueError("every schedule segment must have positive length")
        if len(self.t0) > 1 and not np.array_equal(self.t1[:-1], self.t0[1:]):
            raise ValueError("schedule segments must be contiguous")

    def shifted(self, offset_min: float) -> "Schedule":
        """The same schedule ``offset_min`` later, without checking again what a shift cannot break (envelope
        following shifts a period's schedule hundreds of times a run)."""
        moved = object.__new__(Schedule)
        for item in fields(self):  # every field, so one added later is carried too
            value = getattr(self, item.name)
            object.__setattr__(moved, item.name, value + offset_min if item.name in ("t0", "t1") else value)
        return moved


@dataclass(frozen=True)
class Tolerances:
    """Error control: relative tolerance and per-state absolute tolerances (state units)."""

    rtol: float
    atol: np.ndarray
    n_controlled: int
    h_init: float = 0.5
    h_max: float = 60.0
    max_steps: int = 50_000_000


@dataclass
class IntegrationResult:
    """States on the output grid, the segment each output belongs to, and work counters.

    ``h_next`` is the step size (minutes) the integrator would take next: pass
    it as ``Tolerances.h_init`` to continue a run in another call exactly as if
    it had not been split.
    """

    t: np.ndarray
    y: np.ndarray
    segment: np.ndarray
    y_final: np.ndarray
    stats: SolverStats = field(default_factory=lambda: SolverStats(0, 0, 0))
    h_next: float = float("nan")


_BOUND: dict[tuple[str, str, object], object] = {}


def bound_integrator(rhs, name: str, method: str = "dopri5", ensemble: bool = False):
    """The compiled integrator of ``rhs`` by registered ``method`` (contract rule 2), bound once per process.

    Raises:
        UnknownMethodError: ``method`` is not registered.
    """
    key = (method, name, ensemble)
    if key not in _BOUND:
        chosen = get_method(method)
        _BOUND[key] = (chosen.bind_ensemble if ensemble else chosen.bind)(rhs, name)
    return _BOUND[key]


def schedule_arguments(schedule: Schedule) -> tuple:
    """The schedule as the compiled integrators take it: segment starts, ends, drivers, state jumps, resets."""
    return schedule.t0, schedule.t1, schedule.drivers, schedule.jumps, schedule.resets


def tolerance_arguments(tolerances: Tolerances) -> tuple:
    """The tolerances as the compiled integrators take them (after the output times)."""
    return (
        float(tolerances.rtol),
        tolerances.atol,
        int(tolerances.n_controlled),
        float(tolerances.h_init),
        float(tolerances.h_max),
        int(tolerances.max_steps),
    )


def integrate_schedule(integrator, schedule: Schedule, y0, params, t_out, tolerances: Tolerances, state_names):
    """Integrate ``schedule`` from ``y0`` and return the states at ``t_out``.

    Raises:
        SolverError: naming the simulated time and every state value, if the
            integrator produced a non-finite state, underflowed its step size or
            exceeded its step budget. Never returns NaNs.
        ValueError: if ``y0``, the tolerances, the schedule's jumps and ``state_names`` disagree on the number of
            states (e.g. a state kept by a model with another state table): the compiled right-hand side would
            read and write past the end of a short state.
    """
    y0 = np.ascontiguousarray(y0, dtype=np.float64)
    sizes = {
        "y0": y0.shape[0] if y0.ndim == 1 else -1,
        "atol": len(tolerances.atol),
        "schedule jumps": schedule.jumps.shape[1],
        "state_names": len(state_names),
    }
    if len(set(sizes.values())) != 1:
        raise ValueError(
            "integrate_schedule: the number of states differs between "
            + ", ".join(f"{name} ({size})" for name, size in sizes.items())
            + "; a state kept by a model with another state table cannot be integrated by this one"
        )
    try:
        y_out, out_segment, y_final, status, t_final, stats, n_written, h_next = integrator(
            y0,
            *schedule_arguments(schedule),
            params,
            np.ascontiguousarray(t_out, dtype=np.float64),
            *tolerance_arguments(tolerances),
        )
    except SystemError as exc:  # a Ctrl-C inside the compiled loop surfaces as numba's SystemError: say it as one
        raise_if_interrupted(exc)
        raise
    if status != STATUS_OK:
        raise SolverError(STATUS_MESSAGES[status], float(t_final), dict(zip(state_names, map(float, y_final))))
    if n_written != len(t_out):
        raise SolverError(
            f"wrote {n_written} of {len(t_out)} outputs (output times outside the schedule?)",
            float(t_final),
            dict(zip(state_names, map(float, y_final))),
        )
    return IntegrationResult(
        t=np.asarray(t_out, dtype=np.float64),
        y=y_out,
        segment=out_segment,
        y_final=y_final,
        stats=SolverStats.from_counters(stats),
        h_next=float(h_next),
    )
