"""Refit everything a change to the model moves, in order, and say what moved on the validation page.

    python tools/refit.py [--population] [--workers N] [--compare FILE] [--out DIR]

A change to a mechanism (a new term, a parameter set from a new source) moves the values that were fitted with the
old model. They are fitted by four commands that depend on each other, so they run in this order:

1. ``glucosim calibrate --write``: the calibrated parameters of validation/targets and, at every evaluation, the
   reference day (secretion_max, insulin_mean_reference, nefa_mean_reference). ~3-4 min on 2 cores. Some of its
   targets are read off scenarios 03 and 21 once diagnosed, so step 2 runs once before it as well (a change that
   delays their diabetes would otherwise stop it); that first run may fail without stopping the refit.
2. ``python -m glucosim.calibration.course --grid --wide --write``: the course of the decline
   (glucotoxicity_threshold, beta_mass_workload_rate) on scenario 03, with 1's values, on the wide grid: a change to
   the model can move the best point off the narrow grid around the shipped one (the faster liver delay of the
   thirtieth session: objective 9.15 at the narrow grid's edge, where the wide grid's ridge lies lower). ~30 s; it
   says when the best point is on the wide grid's edge as well.
3. ``glucosim calibrate-population --write`` (only with ``--population``): the DPP cohort's distributions, with
   1-2's values. ~10 min on 2 cores.
4. ``glucosim validation --subjects``: the two exercise cases whose subjects are chosen by a written rule. Their
   values are constants in glucosim/validation/cases.py (BLOEM_SENSITIVITY, WALK_SUBJECT): this step prints what the
   rules pick now; edit the constants by hand if they moved, then rerun step 5.
5. ``glucosim validation --compare FILE``: the page, written to ``--out`` (a scratch folder by default, so the
   shipped page is not overwritten before you have read what moved), compared with ``FILE`` (default: the shipped
   docs/validation.json, i.e. the model before your change as last committed).

Steps 1-3 write into models/parameters.toml and the cohort file, as their own ``--write`` does; ``git diff`` shows
what they changed and ``git checkout`` undoes it. What this tool does not do: regenerate the stored regression
values (``python -m tests.regression.scenarios``), the shipped page (``glucosim validation``), the figures, or the
prose of the case files and docs whose numbers moved (``glucosim validation`` names the case quantities whose
agreement changed against their files). CONTRIBUTING.md, "Change a mechanism", lists them.

In a git worktree, run it as ``PYTHONPATH=src python tools/refit.py`` so that its commands import the worktree's
package rather than the one the virtual environment was installed from (they inherit the environment).

Exit status: 0 when every step ran (whatever moved), 1 when a step failed: one the later ones need (calibrate, or the
course grid after it: the steps after it are not run), or step 4 or 5 with status 2 (it could not run; their status 1
is what they found, not a failure); 2 on a bad argument (``--compare`` not a validation results file, ``--out`` not a
folder that can be written, ``--workers`` without ``--population``), before any step runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SHIPPED_RESULTS = REPOSITORY / "docs" / "validation.json"


def _glucosim(*arguments: str) -> list[str]:
    """The command line of a glucosim command, run by this interpreter (the checkout's package when installed
    editable, as the README's development setup does)."""
    return [sys.executable, "-m", "glucosim", *arguments]


FAILED_FROM = {"validation subjects": 2, "validation": 2}
"""The lowest exit status that is a failure of a step that does not stop the refit: these two exit 1 for what they
found (a rule that picks another subject, a quantity whose agreement changed against its case file), which the refit
reports, and 2 when they could not run, which it must not report as a refit that ran."""


def steps(population: bool, workers: int, compare: Path, out: Path) -> list[tuple[str, list[str], bool]]:
    """(name, command, whether a non-zero status stops the refit) in the order they must run."""
    course = [sys.executable, "-m", "glucosim.calibration.course", "--grid", "--wide", "--write"]
    chain = [
        # first at the old calibrated values: calibrate's targets need scenario 03's and 21's subjects diagnosed, and
        # a change that delays their diabetes can stop it unless the course is refitted first. Best effort: if no
        # point is feasible yet, calibrate may still move them (and if calibrate then stops, the change itself
        # leaves those subjects undiagnosed: the thirtieth session's floor with a doubled hepatic uptake share).
        ("course grid, before calibrate", course, False),
        ("calibrate", _glucosim("calibrate", "--write", "--no-progress"), True),
        ("course grid", course, True),
    ]
    if population:
        chain.append(
            (
                "population",
                _glucosim("calibrate-population", "--write", "--no-progress", "--workers", str(workers)),
                True,
            )
        )
    # a rule that picks another subject (status 1) is a finding to act on by hand, not a failure of the refit
    chain.append(("validation subjects", _glucosim("validation", "--subjects"), False))
    chain.append(
        (
            "validation",
            _glucosim("validation", "--no-figures", "--out", str(out / "validation.md"), "--compare", str(compare)),
            False,  # status 1: a quantity's agreement changed against its case file, which is what a refit reports
        )
    )
    return chain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/refit.py", description=__doc__.split("\n\n")[0], allow_abbrev=False
    )
    parser.add_argument("--population", action="store_true", help="also refit the DPP cohort (~10 min)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes for --population (default 2)")
    parser.add_argument(
        "--compare",
        type=Path,
        default=SHIPPED_RESULTS,
        help="the results to compare the new page with (default: the shipped docs/validation.json)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the new page and its results (default: a new temporary one)"
    )
    args = parser.parse_args(argv)
    if args.workers is not None and not args.population:  # the CLI refuses an option it would ignore
        parser.error(f"--workers {args.workers} sets the workers of --population: give both, or neither")
    workers = 2 if args.workers is None else args.workers
    if workers < 1:
        parser.error(f"--workers {workers}: give 1 or more")
    # absolute: the steps run in the repository, not in the caller's folder these were given relative to
    compare = args.compare.resolve()
    if not compare.is_file():
        parser.error(f"--compare {args.compare}: no such file (glucosim validation writes one beside its page)")
    from glucosim.errors import GlucosimError
    from glucosim.validation.results import load_results

    try:  # now: a bad file found by the last step would come after calibrate had rewritten the table
        load_results(compare)
    except GlucosimError as error:
        parser.error(f"--compare: {error}")
    if args.out is None:
        out = Path(tempfile.mkdtemp(prefix="glucosim-refit-"))
    else:
        out = args.out.resolve()
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # an existing file, a path under a file, a folder that cannot be written into
            parser.error(f"--out {args.out}: cannot make the folder: {error.strerror or error}")
        if not os.access(out, os.W_OK):
            parser.error(f"--out {args.out}: the folder is not writable")
    failed = []
    for name, command, stops in steps(args.population, workers, compare, out):
        print(f"== {name}: {' '.join(command)}", flush=True)
        start = time.monotonic()
        status = subprocess.run(command, cwd=REPOSITORY).returncode
        print(f"== {name}: exit status {status} after {time.monotonic() - start:.0f} s", flush=True)
        if status != 0 and stops:
            print(f"== stopped: {name} failed, and the steps after it need its values", flush=True)
            return 1
        if name in FAILED_FROM and (status < 0 or status >= FAILED_FROM[name]):  # < 0: killed by a signal
            failed.append(name)
    if failed:
        print(f"== failed: {', '.join(failed)} (exit status 2 or more: it could not run; see its error above)")
        return 1
    print(f"== the new page and its results are in {out}; the parameter table's changes: git diff models/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
