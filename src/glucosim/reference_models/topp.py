"""Topp, Promislow, deVries, Miura & Finegood 2000 (J Theor Biol 206:605): beta-cell mass, insulin, glucose.

    dG/dt    = R0 - (EG0 + SI*I)*G
    dI/dt    = beta*sigma*G^2/(alpha + G^2) - k*I
    dbeta/dt = (-d0 + r1*G - r2*G^2)*beta

Time in days; G in mg/dl, I in uU/ml, beta in mg. Parameter values as in
BioModels BIOMD0000000341 (checked against that file in the tests). The healthy
fixed point sits at G = 100 mg/dl whatever SI, with I = 7.2/SI and beta = 30*I:
compensation by hyperinsulinemia, the idea glucosim's beta-cell set point uses.
"""

from enum import IntEnum

import numba
import numpy as np

from glucosim.reference_models._engine import run


class P(IntEnum):
    """Parameter index."""

    R0 = 0
    EG0 = 1
    SI = 2
    sigma = 3
    alpha = 4
    k = 5
    d0 = 6
    r1 = 7
    r2 = 8


PARAMETERS = {
    "R0": (864.0, "mg/dl/day", "glucose production at zero glucose"),
    "EG0": (1.44, "1/day", "glucose effectiveness at zero insulin"),
    "SI": (0.72, "ml/uU/day", "insulin sensitivity"),
    "sigma": (43.2, "uU/ml/day/mg", "maximal insulin secretion per beta-cell mass"),
    "alpha": (20000.0, "mg^2/dl^2", "glucose at half-maximal secretion, squared"),
    "k": (432.0, "1/day", "insulin clearance"),
    "d0": (0.06, "1/day", "beta-cell death rate at zero glucose"),
    "r1": (0.84e-3, "dl/mg/day", "glucose-driven beta-cell replication"),
    "r2": (0.24e-5, "dl^2/mg^2/day", "glucotoxic beta-cell death"),
}
"""name -> (value, unit, description); source: Topp 2000 Table 1 via BIOMD0000000341."""
STATE_NAMES = ("glucose_mg_dl", "insulin_uU_ml", "beta_cell_mass_mg")


def parameter_vector(**overrides) -> np.ndarray:
    """Parameter vector in ``P`` order, with overrides by name."""
    values = {name: value for name, (value, _, _) in PARAMETERS.items()}
    unknown = set(overrides) - set(values)
    if unknown:
        raise KeyError(f"unknown Topp 2000 parameter(s) {sorted(unknown)}; known: {sorted(values)}")
    values.update(overrides)
    return np.array([values[member.name] for member in P])


@numba.njit
def rhs(t, y, drv, p, dydt):
    """Topp 2000 right-hand side (per day)."""
    glucose, insulin, beta = y[0], y[1], y[2]
    dydt[0] = p[P.R0] - (p[P.EG0] + p[P.SI] * insulin) * glucose
    dydt[1] = beta * p[P.sigma] * glucose * glucose / (p[P.alpha] + glucose * glucose) - p[P.k] * insulin
    dydt[2] = (-p[P.d0] + p[P.r1] * glucose - p[P.r2] * glucose * glucose) * beta


def fixed_points(p: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """The model's fixed points (G, I, beta): healthy and saddle (beta > 0), and the diabetic one (beta = 0)."""
    discriminant = p[P.r1] ** 2 - 4.0 * p[P.r2] * p[P.d0]
    points = {}
    if discriminant >= 0.0:
        roots = sorted(
            ((p[P.r1] - np.sqrt(discriminant)) / (2 * p[P.r2]), (p[P.r1] + np.sqrt(discriminant)) / (2 * p[P.r2]))
        )
        for name, glucose in zip(("healthy", "saddle"), roots):
            insulin = (p[P.R0] / glucose - p[P.EG0]) / p[P.SI]
            beta = p[P.k] * insulin * (p[P.alpha] + glucose**2) / (p[P.sigma] * glucose**2)
            points[name] = (float(glucose), float(insulin), float(beta))
    points["diabetic"] = (float(p[P.R0] / p[P.EG0]), 0.0, 0.0)
    return points


def jacobian(y, p, step: float = 1e-6) -> np.ndarray:
    """Numerical Jacobian of the right-hand side at ``y`` (central differences)."""
    y = np.asarray(y, dtype=float)
    columns = []
    for i in range(3):
        delta = np.zeros(3)
        delta[i] = step * max(1.0, abs(y[i]))
        up, down = np.empty(3), np.empty(3)
        rhs(0.0, y + delta, np.zeros(1), p, up)
        rhs(0.0, y - delta, np.zeros(1), p, down)
        columns.append((up - down) / (2 * delta[i]))
    return np.array(columns).T


def simulate(y0, days: float, p=None, every_days: float = 1.0):
    """Simulate ``days`` from ``y0`` = (G, I, beta); returns a DataFrame sampled every ``every_days``."""
    import pandas as pd

    p = parameter_vector() if p is None else p
    t_out = np.arange(0.0, days + 0.5 * every_days, every_days)
    result = run(rhs, "integrate_topp2000", y0, p, days, t_out, state_names=STATE_NAMES, h_max=1.0)
    frame = pd.DataFrame(result.y, columns=STATE_NAMES)
    frame.insert(0, "day", t_out)
    return frame
