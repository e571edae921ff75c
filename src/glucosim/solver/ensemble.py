"""Many virtual patients on one schedule, spread over cores: the parallel driver of a method's core.

Each patient (a row of states and a row of parameters) runs the very same
compiled step loop as ``integrate_schedule``; patients are independent, so
``numba.prange`` splits them over threads with no shared writes and the results
are bit-identical to integrating each patient alone. The thread count is
numba's (``NUMBA_NUM_THREADS`` or ``numba.set_num_threads``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from glucosim.errors import SolverError, raise_if_interrupted
from glucosim.solver.contract import STATUS_MESSAGES, STATUS_OK
from glucosim.solver.segments import Schedule, Tolerances, schedule_arguments, tolerance_arguments

ENSEMBLE_CHUNK_PATIENTS = 1
"""Patients a thread takes at a time: patients differ in cost (a diabetic one takes more steps), and one
patient-day (~1 ms) dwarfs the cost of handing out work, so dynamic scheduling one by one balances best."""


@dataclass
class EnsembleResult:
    """States of every patient on the output grid, and per-patient work counters.

    Attributes:
        t: output times (minutes), shape (n_outputs,).
        y: states, shape (n_patients, n_outputs, n_states).
        segment: schedule segment of each output, shape (n_patients, n_outputs).
        y_final: state at the end of the schedule, shape (n_patients, n_states).
        rhs_evaluations, accepted_steps, rejected_steps, jacobian_evaluations, factorizations: work
            counters per patient (contract rule 8), shape (n_patients,).
    """

    t: np.ndarray
    y: np.ndarray
    segment: np.ndarray
    y_final: np.ndarray
    rhs_evaluations: np.ndarray
    accepted_steps: np.ndarray
    rejected_steps: np.ndarray
    jacobian_evaluations: np.ndarray
    factorizations: np.ndarray


def integrate_ensemble(
    schedule: Schedule,
    y0: np.ndarray,
    params: np.ndarray,
    t_out: np.ndarray,
    tolerances: Tolerances,
    integrator=None,
    state_names=None,
) -> EnsembleResult:
    """Integrate every patient over ``schedule`` in parallel and return the states at ``t_out``.

    Args:
        schedule: segments, drivers and jumps shared by all patients (times in minutes).
        y0: starting states, shape (n_patients, n_states).
        params: parameter vectors, shape (n_patients, n_parameters).
        t_out: increasing output times, minutes.
        tolerances: error control (as for ``integrate_schedule``).
        integrator: a compiled ensemble integrator (``bound_integrator(..., ensemble=True)``; the organ
            model's is ``organ_ensemble()``).
        state_names: names for error messages; default: y0, y1, ...

    Raises:
        SolverError: for the first patient whose integration failed, naming the
            patient, the simulated time and every state value.
    """
    if integrator is None:
        raise TypeError("integrate_ensemble needs a compiled ensemble integrator (contract rule 2)")
    if state_names is None:
        state_names = tuple(f"y{i}" for i in range(np.shape(y0)[-1]))
    y0 = np.ascontiguousarray(np.atleast_2d(y0), dtype=np.float64)
    params = np.ascontiguousarray(np.atleast_2d(params), dtype=np.float64)
    if y0.shape[0] != params.shape[0]:
        raise ValueError(f"{y0.shape[0]} starting states but {params.shape[0]} parameter vectors")
    t_out = np.ascontiguousarray(t_out, dtype=np.float64)
    try:
        with numba.parallel_chunksize(ENSEMBLE_CHUNK_PATIENTS):
            y_out, out_segment, y_final, status, t_final, stats, written = integrator(
                y0, *schedule_arguments(schedule), params, t_out, *tolerance_arguments(tolerances)
            )
    except SystemError as exc:  # a Ctrl-C inside the compiled loop surfaces as numba's SystemError: say it as one
        raise_if_interrupted(exc)
        raise
    for k in range(y0.shape[0]):
        state = dict(zip(state_names, map(float, y_final[k])))
        if status[k] != STATUS_OK:
            raise SolverError(f"patient {k}: {STATUS_MESSAGES[int(status[k])]}", float(t_final[k]), state)
        if written[k] != len(t_out):
            raise SolverError(
                f"patient {k}: wrote {written[k]} of {len(t_out)} outputs (output times outside the schedule?)",
                float(t_final[k]),
                state,
            )
    return EnsembleResult(
        t=t_out,
        y=y_out,
        segment=out_segment,
        y_final=y_final,
        rhs_evaluations=stats[:, 0].copy(),
        accepted_steps=stats[:, 1].copy(),
        rejected_steps=stats[:, 2].copy(),
        jacobian_evaluations=stats[:, 3].copy(),
        factorizations=stats[:, 4].copy(),
    )
