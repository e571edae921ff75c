"""Bergman's minimal model of glucose kinetics, fitted to IVGTT samples.

    dG/dt = -(SG + X) G + SG Gb
    dX/dt = -p2 X + p3 (I(t) - Ib),   SI = p3 / p2

(Bergman, Ider, Bowden & Cobelli 1979 Am J Physiol 236:E667). Insulin I(t)
is the measured curve, linearly interpolated; the fit starts after mixing.
"""

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares

FIT_FROM_MIN = 8.0
"""Samples before this are excluded: the bolus has not yet mixed (Bergman 1979)."""
INITIAL_GUESS = {"sg_per_min": 0.02, "si_per_min_per_uU_ml": 3e-4, "p2_per_min": 0.03}
STARTS_P2_PER_MIN = (0.01, 0.03, 0.1)
STARTS_SI_PER_MIN_PER_UU_ML = (1e-4, 5e-4)
"""The fit is not convex (Pacini & Bergman 1986 note the SG-p2 trade-off): it starts from each combination."""
BOUNDS = {"sg_per_min": (1e-4, 0.2), "si_per_min_per_uU_ml": (1e-7, 1e-2), "p2_per_min": (1e-3, 0.5)}


@dataclass(frozen=True)
class MinimalModelFit:
    """Fitted minimal-model indices."""

    si_per_min_per_uU_ml: float
    sg_per_min: float
    p2_per_min: float
    g0_mg_dl: float
    rms_relative_error: float

    def predict(self, t_min, insulin_uU_ml_at, basal_glucose, basal_insulin):
        """Glucose (mg/dl) at ``t_min`` under the fitted parameters."""
        return _simulate(np.log([self.sg_per_min, self.si_per_min_per_uU_ml, self.p2_per_min, self.g0_mg_dl]),
                         np.asarray(t_min, float), insulin_uU_ml_at, basal_glucose, basal_insulin)


def _simulate(log_params, t_eval, insulin_at, basal_glucose, basal_insulin):
    sg, si, p2, g0 = np.exp(log_params)
    p3 = si * p2

    def rhs(t, z):
        glucose, action = z
        return [-(sg + action) * glucose + sg * basal_glucose, -p2 * action + p3 * (insulin_at(t) - basal_insulin)]

    solution = solve_ivp(rhs, (0.0, float(t_eval[-1])), [g0, 0.0], t_eval=t_eval, rtol=1e-8, atol=1e-10,
                         method="LSODA")
    if not solution.success:
        return np.full_like(t_eval, np.nan)
    return solution.y[0]


def fit_minimal_model(t_min, glucose_mg_dl, insulin_uU_ml) -> MinimalModelFit:
    """Fit SG, SI, p2 and the extrapolated G(0) to IVGTT samples (basal = the t = 0 sample)."""
    t_min, glucose, insulin = (np.asarray(a, dtype=float) for a in (t_min, glucose_mg_dl, insulin_uU_ml))
    basal_glucose, basal_insulin = glucose[0], insulin[0]

    def insulin_at(t):
        return float(np.interp(t, t_min, insulin))

    fit = t_min >= FIT_FROM_MIN
    t_fit = np.concatenate(([0.0], t_min[fit]))

    def residual(log_params):
        predicted = _simulate(log_params, t_fit, insulin_at, basal_glucose, basal_insulin)[1:]
        return (predicted - glucose[fit]) / glucose[fit]

    first_after_bolus = glucose[1] if len(glucose) > 1 else basal_glucose
    lower = np.log([BOUNDS["sg_per_min"][0], BOUNDS["si_per_min_per_uU_ml"][0], BOUNDS["p2_per_min"][0], basal_glucose])
    upper = np.log([BOUNDS["sg_per_min"][1], BOUNDS["si_per_min_per_uU_ml"][1], BOUNDS["p2_per_min"][1],
                    10.0 * first_after_bolus])
    solution = None
    for p2_start in STARTS_P2_PER_MIN:
        for si_start in STARTS_SI_PER_MIN_PER_UU_ML:
            guess = np.log([INITIAL_GUESS["sg_per_min"], si_start, p2_start, first_after_bolus])
            # finite differences of an ODE solution need steps well above its ~1e-8 noise
            trial = least_squares(residual, np.clip(guess, lower + 1e-9, upper - 1e-9), bounds=(lower, upper),
                                  xtol=1e-10, ftol=1e-10, diff_step=1e-4)
            if solution is None or trial.cost < solution.cost:
                solution = trial
    sg, si, p2, g0 = np.exp(solution.x)
    rms = float(np.sqrt(np.mean(solution.fun**2)))
    return MinimalModelFit(si_per_min_per_uU_ml=si, sg_per_min=sg, p2_per_min=p2, g0_mg_dl=g0, rms_relative_error=rms)
