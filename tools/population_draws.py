"""Is the population fit's reweighting biased, or is one draw of the trial off? The diagnostic of 2026-12-06.

The population command (``python -m glucosim.calibration.population``) checks the cohort file by simulating it as
the shipped prevention sweep draws it: the sweep's seed and sample count, so always the same patients. A gap between
that direct draw and the library reweighted to the file can be a bias of the reweighting or the noise of that one
draw; repeating the command repeats the draw, so it cannot tell them apart. This tool does two things:

1. ``--compare``: the library reweighted to the cohort file's values against the direct check, variable by variable
   (weighted mean, SD and 5/50/95 % quantiles of each cohort variable among the completed runs, the share clipped at
   each bound, the share refused), and the incidence of the enrolled within quartiles of each variable. Reads the
   population command's cache (run the command first; nothing is simulated if its library and check are there).
2. ``--seeds 1 2``: the check's design (the cohort file, the sweep's control arm, ``--samples`` patients) drawn
   with other seeds, each simulated (resumable, under ``--out``) and read through the same virtual clinic: the
   spread between draws is the sampling error of a trial of that size.

    PYTHONPATH=src python tools/population_draws.py --compare
    PYTHONPATH=src python tools/population_draws.py --seeds 1 2 --samples 3500 --out results/population_draws

Measured on 2026-12-06 (twenty-first session; docs/sweeps.md): the first 3500 of seeds 1 and 2 gave 10.0 and 11.5
per 100 person-years, the shipped seed's 3500 12.4 and its 7000 11.8, against 10.8 reweighted; ~6 minutes of wall
time per 3500 on 2 cores.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from glucosim.calibration import population as P

INCIDENCE = "diabetes_incidence_per_100py"


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles) -> list[float]:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    cumulative /= cumulative[-1]
    return [float(values[order][np.searchsorted(cumulative, q)]) for q in quantiles]


def _quartile_incidence(library, weights: np.ndarray, column: int, edges: np.ndarray) -> list[float]:
    """Incidence of the enrolled in each quartile of variable ``column`` (``edges`` from the direct draw)."""
    found = []
    for k in range(4):
        values = library.x[:, column]
        inside = (values > edges[k]) & (values <= edges[k + 1])
        w = np.where(inside, weights, 0.0)
        found.append(P.statistics(library, w / np.sum(w))[INCIDENCE] if np.sum(w) > 0 else float("nan"))
    return found


def compare(workers: int) -> None:
    problem = P.load_population_targets()
    fit = P.calibrate_population(problem.path, progress=False, workers=workers)
    library = fit.library
    values = P.table_values(problem)
    variables, correlation = P.start_cohort(problem)
    variables = P.with_values(variables, problem.free, [values[f.name] for f in problem.free])
    direct = P.Library.from_results(
        P._run(P.check_sweep(problem), P.check_dir(problem), False, workers),
        library.variable_names,
        problem.follow_up_years,
    )
    weights = P.fit_weights(fit, library, values)
    uniform = np.full(len(direct.x), 1.0 / len(direct.x))
    print(
        f"{INCIDENCE}: reweighted {P.statistics(library, weights)[INCIDENCE]:.2f}, "
        f"direct {P.statistics(direct, uniform)[INCIDENCE]:.2f} ({len(direct.x)} drawn)"
    )
    # the weights over every run (refused ones too), for the share refused
    log_w = P.log_density(variables, correlation, library.x) - library.log_proposal
    all_weights = np.exp(log_w - np.max(log_w))
    all_weights /= np.sum(all_weights)
    print(
        f"refused by the scenario check: reweighted {np.sum(all_weights * ~library.ok):.4f}, "
        f"direct {1 - direct.ok.mean():.4f}"
    )
    for j, variable in enumerate(variables):
        a, b = library.x[:, j], direct.x[direct.ok, j]
        mean = float(np.sum(weights * a))
        sd = float(np.sqrt(np.sum(weights * (a - mean) ** 2)))
        print(
            f"{variable['name']}: reweighted mean {mean:.4g} sd {sd:.4g} quantiles "
            f"{np.round(_weighted_quantiles(a, weights, (0.05, 0.5, 0.95)), 4).tolist()}; direct mean "
            f"{b.mean():.4g} sd {b.std():.4g} quantiles {np.round(np.quantile(b, (0.05, 0.5, 0.95)), 4).tolist()}"
        )
        low, high = P.variable_bounds(variable)
        for side, at_bound in (("lower", a <= low), ("upper", a >= high)):
            direct_share = float(np.mean(b <= low) if side == "lower" else np.mean(b >= high))
            if np.any(at_bound) or direct_share:
                print(
                    f"    at its {side} bound: reweighted {np.sum(weights * at_bound):.4f}, direct {direct_share:.4f}"
                )
        edges = np.quantile(direct.x[direct.enrolled, j], (0.0, 0.25, 0.5, 0.75, 1.0))
        edges[0], edges[-1] = -np.inf, np.inf
        reweighted = _quartile_incidence(library, weights, j, edges)
        drawn = _quartile_incidence(direct, uniform, j, edges)
        print(
            "    incidence by quartile (reweighted / direct): "
            + ", ".join(f"{r:.1f} / {d:.1f}" for r, d in zip(reweighted, drawn))
        )


def draws(seeds: list[int], samples: int, out: Path, workers: int) -> None:
    from glucosim.sweep.load import parse_sweep
    from glucosim.sweep.runner import run_sweep

    problem = P.load_population_targets()
    for seed in seeds:
        data, _ = P.check_sweep_data(problem)
        data["seed"] = int(seed)
        data["design"]["samples"] = int(samples)
        loaded = parse_sweep(data, source=str(problem.sweep), text="# tools/population_draws.py\n" + repr(data))
        folder = out / f"seed-{seed}-{samples}"
        run_sweep(loaded, folder, workers=workers, progress=False)
        library = P.Library.from_results(
            P.library_results(folder, loaded), [v["name"] for v in P._variable_dicts(data)], problem.follow_up_years
        )
        uniform = np.full(len(library.x), 1.0 / len(library.x))
        found, errors = P.statistics(library, uniform), P.statistic_errors(library, uniform)
        print(
            f"seed {seed}: {int(library.enrolled.sum())} enrolled of {samples}; "
            + "; ".join(f"{name} {found[name]:.4g} +- {errors[name]:.2g}" for name in found),
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true", help="the reweighted library against the direct check")
    parser.add_argument("--seeds", type=int, nargs="*", default=[], help="draw the check's design with these seeds")
    parser.add_argument("--samples", type=int, default=3500, help="patients per draw (default 3500)")
    parser.add_argument("--out", type=Path, default=Path("results/population_draws"), help="where draws are kept")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.compare and not args.seeds:
        parser.error("nothing to do: give --compare, --seeds, or both")
    if args.compare:
        compare(args.workers)
    if args.seeds:
        draws(args.seeds, args.samples, args.out, args.workers)
    return 0


if __name__ == "__main__":  # the sweep's worker processes import this file; only the parent runs it
    raise SystemExit(main())
