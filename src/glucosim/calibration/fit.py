"""The fit: weighted least squares over the fit targets, and what the targets pin down.

Optimiser: ``scipy.optimize.least_squares`` (trust-region reflective, bounded
by each parameter's plausible range in the table), one target group (file)
after another, each group's parameters fitted to its own fit targets with the
earlier groups' values held (``fit_blocks``). The objective is a sum of
squared residuals (model - published) / spread, each target a published mean
with a published spread, and one evaluation costs a reference-day solve plus
a few clinic tests (seconds). A Bayesian or ABC package (e.g. pymc, pyabc)
would give a posterior instead of a point and a local covariance, at hundreds
to thousands of evaluations per parameter and a sampler to tune; with a few
parameters and targets that are population means (not individual data), the
local analysis below answers the question that matters now (which parameters
the targets pin down), and the fit stays a rerunnable one-minute command.

The fit works in log parameter space (u = ln(theta / start)), so finite
differences and the identifiability report are relative: a column of the
Jacobian is the change of each weighted residual per e-fold of a parameter.
A parameter whose plausible range reaches 0 (an exponent that is 0 in the
unfitted model) has no log: it is fitted in linear space (u = theta - start),
and its column is per unit of the parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glucosim.calibration import measure
from glucosim.calibration.cache import EvaluationCache, default_cache_dir
from glucosim.calibration.targets import (
    FreeParameter,
    Target,
    TargetGroup,
    fit_targets,
    free_parameters,
    held_out_targets,
    load_target_groups,
)

DIFF_STEP = 1e-2
"""Finite-difference step in u (1 % of a log parameter) of the fit's and the report's Jacobians: far above
the reference-day solve's noise (~1e-5 relative), small against the curvature of the targets."""
MAX_EVALUATIONS = 60
PINNED_LOG_SD = 0.1
"""A parameter is pinned when the targets fix it within ~10 % (standard deviation of its log)."""
LOOSE_LOG_SD = 0.5
"""... loosely constrained up to ~50 %; beyond that the targets leave it free."""


@dataclass
class Problem:
    """The fit targets, held-out targets and free parameters of a target folder."""

    groups: list[TargetGroup]
    free: list[FreeParameter] = field(init=False)
    fit: list[Target] = field(init=False)
    held_out: list[Target] = field(init=False)

    def __post_init__(self):
        self.free = free_parameters(self.groups)
        self.fit = fit_targets(self.groups)
        self.held_out = held_out_targets(self.groups)
        from glucosim.parameters import load_parameter_table

        table = load_parameter_table()
        self.start = np.array([p.start for p in self.free])
        self.low = np.array([table[p.name].low for p in self.free])
        self.high = np.array([table[p.name].high for p in self.free])
        self.linear = self.low <= 0.0
        """Parameters fitted in linear space (their range reaches 0, so they have no log)."""

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.free]

    def values(self, u: np.ndarray) -> dict[str, float]:
        """Parameter values at offsets ``u`` from the start (log offsets; linear for ``self.linear``), clipped to
        the range against rounding at a bound."""
        u = np.asarray(u, dtype=float)
        with np.errstate(over="ignore"):
            values = np.where(self.linear, self.start + u, self.start * np.exp(u))
        values = np.clip(values, self.low, self.high)
        return {name: float(value) for name, value in zip(self.names, values)}

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds of u: the table's plausible ranges."""
        with np.errstate(divide="ignore", invalid="ignore"):
            lower = np.where(self.linear, self.low - self.start, np.log(self.low / self.start))
            upper = np.where(self.linear, self.high - self.start, np.log(self.high / self.start))
        return lower, upper


class Objective:
    """Weighted residuals of the fit targets as a function of u (cached on disk, counted for progress)."""

    def __init__(self, problem: Problem, cache: EvaluationCache, progress=None, evaluate=measure.evaluate):
        self.problem = problem
        self.cache = cache
        self.progress = progress
        self._evaluate = evaluate

    def evaluation(self, values: dict[str, float], targets: list[Target] | None = None) -> dict:
        """The cached or fresh evaluation of the parameter values, measuring ``targets`` (default: the fit's)."""
        targets = self.problem.fit if targets is None else targets

        def complete(evaluation: dict) -> bool:
            runs = evaluation.get("runs", {})
            return all(target.measure in runs.get(target.run_key, {}) for target in targets)

        result = self.cache.evaluate(values, lambda v: self._evaluate(targets, v), complete)
        if self.progress is not None:
            self.progress.set_postfix(cached=self.cache.hits, computed=self.cache.misses, refresh=False)
            self.progress.update(1)
        return result

    def residuals_at(self, values: dict[str, float], targets: list[Target] | None = None) -> np.ndarray:
        targets = self.problem.fit if targets is None else targets
        evaluation = self.evaluation(values, targets)
        return np.array([t.residual(measure.target_value(evaluation, t)) for t in targets])

    def __call__(self, u: np.ndarray) -> np.ndarray:
        return self.residuals_at(self.problem.values(np.asarray(u, dtype=float)))


@dataclass
class FitResult:
    """The calibrated values, the targets at them, and the local identifiability analysis."""

    problem: Problem
    values: dict[str, float]
    reference_day: dict
    fit_values: dict[str, float]
    held_out_values: dict[str, float]
    cost: float
    start_cost: float
    evaluations: int
    cached: int
    status: str
    identifiability: dict
    table_reference_day: dict = field(default_factory=dict)
    """The reference day solved with the adopted groups' values only (the others at their table values):
    what the table holds."""
    undefined: dict[str, str] = field(default_factory=dict)
    """Held-out targets with nothing to read at the fitted values (NaN in held_out_values): target name -> why."""


def jacobian(objective: Objective, u: np.ndarray, step: float = DIFF_STEP) -> np.ndarray:
    """Jacobian of the weighted residuals per unit log parameter: central differences, one-sided at a bound."""
    lower, upper = objective.problem.bounds()
    centre = None
    columns = []
    for j in range(len(u)):
        delta = np.zeros_like(u)
        delta[j] = step
        up, down = u[j] + step <= upper[j], u[j] - step >= lower[j]
        if up and down:
            columns.append((objective(u + delta) - objective(u - delta)) / (2 * step))
            continue
        centre = objective(u) if centre is None else centre
        columns.append((objective(u + delta) - centre) / step if up else (centre - objective(u - delta)) / step)
    return np.column_stack(columns) if columns else np.zeros((len(objective.problem.fit), 0))


def identifiability(jac: np.ndarray, names: list[str], target_names: list[str]) -> dict:
    """Which parameters the targets pin down, from the Jacobian of the weighted residuals in log space.

    Returns singular values and directions, the local covariance of the log
    parameters ((J^T J)^-1, residuals in units of the published spread), the
    correlation matrix and a verdict per parameter: ``pinned`` (log SD <
    PINNED_LOG_SD), ``loose`` (< LOOSE_LOG_SD) or ``free``.
    """
    if jac.size:
        _, singular, vt = np.linalg.svd(jac, full_matrices=True)
        # fewer targets than parameters: the missing singular values are zeros
        singular = np.concatenate([singular, np.zeros(len(names) - len(singular))])
    else:
        singular, vt = np.zeros(0), np.zeros((0, len(names)))
    # Covariance (J^T J)^-1 = V diag(1/s^2) V^T; a direction with a vanishing singular value has infinite
    # variance, and so does every parameter with weight on it.
    tolerance = (singular.max() if singular.size else 0.0) * 1e-8
    determined = singular > tolerance
    weights = vt**2
    variance = (weights[determined] / singular[determined, None] ** 2).sum(axis=0)
    undetermined = (weights[~determined] > 1e-12).any(axis=0)
    variance = np.where(undetermined, np.inf, variance)
    log_sd = np.sqrt(variance)
    covariance = (vt[determined].T / singular[determined] ** 2) @ vt[determined]
    finite_sd = np.sqrt(np.diag(covariance))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = covariance / np.outer(finite_sd, finite_sd)
    correlation[undetermined, :] = np.nan
    correlation[:, undetermined] = np.nan
    verdicts = {}
    for name, sd in zip(names, log_sd):
        verdicts[name] = "pinned" if sd < PINNED_LOG_SD else "loose" if sd < LOOSE_LOG_SD else "free"
    return {
        "parameters": list(names),
        "targets": list(target_names),
        "jacobian": jac.tolist(),
        "singular_values": singular.tolist(),
        "directions": vt.tolist(),
        "log_sd": log_sd.tolist(),
        "correlation": np.where(np.isfinite(correlation), correlation, np.nan).tolist(),
        "verdicts": verdicts,
    }


def fit_blocks(objective: Objective, max_evaluations: int) -> tuple[np.ndarray, str]:
    """least_squares over each target group in file order, the earlier groups' fitted values held.

    A group's parameters are fitted to its own fit targets only (so an evaluation measures only those).
    This is the joint least-squares fit whenever a later group's parameters do not move an earlier
    group's targets (the identifiability report's joint Jacobian shows whether they do): e.g. the
    first-phase exponent is 1 in the healthy subject, who carries every kinetics target.

    Returns:
        (offsets u of every free parameter, the optimiser's messages per group).
    """
    from scipy.optimize import least_squares

    problem = objective.problem
    u = np.zeros(len(problem.free))
    lower, upper = problem.bounds()
    messages = []
    for group in problem.groups:
        columns = [i for i, parameter in enumerate(problem.free) if parameter.group == group.id]
        targets = [target for target in problem.fit if target.group == group.id]
        if not columns or not targets:
            continue

        def block(v, columns=columns, targets=targets):
            full = u.copy()
            full[columns] = v
            return objective.residuals_at(problem.values(full), targets)

        def block_jacobian(v, columns=columns, block=block):
            # Forward differences with an absolute step of DIFF_STEP in u (1 % of a log parameter), backward
            # at an upper bound. scipy's own steps are relative to u, which is 0 at the start: it would fall
            # back to 1.5e-8, far below the noise of the reference-day solve, and the path would follow noise.
            centre = block(v)  # the optimiser has just asked for this vector: a cache hit
            jac = np.empty((len(centre), len(v)))
            for j in range(len(v)):
                step = DIFF_STEP if v[j] + DIFF_STEP <= upper[columns][j] else -DIFF_STEP
                moved = v.copy()
                moved[j] += step
                jac[:, j] = (block(moved) - centre) / step
            return jac

        solution = least_squares(
            block,
            u[columns],
            jac=block_jacobian,
            bounds=(lower[columns], upper[columns]),
            method="trf",
            x_scale=1.0,
            max_nfev=max_evaluations,
        )
        u[columns] = solution.x
        messages.append(f"{group.id}: {solution.message}")
    return u, " ".join(messages)


def calibrate(
    target_dir: Path | None = None,
    cache_dir: Path | None | str = "default",
    progress: bool = True,
    max_evaluations: int = MAX_EVALUATIONS,
    evaluate=measure.evaluate,
) -> FitResult:
    """Fit the free parameters of ``target_dir``'s groups to its fit targets.

    Args:
        target_dir: folder of target files (default: validation/targets).
        cache_dir: evaluation cache ("default": ``cache.default_cache_dir()``; None: no cache).
        progress: show a tqdm bar of evaluations.
        max_evaluations: least_squares' limit on residual evaluations (Jacobian columns not counted).
        evaluate: function(targets, free values) -> evaluation (tests swap in a cheap one).
    """
    groups = load_target_groups() if target_dir is None else load_target_groups(target_dir)
    problem = Problem(groups)
    directory = default_cache_dir() if cache_dir == "default" else None if cache_dir is None else Path(cache_dir)
    model_hash = measure.model_source_hash(tuple(problem.names)) if evaluate is measure.evaluate else "test"
    cache = EvaluationCache(directory, model_hash)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="calibration", unit="eval")
    objective = Objective(problem, cache, bar, evaluate)
    try:
        start_residuals = objective(np.zeros(len(problem.free)))
        if problem.free:
            u, status = fit_blocks(objective, max_evaluations)
        else:
            u, status = np.zeros(0), "no free parameters: the reference day only"
        values = problem.values(u)
        final = objective.evaluation(values, problem.fit + problem.held_out)
        jac = jacobian(objective, u)
    finally:
        if bar is not None:
            bar.close()
    adopted = {p.name: values[p.name] for p in problem.free if p.adopted}
    if len(adopted) == len(problem.free):
        table_reference = final["reference_day"]
    else:
        table_reference = cache.evaluate(adopted, lambda v: evaluate([], v))["reference_day"]
    residuals = objective.residuals_at(values)
    return FitResult(
        problem=problem,
        values=values,
        reference_day=final["reference_day"],
        fit_values={t.name: measure.target_value(final, t) for t in problem.fit},
        held_out_values={t.name: measure.target_value(final, t) for t in problem.held_out},
        cost=float(0.5 * residuals @ residuals),
        start_cost=float(0.5 * start_residuals @ start_residuals),
        evaluations=cache.hits + cache.misses,
        cached=cache.hits,
        status=status,
        identifiability=identifiability(jac, problem.names, [t.name for t in problem.fit]),
        table_reference_day=table_reference,
        undefined=dict(final.get("undefined", {})),
    )


def calibrated_values(result: FitResult) -> dict[str, float]:
    """Every value the calibration sets in the table: the adopted groups' parameters and the reference day's two."""
    adopted = {p.name: result.values[p.name] for p in result.problem.free if p.adopted}
    return {**adopted, **{name: result.table_reference_day[name] for name in measure.REFERENCE_PARAMETERS}}
