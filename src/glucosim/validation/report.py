"""Write docs/validation.md: every case with its source, published value, glucosim value and verdict."""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from glucosim._files import write_bytes_whole, write_text_whole
from glucosim.validation.cases import BERGMAN_1981_LEAN, Case, _ivgtt, healthy_ivgtt, load_published

FIGURE_DIR_NAME = "images"


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _case_section(case: Case, figures: dict[str, str], level: str = "##") -> list[str]:
    lines = [
        f"{level} {case.title}",
        "",
        f"*Source:* {case.source}",
        "",
        f"*Protocol:* {case.protocol}",
        "",
        "| quantity | published (range) | glucosim | verdict |",
        "|---|---|---|---|",
    ]
    for q in case.quantities:
        verdict = "agrees" if q.agrees else "**disagrees**"
        if q.fit_informed_by:
            verdict += f" (fit-informed: {q.fit_informed_by})"
        lines.append(
            f"| {q.label} ({q.unit}) | {_fmt(q.published)} ({_fmt(q.low)} to {_fmt(q.high)}) | "
            f"{_fmt(q.value)} | {verdict} |"
        )
    remarks = [q for q in case.quantities if q.remark]
    if remarks:
        lines.append("")
        lines += [f"- *{q.label}:* {q.remark}" for q in remarks]
    if case.id in figures:
        lines += ["", f"![{case.title}]({figures[case.id]})"]
    return lines + [""]


FIGURE_STEMS = ("validation_disposition_index", "validation_ha_sherman", "validation_ivgtt_time_course")
"""The figures this page draws (``_figures``), each saved as STEM-HASH.png."""
FIGURE_NAME = re.compile(rf"({'|'.join(FIGURE_STEMS)})(-[0-9a-f]{{12}})?\.png")
"""A file of this page's figures: a stem and the first 12 hex digits of the PNG's SHA-256 (no hash before
2026-12-05). Only these are removed when no page shows them: other files in the folder are left alone."""


def _save_named_by_content(figure, image_dir: Path, stem: str) -> str:
    """Save ``figure`` as ``image_dir/stem-HASH.png`` (HASH: its bytes' SHA-256), whole; its path from the page.

    A page and its figures are written one after the other, so an interrupt between them would leave a page beside
    figures of another run. Named by their content, a new run's figures never overwrite the ones the page on disk
    shows: the page switches to them when it is replaced whole, and the figures no page names are removed after
    (``_remove_unnamed_figures``). Matplotlib's PNG output is the same for the same figure, so an unchanged figure
    keeps its name.
    """
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    data = buffer.getvalue()
    name = f"{stem}-{hashlib.sha256(data).hexdigest()[:12]}.png"
    if not (image_dir / name).is_file():
        write_bytes_whole(image_dir / name, data)
    return f"{FIGURE_DIR_NAME}/{name}"


def _remove_unnamed_figures(image_dir: Path, page_text: str) -> None:
    """Remove this page's figures (``FIGURE_NAME``) in ``image_dir`` that neither ``page_text`` nor another page
    beside it (a ``.md`` file in the images folder's parent, e.g. a second ``--out`` there) shows."""
    if not image_dir.is_dir():
        return
    shown = [page_text] + [
        page.read_text(encoding="utf-8", errors="replace") for page in image_dir.parent.glob("*.md") if page.is_file()
    ]
    for path in image_dir.iterdir():
        if FIGURE_NAME.fullmatch(path.name) and not any(f"{FIGURE_DIR_NAME}/{path.name}" in text for text in shown):
            path.unlink(missing_ok=True)


def _figures(image_dir: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    from glucosim.plotting.style import OKABE_ITO, RC
    from glucosim.reference_models import ha_sherman

    image_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for name, years, colour, label in (
            (
                "02_insulin_resistance_compensated",
                (0.0, 5.0, 10.0, 15.0, 20.0),
                OKABE_ITO["blue"],
                "scenario 02, normal reserve",
            ),
            (
                "03_insulin_resistance_low_reserve",
                (0.0, 4.0, 8.0, 12.0, 16.0),
                OKABE_ITO["vermillion"],
                "scenario 03, low reserve",
            ),
        ):
            indices = _ivgtt(name, years)
            si = [indices[year]["si_1e4_per_min_per_uU_ml"] for year in years]
            air = [indices[year]["air_glucose_uU_ml"] for year in years]
            ax.plot(si, air, "-o", color=colour, label=label)
            for year, x, y in zip(years, si, air):
                ax.annotate(f"y{year:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8, color=colour)
        start = _ivgtt("02_insulin_resistance_compensated", (0.0,))[0.0]
        product = start["si_1e4_per_min_per_uU_ml"] * start["air_glucose_uU_ml"]
        left, right = ax.get_xlim()
        top = ax.get_ylim()[1] * 1.3
        grid = np.linspace(max(left, product / top), right, 200)
        ax.plot(grid, product / grid, color=OKABE_ITO["grey"], ls="--", label="constant DI through year 0")
        ax.set_xlabel("minimal-model SI (1e-4 /min per \u00b5U/ml)")
        ax.set_ylabel("AIRg (\u00b5U/ml)")
        ax.set_ylim(0, top)
        ax.legend(frameon=False, fontsize=8)
        fig.tight_layout()
        paths["disposition_index"] = _save_named_by_content(fig, image_dir, FIGURE_STEMS[0])
        plt.close(fig)

        fig, ax = plt.subplots(figsize=(6, 4))
        for label, kwargs, colour in (
            ("no intervention", {}, OKABE_ITO["black"]),
            ("SI restored at day 1100", {"intervention_day": 1100.0}, OKABE_ITO["green"]),
            ("SI restored at day 1400", {"intervention_day": 1400.0}, OKABE_ITO["vermillion"]),
        ):
            course = ha_sherman.simulate(1800.0, **kwargs)
            ax.plot(course["day"], course["glucose_mg_dl"], color=colour, label=label)
        ax.axhline(126.0, color=OKABE_ITO["grey"], ls=":", lw=1)
        ax.set_xlabel("time (days)")
        ax.set_ylabel("glucose (mg/dl)")
        ax.legend(frameon=False)
        fig.tight_layout()
        paths["ha_sherman_reproduction"] = _save_named_by_content(fig, image_dir, FIGURE_STEMS[1])
        plt.close(fig)

        # the standard IVGTT against Bergman 1981's lean normal-tolerance group (validation/published)
        samples, _ = healthy_ivgtt()
        published = load_published(BERGMAN_1981_LEAN)
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 6), sharex=True)
        for ax, column, key, unit in (
            (top, "glucose_mg_dl", "glucose", "mg/dl"),
            (bottom, "insulin_uU_ml", "insulin", "\u00b5U/ml"),
        ):
            ax.plot(
                samples["time_min"], samples[column], "-o", ms=3, color=OKABE_ITO["blue"], label="glucosim, healthy"
            )
            ax.plot(
                np.maximum(published[key]["time_min"], 0.0),
                published[key]["value"],
                "s",
                ms=4,
                color=OKABE_ITO["vermillion"],
                label="Bergman 1981, lean normal tolerance (n = 5), digitized",
            )
            ax.axhline(samples[column].iloc[0], color=OKABE_ITO["blue"], lw=0.8, ls=":")
            ax.axhline(published[key]["value"][0], color=OKABE_ITO["vermillion"], lw=0.8, ls=":")
            ax.set_ylabel(f"plasma {key} ({unit})")
        top.legend(frameon=False, fontsize=8)
        bottom.set_xlabel("minutes after the 0.3 g/kg glucose bolus (dotted: fasting)")
        fig.tight_layout()
        paths["ivgtt_time_course_healthy"] = _save_named_by_content(fig, image_dir, FIGURE_STEMS[2])
        plt.close(fig)

    return paths


def shipped_targets() -> list[tuple]:
    """(target, glucosim value at the table's parameters) for every calibration target, fit and held out.

    Includes the course targets of the beta-cell decline (validation/course/, glucosim.calibration.course),
    measured on a shipped scenario rather than a clinic protocol.
    """
    from glucosim.calibration.course import shipped_course
    from glucosim.calibration.measure import measure_runs, target_value
    from glucosim.calibration.targets import fit_targets, held_out_targets, load_target_groups

    groups = load_target_groups()
    targets = fit_targets(groups) + held_out_targets(groups)
    runs = measure_runs(targets, {})
    return [(target, target_value({"runs": runs}, target)) for target in targets] + shipped_course()


def _target_table(rows: list[tuple]) -> list[str]:
    lines = ["| target | published (range) | glucosim | verdict | source |", "|---|---|---|---|---|"]
    for target, value in rows:
        verdict = "agrees" if target.agrees(value) else "**disagrees**"
        lines.append(
            f"| {target.label} ({target.unit}) | {_fmt(target.published)} ({_fmt(target.low)} to {_fmt(target.high)}) "
            f"| {_fmt(value)} | {verdict} | {target.source} |"
        )
    return lines


def _disagreement_table(disagreements: list[tuple], held_out: list[tuple]) -> list[str]:
    """One row per disagreement with its cause in a sentence (the list after it gives the measurements)."""
    lines = ["| quantity | published (range) | glucosim | why |", "|---|---|---|---|"]
    rows = [(f"{q.label} ({q.unit}); case `{case.id}`", q, q.value, q.cause) for case, q in disagreements]
    rows += [(f"{t.label} ({t.unit}); held-out target", t, v, t.cause) for t, v in held_out]
    for name, published, value, cause in rows:
        lines.append(
            f"| {name} | {_fmt(published.published)} ({_fmt(published.low)} to {_fmt(published.high)}) "
            f"| {_fmt(value)} | {(cause or 'not summarised: see below').replace('|', '/')} |"
        )
    return lines


def _not_adopted_note(fit: list[tuple]) -> str:
    from glucosim.calibration.targets import load_target_groups

    groups = {target.group for target, _ in fit}
    waiting = [group for group in load_target_groups() if group.id in groups and not group.adopted]
    if not waiting:
        return ""
    names = ", ".join(f"`validation/targets/{group.path.name}`" for group in waiting)
    return (
        f" The fit of {names} is run but not adopted (docs/calibration.md says why), so its targets are shown"
        " at the table's values, not at the fit's."
    )


@dataclass(frozen=True)
class Tally:
    """How many quantities agree, in the page's three sets (see ``write_report``)."""

    fit_agree: int
    fit_total: int
    fit_informed_agree: int  # the validation-case quantities counted in the fit set
    fit_informed_total: int
    validation_agree: int
    validation_total: int
    reproduction_agree: int
    reproduction_total: int

    @property
    def agree(self) -> int:
        """Fit and validation sets together (the reproductions check the engine and are not counted)."""
        return self.fit_agree + self.validation_agree

    @property
    def total(self) -> int:
        return self.fit_total + self.validation_total

    def summary(self) -> str:
        return (
            f"fit set {self.fit_agree} of {self.fit_total}, validation set {self.validation_agree} of "
            f"{self.validation_total}: {self.agree} of {self.total} quantities agree "
            f"({100 * self.agree / max(self.total, 1):.0f} %); reference models {self.reproduction_agree} of "
            f"{self.reproduction_total} reproduced"
        )


def target_set(target) -> str:
    """The page's set of a calibration target: "fit" (fitted by ``glucosim calibrate`` or the course grid) or
    "validation" (a held-out target)."""
    return "fit" if target.kind == "fit" else "validation"


def quantity_set(case: Case, quantity) -> str:
    """The page's set of a validation case's quantity: "reproduction" (a reference model's case: an engine check,
    not counted), "fit" (fit-informed: a calibration target or a parameter from the same study fits the same
    relation, so it is not an independent test) or "validation"."""
    if case.kind == "reproduction":
        return "reproduction"
    return "fit" if quantity.fit_informed_by else "validation"


def tally(cases: list[Case], targets: list[tuple]) -> Tally:
    """Count the page's sets (``target_set``, ``quantity_set``). A case quantity that a calibration target fits in
    another form (fit-informed) is not independent, so it counts in the fit set; held-out targets count in the
    validation set."""
    fit = [(t, v) for t, v in targets if target_set(t) == "fit"]
    held_out = [(t, v) for t, v in targets if target_set(t) == "validation"]
    by_set = {"fit": [], "validation": [], "reproduction": []}
    for case in cases:
        for q in case.quantities:
            by_set[quantity_set(case, q)].append(q)
    informed, independent, reproduced = by_set["fit"], by_set["validation"], by_set["reproduction"]
    informed_agree = sum(q.agrees for q in informed)
    return Tally(
        fit_agree=sum(t.agrees(v) for t, v in fit) + informed_agree,
        fit_total=len(fit) + len(informed),
        fit_informed_agree=informed_agree,
        fit_informed_total=len(informed),
        validation_agree=sum(q.agrees for q in independent) + sum(t.agrees(v) for t, v in held_out),
        validation_total=len(independent) + len(held_out),
        reproduction_agree=sum(q.agrees for q in reproduced),
        reproduction_total=len(reproduced),
    )


def write_report(cases: list[Case], path, figures: bool = True, targets: list[tuple] | None = None) -> Path:
    """Write the validation page to ``path`` (figures beside it, in images/).

    The page keeps apart the fit set (calibration targets of kind fit: agreement there is by construction),
    the validation set (held-out targets and the validation cases: never fitted to) and the reference-model
    reproductions (engine checks). ``targets``: (target, value) pairs; default: ``shipped_targets()``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    targets = shipped_targets() if targets is None else targets
    fit = [(t, v) for t, v in targets if t.kind == "fit"]
    held_out = [(t, v) for t, v in targets if t.kind != "fit"]
    validation = [case for case in cases if case.kind != "reproduction"]
    reproductions = [case for case in cases if case.kind == "reproduction"]
    figure_paths = _figures(path.parent / FIGURE_DIR_NAME) if figures else {}
    disagreements = [(case, q) for case in validation for q in case.quantities if not q.agrees]
    counts = tally(cases, targets)
    fit_agree, fit_total = counts.fit_agree, counts.fit_total
    informed_agree, informed_total = counts.fit_informed_agree, counts.fit_informed_total
    validation_agree, validation_total = counts.validation_agree, counts.validation_total
    every = counts.total
    lines = [
        "# Validation: glucosim against published physiology",
        "",
        "Generated by `glucosim validation` on "
        f"{datetime.date.today().isoformat()}; do not edit by hand. Each case is a data file in",
        "`validation/cases/` naming its source, the published value and its spread; the test",
        "`tests/test_validation.py` fails if a case that agrees stops agreeing, or if a documented",
        "disagreement silently changes. The calibration targets are data files in `validation/targets/`",
        "(docs/calibration.md shows the fit and what its targets pin down). The numbers of this page are in",
        f"`{path.with_suffix('.json').name}` beside it, which `glucosim validation --compare` reads to say what a",
        "change to the model moved.",
        "",
        "The page keeps three sets apart:",
        "",
        f"- **Fit set:** {fit_agree} of {fit_total} agree: {fit_agree - informed_agree} of {len(fit)}"
        f" calibration targets and {informed_agree} of {informed_total} validation-case quantities that a"
        " calibration target or a parameter set from the same study informs (marked *fit-informed* below: the"
        " same relation is fitted in another form). These numbers are what `glucosim calibrate` or a parameter's"
        " derivation fits to, so agreement here is by construction; a disagreement says the free parameters"
        " cannot reach the target." + _not_adopted_note(fit),
        f"- **Validation set:** {validation_agree} of {validation_total} quantities agree. None of them was"
        " fitted to: the validation cases below (less the fit-informed ones) and the held-out targets"
        ' (`kind = "validation"`). Two held-out choices are not blind, and their sources say so: the daily'
        " glucosuria target was used to reject a kidney shaped to the clamps, and the UKPDS protocol of the course"
        " was adopted after a diagnostic brought UKPDS's HbA1c inside its ranges.",
        f"- **Reference-model reproductions:** {counts.reproduction_agree} of "
        f"{counts.reproduction_total} reproduce their paper. They check glucosim's engine"
        " on published models, not glucosim's physiology, and are not counted above.",
        "",
        f"All fitted and validation quantities together: {counts.agree} of {every} agree"
        f" ({100 * counts.agree / max(every, 1):.0f} %).",
        "",
        "## Fit set: calibration targets",
        "",
        *_target_table(fit),
        "",
        "## Validation set: never fitted to",
        "",
        f"**{validation_agree} of {validation_total} quantities agree with the published range.**",
        "",
        "| case | quantities | agree |",
        "|---|---|---|",
    ]
    lines += [
        f"| {case.title} | {len(case.quantities)} | {sum(q.agrees for q in case.quantities)} |" for case in validation
    ]
    if held_out:
        lines.append(f"| held-out calibration targets | {len(held_out)} | {sum(t.agrees(v) for t, v in held_out)} |")
    lines += ["", "### Where glucosim disagrees", ""]
    lines += _disagreement_table(disagreements, [(t, v) for t, v in held_out if not t.agrees(v)])
    lines += ["", "In detail (what was measured and what was tried):", ""]
    lines += [
        f"- **{case.title}, {q.label}:** published {_fmt(q.published)} ({_fmt(q.low)} to {_fmt(q.high)}) "
        f"{q.unit}, glucosim {_fmt(q.value)}. {q.remark}"
        for case, q in disagreements
    ]
    lines += [
        f"- **held-out target, {t.label}:** published {_fmt(t.published)} ({_fmt(t.low)} to {_fmt(t.high)}) "
        f"{t.unit}, glucosim {_fmt(v)}. Source: {t.source}"
        for t, v in held_out
        if not t.agrees(v)
    ]
    lines.append("")
    if held_out:
        lines += ["### Held-out calibration targets", "", *_target_table(held_out), ""]
    for case in validation:
        lines += _case_section(case, figure_paths, level="###")
    lines += [
        "## Reference models reproduced on glucosim's engine",
        "",
        "Published models run on glucosim's integrator and compared with their papers (the same checks as",
        "`tests/test_reference_models.py`): they show the engine and the ideas glucosim borrows reproduce,",
        "not that glucosim's own physiology is right.",
        "",
    ]
    for case in reproductions:
        lines += _case_section(case, figure_paths, level="###")
    page = "\n".join(lines)
    write_text_whole(path, page)  # the page of a 3-minute run: never left half-written by an interrupt
    if figures:
        _remove_unnamed_figures(path.parent / FIGURE_DIR_NAME, page)
    return path
