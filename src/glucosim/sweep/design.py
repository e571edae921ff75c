"""The design: the table of samples (one row per virtual patient or parameter set).

Grids are enumerated; Latin hypercube, Sobol (Saltelli) and Morris designs
come from SALib, so the analysis can use SALib's matching estimators. Cohort
patients are drawn one by one, each from its own ``SeedSequence.spawn`` child,
so patient *i* is the same whatever the cohort size, chunking or workers.
A cohort's arms may add per-patient adherence draws (``Arm.adherence``): each
comes from its own stream of the patient's seed, keyed by its column name, so
adding an arm, an adherence entry or a cohort variable changes no other draw.
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np
from scipy import stats

from glucosim.sweep.load import LoadedSweep
from glucosim.sweep.schema import Adherence, Variable


def salib_problem(loaded: LoadedSweep) -> dict:
    """The SALib problem definition (names and bounds) of a range-based design."""
    return {
        "num_vars": len(loaded.sweep.variables),
        "names": list(loaded.variable_names),
        "bounds": [list(variable.range) for variable in loaded.sweep.variables],
    }


def _grid_values(variable: Variable) -> np.ndarray:
    return np.asarray(variable.grid_values(), dtype=float)


def _grid(loaded: LoadedSweep) -> np.ndarray:
    axes = [_grid_values(variable) for variable in loaded.sweep.variables]
    return np.array(list(itertools.product(*axes)), dtype=float)


def _salib(loaded: LoadedSweep) -> np.ndarray:
    from SALib.sample import latin, morris, sobol

    design = loaded.sweep.design
    problem = salib_problem(loaded)
    if design.kind == "latin_hypercube":
        return latin.sample(problem, design.samples, seed=loaded.sweep.seed)
    if design.kind == "sobol":
        return sobol.sample(problem, design.samples, calc_second_order=False, scramble=True, seed=loaded.sweep.seed)
    return morris.sample(problem, design.samples, num_levels=design.morris_levels, seed=loaded.sweep.seed)


def _from_normal_score(variable: Variable | Adherence, score: float) -> float:
    """Map a standard-normal score to the variable's distribution (a Gaussian copula)."""
    if variable.distribution == "lognormal":
        value = variable.median * variable.gsd**score
    elif variable.distribution == "normal":
        value = variable.mean + variable.sd * score
    else:
        low, high = variable.range
        value = low + (high - low) * stats.norm.cdf(score)
    bounds = variable.bounds or _parameter_bounds(variable)
    return float(np.clip(value, *bounds)) if bounds else float(value)


def _parameter_bounds(variable):
    if getattr(variable, "parameter", None) is None:  # an adherence draw, or a scenario field
        return None
    from glucosim.parameters import load_parameter_table

    row = load_parameter_table()[variable.parameter]
    return row.low, row.high


def patient_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """One independent seed per sample, spawned from the sweep seed."""
    return np.random.SeedSequence(seed).spawn(n)


ADHERENCE_STREAM = 1
"""Spawn-key element of the adherence streams (the patient's cohort variables use the patient's seed itself)."""


def adherence_seed(patient: np.random.SeedSequence, column: str) -> np.random.SeedSequence:
    """The seed of one adherence draw of one patient: a child of the patient's seed keyed by the column name
    (CRC-32, stable across Python runs), so the draw depends on the sweep seed, the patient and the name only."""
    return np.random.SeedSequence(
        patient.entropy, spawn_key=(*patient.spawn_key, ADHERENCE_STREAM, zlib.crc32(column.encode()))
    )


def adherence_samples(loaded: LoadedSweep) -> np.ndarray:
    """The per-patient adherence draws, shape (samples, adherence columns), in the columns' order
    (``Sweep.adherence_columns``): a standard-normal score per patient and entry, correlated within an arm by
    its ``adherence_correlation`` (a Gaussian copula), mapped to the entry's distribution and clipped to its
    bounds.

    Each entry's independent score comes from its own stream (``adherence_seed``); the correlation mixes an
    arm's scores by the Cholesky factor of its matrix, so without one the draws are those of independent
    entries, and the first entry of an arm keeps its draw whatever the correlation."""
    patients = patient_seeds(loaded.sweep.seed, loaded.sweep.design.samples)
    blocks = []
    for arm in loaded.sweep.arms:
        if not arm.adherence:
            continue
        columns = [arm.adherence_column(entry) for entry in arm.adherence]
        scores = np.array(
            [
                [float(np.random.default_rng(adherence_seed(patient, column)).standard_normal()) for column in columns]
                for patient in patients
            ],
            dtype=float,
        ).reshape(len(patients), len(columns))
        if arm.adherence_correlation is not None:
            scores = scores @ np.linalg.cholesky(np.asarray(arm.adherence_correlation, dtype=float)).T
        blocks.append(
            np.array(
                [[_from_normal_score(entry, score) for entry, score in zip(arm.adherence, row)] for row in scores],
                dtype=float,
            ).reshape(len(patients), len(columns))
        )
    if not blocks:
        return np.empty((len(patients), 0))
    return np.hstack(blocks)


def _cohort(loaded: LoadedSweep) -> np.ndarray:
    variables = loaded.sweep.variables
    correlation = loaded.sweep.design.correlation
    factor = np.linalg.cholesky(np.asarray(correlation, dtype=float)) if correlation else np.eye(len(variables))
    rows = []
    for child in patient_seeds(loaded.sweep.seed, loaded.sweep.design.samples):
        scores = factor @ np.random.default_rng(child).standard_normal(len(variables))
        rows.append([_from_normal_score(variable, score) for variable, score in zip(variables, scores)])
    return np.array(rows, dtype=float)


def design_samples(loaded: LoadedSweep) -> np.ndarray:
    """The sample table, shape (samples, variables), in the variables' units; a cohort's adherence draws follow
    the variables.

    The same sweep file gives the same table on any machine (fixed seed;
    SALib's samplers are seeded from it).
    """
    kind = loaded.sweep.design.kind
    if kind == "grid":
        return _grid(loaded)
    if kind == "cohort":
        if loaded.sweep.adherence_columns:  # the design table's last columns (``LoadedSweep.variable_names``)
            return np.hstack([_cohort(loaded), adherence_samples(loaded)])
        return _cohort(loaded)
    return _salib(loaded)


UNBOUNDED_SPREAD = 4.0
"""A cohort variable drawn from an unclipped normal (lognormal) spans mean +- 4 sd (median */ gsd^4) for SALib."""


def variable_bounds(variable) -> list[float]:
    """[low, high] of a variable as the design samples it (SALib's problem is the design's, not the runs' min/max)."""
    if variable.range is not None:
        return [float(variable.range[0]), float(variable.range[1])]
    if variable.values is not None:
        return [float(min(variable.values)), float(max(variable.values))]
    if variable.bounds is not None:
        return [float(variable.bounds[0]), float(variable.bounds[1])]
    if variable.parameter is not None:  # cohort draws are clipped to the table's plausible range
        from glucosim.parameters import load_parameter_table

        row = load_parameter_table()[variable.parameter]
        return [float(row.low), float(row.high)]
    if variable.distribution == "lognormal":
        return [variable.median / variable.gsd**UNBOUNDED_SPREAD, variable.median * variable.gsd**UNBOUNDED_SPREAD]
    return [variable.mean - UNBOUNDED_SPREAD * variable.sd, variable.mean + UNBOUNDED_SPREAD * variable.sd]
