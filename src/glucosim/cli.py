"""The ``glucosim`` command line.

Conventions: a scenario, sweep, protocol or figure is given by a file path or a
shipped name (``--list`` shows the names); ``--out`` is always where output is
written; every error is one line (or one block) starting with ``error:`` and
exits with status 2.

glucosim scenarios                         list the shipped scenarios
glucosim run SCENARIO [--out DIR]          run a scenario to results and figures (--set NAME=VALUE: what-ifs)
glucosim check SCENARIO ...                check scenario files without running them
glucosim clinic PROTOCOL --subject S       a clinical test on a virtual subject
glucosim export-sbml --out F               the fast model as SBML (extra: glucosim[sbml])
glucosim validation [--out docs/validation.md]  hold the model against published physiology
glucosim calibrate [--write]               refit the calibrated parameters to validation/targets (resumable)
glucosim calibrate-population [--write]    fit the prediabetic cohort to the DPP (validation/targets/population)
glucosim presets                           list subject presets
glucosim parameters [--compartment NAME]   print the parameter table
glucosim figure NAME [--scenario S] [--out F.svg]  a named figure (--list shows them)
glucosim gallery [--out docs]              every figure and its page, figures.md
glucosim sweep SWEEP --out DIR             a parameter sweep or virtual cohort (resumable)
glucosim analyze DIR                       outcome tables, sensitivity indices and maps of a sweep
"""

import math
import os
import sys
import warnings
from pathlib import Path

import click

from glucosim.cli_options import ORAL_GLUCOSE_G, SLURM_MEMORY, SLURM_WALLTIME, YEARS
from glucosim.errors import GlucosimError


def _fail(error: Exception | str):
    """Print ``error: MESSAGE`` to stderr and exit with status 2 (the one error style of the CLI)."""
    click.echo(f"error: {error}", err=True)
    sys.exit(2)


def _check_output(path: Path, suffixes: tuple[str, ...] = (), *, folder: bool = False) -> None:
    """Refuse, before any work, an output ``path`` that cannot be written or would replace the wrong kind of file.

    ``suffixes``: the file's allowed endings (its suffix says what it is, so an SBML or report ``--out`` cannot
    replace a scenario, sweep or README by a slip). ``folder``: ``path`` is a folder to write into (made if missing).
    A path under a file, or a file where a folder is wanted, used to fail with a traceback after minutes of work.
    """
    if folder:
        if path.exists() and not path.is_dir():
            _fail(f"{path}: is a file; --out is a folder to write into")
    else:
        if path.is_dir():
            _fail(f"{path}: is a folder; --out is the file to write")
        if suffixes and path.suffix.lower() not in suffixes:
            endings = ", ".join(suffixes[:-1]) + (" or " if len(suffixes) > 1 else "") + suffixes[-1]
            _fail(f"{path}: --out must end in {endings} (the kind of file this command writes)")
    ancestor = path if folder else path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        _fail(f"{path}: {ancestor} is a file, not a folder to write into")
    if not os.access(ancestor, os.W_OK):
        _fail(f"{path}: folder {ancestor} is not writable")


def _deprecated(old: str, new: str) -> None:
    click.echo(f"warning: '{old}' is deprecated; use '{new}'", err=True)


def _echo_names(names: dict[str, str]) -> None:
    width = max((len(name) for name in names), default=0)
    for name, description in names.items():
        click.echo(f"{name:{width}s}  {description}")


def _scenario_descriptions() -> dict[str, str]:
    from glucosim._resources import shipped_scenarios
    from glucosim._toml import load_toml

    return {name: load_toml(path).get("description", "") for name, path in shipped_scenarios().items()}


def _parse_value(text: str):
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in lowered else number


def _overrides(settings: tuple[str, ...]) -> dict:
    overrides = {}
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or not name.strip():
            _fail(f"--set {setting!r}: write NAME=VALUE, e.g. --set insulin_sensitivity_whole_body=0.5")
        name = name.strip()
        if name in overrides:  # the last one silently won
            _fail(f"--set {name!r} is given twice ({overrides[name]} and {_parse_value(value)}); give it once")
        overrides[name] = _parse_value(value)
    return overrides


def _day_list(spec: str, n_days: int) -> list[int]:
    """``"0,100-102,last"`` -> [0, 100, 101, 102, n_days - 1]."""
    days: list[int] = []
    for part in (piece.strip() for piece in spec.split(",") if piece.strip()):
        try:
            if part == "last":
                days.append(n_days - 1)
            elif "-" in part:
                first, last = (int(x) for x in part.split("-", 1))
                if first < 0 or last < 0:  # "0--1" was said to run backwards
                    _fail(f"--trace-days {spec!r}: range {part!r} has a negative day; the days are 0 to {n_days - 1}")
                if last < first:  # was an empty range: no trace written, no word said
                    _fail(f"--trace-days {spec!r}: range {part!r} runs backwards; write FIRST-LAST, e.g. 100-106")
                if last >= n_days:  # checked before expanding: 0-999999999 filled the memory
                    _fail(f"--trace-days: range {part!r} reaches outside the run (days 0 to {n_days - 1})")
                days += range(first, last + 1)
            else:
                days.append(int(part))
        except ValueError:
            _fail(f"--trace-days {spec!r}: use day numbers, ranges and 'last', e.g. 0,100-106,last")
    if not days:  # "," wrote no trace and said nothing
        _fail(f"--trace-days {spec!r}: no day given; use day numbers, ranges and 'last', e.g. 0,100-106,last")
    outside = [day for day in days if not 0 <= day < n_days]
    if outside:
        _fail(f"--trace-days: day {outside[0]} is outside the run (days 0 to {n_days - 1})")
    return list(dict.fromkeys(days))


EXIT_IMPLAUSIBLE = 3
"""Exit status of a run or test flagged implausible under --strict."""


def _number(value, spec: str) -> str:
    """A summary number, or 'n/a' where the run was too short to sample it (JSON null)."""
    return "n/a" if value is None else format(value, spec)


def _report_plausibility(verdict, strict: bool, what: str):
    if verdict.plausible:
        return
    click.echo(f"warning: implausible {what}: {verdict.message()}", err=True)
    if strict:
        click.echo("error: --strict: an implausible result is a failure", err=True)
        sys.exit(EXIT_IMPLAUSIBLE)


class _Commands(click.Group):
    """The command group: a GlucosimError that no command catches is still the one error line and status 2.

    Each command reports its own errors; what escapes them is raised on import, where every command reads the
    parameter table (physiology.indices: a syntax error in models/parameters.toml used to be a traceback from every
    command, naming no file)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GlucosimError as error:
            _fail(error)


@click.group(cls=_Commands)
@click.version_option(package_name="glucosim")
def main():
    """glucosim: glucose-insulin physiology from one meal to decades."""


@main.command()
def scenarios():
    """List the shipped scenarios (any command takes one by name)."""
    _echo_names(_scenario_descriptions())


@main.command()
@click.argument("scenario", required=False)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="output directory (default: results/<scenario name>)",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="what-if: change a duration, subject or routine field, or a parameter by table name (repeatable)",
)
@click.option(
    "--trace-days",
    default=None,
    metavar="DAYS",
    help="write these days' 5-minute traces and CGM metrics as CSV, e.g. 0,365-371,last",
)
@click.option("--no-figures", is_flag=True, help="skip the PNG figures")
@click.option("--progress/--no-progress", default=None, help="progress bar (default: on for runs of a year or more)")
@click.option(
    "--method", default=None, metavar="NAME", help="solver method (default dopri5; --method list shows the registered)"
)
@click.option(
    "--resolution",
    default=None,
    metavar="MODE",
    help="full (every day), envelope (multi-day steps on the slow states) or auto (default: envelope from a year)",
)
@click.option("--list", "list_names", is_flag=True, help="list the shipped scenarios and exit")
@click.option("--overwrite", is_flag=True, help="replace the results of another run in --out")
@click.option(
    "--strict", is_flag=True, help=f"fail (exit {EXIT_IMPLAUSIBLE}) if the run leaves the physiological bands"
)
def run(
    scenario,
    out_dir,
    settings,
    trace_days,
    no_figures: bool,
    progress,
    method,
    resolution,
    list_names: bool,
    overwrite: bool,
    strict: bool,
):
    """Run SCENARIO (a file or a shipped name) and write summary.json, daily.csv, yearly.csv and figures
    (all at once, when complete)."""
    if list_names:
        _echo_names(_scenario_descriptions())
        return
    if method is not None:
        from glucosim.solver import method_names

        if method == "list":
            click.echo("\n".join(method_names()))
            return
        if method not in method_names():
            _fail(f"--method: unknown solver method {method!r}; choose one of: {', '.join(method_names())}")
    if resolution is not None:
        from glucosim.simulation.run import RESOLUTIONS

        if resolution not in RESOLUTIONS:
            _fail(f"--resolution: unknown mode {resolution!r}; choose one of: {', '.join(RESOLUTIONS)}")
    if scenario is None:
        _fail("give a SCENARIO file or shipped name (glucosim scenarios lists them)")
    from glucosim.api import load_scenario, simulate
    from glucosim.io.results import check_output_dir, write_result
    from glucosim.simulation.plausibility import verdict_of_summary

    out_dir = out_dir or Path("results") / Path(scenario).stem
    try:
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always")
            loaded = load_scenario(scenario, **_overrides(settings))
        for note in notes:
            click.echo(
                f"{'warning' if issubclass(note.category, DeprecationWarning) else 'note'}: {note.message}", err=True
            )
        days = _day_list(trace_days, loaded.scenario.n_days) if trace_days else []
        check_output_dir(out_dir, overwrite=overwrite)  # before minutes of simulation, not after
        click.echo(f"running '{loaded.scenario.name}' ({loaded.scenario.n_days} days) ...", err=True)
        from glucosim._compile_notice import compile_notice

        with compile_notice():  # one line if numba compiles the core (a fresh install's first run): it takes minutes
            result = simulate(loaded, progress=progress, method=method, resolution=resolution)
            if days:  # each day is integrated again after the run (a year of days takes seconds): say why it waits
                click.echo(f"tracing {len(days)} day{'s' if len(days) > 1 else ''} at full resolution ...", err=True)
            paths = write_result(result, out_dir, figures=not no_figures, overwrite=overwrite, trace_days=days)
    except GlucosimError as error:
        _fail(error)
    summary = result.summary
    final = summary["final"]
    click.echo(f"{summary['scenario']}: final stage {summary['final_stage']}")
    click.echo(
        f"  final fasting glucose {_number(final['fasting_glucose_mg_dl'], '.1f')} mg/dl, fasting insulin "
        f"{_number(final['fasting_insulin_uU_ml'], '.1f')} uU/ml, HbA1c {_number(final['hba1c_percent'], '.2f')} %"
    )
    crossings = {name: day for name, day in summary["first_crossing_day"].items() if day is not None}
    click.echo("  first crossings (day): " + (", ".join(f"{k} {v}" for k, v in crossings.items()) or "none"))
    click.echo(f"  simulated in {summary['provenance']['wall_time_s']:.1f} s; wrote {len(paths)} files to {out_dir}/")
    _report_plausibility(verdict_of_summary(summary), strict, f"run (see {out_dir / 'summary.json'})")


def _check(scenarios) -> None:
    from glucosim.api import load_scenario
    from glucosim.scenario.compile import ScenarioProgram

    failed = False
    for path in scenarios:
        try:
            loaded = load_scenario(path)
            program = ScenarioProgram(loaded)
            for day in {0, program.n_days - 1, *(start for start, _ in program.change_days)}:
                program.day_plan(day)
        except GlucosimError as error:
            click.echo(f"error: {error}", err=True)
            failed = True
            continue
        click.echo(f"ok: {path} ('{loaded.scenario.name}', {loaded.scenario.n_days} days)")
    sys.exit(2 if failed else 0)


@main.command()
@click.argument("scenarios", nargs=-1, required=True)
def check(scenarios):
    """Check SCENARIOS (files or shipped names) without running them; exit status 2 if any is invalid."""
    _check(scenarios)


@main.command(hidden=True)
@click.argument("scenarios", nargs=-1, required=True)
def validate(scenarios):
    """Deprecated name of ``check``."""
    _deprecated("glucosim validate", "glucosim check")
    _check(scenarios)


def _subject(subject: str):
    """A preset name, a scenario file, or a shipped scenario name (with or without .toml) -> what ``run_protocol``
    takes."""
    from glucosim.api import clinic_subject
    from glucosim.errors import ScenarioError

    try:
        return clinic_subject(subject)
    except ScenarioError as error:
        # it went on as a preset name, and the error listed the presets alone (a misspelt scenario name)
        _fail(f"--subject: {error}")


@main.command()
@click.argument("protocol", required=False)
@click.option(
    "--subject",
    default="healthy",
    show_default=True,
    help="a preset name (lives the reference day), a scenario file or a shipped scenario name",
)
@click.option("--at-year", type=YEARS, default=0.0, show_default=True, help="when in the scenario to test (years)")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="write clinic.json and clinic_samples.csv here",
)
@click.option("--list", "list_names", is_flag=True, help="list the shipped protocols and exit")
@click.option("--strict", is_flag=True, help=f"fail (exit {EXIT_IMPLAUSIBLE}) if glucose leaves the physiological band")
def clinic(protocol, subject: str, at_year: float, out_dir, list_names: bool, strict: bool):
    """Run the clinical test PROTOCOL (a shipped name or a protocol file) on a virtual subject."""
    from glucosim.clinic.protocol import available_protocols, load_protocol

    if list_names:
        _echo_names({name: load_protocol(name).protocol.name for name in available_protocols()})
        return
    if protocol is None:
        _fail(f"give a PROTOCOL file or shipped name; shipped: {', '.join(available_protocols())}")
    from glucosim.clinic.runner import run_protocol
    from glucosim.physiology.units import DAYS_PER_YEAR, year_start_day

    try:
        result = run_protocol(protocol, _subject(subject), day=year_start_day(at_year))
    except GlucosimError as error:
        _fail(error)
    click.echo(
        f"{result.protocol.protocol.name} on '{result.subject}', "
        f"day {result.day} (year {result.day / DAYS_PER_YEAR:.2f})"
    )
    for name, value in result.to_dict()["indices"].items():
        shown = value if isinstance(value, str) or value is None else f"{value:.4g}"
        click.echo(f"  {name:36s} {shown}")
    columns = ["time_min", "glucose_mg_dl", "insulin_uU_ml", "iv_glucose_mg_kg_min", "liver_output_mg_kg_min"]
    click.echo(result.samples[columns].to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    if out_dir is not None:
        try:
            paths = result.save(out_dir)
        except GlucosimError as error:  # a folder holding a run or a sweep: the message names it
            _fail(error)
        except OSError as error:
            _fail(f"{out_dir}: could not write the results: {error.strerror or error}")
        click.echo(f"wrote {', '.join(str(path) for path in paths.values())}")
    _report_plausibility(result.plausibility(), strict, "test (its indices are not meaningful)")


SBML_SUFFIXES = (".xml", ".sbml")
"""Endings export-sbml writes to."""


@main.command("export-sbml")
@click.option(
    "--subject",
    default="healthy",
    show_default=True,
    help="a preset name, a scenario file or a shipped scenario name",
)
@click.option("--at-year", type=YEARS, default=0.0, show_default=True, help="when in the scenario (years)")
@click.option(
    "--oral-glucose-g",
    type=ORAL_GLUCOSE_G,
    default=0.0,
    show_default=True,
    help="glucose drink in the stomach at time 0 (75 for an OGTT)",
)
@click.option(
    "--days",
    type=click.IntRange(min=1, max=3650),
    default=None,
    help="the whole model (slow states too) living this many days of the subject's routine, its meals, "
    "exercise and sleep as events (instead of the fast model at one morning)",
)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_sbml(subject: str, at_year: float, oral_glucose_g: float, days, out_file: Path):
    """Write the model as SBML Level 3: the fast model at a morning (a clinic test), or with --days the whole
    model over the subject's days."""
    _check_output(out_file, SBML_SUFFIXES)
    try:
        from glucosim.io.sbml import write_sbml, write_scenario_sbml
    except ImportError:  # pragma: no cover - depends on the environment
        _fail("SBML export needs python-libsbml: pip install 'glucosim[sbml]'")
    if days is not None:
        if at_year or oral_glucose_g:
            _fail("--days exports the run from its start; --at-year and --oral-glucose-g are for the fast model")
        from glucosim.api import load_scenario
        from glucosim.clinic.runner import subject_scenario
        from glucosim.parameters import available_presets

        try:
            with warnings.catch_warnings(record=True) as notes:  # the file's own notes and what a shortened run drops
                warnings.simplefilter("always")
                own = subject_scenario(_subject(subject))
                loaded = load_scenario(own, duration_days=days)
            for note in notes:
                click.echo(f"note: {note.message}", err=True)
            if days > own.scenario.n_days and subject not in available_presets():
                # a preset lives its reference day as long as asked; a scenario has a length of its own
                click.echo(
                    f"note: {own.source} lasts {own.scenario.n_days} day(s); the export runs it for {days}, its "
                    f"last routine going on after its end (give --days {own.scenario.n_days} or fewer for the "
                    f"scenario as written)",
                    err=True,
                )
            path = write_scenario_sbml(out_file, loaded, days)
        except GlucosimError as error:
            _fail(error)
        except OSError as error:
            _fail(f"{out_file}: could not write the SBML file: {error.strerror or error}")
        click.echo(f"wrote {path} (SBML L3V2, whole model, {days} days as events; time in minutes)")
        return
    from glucosim.clinic.runner import morning_test_state, subject_scenario
    from glucosim.physiology.gut import add_meal
    from glucosim.physiology.indices import Par
    from glucosim.physiology.units import grams_to_mg_per_kg, year_start_day

    if not out_file.parent.is_dir():
        _fail(f"{out_file}: no folder {out_file.parent} to write into")
    try:
        loaded = subject_scenario(_subject(subject))
        state, drivers, _ = morning_test_state(loaded, year_start_day(at_year))
    except GlucosimError as error:
        _fail(error)
    p = loaded.parameters
    if oral_glucose_g > 0:
        dose = grams_to_mg_per_kg(oral_glucose_g, p[Par.body_weight])
        add_meal(state, dose, p[Par.absorption_speed_fast], 0.0, 0.0)  # a glucose drink
    try:
        path = write_sbml(out_file, state, p, drivers, name=f"glucosim: {loaded.scenario.name}, year {at_year:g}")
    except OSError as error:
        _fail(f"{out_file}: could not write the SBML file: {error.strerror or error}")
    click.echo(f"wrote {path} (SBML L3V2; time in minutes)")


@main.command()
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("docs/validation.md"),
    show_default=True,
)
@click.option("--no-figures", is_flag=True)
@click.option(
    "--case",
    "case_ids",
    multiple=True,
    metavar="ID",
    help="run only this case (repeatable; its id is its file's name in validation/cases) and print its quantities "
    "against their published ranges; the page is not written",
)
@click.option(
    "--subjects",
    is_flag=True,
    help="choose the subjects of two exercise cases (Bloem's, Duncan's) again by their written rules (~20-60 s), "
    "print what each rule measured and exit 1 if a rule no longer picks the shipped subject (2 if a rule cannot be "
    "applied); the page is not written",
)
@click.option(
    "--compare",
    "compare_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="print what moved against an earlier run's results (the JSON written beside its page, e.g. the shipped "
    "docs/validation.json): the quantities that began or stopped agreeing and those whose value moved",
)
@click.pass_context
def validation(
    ctx: click.Context,
    out_file: Path,
    no_figures: bool,
    case_ids: tuple[str, ...],
    subjects: bool,
    compare_file: Path | None,
):
    """Run every validation case and write the validation page (about a minute) with its notes (<page>-notes.md: what
    was measured and tried, quantity by quantity) and its numbers as JSON (<page>.json) beside it, check a few cases
    (--case), or check the cases' subjects against their rules (--subjects)."""
    from glucosim.validation.cases import evaluate, run_validation, select_cases
    from glucosim.validation.report import FIGURE_DIR_NAME, notes_path, shipped_targets, tally, write_report
    from glucosim.validation.results import compare_results, load_results, result_records, write_results

    if case_ids or subjects:
        # --case and --subjects write no page: an --out or --no-figures given with them would be silently ignored
        if case_ids and subjects:
            raise click.UsageError("--case and --subjects check different things: give one or the other")
        option = "--case" if case_ids else "--subjects"
        for name, flag in (("out_file", "--out"), ("no_figures", "--no-figures"), ("compare_file", "--compare")):
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT:
                raise click.UsageError(f"{option} writes no page, so {flag} does not apply: give one or the other")
    if subjects:
        sys.exit(_check_validation_subjects())
    if case_ids:
        try:
            selected = select_cases(case_ids)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--case") from None
        cases = [evaluate(case) for case in selected]  # a case's own error is not a bad --case
        changed = False
        for case in cases:
            click.echo(f"{case.id}: {case.title}")
            for q in case.quantities:
                verdict = "agrees" if q.agrees else "disagrees"
                note = "" if q.as_expected else f" (the case file expects it to {q.expect}: changed)"
                changed |= not q.as_expected
                click.echo(
                    f"  {q.label}: glucosim {q.value:.4g} {q.unit}, published {q.published:g} "
                    f"({q.low:g} to {q.high:g}): {verdict}{note}"
                )
        sys.exit(1 if changed else 0)
    _check_output(out_file, (".md",))
    results_file, notes_file = out_file.with_suffix(".json"), notes_path(out_file)
    # the files written beside the page, checked as --out is: a folder in their place used to fail after the run
    for beside, what in ((results_file, "numbers"), (notes_file, "notes")):
        if beside.is_dir():
            _fail(f"{beside}: is a folder; the validation page's {what} are written there (beside --out)")
    image_dir = out_file.parent / FIGURE_DIR_NAME
    if not no_figures and image_dir.exists() and not image_dir.is_dir():
        _fail(f"{image_dir}: is a file; the page's figures are written into a folder of that name (or --no-figures)")
    if not no_figures and image_dir.is_dir() and not os.access(image_dir, os.W_OK):
        _fail(f"{image_dir}: folder is not writable; the page's figures are written there (or --no-figures)")
    before = None
    if compare_file is not None:
        try:  # read before the run: a bad file is reported now, not after a minute of cases
            before = load_results(compare_file)
        except GlucosimError as error:
            raise click.BadParameter(str(error), param_hint="--compare") from None
    cases = run_validation(progress=True)
    targets = shipped_targets()
    # the numbers first, then the notes, the figures and the page (write_report): each file is written whole, and a
    # failure never leaves a new page beside a missing or stale <page>.json, the comparison's next "before"
    try:
        write_results(results_file, cases, targets)
    except OSError as error:
        _fail(
            f"{results_file}: could not write the validation page's numbers: {error.strerror or error}; the page and"
            " its notes were not written"
        )
    try:
        path = write_report(cases, out_file, figures=not no_figures, targets=targets)
    except OSError as error:  # a full disk after minutes of cases: the file it names is not left half-written
        failed, page = error.filename or out_file, "replaced" if out_file.exists() else "written"
        _fail(
            f"{failed}: could not write: {error.strerror or error}; {results_file.name} holds this run's numbers, but"
            f" the page {out_file.name} was not {page}"
        )
    # the page's own count: the calibration targets are in it, and the reference models are not
    click.echo(f"{tally(cases, targets).summary()}; wrote {path}, {notes_path(path)} and {results_file}")
    if before is not None:
        after = {record["key"]: record for record in result_records(cases, targets)}
        click.echo(f"against {compare_file}:")
        click.echo("\n".join(compare_results(before, after)))
    unexpected = [f"{case.id}.{q.name}" for case in cases for q in case.quantities if not q.as_expected]
    if unexpected:
        click.echo("changed against the case files (update them or the model): " + ", ".join(unexpected), err=True)
        sys.exit(1)


def _check_validation_subjects() -> int:
    """Print each rule-chosen validation subject's rule against the shipped value.

    Returns:
        the exit status: 0 if every rule picks the shipped subject, 1 if one picks another, 2 if one cannot be
        applied (its error is printed, the other rules are still checked).
    """
    from glucosim.validation import cases

    rules = (
        (
            "short_term_exercise_igt (Bloem 2008)",
            cases.BLOEM_SENSITIVITY,
            cases.bloem_sensitivity_by_rule,
            f"2-h OGTT glucose (mg/dl); the highest with IGT (>= {cases.BLOEM_IGT_TWO_HOUR_GLUCOSE_MG_DL:g})",
        ),
        (
            "walking_training_without_weight_loss (Duncan 2003)",
            cases.WALK_SUBJECT["insulin_sensitivity_whole_body"],
            cases.walking_sensitivity_by_rule,
            f"baseline IVGTT SI; the nearest to Duncan's {cases.DUNCAN_BASELINE_SI:g}",
        ),
    )
    status = 0
    for case, shipped, rule, quantity in rules:
        try:
            chosen, measured = rule()
        except ValueError as error:
            click.echo(f"error: {case}: its rule cannot be applied: {error}", err=True)
            status = 2
            continue
        values = ", ".join(f"{x:g}: {v:.4g}" for x, v in measured.items())
        if chosen == shipped:
            verdict = "the shipped subject"
        else:
            verdict = f"NOT the shipped {shipped:g}: update validation/cases.py"
            status = max(status, 1)
        click.echo(f"{case}: sensitivity {chosen:g} ({verdict})\n  {quantity}: {values}")
    return status


@main.command()
@click.option("--targets", "target_dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None)
@click.option(
    "--out",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("docs/calibration.md"),
    show_default=True,
    help="the calibration page",
)
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="evaluation cache")
@click.option("--no-cache", is_flag=True)
@click.option("--write", "write_table", is_flag=True, help="write the calibrated values into models/parameters.toml")
@click.option("--progress/--no-progress", default=True, help="progress bar")
def calibrate(target_dir, report_file: Path, cache_dir, no_cache: bool, write_table: bool, progress: bool):
    """Fit the calibrated parameters to validation/targets, report what the targets pin down (resumable)."""
    from glucosim.calibration import command

    _check_output(report_file, (".md",))
    if no_cache and cache_dir is not None:
        _fail("--no-cache and --cache-dir: give one (--cache-dir names the cache that --no-cache turns off)")
    if write_table:  # a table that cannot be replaced is said now, not after minutes of fitting
        from glucosim.calibration.table import check_writable
        from glucosim.physiology.indices import PARAMETER_TABLE_PATH

        try:
            check_writable((), PARAMETER_TABLE_PATH)
        except GlucosimError as error:
            _fail(error)
    try:
        outcome = command.run(target_dir, cache_dir=None if no_cache else (cache_dir or "default"), progress=progress)
        for line in command.summary_lines(outcome):
            click.echo(line)
        lines, ok = command.finish(outcome, report_file, write_table)
    except GlucosimError as error:
        _fail(error)
    except OSError as error:  # a full disk or a cache that cannot be written
        where = error.filename or report_file
        _fail(f"{where}: could not write: {error.strerror or error} (--no-cache runs without the evaluation cache)")
    for line in lines:
        click.echo(line, err=not ok)
    if not ok:
        sys.exit(1)


@main.command(
    name="calibrate-population",
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def calibrate_population(arguments):
    """Fit the prediabetic cohort to the DPP's baseline and placebo course (resumable; --help for options)."""
    from glucosim.calibration import population

    sys.exit(population.main(list(arguments), prog="glucosim calibrate-population"))


@main.command()
def presets():
    """List the subject presets and what they change."""
    from glucosim.parameters import available_presets, load_preset, preset_description

    for name in available_presets():
        overrides = ", ".join(f"{key} = {value:g}" for key, value in load_preset(name).items()) or "table values"
        click.echo(f"{name}: {preset_description(name)}\n    {overrides}")


@main.command()
@click.option("--compartment", default=None, help="only this compartment, any case (e.g. liver, beta_cells)")
@click.option("--list", "list_names", is_flag=True, help="list the compartments and exit")
def parameters(compartment, list_names: bool):
    """Print the parameter table: name, value, unit, range and source."""
    from glucosim.parameters import DIMENSIONLESS, load_parameter_table

    table = load_parameter_table()
    compartments = list(dict.fromkeys(row.compartment for row in table))
    if list_names:
        _echo_names({name: f"{sum(row.compartment == name for row in table)} parameters" for name in compartments})
        return
    if compartment is not None:
        matching = [name for name in compartments if name.lower() == compartment.lower()]
        if not matching:
            _fail(f"--compartment: unknown compartment {compartment!r}; choose one of: {', '.join(compartments)}")
        compartment = matching[0]
    for row in table:
        if compartment and row.compartment != compartment:
            continue
        # a ratio's unit "1" read as a second number: "= 1 1  [0.05, 3]"
        unit = "(dimensionless)" if row.unit == DIMENSIONLESS else row.unit
        click.echo(f"{row.name} ({row.symbol}) = {row.value:g} {unit}  [{row.low:g}, {row.high:g}]  {row.compartment}")
        click.echo(f"    {row.description}\n    source: {row.source}")


# ---------------------------------------------------------------- figures and the gallery (glucosim.figures)
@main.command()
@click.argument("name", required=False)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help="scenario file or shipped name (repeat for figures that compare several; default: the figure's own)",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="output file, .png, .svg or .pdf (default: results/figures/NAME.png)",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="what-if applied to every scenario of the figure, e.g. --set duration_years=5 (repeatable)",
)
@click.option(
    "--from",
    "from_dirs",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="draw from a results folder of 'glucosim run' instead of simulating (repeatable)",
)
@click.option("--yes", is_flag=True, help="start a long job (e.g. the sweep behind 'reversibility') without asking")
@click.option("--no-cache", is_flag=True, help="simulate again instead of reusing runs kept from earlier commands")
@click.option("--list", "list_figures", is_flag=True, help="list the figures and exit")
def figure(name, scenarios, out_file, settings, from_dirs, yes: bool, no_cache: bool, list_figures: bool):
    """Make the figure NAME (see --list) from scenario files or shipped names, as PNG, SVG or PDF.

    Runs are kept on disk (GLUCOSIM_CACHE_DIR, default ~/.cache/glucosim) by a hash of the scenario and the
    model, so the next figure of the same scenario does not simulate it again.
    """
    from glucosim.figures import FIGURES, RunCache, default_cache_dir, figure_spec, make_figure

    if list_figures or name is None:
        for spec in FIGURES.values():
            click.echo(f"{spec.name:12s} {spec.title} (default: {', '.join(spec.default_scenarios)})")
        if name is None and not list_figures:
            _fail(f"give a figure NAME; choose one of: {', '.join(FIGURES)}")
        return
    out_file = out_file or Path("results") / "figures" / f"{name}.png"
    from glucosim.plotting.style import FIGURE_FORMATS

    _check_output(out_file, tuple(f".{ending}" for ending in FIGURE_FORMATS))
    try:
        spec = figure_spec(name)
        runs = RunCache(cache_dir=None if no_cache else default_cache_dir())
        results = None
        if from_dirs:
            if scenarios or settings:
                _fail("give either --from results folders or --scenario/--set, not both")
            from glucosim.simulation.result import SimulationResult

            results = [SimulationResult.load(directory) for directory in from_dirs]
        if spec.reads_sweep:
            _announce_sweep(runs, list(scenarios) or [f"scenarios/{f}" for f in spec.default_scenarios], yes)
        if settings:
            from glucosim.api import load_scenario

            overrides = _overrides(settings)
            named = list(scenarios) or [Path(f).stem for f in figure_spec(name).default_scenarios]
            with warnings.catch_warnings(record=True) as notes:
                warnings.simplefilter("always")
                scenarios = [load_scenario(scenario, **overrides) for scenario in named]
            for note in notes:
                click.echo(f"note: {note.message}", err=True)
        elif not from_dirs and not spec.reads_sweep:
            pending = [s for s in (list(scenarios) or _default_scenarios(spec)) if not runs.is_stored(s)]
            if pending:
                click.echo(f"simulating {len(pending)} scenario(s) (kept for later figures) ...", err=True)
        make_figure(name, scenarios=list(scenarios), out=out_file, runs=runs, results=results)
    except GlucosimError as error:
        _fail(error)
    click.echo(f"wrote {out_file}")


def _default_scenarios(spec) -> list:
    from glucosim._resources import scenario_dir

    return [scenario_dir() / name for name in spec.default_scenarios]


SECONDS_PER_SIMULATED_YEAR = 1.0
"""Rough cost of one simulated year on one core (0.5-1 s on a laptop), for announcing long jobs."""


def _announce_sweep(runs, sweeps: list, yes: bool) -> None:
    """Say what a figure's sweep will run and how long it may take; without --yes, stop there."""
    import os

    from glucosim._resources import sweep_path

    for reference in sweeps:
        path = sweep_path(Path(str(reference)).name if not Path(str(reference)).is_file() else reference)
        out, n_runs, years, complete = runs.sweep_plan(path)
        if complete:
            continue
        cores = os.cpu_count() or 1
        minutes = n_runs * years * SECONDS_PER_SIMULATED_YEAR / cores / 60
        click.echo(
            f"this figure runs the sweep {path.name}: {n_runs} runs of {years:.3g} years into {out}/ "
            f"(about {max(minutes, 1):.0f} min on {cores} cores; resumable, kept for next time)",
            err=True,
        )
        if not yes:
            _fail("not started: add --yes to run it (or run the sweep yourself with glucosim sweep)")


@main.command()
@click.option(
    "--out",
    "docs_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs"),
    show_default=True,
    help="documentation directory: writes figures.md and images/figures/*.png",
)
@click.option("--docs", "old_docs_dir", type=click.Path(file_okay=False, path_type=Path), default=None, hidden=True)
@click.option(
    "--workers", type=click.IntRange(min=1), default=2, show_default=True, help="processes simulating the scenarios"
)
@click.option("--yes", is_flag=True, help="start the long jobs (the sweeps behind some figures) without asking")
def gallery(docs_dir: Path, old_docs_dir, workers: int, yes: bool):
    """Make every figure from the shipped scenarios and write the gallery page (a few minutes, plus any sweep)."""
    from glucosim.figures import FIGURES, RunCache, default_cache_dir, write_gallery

    if old_docs_dir is not None:
        _deprecated("--docs", "--out")
        docs_dir = old_docs_dir

    _check_output(docs_dir, folder=True)
    runs = RunCache(cache_dir=default_cache_dir())
    try:
        pending = [s for spec in FIGURES.values() if not spec.reads_sweep for s in _default_scenarios(spec)]
        pending = list(dict.fromkeys(s for s in pending if not runs.is_stored(s)))
        click.echo(f"{len(pending)} scenario(s) to simulate, {len(FIGURES)} figures to draw", err=True)
        for spec in FIGURES.values():
            if spec.reads_sweep:
                _announce_sweep(runs, [f"scenarios/{f}" for f in spec.default_scenarios], yes)
        page = write_gallery(
            docs_dir,
            runs=runs,
            workers=workers,
            progress=lambda name: click.echo(f"figure {name} ...", err=True),
        )
    except GlucosimError as error:
        _fail(error)
    click.echo(f"wrote {page} and its images in {docs_dir / 'images' / 'figures'}/")


@main.command()
@click.argument("sweep_file", metavar="SWEEP", required=False)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="results directory (default: results/<sweep file name>); rerun to resume",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="local worker processes (default: all cores)")
@click.option("--chunk-runs", type=click.IntRange(min=1), default=None, help="runs per saved chunk (default 8)")
@click.option("--scheduler", default=None, help="address of a running Dask scheduler, e.g. tcp://host:8786")
@click.option("--slurm", is_flag=True, help="start Dask workers as SLURM jobs (dask-jobqueue)")
@click.option("--slurm-queue", default=None, help="SLURM partition")
@click.option("--slurm-cores", type=click.IntRange(min=1), default=1, show_default=True, help="cores per job")
@click.option("--slurm-memory", type=SLURM_MEMORY, default="2GB", show_default=True, help="memory per job")
@click.option("--slurm-walltime", type=SLURM_WALLTIME, default="01:00:00", show_default=True, help="walltime per job")
@click.option("--slurm-jobs", type=click.IntRange(min=1), default=1, show_default=True, help="number of jobs")
@click.option("--slurm-interface", default=None, help="network interface of the workers (e.g. ib0; lo on one node)")
@click.option(
    "--task-index",
    type=click.IntRange(min=0),
    default=None,
    help="job-array mode: this task's index (e.g. $SLURM_ARRAY_TASK_ID)",
)
@click.option(
    "--task-count",
    type=click.IntRange(min=1),
    default=None,
    help="job-array mode: number of tasks (e.g. $SLURM_ARRAY_TASK_COUNT)",
)
@click.option("--progress/--no-progress", default=True, help="progress bar")
@click.option("--list", "list_names", is_flag=True, help="list the shipped sweeps and exit")
@click.option("--yes", is_flag=True, help="start a sweep larger than the run-count limit without asking")
def sweep(
    sweep_file,
    out_dir,
    workers,
    chunk_runs,
    scheduler,
    slurm,
    slurm_queue,
    slurm_cores,
    slurm_memory,
    slurm_walltime,
    slurm_jobs,
    slurm_interface,
    task_index,
    task_count,
    progress,
    list_names,
    yes,
):
    """Run SWEEP (a sweep file or shipped name) to a results directory; killed, it resumes where it stopped."""
    from glucosim._resources import shipped_sweeps, sweep_path

    if list_names:
        _echo_names({name: str(path) for name, path in shipped_sweeps().items()})
        return
    if sweep_file is None:
        _fail(f"give a SWEEP file or shipped name; shipped: {', '.join(shipped_sweeps())}")
    from glucosim.sweep import SlurmOptions, load_sweep, run_sweep

    try:
        sweep_file = sweep_path(sweep_file)
    except GlucosimError as error:
        _fail(error)
    out_dir = out_dir or Path("results") / sweep_file.stem
    if scheduler and slurm:
        _fail("give --scheduler or --slurm, not both")
    if (task_index is None) != (task_count is None):
        _fail("job-array mode needs both --task-index and --task-count")
    options = None
    if slurm:
        options = SlurmOptions(
            queue=slurm_queue,
            cores=slurm_cores,
            memory=slurm_memory,
            walltime=slurm_walltime,
            jobs=slurm_jobs,
            interface=slurm_interface,
            log_directory=str(out_dir / "slurm-logs"),
        )
    from glucosim._compile_notice import compile_notice

    try:
        # one line if numba compiles the core: loading the sweep compiles the integrator (checking the arms), the
        # workers' fork server or this process (--workers 1) the rest
        with compile_notice():
            loaded = load_sweep(sweep_file)
            outcome = run_sweep(
                loaded,
                out_dir,
                workers=workers,
                chunk_runs=chunk_runs,
                scheduler=scheduler,
                slurm=options,
                task_index=task_index,
                task_count=task_count,
                progress=progress,
                confirm_large=yes,
                announce=lambda line: click.echo(line, err=True),
            )
    except GlucosimError as error:
        _fail(error)
    # a screened sweep's patients who were not enrolled count as finished runs that were never simulated
    screened_out = f", {outcome.n_screened_out} screened out, not simulated" if outcome.n_screened_out else ""
    click.echo(
        f"{loaded.sweep.name}: {outcome.n_done} of {outcome.n_runs} runs done "
        f"({outcome.runs_this_call} now, {outcome.n_failed} failed{screened_out}) in {outcome.wall_time_s:.1f} s"
    )
    if outcome.complete:
        _echo_sweep_summary(out_dir)
    else:
        click.echo("  not complete: run the same command again to finish (finished chunks are kept)")


def _echo_sweep_summary(out_dir: Path):
    import json

    summary = json.loads((out_dir / "summary.json").read_text())
    for arm in summary["arms"]:
        reduction = next((v for k, v in arm.items() if k.startswith("relative_reduction_vs_")), None)
        extra = f", relative reduction {100 * reduction:.0f} %" if reduction is not None else ""
        click.echo(
            f"  {arm['arm']}: diabetes by year {arm['year']} in {100 * arm['diabetes_fraction']:.1f} % "
            f"of {arm['n_runs'] - arm['n_failed']} patients{extra}"
        )
    click.echo(f"  results: {out_dir / 'results.parquet'}; analyse with: glucosim analyze {out_dir}")


@main.command()
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--column",
    "outputs",
    multiple=True,
    help="outcome column for sensitivity indices (repeatable; default: years_to_diabetes, final_hba1c_percent)",
)
@click.option("--output", "old_outputs", multiple=True, hidden=True)
@click.option(
    "--out",
    "analysis_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where to write (default: DIR/analysis)",
)
@click.option("--analysis-dir", "old_analysis_dir", type=click.Path(file_okay=False, path_type=Path), hidden=True)
@click.option("--no-figures", is_flag=True, help="tables only")
def analyze(out_dir: Path, outputs, old_outputs, analysis_dir, old_analysis_dir, no_figures: bool):
    """Cohort outcomes by arm, sensitivity indices (SALib) and outcome maps of the sweep in DIR."""
    if old_analysis_dir is not None:
        _deprecated("--analysis-dir", "--out")
        analysis_dir = old_analysis_dir
    if old_outputs:
        _deprecated("--output", "--column")
        outputs = tuple(outputs) + tuple(old_outputs)
    from glucosim._threads import single_blas_thread, single_blas_thread_environment

    # one BLAS thread: SALib's delta estimator took 36.6-42.0 s of CPU with OpenBLAS's threads on 2 shared cores
    # against 6.6-7.4 s with one (glucosim._threads); set before numpy loads, and on the loaded libraries
    single_blas_thread_environment()
    from glucosim.analysis.sweep import DEFAULT_OUTPUTS, analyze_sweep

    _check_columns(out_dir, outputs)

    try:
        with single_blas_thread():
            found = analyze_sweep(out_dir, tuple(outputs) or DEFAULT_OUTPUTS, analysis_dir, figures=not no_figures)
    except GlucosimError as error:
        _fail(error)
    for arm in found.comparison:
        reduction = next((v for k, v in arm.items() if k.startswith("relative_reduction_vs_")), None)
        among = next((v for k, v in arm.items() if k.startswith("relative_reduction_from_prediabetes_vs_")), None)
        extra = f"; relative reduction {100 * reduction:.0f} %" if reduction is not None else ""
        extra += f" ({100 * among:.0f} % among the prediabetic)" if among is not None and math.isfinite(among) else ""
        click.echo(
            f"{arm['arm']}: diabetes by year {arm['year']}: {100 * arm['diabetes_fraction']:.1f} % "
            f"(prediabetic at start: {100 * arm['diabetes_fraction_from_prediabetes']:.1f} % of "
            f"{arm['n_prediabetic_at_start']}){extra}"
        )
        low, high = arm["diabetes_fraction_ci95"]
        hazard = next((v for k, v in arm.items() if k.startswith("diabetes_hazard_ratio_vs_")), None)
        shown = f"; hazard ratio {hazard:.2f}" if hazard is not None and math.isfinite(hazard) else ""
        shown += " ({:.2f}-{:.2f})".format(*arm["diabetes_hazard_ratio_ci95"]) if shown else ""
        click.echo(f"  Kaplan-Meier 95 % CI {100 * low:.1f}-{100 * high:.1f} %{shown}")
    if found.sensitivity is not None and len(found.sensitivity):
        click.echo(found.sensitivity.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for note in found.notes:
        click.echo(f"note: {note}")
    click.echo(f"wrote {len(found.files)} files to {next(iter(found.files.values())).parent}/")


def _check_columns(out_dir: Path, outputs) -> None:
    """Refuse a --column the sweep's results do not have (it was a note after the analysis, with exit status 0)."""
    results = out_dir / "results.parquet"
    if not outputs or not results.is_file():  # a partial sweep: the analysis reads its chunks and notes the rest
        return
    import pyarrow.parquet as pq

    try:
        columns = pq.read_schema(results).names
    except Exception:  # a corrupt file: the analysis says what is wrong with it
        return
    unknown = [name for name in outputs if name not in columns]
    if unknown:
        outcomes = [name for name in columns if name.startswith(("final_", "years_to_", "first_", "y"))]
        _fail(
            f"--column {unknown[0]!r}: not a column of {results}; choose a results column, e.g. "
            f"{', '.join(outcomes[:12]) or ', '.join(columns[:12])}"
        )


def entry_point() -> None:
    """The console entry point (``glucosim``, ``python -m glucosim.cli``): ``main``, then a clean native exit.

    Arrow's native thread pools (pyarrow writes every sweep chunk and result) can abort the interpreter's
    final teardown with "terminate called without an active exception" (SIGABRT, exit -6) after all the
    work is done and written (apache/arrow#34314); a sweep run then reports failure although its results
    are complete. So once the command has finished, its objects are collected while Arrow is still alive,
    the streams are flushed, and the process exits with the command's code without the native teardown.
    Every command closes its files itself; nothing is left for atexit to do.
    """
    import gc
    import logging

    try:
        main()
        code: int = 0
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            code = exit_.code or 0
        else:  # sys.exit("message"): the message goes to stderr and the code is 1, as Python does it
            print(exit_.code, file=sys.stderr)
            code = 1
    gc.collect()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry_point()
