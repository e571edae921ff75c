"""Bergman's minimal model of glucose kinetics, fitted to IVGTT samples.

    dG/dt = -(SG + X) G + SG Gb
    dX/dt = -p2 X + p3 (I(t) - Ib),   SI = p3 / p2

(Bergman, Ider, Bowden & Cobelli 1979 Am J Physiol 236:E667). Insulin I(t)
is the measured curve, linearly interpolated; the fit starts after mixing and
keeps the best of several starting points.

The fit is Bayesian (the posterior mode, MAP), not plain least squares: p2 has
a population prior (``P2_PRIOR``). On one IVGTT the data pin SI x p2's product
better than either (the SI-p2 and SG-p2 trade-offs: Pacini & Bergman 1986;
Pillonetto, Sparacino & Cobelli 2003 Math Biosci 184:53 map the regions where
least squares cannot tell them apart and show Bayesian estimation's advantage
there), so a free fit can move p2 to a bound and SI with it between two tests
of the same subject. The prior keeps p2 where people's lies unless the
samples say otherwise; ``p2_prior=None`` gives the plain least-squares fit.
Glucose residuals are weighted by the same study's measurement error
(``GLUCOSE_ERROR``) so that the prior and the samples are weighed in one
currency. Samples the model cannot be fitted
to (from an impossible state: a fasting insulin of thousands of uU/ml that the
test's insulin falls far below, whose model glucose overflows) give a fit of
NaN with the reason in ``failure``, not an exception.
"""

from dataclasses import dataclass

import numba
import numpy as np
from scipy.optimize import least_squares

from glucosim.reference_models.bergman import minimal_model_rates

FIT_FROM_MIN = 8.0
"""Samples before this are excluded: the bolus has not yet mixed (Bergman 1979)."""
INITIAL_GUESS = {"sg_per_min": 0.02}
STARTS = ((3e-4, 0.03), (1e-4, 0.01), (5e-4, 0.1), (1e-4, 0.1), (5e-4, 0.01), (1e-4, 0.03))
"""(SI, p2) starting points. The fit is not convex (Pacini & Bergman 1986 note the SG-p2 trade-off)."""
RK4_STEP_MIN = 0.25
"""Fixed step of the fit's integrator: ~1e-7 relative accuracy against rates of ~0.1 /min."""
BOUNDS = {"sg_per_min": (1e-4, 0.2), "si_per_min_per_uU_ml": (1e-7, 1e-2), "p2_per_min": (1e-3, 0.5)}
FITTED_NAMES = ("sg_per_min", "si_per_min_per_uU_ml", "p2_per_min")
"""The fitted indices with a search range, in the order of the fit's parameter vector (G(0) follows them)."""
GLUCOSE_ERROR = {"additive_mg_dl": 4.28, "proportional": 0.0227}
"""The glucose samples' error SD, sqrt(additive^2 + (proportional x glucose)^2): the residual error of Denti,
Bertoldo, Vicini & Cobelli 2010 (Am J Physiol Endocrinol Metab 298:E950, Table 5) population minimal model of
insulin-modified IVGTTs in 204 healthy adults (read in the nlmixr2lib transcription of that table, model
Denti_2010_glucoseMinimal; the paper's own table not read)."""


@dataclass(frozen=True)
class LogNormalPrior:
    """A lognormal prior: log(value) ~ Normal(log(median), log_sd^2)."""

    median: float
    log_sd: float
    source: str


P2_PRIOR = LogNormalPrior(
    median=0.0254,
    log_sd=0.379,
    source=(
        "Denti 2010 (Table 5, as transcribed by nlmixr2lib): the typical p2 of 204 healthy adults aged 18-87, "
        "BMI 20-35, 0.0254 /min, between-subject SD 37.9 % on the log scale; its covariates (age, basal insulin) are "
        "not used, so the two tests of a paired comparison share one prior"
    ),
)
"""The population prior of p2 (/min). The same for every test: a prior that moved with the subject's fasting insulin
(as Denti's covariate model does) would make a paired change in SI partly the prior's. Denti's population is healthy;
for people with IGT or diabetes no p2 distribution was found (a literature check, 2026-12-06), so the prior is a
stated choice, and the fit reports how far the samples moved p2 from it (``MinimalModelFit.p2_per_min``). The SI-p2
correlation of Denti's random effects (+0.876) is not used either: a joint prior on SI would pull every SI towards
healthy adults' and bias the changes the validation cases compare."""
BOUND_TOLERANCE_LOG = 1e-4
"""A fitted parameter this close to a bound, in log units (a relative 1e-4: the optimiser stops a few 1e-6 inside
it), ended on it (``MinimalModelFit.at_bound``)."""


@dataclass(frozen=True)
class MinimalModelFit:
    """Fitted minimal-model indices."""

    si_per_min_per_uU_ml: float
    sg_per_min: float
    p2_per_min: float
    g0_mg_dl: float
    rms_relative_error: float
    failure: str = ""
    """Why the model could not be fitted ("" if it was); the numbers are then NaN."""
    at_bound: tuple[str, ...] = ()
    """The fitted parameters (names of ``BOUNDS``) that ended on a bound of their search range: their value is the
    bound's, not the samples', so SI = p3/p2 with them is not identified by this test (Pacini & Bergman 1986 note
    the SG-p2 trade-off; in glucosim's validation run of 2026-12-06 three standard IVGTTs ended with p2 on its lower
    bound). The numbers are kept; the clinic's ``minimal_model_fit`` says so."""

    def predict(self, t_min, t_insulin, insulin_uU_ml, basal_glucose, basal_insulin):
        """Glucose (mg/dl) at ``t_min`` under the fitted parameters, for insulin sampled at ``t_insulin``."""
        return _simulate(
            np.log([self.sg_per_min, self.si_per_min_per_uU_ml, self.p2_per_min, self.g0_mg_dl]),
            t_min,
            t_insulin,
            insulin_uU_ml,
            basal_glucose,
            basal_insulin,
        )


@numba.njit(cache=True)
def _rk4_course(sg, si, p2, g0, basal_glucose, basal_insulin, t_insulin, insulin, t_eval):
    out = np.empty(t_eval.shape[0])
    glucose, action, t = g0, 0.0, 0.0
    j = 0
    while j < t_eval.shape[0] and t_eval[j] <= 0.0:
        out[j] = glucose
        j += 1
    while j < t_eval.shape[0]:
        h = min(RK4_STEP_MIN, t_eval[j] - t)
        k_g, k_x = np.zeros(4), np.zeros(4)
        for stage in range(4):
            fraction = 0.0 if stage == 0 else (0.5 if stage < 3 else 1.0)
            g = glucose + (fraction * h * k_g[stage - 1] if stage else 0.0)
            x = action + (fraction * h * k_x[stage - 1] if stage else 0.0)
            i_now = np.interp(t + fraction * h, t_insulin, insulin)
            k_g[stage], k_x[stage] = minimal_model_rates(g, x, i_now, sg, si, p2, basal_glucose, basal_insulin)
        glucose += h / 6.0 * (k_g[0] + 2.0 * k_g[1] + 2.0 * k_g[2] + k_g[3])
        action += h / 6.0 * (k_x[0] + 2.0 * k_x[1] + 2.0 * k_x[2] + k_x[3])
        t += h
        if abs(t - t_eval[j]) < 1e-9:
            out[j] = glucose
            j += 1
    return out


def _simulate(log_params, t_eval, t_insulin, insulin, basal_glucose, basal_insulin):
    sg, si, p2, g0 = np.exp(log_params)
    return _rk4_course(
        sg,
        si,
        p2,
        g0,
        basal_glucose,
        basal_insulin,
        np.asarray(t_insulin, float),
        np.asarray(insulin, float),
        np.asarray(t_eval, float),
    )


def _not_fitted(reason: str) -> MinimalModelFit:
    nan = float("nan")
    return MinimalModelFit(nan, nan, nan, nan, nan, failure=reason)


def fit_minimal_model(
    t_min, glucose_mg_dl, insulin_uU_ml, p2_prior: LogNormalPrior | None = P2_PRIOR
) -> MinimalModelFit:
    """Fit SG, SI, p2 and the extrapolated G(0) to IVGTT samples (basal = the t = 0 sample).

    The estimate is the posterior mode under ``p2_prior`` (``P2_PRIOR``, a population prior of healthy adults); pass
    ``p2_prior=None`` for the plain weighted least-squares fit. Samples it cannot be fitted to give NaN indices and the
    reason in ``failure`` (see the module's docstring).
    """
    t_min, glucose, insulin = (np.asarray(a, dtype=float) for a in (t_min, glucose_mg_dl, insulin_uU_ml))
    if not (np.isfinite(glucose).all() and np.isfinite(insulin).all() and (glucose > 0.0).all()):
        return _not_fitted("a sample's glucose or insulin is not a finite number, or its glucose is not positive")
    basal_glucose, basal_insulin = glucose[0], insulin[0]
    fit = t_min >= FIT_FROM_MIN
    t_fit = np.concatenate(([0.0], t_min[fit]))

    glucose_sd = np.hypot(GLUCOSE_ERROR["additive_mg_dl"], GLUCOSE_ERROR["proportional"] * glucose[fit])
    p2_index = FITTED_NAMES.index("p2_per_min")

    def residual(log_params):
        predicted = _simulate(log_params, t_fit, t_min, insulin, basal_glucose, basal_insulin)[1:]
        weighted = (predicted - glucose[fit]) / glucose_sd
        if p2_prior is None:
            return weighted
        # the prior as one more residual, last: -log posterior = (sum of squares) / 2 + const
        return np.append(weighted, (log_params[p2_index] - np.log(p2_prior.median)) / p2_prior.log_sd)

    first_after_bolus = glucose[1] if len(glucose) > 1 else basal_glucose
    lower = np.log([*(BOUNDS[name][0] for name in FITTED_NAMES), basal_glucose])
    upper = np.log([*(BOUNDS[name][1] for name in FITTED_NAMES), 10.0 * first_after_bolus])
    solution = None
    for si_start, p2_start in STARTS:
        guess = np.log([INITIAL_GUESS["sg_per_min"], si_start, p2_start, first_after_bolus])
        try:
            # overflow in a trial step is scipy's to handle (it shrinks the step); not a warning on the terminal
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                # finite differences of an ODE solution need steps well above its ~1e-8 noise
                trial = least_squares(
                    residual,
                    np.clip(guess, lower + 1e-9, upper - 1e-9),
                    bounds=(lower, upper),
                    xtol=1e-10,
                    ftol=1e-10,
                    diff_step=1e-4,
                )
        except ValueError as error:
            # scipy refuses residuals or a Jacobian that are not finite (the model's glucose overflowed), or bounds
            # the samples make empty; the best of the other starts would not be the fit the method defines, so
            # no index is reported
            return _not_fitted(f"the fit from SI = {si_start:g}, p2 = {p2_start:g} failed: {error}")
        if solution is None or trial.cost < solution.cost:
            solution = trial

    sg, si, p2, g0 = np.exp(solution.x)
    relative = solution.fun[: glucose_sd.size] * glucose_sd / glucose[fit]  # the samples' residuals, not the prior's
    rms = float(np.sqrt(np.mean(relative**2)))
    at_bound = tuple(
        name
        for name, value, low, high in zip(FITTED_NAMES, solution.x, lower, upper)
        if value - low < BOUND_TOLERANCE_LOG or high - value < BOUND_TOLERANCE_LOG
    )
    return MinimalModelFit(
        si_per_min_per_uU_ml=si, sg_per_min=sg, p2_per_min=p2, g0_mg_dl=g0, rms_relative_error=rms, at_bound=at_bound
    )
