"""Run a protocol on a virtual subject as it is on a given day of a scenario.

The test starts at the subject's usual fasting-sample time (just before
breakfast) after the overnight fast; slow processes (beta-cell adaptation,
drift, training, weight) are frozen for the few hours of a test. Glucose and
insulin infusions enter plasma; a clamp's glucose infusion is recomputed every
interval from the glucose at that moment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glucosim._files import write_whole
from glucosim._toml import load_toml
from glucosim.clinic import analysis
from glucosim.errors import ClinicError
from glucosim.physiology.gut import meal_event
from glucosim.physiology.indices import (
    N_DRIVERS,
    N_STATES,
    QUADRATURES,
    STATE_NAMES,
    Drv,
    Flux,
    Par,
    St,
)
from glucosim.physiology.units import DAYS_PER_YEAR, MG_PER_G, PMOL_L_PER_UU_ML, grams_to_mg_per_kg, latest_year_in_run
from glucosim.scenario.compile import ScenarioProgram, absorption_speed
from glucosim.scenario.load import LoadedScenario, load_scenario, parse_scenario
from glucosim.scenario.protocol import LoadedProtocol, load_protocol
from glucosim.simulation import markers
from glucosim.simulation.initial_state import initial_state
from glucosim.simulation.organ import default_tolerances, organ_fluxes, organ_integrator
from glucosim.solver import Schedule, integrate_schedule

REFERENCE_ROUTINE_PATH = Path(__file__).resolve().parent.parent / "models" / "reference_routine.toml"
PMOL_PER_MU = PMOL_L_PER_UU_ML
"""Insulin: 1 mU = 6 pmol (the same factor as 1 uU/ml = 6 pmol/l)."""
SAMPLE_COLUMNS = (
    "time_min",
    "glucose_mg_dl",
    "insulin_uU_ml",
    "nefa_mmol_l",
    "iv_glucose_mg_kg_min",
    "liver_output_mg_kg_min",
    "gut_appearance_mg_kg_min",
    "muscle_uptake_mg_kg_min",
    "adipose_uptake_mg_kg_min",
    "brain_uptake_mg_kg_min",
    "splanchnic_uptake_mg_kg_min",
    "liver_uptake_mg_kg_min",
    "secretion_pmol_min",
    "liver_glycogen_mg_kg",
)


@dataclass
class ClinicResult:
    """Samples and indices of one protocol run on one subject on one day."""

    protocol: LoadedProtocol
    subject: str
    day: int
    samples: object  # pandas DataFrame with SAMPLE_COLUMNS
    indices: dict

    def plausibility(self):
        """The samples against the clinic's bands (``simulation.plausibility.check_clinic_samples``)."""
        from glucosim.simulation.plausibility import check_clinic_samples

        return check_clinic_samples(self.samples, self.protocol.protocol.name)

    def to_dict(self) -> dict:
        """JSON-ready summary: protocol, subject, day, indices and the plausibility verdict on the samples (a test
        whose glucose left the bands wrote its indices as a plain result)."""
        return {
            "protocol": self.protocol.protocol.name,
            "kind": self.protocol.protocol.kind,
            "subject": self.subject,
            "day": self.day,
            "year": round(self.day / DAYS_PER_YEAR, 3),
            "indices": {
                key: (value if isinstance(value, str) else _finite_or_none(value))
                for key, value in self.indices.items()
            },
            "plausibility": self.plausibility().to_dict(),
        }

    def save(self, out_dir) -> dict[str, Path]:
        """Write ``clinic.json`` (indices) and ``clinic_samples.csv`` to ``out_dir``.

        Each file is written beside its name and renamed onto it when whole (samples first, indices last), so an
        interrupted save leaves the previous files or the new ones, never a truncated file; ``clinic.json`` records
        the samples file's size and SHA-256 (``samples_file``), so a pair left from two tests (a save killed between
        the renames) is told apart.

        Raises:
            OutputError: ``out_dir`` is a file, or a folder holding a glucosim run (whose own clinic_samples.csv is
                checksummed in its COMPLETE.json) or a sweep.
        """
        from glucosim.io.results import OutputError, output_kind

        out_dir = Path(out_dir)
        kind = output_kind(out_dir)
        if kind == "file":
            raise OutputError(f"{out_dir}: is a file, not a folder; choose another --out")
        if kind in ("run", "sweep"):
            what = "a glucosim run (its clinic_samples.csv is part of it)" if kind == "run" else "a sweep's results"
            raise OutputError(f"{out_dir}: holds {what}; choose another --out for the clinic test")
        from glucosim.io.results import file_record

        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {"csv": out_dir / "clinic_samples.csv", "json": out_dir / "clinic.json"}
        write_whole(paths["csv"], lambda path: self.samples.to_csv(path, index=False, float_format="%.6g"))
        record = {**self.to_dict(), "samples_file": {"name": paths["csv"].name, **file_record(paths["csv"])}}
        write_whole(paths["json"], lambda path: path.write_text(json.dumps(record, indent=2) + "\n"))
        return {"json": paths["json"], "csv": paths["csv"]}


def _finite_or_none(value):
    value = float(value)
    return round(value, 6) if np.isfinite(value) else None


def subject_scenario(subject) -> LoadedScenario:
    """A LoadedScenario for a preset name (living the reference day) or a scenario file path."""
    if isinstance(subject, LoadedScenario):
        return subject
    path = Path(str(subject))
    if path.suffix == ".toml" or path.exists():
        return load_scenario(path)
    routine = load_toml(REFERENCE_ROUTINE_PATH)
    data = {
        "name": f"{subject} (reference day)",
        "duration_days": 1,
        "subject": {"preset": str(subject)},
        "routine": routine,
    }
    return parse_scenario(data, source=f"preset {subject}")


def subject_state(loaded: LoadedScenario, day: int = 0) -> np.ndarray:
    """The subject's full state at midnight starting ``day`` (runs the scenario up to it)."""
    from glucosim.simulation.run import simulate

    program = ScenarioProgram(loaded)
    if not 0 <= day < program.n_days:
        latest_year = latest_year_in_run(program.n_days)
        hint = ""
        if loaded.source.startswith("preset "):
            hint = (
                "; a preset lives one reference day: to test a later year give a scenario that lasts that long "
                "(--subject SCENARIO, a file or a shipped name)"
            )
        raise ClinicError(
            f"{loaded.source}: day {day} is outside the scenario (allowed: 0 to {program.n_days - 1}, "
            f"i.e. years 0 to {max(latest_year, 0.0):g}){hint}"
        )
    if day == 0:
        return initial_state(program)
    return simulate(loaded, until_day=day, progress=False).final_state.copy()


def _base_drivers(program: ScenarioProgram, day: int) -> np.ndarray:
    plan = program.day_plan(day)
    drv = np.zeros(N_DRIVERS)
    drv[Drv.sleep_deficit_h] = plan.sleep_deficit_h
    drv[Drv.cortisol_rel] = plan.cortisol_rel
    drv[Drv.clock_shift_h] = plan.clock_shift_h
    drv[Drv.circadian_misalignment] = plan.circadian_misalignment
    drv[Drv.slow_dynamics_on] = 0.0
    return drv


def morning_test_state(loaded: LoadedScenario, day: int = 0, state: np.ndarray | None = None):
    """The subject's state at the start of a morning test on ``day``, after the overnight fast.

    Returns:
        (state, base drivers for the test (slow dynamics frozen), start time in minutes after midnight).
    """
    program = ScenarioProgram(loaded)
    p = loaded.parameters
    y = (subject_state(loaded, day) if state is None else np.array(state, dtype=float)).copy()
    if y.shape != (N_STATES,):
        raise ClinicError(
            f"{loaded.source}: a test's starting state has {N_STATES} values (STATE_NAMES), got shape {y.shape}; a "
            "state kept by a model with another state table cannot start this one's test"
        )
    y[QUADRATURES] = 0.0
    base = _base_drivers(program, day)
    start = program.day_plan(day).fasting_sample_min
    if start > 0.0:  # a first meal at midnight starts the test at once: there is no overnight stretch to integrate
        overnight = Schedule(np.array([0.0]), np.array([start]), base[None, :], np.zeros((1, N_STATES)))
        y = integrate_schedule(
            organ_integrator(), overnight, y, p, np.array([start]), default_tolerances(), STATE_NAMES
        ).y_final
    return y, base, start


def run_protocol(protocol, subject, day: int = 0, state: np.ndarray | None = None) -> ClinicResult:
    """Run ``protocol`` (name, path or LoadedProtocol) on ``subject`` as it is on ``day``.

    Args:
        protocol: a shipped protocol name (``glucosim.clinic.protocol.available_protocols()``),
            a protocol file path, or a LoadedProtocol.
        subject: a preset name, a scenario file path, or a LoadedScenario.
        day: day of the scenario whose morning the test is done on (0 = start).
        state: the subject's state at midnight of ``day``, if already known
            (e.g. ``SimulationResult.midnight_states[day]``); otherwise computed.
    """
    import pandas as pd

    loaded_protocol = protocol if isinstance(protocol, LoadedProtocol) else load_protocol(protocol)
    spec = loaded_protocol.protocol
    loaded = subject_scenario(subject)
    p = loaded.parameters
    y, base, start = morning_test_state(loaded, day, state)
    integrator, tolerances = organ_integrator(), default_tolerances()

    body_weight = float(p[Par.body_weight])
    insulin_scale = float(p[Par.body_surface_area]) / body_weight * PMOL_PER_MU
    sample_times = spec.sample_times
    control = {0.0, float(spec.duration_min)} | {action.at_min for action in spec.actions}
    boluses = [
        (a.at_min, a.at_min + a.bolus_duration_min, a.iv_glucose_g_per_kg * MG_PER_G / a.bolus_duration_min)
        for a in spec.actions
        if a.iv_glucose_g_per_kg is not None
    ]
    control |= {end for _, end, _ in boluses if end < spec.duration_min}
    if spec.clamp is not None:
        control |= set(np.arange(0.0, spec.duration_min, spec.clamp.interval_min).tolist())
    control = sorted({round(t, 6) for t in control})  # k * interval noise must not make a zero-length segment

    drv = base.copy()
    glucose_now = y[St.glucose_plasma_mg_kg] / p[Par.glucose_distribution_volume]
    target = glucose_now
    if spec.clamp is not None and spec.clamp.target_mg_dl != "fasting":
        target = float(spec.clamp.target_mg_dl)
    fixed_glucose_rate, clamp_rate, previous_glucose = 0.0, 0.0, glucose_now
    rows_y, rows_drv, rows_t = [], [], []
    if len(control) == 1:  # a zero-length test: just the fasting sample
        rows_y, rows_drv, rows_t = [y.copy()], [drv.copy()], [0.0]
    for k, (t, t_next) in enumerate(zip(control, control[1:])):
        jump, reset = np.zeros(N_STATES), np.zeros(N_STATES, dtype=np.bool_)
        for action in (a for a in spec.actions if a.at_min == t):
            if action.oral_glucose_g is not None:
                dose = grams_to_mg_per_kg(action.oral_glucose_g, body_weight)
                speed = absorption_speed(action.absorption, p)
                fat_per_carb, protein_per_carb = (
                    action.fat_g / action.oral_glucose_g,
                    action.protein_g / action.oral_glucose_g,
                )
                drink_jump, drink_reset = meal_event(N_STATES, dose, speed, fat_per_carb, protein_per_carb)
                jump, reset = jump + drink_jump, reset | drink_reset  # a glucose drink or meal (two at once add up)
            if action.iv_glucose_mg_kg_min is not None:
                fixed_glucose_rate = action.iv_glucose_mg_kg_min
            if action.insulin_infusion_mU_m2_min is not None:
                drv[Drv.iv_insulin_pmol_kg_min] = action.insulin_infusion_mU_m2_min * insulin_scale
        if spec.clamp is not None:
            glucose_now = y[St.glucose_plasma_mg_kg] / p[Par.glucose_distribution_volume]
            if k > 0:
                clamp_rate += spec.clamp.gain_mg_kg_min_per_mg_dl * (
                    target - glucose_now
                ) + spec.clamp.damping_mg_kg_min_per_mg_dl * (previous_glucose - glucose_now)
                clamp_rate = max(clamp_rate, 0.0)
            previous_glucose = glucose_now
        bolus_rate = sum(rate for begin, end, rate in boluses if begin <= t < end)
        drv[Drv.iv_glucose_mg_kg_min] = fixed_glucose_rate + clamp_rate + bolus_rate
        last = t_next == control[-1]
        inside = [s for s in sample_times if t <= s < t_next or (last and s == t_next)]
        t_out = np.array(sorted(set(inside) | {t_next})) + start
        schedule = Schedule(
            np.array([start + t]), np.array([start + t_next]), drv[None, :].copy(), jump[None, :], reset[None, :]
        )
        result = integrate_schedule(integrator, schedule, y, p, t_out, tolerances, STATE_NAMES)
        for s in inside:
            row = int(np.searchsorted(result.t, start + s))
            rows_y.append(result.y[row])
            rows_drv.append(drv.copy())
            rows_t.append(s)
        y = result.y_final

    states = np.array(rows_y)
    fluxes = organ_fluxes()(states, np.array(rows_drv), p)
    drivers = np.array(rows_drv)
    samples = pd.DataFrame(
        {
            "time_min": rows_t,
            "glucose_mg_dl": fluxes[:, Flux.glucose_mg_dl],
            "insulin_uU_ml": markers.insulin_uU_ml(fluxes[:, Flux.insulin_pmol_l]),
            "nefa_mmol_l": states[:, St.nefa_mmol_l],
            "iv_glucose_mg_kg_min": drivers[:, Drv.iv_glucose_mg_kg_min],
            "liver_output_mg_kg_min": fluxes[:, Flux.liver_output_mg_kg_min],
            "gut_appearance_mg_kg_min": fluxes[:, Flux.gut_appearance_mg_kg_min],
            "muscle_uptake_mg_kg_min": fluxes[:, Flux.muscle_uptake_mg_kg_min],
            "adipose_uptake_mg_kg_min": fluxes[:, Flux.adipose_uptake_mg_kg_min],
            "brain_uptake_mg_kg_min": fluxes[:, Flux.brain_uptake_mg_kg_min],
            "splanchnic_uptake_mg_kg_min": fluxes[:, Flux.splanchnic_uptake_mg_kg_min],
            "liver_uptake_mg_kg_min": fluxes[:, Flux.liver_uptake_mg_kg_min],
            # pre-hepatic secretion, the rate C-peptide deconvolution estimates, for the whole subject
            "secretion_pmol_min": fluxes[:, Flux.secretion_pmol_kg_min] * body_weight,
            # the liver's glycogen store, what 13C MRS follows through a meal test (Taylor 1996 J Clin Invest 97:126)
            "liver_glycogen_mg_kg": states[:, St.liver_glycogen_mg_kg],
        }
    )
    indices = {
        "fasting": analysis.fasting_indices,
        "ogtt": analysis.ogtt_indices,
        "meal": analysis.meal_indices,
        "ivgtt": analysis.ivgtt_indices,
        "clamp": lambda s: analysis.clamp_indices(s, spec.clamp.steady_state_from_min),
    }[spec.kind](samples)
    return ClinicResult(loaded_protocol, loaded.scenario.name, day, samples, indices)
