"""The Bergman minimal model of glucose kinetics (Bergman, Ider, Bowden & Cobelli 1979 Am J Physiol 236:E667).

    dG/dt = -(SG + X)*G + SG*Gb
    dX/dt = -p2*X + p3*(I - Ib),     SI = p3/p2

Time in minutes; G in mg/dl, I in uU/ml (a driver: piecewise-constant plasma
insulin). Typical SI (1e-4 /min per uU/ml): normal ~2.6, impaired glucose
tolerance ~1.3, type 2 diabetes ~0.6; SG ~0.02 /min (model-references.md).
"""

from enum import IntEnum

import numba
import numpy as np

from glucosim.reference_models._engine import run


class P(IntEnum):
    """Parameter index."""

    SG = 0
    SI = 1
    p2 = 2
    Gb = 3
    Ib = 4


PARAMETERS = {
    "SG": (0.02, "1/min", "glucose effectiveness"),
    "SI": (2.6e-4, "1/min per uU/ml", "insulin sensitivity (normal)"),
    "p2": (0.025, "1/min", "rate of decay of remote insulin action"),
    "Gb": (90.0, "mg/dl", "basal glucose"),
    "Ib": (8.0, "uU/ml", "basal insulin"),
}
"""name -> (value, unit, description); typical normal values (Bergman 1979; Pacini & Bergman 1986)."""
STATE_NAMES = ("glucose_mg_dl", "remote_insulin_action_per_min")


def parameter_vector(**overrides) -> np.ndarray:
    """Parameter vector in ``P`` order, with overrides by name."""
    values = {name: value for name, (value, _, _) in PARAMETERS.items()}
    unknown = set(overrides) - set(values)
    if unknown:
        raise KeyError(f"unknown minimal-model parameter(s) {sorted(unknown)}; known: {sorted(values)}")
    values.update(overrides)
    return np.array([values[member.name] for member in P])


@numba.njit(cache=True)
def minimal_model_rates(glucose, action, insulin, sg, si, p2, basal_glucose, basal_insulin):
    """(dG/dt, dX/dt) of Bergman's minimal model, per minute: glucose G (mg/dl) falls by its own effectiveness SG
    toward basal and by the remote insulin action X (1/min), which follows insulin I (uU/ml) above basal with rate p2
    and gain SI x p2. The one definition of the equations, for ``rhs`` and the clinic's minimal-model fit."""
    d_glucose = -(sg + action) * glucose + sg * basal_glucose
    d_action = -p2 * action + si * p2 * (insulin - basal_insulin)
    return d_glucose, d_action


@numba.njit
def rhs(t, y, drv, p, dydt):
    """Minimal-model right-hand side (per minute); ``drv[0]`` is plasma insulin, uU/ml."""
    dydt[0], dydt[1] = minimal_model_rates(y[0], y[1], drv[0], p[P.SG], p[P.SI], p[P.p2], p[P.Gb], p[P.Ib])


def simulate(glucose0: float, insulin_uU_ml: float, minutes: float, p=None, every_min: float = 1.0):
    """Glucose from ``glucose0`` under constant plasma insulin; returns a DataFrame."""
    import pandas as pd

    p = parameter_vector() if p is None else p
    t_out = np.arange(0.0, minutes + 0.5 * every_min, every_min)
    result = run(
        rhs,
        "integrate_bergman1979",
        [glucose0, 0.0],
        p,
        minutes,
        t_out,
        drivers=[[insulin_uU_ml]],
        state_names=STATE_NAMES,
    )
    frame = pd.DataFrame(result.y, columns=STATE_NAMES)
    frame.insert(0, "time_min", t_out)
    return frame
