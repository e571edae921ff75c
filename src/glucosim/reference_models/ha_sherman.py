"""Ha, Satin & Sherman 2016 (Endocrinology 157:624): pathogenesis, prevention and reversal of type 2 diabetes.

Human version; time in days; G mg/dl, I uU/ml, beta mg (Topp 2000 units).

    dG/dt     = R0 - (EG0 + SI*I)*G
    dI/dt     = beta*ISR/BV - k*I
    dbeta/dt  = (P(ISR) - A(M))*beta/tau_beta
    dgamma/dt = (gamma_inf(G) - gamma)/tau_gamma
    dsigma/dt = (sigma_inf - sigma)/tau_sigma
    dSI/dt    = -r_SI*(SI - SI_target)          (r_SI, SI_target switch at t_intervention)

    M = G^kM/(alpha_M^kM + G^kM)                  (glucose metabolism)
    ISR = sigma*(M+gamma)^kISR/(alpha_ISR^kISR + (M+gamma)^kISR)
    P = Pmax*ISR^kP/(alpha_P^kP + ISR^kP);  A = Amax*M^kA/(alpha_A^kA + M^kA) + A_b
    gamma_inf = G_bar/(1 + exp(-(G - Gs)/Gn)) - Gshft
    sigma_inf = sigma_MI*sigma_ISRI + sigma_b, evaluated at glucose shifted by sigma_Gsh:
      sigma_ISRI = ISRI_bar/(1 + ISRI_k*exp(-(ISR' - ISRI_s)/ISRI_n))     (rises with secretory demand)
      sigma_MI   = 1 - MI_bar/(1 + MI_k*exp(-(M' - MI_s)/MI_n))          (falls with glucotoxicity)

Parameter values: the authors' human model (XPP file human.ode, with the
insulin-resistance course of fig7_human_prevention.set: Amax = 9,
ISRI_bar = 600, SI relaxing toward 0.18 at 0.00756/day), read from the public
files of the paper's supplement (github.com/artielbm, Models/Pathogenesis) and
re-implemented here from the equations. The rate at which SI approaches its
post-intervention target (0.028/day) is taken from the prevention file; the
paper's early and late intervention files were not available to check it.
"""

from enum import IntEnum

import numba
import numpy as np

from glucosim.reference_models._engine import run

PARAMETERS = {
    "EG0": 1.44,
    "k": 700.0,
    "R0": 864.0,
    "BV": 5.0,
    "Mmax": 1.0,
    "alpha_M": 150.0,
    "kM": 2.0,
    "alpha_ISR": 1.2,
    "kISR": 2.0,
    "Pmax": 4.55,
    "kP": 4.0,
    "alpha_P": 41.77,
    "Amax": 9.0,
    "alpha_A": 0.44,
    "kA": 6.0,
    "A_b": 0.8,
    "tau_beta": 8570.0,
    "G_bar": 0.2,
    "Gs": 99.9,
    "Gn": 1.0,
    "Gshft": 0.1,
    "tau_gamma": 2.14,
    "sigma_Gsh": 75.0,
    "ISRI_bar": 600.0,
    "ISRI_s": 0.1,
    "ISRI_n": 0.1,
    "ISRI_k": 1.0,
    "sigma_b": 3.0,
    "MI_bar": 1.0,
    "MI_k": 0.2,
    "MI_s": 0.2,
    "MI_n": 0.02,
    "tau_sigma": 249.9,
    "SI_rate": 0.00756,
    "SI_target": 0.18,
    "SI_rate_after": 0.028,
    "SI_target_after": 0.18,
    "t_intervention": 1.0e7,
}
"""Human parameters (units as in the module docstring; rates per day). Default: no intervention."""
P = IntEnum("P", [(name, i) for i, name in enumerate(PARAMETERS)])
STATE_NAMES = ("glucose_mg_dl", "insulin_uU_ml", "beta_cell_mass_mg", "gamma", "sigma", "insulin_sensitivity")
INITIAL_STATE = (99.7664, 9.025, 1000.423, -0.00666, 536.67, 0.8)
"""The authors' initial state (near the healthy steady state with SI = 0.8)."""


def parameter_vector(**overrides) -> np.ndarray:
    """Parameter vector in ``P`` order, with overrides by name."""
    unknown = set(overrides) - set(PARAMETERS)
    if unknown:
        raise KeyError(f"unknown Ha-Sherman parameter(s) {sorted(unknown)}; known: {sorted(PARAMETERS)}")
    values = {**PARAMETERS, **overrides}
    return np.array([values[member.name] for member in P])


@numba.njit
def _hill(x, half, n):
    if x <= 0.0:
        return 0.0
    xn = x**n
    return xn / (half**n + xn)


@numba.njit
def _secretion(sigma, metabolism, gamma, p):
    return sigma * _hill(metabolism + gamma, p[P.alpha_ISR], p[P.kISR])


@numba.njit
def rhs(t, y, drv, p, dydt):
    """Ha-Sherman 2016 human right-hand side (per day)."""
    glucose, insulin, beta, gamma, sigma, sensitivity = y[0], y[1], y[2], y[3], y[4], y[5]
    metabolism = p[P.Mmax] * _hill(glucose, p[P.alpha_M], p[P.kM])
    secretion = _secretion(sigma, metabolism, gamma, p)
    proliferation = p[P.Pmax] * _hill(secretion, p[P.alpha_P], p[P.kP])
    apoptosis = p[P.Amax] * _hill(metabolism, p[P.alpha_A], p[P.kA]) + p[P.A_b]
    gamma_inf = p[P.G_bar] / (1.0 + np.exp(-(glucose - p[P.Gs]) / p[P.Gn])) - p[P.Gshft]
    shifted = p[P.Mmax] * _hill(glucose - p[P.sigma_Gsh], p[P.alpha_M], p[P.kM])
    shifted_secretion = _secretion(sigma, shifted, gamma, p)
    demand = p[P.ISRI_bar] / (1.0 + p[P.ISRI_k] * np.exp(-(shifted_secretion - p[P.ISRI_s]) / p[P.ISRI_n]))
    toxicity = 1.0 - p[P.MI_bar] / (1.0 + p[P.MI_k] * np.exp(-(shifted - p[P.MI_s]) / p[P.MI_n]))
    sigma_inf = toxicity * demand + p[P.sigma_b]
    if t < p[P.t_intervention]:
        rate, target = p[P.SI_rate], p[P.SI_target]
    else:
        rate, target = p[P.SI_rate_after], p[P.SI_target_after]
    dydt[0] = p[P.R0] - (p[P.EG0] + sensitivity * insulin) * glucose
    dydt[1] = beta * secretion / p[P.BV] - p[P.k] * insulin
    dydt[2] = (proliferation - apoptosis) * beta / p[P.tau_beta]
    dydt[3] = (gamma_inf - gamma) / p[P.tau_gamma]
    dydt[4] = (sigma_inf - sigma) / p[P.tau_sigma]
    dydt[5] = -rate * (sensitivity - target)


def simulate(
    days: float = 1800.0,
    intervention_day: float | None = None,
    si_after: float = 0.468,
    p=None,
    every_days: float = 1.0,
):
    """The human course (SI falling from 0.8 toward 0.18), optionally with SI restored toward ``si_after``.

    The intervention switch is a segment boundary of the schedule, so the
    integrator steps exactly onto it.
    """
    import pandas as pd

    overrides = (
        {} if intervention_day is None else {"t_intervention": float(intervention_day), "SI_target_after": si_after}
    )
    p = parameter_vector(**overrides) if p is None else p
    t_out = np.arange(0.0, days + 0.5 * every_days, every_days)
    if intervention_day is None or intervention_day >= days:
        result = run(rhs, "integrate_ha_sherman2016", INITIAL_STATE, p, days, t_out, state_names=STATE_NAMES, h_max=1.0)
        states = result.y
    else:
        before = t_out[t_out <= intervention_day]
        first = run(
            rhs,
            "integrate_ha_sherman2016",
            INITIAL_STATE,
            p,
            intervention_day,
            before,
            state_names=STATE_NAMES,
            h_max=1.0,
        )
        after = t_out[t_out > intervention_day] - intervention_day
        shifted = p.copy()
        shifted[P.t_intervention] = 0.0  # time restarts at the intervention
        second = run(
            rhs,
            "integrate_ha_sherman2016",
            first.y_final,
            shifted,
            days - intervention_day,
            after,
            state_names=STATE_NAMES,
            h_max=1.0,
        )
        states = np.vstack([first.y, second.y])
    frame = pd.DataFrame(states, columns=STATE_NAMES)
    frame.insert(0, "day", t_out)
    return frame
