"""`glucosim calibrate`: fit, compare with the table, write the report (and, asked, the table)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from glucosim.calibration.fit import FitResult, calibrate, calibrated_values

REPRODUCTION_TOLERANCE = 0.01
"""Relative agreement between a rerun's calibrated values and the table's (the values are written with 4
significant digits; least_squares stops at relative steps of ~1e-8)."""


@dataclass
class CalibrationRun:
    """A finished calibration and how it compares with the table."""

    result: FitResult
    runtime_s: float
    table: dict[str, float]
    calibrated: dict[str, float]

    @property
    def differences(self) -> dict[str, float]:
        """Relative difference of each calibrated value from the table's (absolute where the table holds 0)."""
        return {
            name: value / self.table[name] - 1.0 if self.table[name] != 0.0 else value
            for name, value in self.calibrated.items()
        }

    @property
    def reproduces_table(self) -> bool:
        return all(abs(d) <= REPRODUCTION_TOLERANCE for d in self.differences.values())


def run(
    target_dir: Path | None = None,
    cache_dir="default",
    progress: bool = True,
    max_evaluations: int | None = None,
) -> CalibrationRun:
    """Run the calibration of ``target_dir`` (default validation/targets) and compare with the table."""
    from glucosim.parameters import load_parameter_table

    kwargs = {} if max_evaluations is None else {"max_evaluations": max_evaluations}
    start = time.perf_counter()
    result = calibrate(target_dir, cache_dir=cache_dir, progress=progress, **kwargs)
    runtime = time.perf_counter() - start
    values = calibrated_values(result)
    table = load_parameter_table()
    return CalibrationRun(result, runtime, {name: table[name].value for name in values}, values)


def summary_lines(run_: CalibrationRun) -> list[str]:
    """Plain-text lines for the terminal: each value against the table, and the fit targets."""
    lines = [f"{'parameter':40s} {'calibrated':>12s} {'table':>12s} {'difference':>11s}"]
    for name, value in run_.calibrated.items():
        lines.append(f"{name:40s} {value:12.5g} {run_.table[name]:12.5g} {100 * run_.differences[name]:+10.2f}%")
    lines.append("")
    targets = run_.result.problem.fit + run_.result.problem.held_out
    values = {**run_.result.fit_values, **run_.result.held_out_values}
    for target in targets:
        value = values[target.name]
        verdict = "agrees" if target.agrees(value) else "DISAGREES"
        if target.name in run_.result.undefined:
            verdict = f"undefined: {run_.result.undefined[target.name]}"
        lines.append(
            f"{target.kind:10s} {target.name:36s} {value:10.4g} (published {target.published:g}, "
            f"{target.low:g}-{target.high:g} {target.unit}): {verdict}"
        )
    lines.append(
        f"cost {run_.result.cost:.4g} (start {run_.result.start_cost:.4g}); {run_.result.evaluations} evaluations, "
        f"{run_.result.cached} from the cache; {run_.runtime_s:.0f} s"
    )
    return lines


def finish(run_: CalibrationRun, report_file: Path, write_table: bool) -> tuple[list[str], bool]:
    """Write the report (and the table if asked).

    Returns:
        (lines to print, success): without ``write_table``, success means the table already holds the
        calibrated values within REPRODUCTION_TOLERANCE.
    """
    from glucosim.calibration.report import write_report
    from glucosim.calibration.table import write_parameter_values
    from glucosim.physiology.indices import PARAMETER_TABLE_PATH

    path = write_report(run_.result, report_file, "glucosim calibrate", run_.runtime_s)
    lines = [f"wrote {path}"]
    if write_table:
        changed = write_parameter_values(run_.calibrated, PARAMETER_TABLE_PATH)
        lines.append(
            f"wrote {', '.join(changed)} to {PARAMETER_TABLE_PATH}"
            if changed
            else "the table already holds these values"
        )
        return lines, True
    if run_.reproduces_table:
        lines.append(f"the table holds the calibrated values (within {REPRODUCTION_TOLERANCE:.0%})")
        return lines, True
    far = [name for name, d in run_.differences.items() if abs(d) > REPRODUCTION_TOLERANCE]
    lines.append(
        f"differ from the table by more than {REPRODUCTION_TOLERANCE:.0%}: {', '.join(far)} "
        "(rerun with --write to update models/parameters.toml)"
    )
    return lines, False
