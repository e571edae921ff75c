"""Screening before simulating: a trial enrols only the patients its screening visit admits.

A prevention trial such as the DPP (Knowler et al. 2002, NEJM 346:393; the
protocol: DPP Research Group 1999, Diabetes Care 22:623) screened many people
to enrol a few: here, of the shipped prevention sweep's patients only ~3.5 % pass. The
screening needs nothing but the patient on day 0, so a sweep whose file has

    [screening]
    rule = "dpp"

screens every sampled patient first (its day 0 in the reference arm, the
sweep's first arm: one simulated day and one 75-g OGTT, ~0.05 s of CPU) and
simulates the arms only for the enrolled. The rest are rows of the results
with ``status`` ``screened_out`` and no outputs.

This module is the one definition of the screening visit: the sweep runs it
before simulating, and the virtual DPP clinic (``glucosim.analysis.sweep.clinic``,
which reads the follow-up off a sweep's daily table) runs the same visit on the
same values, so a screened sweep enrols exactly the patients the clinic enrols
after an unscreened one of the same seed.

The DPP's screening, staged (Diabetes Care 22:623 and Diabetes Care 2005 28:2974,
PMC1314971): a preliminary fasting glucose in the window (95-125 mg/dl), then at
the eligibility visit a 75-g OGTT (``clinic.runner.run_protocol("ogtt_75g")`` on
the day-0 state) with its fasting glucose in the window too and its 2-h glucose
at impaired glucose tolerance (140-199 mg/dl). Each test is the patient's true
value times (1 + CV z), z standard normal from the patient's own stream (seeded
by the sample number, so the same in every arm and every rerun), with the
within-person coefficients of variation of Selvin et al. 2007 (Arch Intern Med
167:1545): fasting glucose 5.7 %, HbA1c 3.6 %; the 2-h glucose 12.7 % (Diabetes
Care 1998 21:336, abstract). Without an OGTT (a results directory read without
its sweep file) the visit's HbA1c stands in for the 2-h glucose.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from glucosim.errors import raise_if_interrupted
from glucosim.simulation.markers import (  # the ADA thresholds' one definition (simulation and the worker use it too)
    FASTING_GLUCOSE_PREDIABETES_MG_DL,
    HBA1C_DIABETES_PERCENT,
    HBA1C_PREDIABETES_PERCENT,
    TWO_HOUR_GLUCOSE_DIABETES_MG_DL,
    TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL,
)
from glucosim.sweep.schema import ScreeningRule
from glucosim.sweep.visits import OGTT_PROTOCOL
from glucosim.sweep.worker import STATUS_SCREENED_OUT as STATUS_SCREENED_OUT  # re-exported: a run not simulated

SCREENING_RULES = typing.get_args(ScreeningRule)
"""Values of a sweep file's ``screening.rule``: "dpp" is the DPP's staged screening with its OGTT (above)."""
FASTING_GLUCOSE_CV = 0.057
"""Within-person coefficient of variation of one fasting glucose (Selvin et al. 2007, Arch Intern Med 167:1545)."""
HBA1C_CV = 0.036
"""Within-person coefficient of variation of one HbA1c (Selvin et al. 2007)."""
TWO_HOUR_GLUCOSE_CV = 0.127
"""Within-person coefficient of variation of the 75-g OGTT's 2-h plasma glucose: 12.7 +- 1.2 % over four OGTTs
on separate mornings in 36 adults (lean, obese, IGT, mild diabetes; Diabetes Care 1998 21:336, abstract read)."""
SCREENING_FASTING_GLUCOSE_MG_DL = (95.0, 125.0)
"""The DPP's fasting-glucose eligibility window (Knowler et al. 2002)."""
SCREENING_TWO_HOUR_GLUCOSE_MG_DL = (TWO_HOUR_GLUCOSE_PREDIABETES_MG_DL, TWO_HOUR_GLUCOSE_DIABETES_MG_DL)
"""The DPP's 2-h eligibility window, impaired glucose tolerance: 140 <= 2-h glucose < 200 mg/dl (140-199)."""
SCREENING_OGTT_PROTOCOL = OGTT_PROTOCOL
"""The eligibility visit's test: the clinic's OGTT (``glucosim.sweep.visits``), the shipped 75-g OGTT."""
CLINIC_SEED = 20020207
"""Seed of the tests' variability (with the sample number): the same draws in every arm and every rerun."""
DRAWS_PER_VISIT = 4
"""Standard-normal draws per visit of a patient's stream (screening: fasting, preliminary fasting, HbA1c, unused)."""
SCREENING_COLUMNS = (
    "sample",
    "fasting_glucose_mg_dl",
    "hba1c_percent",
    "two_hour_glucose_mg_dl",
    "screen_fasting_glucose_mg_dl",
    "screen_hba1c_percent",
    "screen_two_hour_glucose_mg_dl",
    "enrolled",
    "error",
)
"""The screening table: per sample, the true day-0 values (fasting glucose and HbA1c as the run's daily table has
day 0, the OGTT's 2-h glucose), the tests the clinic saw, whether it enrolled, and why a screening was refused."""


@dataclass(frozen=True)
class ClinicSettings:
    """The clinic's measurement variability (set to 0 for a noiseless clinic)."""

    fasting_glucose_cv: float = FASTING_GLUCOSE_CV
    hba1c_cv: float = HBA1C_CV
    seed: int = CLINIC_SEED
    two_hour_glucose_cv: float = TWO_HOUR_GLUCOSE_CV


def visit_draws(sample: int, n_visits: int, settings: ClinicSettings = ClinicSettings()) -> np.ndarray:
    """The patient's test draws, one row of ``DRAWS_PER_VISIT`` per visit (row 0: the screening). A row does not
    depend on how many visits follow it, so the screening sees the same draws as the whole follow-up."""
    return np.random.default_rng((settings.seed, int(sample))).standard_normal((n_visits, DRAWS_PER_VISIT))


def ogtt_draws(sample: int, n_visits: int, settings: ClinicSettings = ClinicSettings()) -> np.ndarray:
    """The patient's draws for the follow-up's OGTTs, one row per visit (the test, its repeat): a stream of
    their own (seed, sample, 3), so a clinic with the yearly OGTT sees the same fasting glucose and HbA1c draws
    as one without it (the screening OGTT's is stream 2)."""
    return np.random.default_rng((settings.seed, int(sample), 3)).standard_normal((n_visits, 2))


def screening_visit(
    sample: int,
    fasting_mg_dl: float,
    hba1c_percent: float,
    two_hour_mg_dl: float = math.nan,
    settings: ClinicSettings = ClinicSettings(),
    ogtt_screening: bool | None = None,
    draws: np.ndarray | None = None,
) -> dict:
    """What the screening visit sees of a patient and whether it enrols them.

    Args:
        sample: the patient's sample number (seeds the tests' variability).
        fasting_mg_dl, hba1c_percent: the true day-0 values (the run's daily table, day 0).
        two_hour_mg_dl: the true 2-h glucose of the eligibility visit's OGTT (NaN: no OGTT, HbA1c stands in).
        ogtt_screening: whether the clinic screened with the OGTT; then a NaN 2-h glucose (a refused test) is not
            enrolled instead of falling back on HbA1c. Default: whether ``two_hour_mg_dl`` is finite.
        draws: the screening row of ``visit_draws`` (default: drawn here).

    Returns:
        ``screen_fasting_glucose_mg_dl``, ``screen_hba1c_percent``, ``screen_two_hour_glucose_mg_dl`` (NaN without
        the OGTT) and ``enrolled``.
    """
    z = visit_draws(sample, 1, settings)[0] if draws is None else draws
    # the preliminary test, then the eligibility visit's (its draws are the screening's unused columns)
    preliminary_fasting = fasting_mg_dl * (1.0 + settings.fasting_glucose_cv * z[1])
    screen_fasting = fasting_mg_dl * (1.0 + settings.fasting_glucose_cv * z[0])
    screen_hba1c = hba1c_percent * (1.0 + settings.hba1c_cv * z[2])
    low, high = SCREENING_FASTING_GLUCOSE_MG_DL
    screen_two_hour = math.nan
    if ogtt_screening is None:
        ogtt_screening = math.isfinite(two_hour_mg_dl)
    if ogtt_screening and not math.isfinite(two_hour_mg_dl):  # the test was refused: not enrolled
        enrolled = False
    elif ogtt_screening:  # the DPP's rule: fasting window and impaired glucose tolerance
        # its own stream, so the fasting and HbA1c draws are those of a clinic without the OGTT
        z_two_hour = float(np.random.default_rng((settings.seed, int(sample), 2)).standard_normal())
        screen_two_hour = two_hour_mg_dl * (1.0 + settings.two_hour_glucose_cv * z_two_hour)
        low_2h, high_2h = SCREENING_TWO_HOUR_GLUCOSE_MG_DL
        enrolled = (
            low <= preliminary_fasting <= high and low <= screen_fasting <= high and low_2h <= screen_two_hour < high_2h
        )
    else:  # HbA1c stands in for the 2-h glucose
        enrolled = (
            low <= preliminary_fasting <= high
            and low <= screen_fasting <= high
            and (screen_fasting >= FASTING_GLUCOSE_PREDIABETES_MG_DL or screen_hba1c >= HBA1C_PREDIABETES_PERCENT)
            and screen_hba1c < HBA1C_DIABETES_PERCENT
        )
    return {
        "screen_fasting_glucose_mg_dl": float(screen_fasting),
        "screen_hba1c_percent": float(screen_hba1c),
        "screen_two_hour_glucose_mg_dl": float(screen_two_hour),
        "enrolled": bool(enrolled),
    }


def reference_scenario(loaded, sample: int, values: dict[str, float], what: str):
    """The patient before any intervention: the sweep's first arm (the reference) with this sample's values."""
    from glucosim.scenario.load import parse_scenario
    from glucosim.sweep.scenario_edit import run_scenario_data

    data = run_scenario_data(loaded, loaded.sweep.arms[0], values)
    return parse_scenario(data, source=f"{loaded.source} (sample {sample}, {what})")


def screening_ogtt(scenario, state=None) -> float:
    """The true 2-h glucose of a 75-g OGTT on the morning of day 0 (``state``: the day-0 midnight state, if known)."""
    from glucosim.clinic.runner import run_protocol

    return float(run_protocol(SCREENING_OGTT_PROTOCOL, scenario, day=0, state=state).indices["two_hour_glucose_mg_dl"])


def day0_values(scenario) -> tuple[float, float, float]:
    """(fasting glucose, HbA1c, OGTT 2-h glucose) of the patient on day 0, true values.

    The fasting glucose and HbA1c are the day-0 row of the run's daily table, computed as the run computes it (the
    same resolution and tolerance: ``simulate`` up to day 1 gives day 0 bit for bit as the whole run has it when
    the run's first simulated stretch starts with day 0 alone, a daily routine; a weekly one may differ in the last
    digits of day 0's mean glucose, hence HbA1c). The OGTT starts from the run's own day-0 state.
    """
    from glucosim.simulation.run import ENVELOPE_MIN_DAYS, simulate

    resolution = "envelope" if scenario.scenario.n_days >= ENVELOPE_MIN_DAYS else "full"
    day0 = simulate(scenario, until_day=1, resolution=resolution, progress=False)
    row = day0.daily.iloc[0]
    return (
        float(row["fasting_glucose_mg_dl"]),
        float(row["hba1c_percent"]),
        screening_ogtt(scenario, state=day0.initial_state),
    )


@dataclass(frozen=True)
class ScreeningTask:
    """A unit of screening work: consecutive samples, written together as one screening chunk file."""

    chunk_index: int
    loaded: object  # LoadedSweep
    samples: tuple[tuple[int, tuple[float, ...]], ...]  # (sample, its variable values)


def screen_patient(loaded, sample: int, values: dict[str, float], settings: ClinicSettings = ClinicSettings()) -> dict:
    """One row of the screening table (``SCREENING_COLUMNS``); a patient whose day 0 or OGTT fails (a refused
    input, or any other error, as a run's is recorded) is not enrolled, with the reason in ``error``."""
    row = {"sample": int(sample), "error": None}
    try:
        fasting, hba1c, two_hour = day0_values(reference_scenario(loaded, sample, values, "screening"))
    except Exception as exc:  # as a run: one patient's failure is recorded (not enrolled), not the sweep's
        raise_if_interrupted(exc)  # a Ctrl-C stops the screening instead of refusing this patient for good
        fasting = hba1c = two_hour = math.nan
        row["error"] = f"{type(exc).__name__}: {exc}"
    row.update(fasting_glucose_mg_dl=fasting, hba1c_percent=hba1c, two_hour_glucose_mg_dl=two_hour)
    if row["error"] is None:
        row.update(screening_visit(sample, fasting, hba1c, two_hour, settings, ogtt_screening=True))
    else:
        row.update(
            screen_fasting_glucose_mg_dl=math.nan,
            screen_hba1c_percent=math.nan,
            screen_two_hour_glucose_mg_dl=math.nan,
            enrolled=False,
        )
    return row


def screening_frame(rows: Iterable[dict]):
    """The screening table's rows as a DataFrame with its fixed columns and types."""
    import pandas as pd

    frame = pd.DataFrame(list(rows)).reindex(columns=list(SCREENING_COLUMNS))
    frame["sample"] = frame["sample"].astype("int64")
    frame["enrolled"] = frame["enrolled"].astype(bool)
    frame["error"] = frame["error"].astype(pd.StringDtype())
    return frame


def screen_chunk(task: ScreeningTask):
    """Screen every sample of ``task``; returns (chunk index, screening rows DataFrame). Runs on a worker."""
    names = task.loaded.variable_names
    rows = [screen_patient(task.loaded, sample, dict(zip(names, values))) for sample, values in task.samples]
    return task.chunk_index, screening_frame(rows)
