"""The state, flux and driver tables, and the index enums the kernels use.

Numba compiles ``IntEnum`` members to constants, so kernels read
``p[Par.glucose_distribution_volume]`` at no cost. ``Par`` is derived from the
order of ``models/parameters.toml`` (the single source of truth).

States are declared once, in ``STATE_TABLE``, each with its kind, unit,
absolute tolerance and description; the state index ``St``, the names, units,
tolerances (``simulation.organ.default_tolerances``) and the quadrature boundary
are all derived from it. Fluxes (the columns of ``physiology.model
.evaluate_fluxes``) are declared once in ``FLUX_TABLE`` and indexed by ``Flux``.

To add a state (CONTRIBUTING.md, "Add a state"): add one ``dynamic(...)`` row in
the block of its mechanism, above the running integrals, write its derivative
in the mechanism's module and call that from ``model.rhs``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any

from glucosim._toml import load_toml

PARAMETER_TABLE_PATH = Path(__file__).resolve().parent.parent / "models" / "parameters.toml"


def index_enum(name: str, members, doc: str) -> Any:
    """An ``IntEnum`` numbering ``members`` (names) from 0, built from a table.

    Typed ``Any``: the members come from data, so a type checker cannot list
    them; a wrong name fails at import or at the kernel's compilation instead.
    """
    enum = IntEnum(name, [(member, i) for i, member in enumerate(members)])  # type: ignore[misc]  # name not a literal
    enum.__doc__ = doc
    return enum


def _parameter_names() -> dict:
    """The parameter table's entries, read at import (``Par`` numbers them).

    Raises:
        ParameterError: the table cannot be read or is not valid TOML, in one line naming the file and, for a
            syntax error, the line: every command imports this module, and tomllib's own message names no file.
    """
    from glucosim._toml import TOMLDecodeError
    from glucosim.errors import ParameterError

    try:
        return load_toml(PARAMETER_TABLE_PATH)
    except TOMLDecodeError as error:
        raise ParameterError(f"{PARAMETER_TABLE_PATH}: the parameter table is not valid TOML: {error}") from None
    except OSError as error:
        raise ParameterError(f"{PARAMETER_TABLE_PATH}: cannot read the parameter table: {error.strerror}") from None


Par = index_enum("Par", _parameter_names(), "Index of each parameter in the kernel's parameter vector (table order).")


class StateKind(Enum):
    """How the solver treats a state."""

    DYNAMIC = "dynamic"
    """Part of the model: its error steers the step size."""
    QUADRATURE = "quadrature"
    """A running integral of a flux (for daily totals): never steers the step, reset to 0 each output chunk."""


QUADRATURE_ATOL = 1.0
"""Absolute tolerance recorded for running integrals; unused by the step control (they are uncontrolled)."""


class StateTableError(Exception):
    """The state table breaks a rule the solver relies on (a programming error, raised at import)."""


@dataclass(frozen=True)
class StateSpec:
    """One row of the state table.

    ``atol`` is in the state's own unit: ~1e-8 of its physiological scale, so
    relative error dominates (verified against scipy in tests/test_solver.py).
    ``slow`` states change over days to years; they are frozen while the
    driver ``slow_dynamics_on`` is 0 (clinic tests, the starting state) and
    exported as constants to SBML.
    """

    name: str
    unit: str
    atol: float
    description: str
    kind: StateKind = StateKind.DYNAMIC
    slow: bool = False


def dynamic(name: str, unit: str, atol: float, description: str, *, slow: bool = False) -> StateSpec:
    """A row for a state of the model (its error steers the step size)."""
    return StateSpec(name, unit, atol, description, StateKind.DYNAMIC, slow)


def quadrature(name: str, unit: str, description: str) -> StateSpec:
    """A row for a running integral (daily totals are its differences between midnights)."""
    return StateSpec(name, unit, QUADRATURE_ATOL, description, StateKind.QUADRATURE)


# Tolerance scales, in state units (~1e-8 of the physiological scale of each family).
_MG_KG = 1e-5  # glucose masses (meals are 100s-1000s mg/kg) and mg/dl
_PMOL = 1e-6  # insulin, pmol/kg and pmol/l
_REL = 1e-10  # slow relative states (beta cells, drift)

# Order is the state-vector layout: every dynamic state before the first quadrature (checked below).
STATE_TABLE: tuple[StateSpec, ...] = (
    # gut (Dalla Man 2007)
    dynamic("stomach_solid_mg_kg", "mg/kg", _MG_KG, "glucose in the stomach, solid phase"),
    dynamic("stomach_liquid_mg_kg", "mg/kg", _MG_KG, "glucose in the stomach, liquid phase"),
    dynamic("gut_mg_kg", "mg/kg", _MG_KG, "glucose in the intestine"),
    # what travels with the carbohydrate (physiology/gut.py): each meal's own fat, protein and speed
    dynamic("stomach_fat_mg_kg", "mg/kg", _MG_KG, "fat in the stomach"),
    dynamic("stomach_protein_mg_kg", "mg/kg", _MG_KG, "protein in the stomach"),
    dynamic(
        "stomach_speed_carb_mg_kg",
        "mg/kg",
        _MG_KG,
        "stomach glucose weighted by its meal's absorption speed (over the stomach's glucose: its mean speed)",
    ),
    dynamic("gut_fat_mg_kg", "mg/kg", _MG_KG, "fat in the intestine"),
    dynamic("gut_protein_mg_kg", "mg/kg", _MG_KG, "protein in the intestine"),
    dynamic(
        "gut_speed_carb_mg_kg",
        "mg/kg",
        _MG_KG,
        "intestinal glucose weighted by its meal's absorption speed (over the intestine's glucose: its mean speed)",
    ),
    dynamic(
        "stomach_emptied_mg_kg",
        "mg/kg",
        _MG_KG,
        "glucose emptied from the stomach since the latest meal began (0 at each meal; DM2007's dose D is the "
        "stomach's glucose plus this)",
    ),
    # glucose kinetics
    dynamic("glucose_plasma_mg_kg", "mg/kg", _MG_KG, "plasma (and rapidly equilibrating) glucose mass"),
    dynamic("glucose_tissue_mg_kg", "mg/kg", _MG_KG, "glucose mass in slowly equilibrating (insulin-sensitive) tissue"),
    # insulin kinetics
    dynamic("insulin_liver_pmol_kg", "pmol/kg", _PMOL, "insulin mass in the liver"),
    dynamic("insulin_plasma_pmol_kg", "pmol/kg", _PMOL, "insulin mass in plasma"),
    dynamic("insulin_liver_delay1_pmol_l", "pmol/l", _PMOL, "first delay of insulin acting on the liver (acting)"),
    dynamic("insulin_liver_delayed_pmol_l", "pmol/l", _PMOL, "delayed insulin acting on the liver (acting insulin)"),
    dynamic("insulin_remote_pmol_l", "pmol/l", _PMOL, "remote insulin acting on muscle and adipose (acting insulin)"),
    # beta cells (fast)
    dynamic("secretion_second_phase_pmol_kg_min", "pmol/kg/min", 1e-7, "second-phase insulin secretion"),
    dynamic(
        "secretion_second_phase_slow_pmol_kg_min",
        "pmol/kg/min",
        1e-7,
        "the second phase's slowly potentiated part",
    ),
    dynamic("insulin_portal_pmol_kg", "pmol/kg", _PMOL, "insulin in the portal vein"),
    # adipose
    dynamic("nefa_mmol_l", "mmol/l", 1e-8, "plasma non-esterified fatty acids"),
    # counter-regulation and the liver's store (model-fast, issue 10)
    dynamic("glucagon_pg_ml", "pg/ml", 1e-6, "plasma glucagon"),
    dynamic("liver_glycogen_mg_kg", "mg/kg", 1e-5, "liver glycogen (glucose units)"),
    # the body clock (model-fast, issue 10): cosine and sine of the circadian angle from the morning peak
    dynamic("clock_cos", "1", 1e-8, "body clock: cosine of the circadian angle (1 at the morning peak of tolerance)"),
    dynamic("clock_sin", "1", 1e-8, "body clock: sine of the circadian angle"),
    # exercise (Roy & Parker 2007 and after-effects)
    dynamic("exercise_vo2_pct", "%VO2max", 1e-8, "oxygen uptake above rest (PVO2max)"),
    dynamic("exercise_liver_output_mg_kg_min", "mg/kg/min", 1e-8, "exercise-induced liver glucose output"),
    dynamic(
        "exercise_uptake_mg_kg_min",
        "mg/kg/min",
        1e-8,
        "insulin-independent exercise glucose uptake (at reference tissue glucose)",
    ),
    dynamic("post_exercise_sensitivity", "1", 1e-9, "post-exercise rise of muscle insulin sensitivity (fraction)"),
    dynamic(
        "training_level", "1", 1e-9, "durable training rise of muscle and adipose sensitivity (fraction)", slow=True
    ),
    # slow: running means (the daily ones keep running while slow dynamics are frozen; the weeks-long baseline does
    # not), beta cells, drift, weight
    dynamic("glucose_mean_mg_dl", "mg/dl", _MG_KG, "running (about daily) mean plasma glucose"),
    dynamic("insulin_mean_pmol_l", "pmol/l", _PMOL, "running (about daily) mean plasma insulin"),
    dynamic(
        "glucose_baseline_mg_dl",
        "mg/dl",
        _MG_KG,
        "running mean of the daily mean glucose over weeks (first_phase_priming_time): the level from which a recent "
        "rise primes the first phase",
        slow=True,
    ),
    dynamic("beta_mass_rel", "1", _REL, "beta-cell mass relative to healthy", slow=True),
    dynamic("beta_function_rel", "1", _REL, "beta-cell secretory function relative to healthy", slow=True),
    dynamic(
        "beta_setpoint_adaptation_mg_dl",
        "mg/dl",
        1e-9,  # ~1e-10 of the ~10 mg/dl it spans, as the beta cells' states (the envelope's STATE_SCALE: 10)
        "rise of the beta cells' compensation set point they have adapted to (Weir & Bonner-Weir's stable stage 2): "
        "set by the adapted start (setpoint_adaptation_at_start), released while function works below its reserve cap "
        "and no glucotoxic load holds it there (setpoint_release_rate)",
        slow=True,
    ),
    dynamic(
        "beta_function_worn_rel",
        "1",
        _REL,
        "beta-cell function the glucolipotoxic load has taken and the cells have not yet regained (impaired, not "
        "lost: it returns within weeks as the load lifts, beta_function_recovery_rate)",
        slow=True,
    ),
    dynamic(
        "drift_log_liver", "1", _REL, "accumulated log-change of hepatic sensitivity from scenario drift", slow=True
    ),
    dynamic(
        "drift_log_muscle", "1", _REL, "accumulated log-change of muscle sensitivity from scenario drift", slow=True
    ),
    dynamic(
        "drift_log_adipose", "1", _REL, "accumulated log-change of adipose sensitivity from scenario drift", slow=True
    ),
    dynamic(
        "drift_log_reserve",
        "1",
        _REL,
        "accumulated log-change of the beta cells' secretory reserve (the caps of function and mass) from scenario "
        "drift",
        slow=True,
    ),
    dynamic(
        "weight_change_kg",
        "kg",
        1e-8,
        "change of body weight from the start: fat, lean tissue, glycogen with its water, extracellular fluid",
        slow=True,
    ),
    # energy balance (Hall 2011): fat mass change and adaptive thermogenesis; lean change = weight - fat change
    dynamic("fat_mass_change_kg", "kg", 1e-8, "change of body fat mass from the start", slow=True),
    dynamic(
        "adaptive_thermogenesis_kcal_day",
        "kcal/day",
        1e-6,
        "adaptive change of energy expenditure (Hall 2011 AT)",
        slow=True,
    ),
    # Hall 2011's glycogen (with its bound water) and extracellular fluid: weight that carries no fat or lean tissue
    dynamic(
        "body_glycogen_change_kg", "kg", 1e-9, "change of body glycogen (liver and muscle) from the start", slow=True
    ),
    dynamic(
        "extracellular_fluid_change_kg",
        "kg",
        1e-9,
        "change of extracellular fluid from the start (Hall 2011)",
        slow=True,
    ),
    # training kinds and daily activity (exercise.py)
    dynamic(
        "muscle_mass_rel", "1", _REL, "skeletal muscle mass relative to the start (resistance training)", slow=True
    ),
    dynamic(
        "activity_sensitivity_rel",
        "1",
        _REL,
        "muscle insulin sensitivity from everyday activity (steps) relative to habitual",
        slow=True,
    ),
    # ectopic fat (ectopic_fat.py)
    dynamic("liver_fat_pct", "%", 1e-9, "liver fat (intrahepatic triglyceride, % of liver weight)", slow=True),
    # --- add new dynamic states above this line, in the block of their mechanism ---
    # running integrals, reset each output chunk (daily fluxes are their differences)
    quadrature("cum_liver_output_mg_kg", "mg/kg", "integral of net liver glucose output"),
    quadrature("cum_gut_appearance_mg_kg", "mg/kg", "integral of meal glucose appearance"),
    quadrature("cum_muscle_uptake_mg_kg", "mg/kg", "integral of muscle glucose uptake"),
    quadrature("cum_adipose_uptake_mg_kg", "mg/kg", "integral of adipose glucose uptake"),
    quadrature("cum_brain_uptake_mg_kg", "mg/kg", "integral of brain glucose uptake"),
    quadrature("cum_splanchnic_uptake_mg_kg", "mg/kg", "integral of the basal glucose uptake of gut and liver"),
    quadrature("cum_renal_excretion_mg_kg", "mg/kg", "integral of renal glucose excretion"),
    quadrature("cum_glucose_mg_dl_min", "mg/dl*min", "integral of plasma glucose concentration"),
    quadrature("cum_insulin_pmol_l_min", "pmol/l*min", "integral of plasma insulin concentration"),
    quadrature("cum_secretion_pmol_kg", "pmol/kg", "integral of insulin secretion"),
)


def check_state_table(table: tuple[StateSpec, ...]) -> int:
    """Check the rules the solver relies on; return the index of the first quadrature (the solver's
    ``n_controlled``).

    Raises ``StateTableError`` naming the offending row: a dynamic state after a
    quadrature would silently become an uncontrolled integral reset every chunk.
    """
    seen: set[str] = set()
    first_quadrature = None
    for i, spec in enumerate(table):
        where = f"physiology/indices.py STATE_TABLE row {i} ({spec.name!r})"
        if not spec.name.isidentifier():
            raise StateTableError(f"{where}: the name must be a Python identifier")
        if spec.name in seen:
            raise StateTableError(f"{where}: the name is declared twice")
        seen.add(spec.name)
        if not isinstance(spec.kind, StateKind):
            raise StateTableError(f"{where}: kind must be a StateKind, not {spec.kind!r}")
        if not spec.unit:
            raise StateTableError(f"{where}: the unit is empty (use '1' for dimensionless)")
        if not (math.isfinite(spec.atol) and spec.atol > 0):
            raise StateTableError(f"{where}: atol must be a positive number, not {spec.atol!r}")
        if spec.kind is StateKind.QUADRATURE:
            if spec.slow:
                raise StateTableError(f"{where}: a running integral cannot be slow")
            if first_quadrature is None:
                first_quadrature = i
        elif first_quadrature is not None:
            raise StateTableError(
                f"{where}: dynamic state listed after the running integral {table[first_quadrature].name!r}; "
                "dynamic states must come first (the solver would treat it as an uncontrolled integral "
                "reset every chunk): move it above the running-integral block"
            )
    return len(table) if first_quadrature is None else first_quadrature


FIRST_QUADRATURE = check_state_table(STATE_TABLE)
"""Index of the first running integral: states from here on never steer the step size."""
QUADRATURES = slice(FIRST_QUADRATURE, len(STATE_TABLE))
"""The running integrals' slice of the state vector: what a new output chunk resets to 0."""

St = index_enum("St", (spec.name for spec in STATE_TABLE), "Index of each state in the state vector.")
STATE_NAMES = tuple(spec.name for spec in STATE_TABLE)
STATE_UNITS = {spec.name: spec.unit for spec in STATE_TABLE}
STATE_ATOL = tuple(spec.atol for spec in STATE_TABLE)
"""Absolute tolerance of each state, in state order (``simulation.organ.default_atol``)."""
STATES_BY_NAME = {spec.name: spec for spec in STATE_TABLE}
N_STATES = len(STATE_TABLE)
SLOW_STATES = tuple(spec.name for spec in STATE_TABLE if spec.slow)
"""Dynamic states frozen while ``Drv.slow_dynamics_on`` is 0."""


@dataclass(frozen=True)
class FluxSpec:
    """One column of ``physiology.model.evaluate_fluxes``."""

    name: str
    unit: str
    description: str


# Order is the column order of evaluate_fluxes (and of the trajectory frames after the states).
FLUX_TABLE: tuple[FluxSpec, ...] = (
    FluxSpec("glucose_mg_dl", "mg/dl", "plasma glucose concentration"),
    FluxSpec("insulin_pmol_l", "pmol/l", "plasma insulin concentration"),
    FluxSpec(
        "liver_output_mg_kg_min", "mg/kg/min", "liver glucose output (endogenous production, before hepatic uptake)"
    ),
    FluxSpec("gut_appearance_mg_kg_min", "mg/kg/min", "meal glucose appearance in plasma"),
    FluxSpec("muscle_uptake_mg_kg_min", "mg/kg/min", "muscle glucose uptake (insulin and exercise)"),
    FluxSpec("adipose_uptake_mg_kg_min", "mg/kg/min", "adipose glucose uptake"),
    FluxSpec("brain_uptake_mg_kg_min", "mg/kg/min", "brain glucose uptake"),
    FluxSpec("renal_excretion_mg_kg_min", "mg/kg/min", "renal glucose excretion"),
    FluxSpec("secretion_pmol_kg_min", "pmol/kg/min", "insulin secretion into the portal vein"),
    FluxSpec("sensitivity_liver_rel", "1", "effective hepatic insulin sensitivity (relative)"),
    FluxSpec("sensitivity_muscle_rel", "1", "effective muscle insulin sensitivity (relative)"),
    FluxSpec("sensitivity_adipose_rel", "1", "effective adipose insulin sensitivity (relative)"),
    FluxSpec("chronic_sensitivity_liver_rel", "1", "chronic hepatic insulin sensitivity (relative)"),
    FluxSpec("chronic_sensitivity_muscle_rel", "1", "chronic muscle insulin sensitivity (relative)"),
    FluxSpec("chronic_sensitivity_adipose_rel", "1", "chronic adipose insulin sensitivity (relative)"),
    FluxSpec("gluconeogenesis_mg_kg_min", "mg/kg/min", "hepatic gluconeogenesis (released and stored as glycogen)"),
    FluxSpec("glycogenolysis_mg_kg_min", "mg/kg/min", "hepatic glycogenolysis (net release from the glycogen store)"),
    FluxSpec("liver_uptake_mg_kg_min", "mg/kg/min", "insulin-stimulated hepatic glucose uptake (to glycogen)"),
    FluxSpec("splanchnic_uptake_mg_kg_min", "mg/kg/min", "basal (insulin-independent) uptake of gut and liver"),
)
Flux = index_enum(
    "Flux",
    (spec.name for spec in FLUX_TABLE),
    "Column of each flux in the output of ``physiology.model.evaluate_fluxes``.",
)
FLUX_NAMES = tuple(spec.name for spec in FLUX_TABLE)
FLUX_UNITS = {spec.name: spec.unit for spec in FLUX_TABLE}
N_FLUXES = len(FLUX_TABLE)

# Drivers are constant within a schedule segment (between events).
DRIVER_SPEC = [
    ("clock_shift_h", "h", "how much later the body clock is set than a day-worker's (entrained to daylight: 0)"),
    ("circadian_misalignment", "1", "sleep out of phase with the body clock: 0 aligned, 1 twelve hours off"),
    ("exercise_intensity_pct", "%VO2max", "exercise intensity above rest"),
    ("sleep_deficit_h", "h", "sleep deficit of the night before"),
    ("drift_liver_per_day", "1/day", "log-rate of scenario drift of hepatic sensitivity"),
    ("drift_muscle_per_day", "1/day", "log-rate of scenario drift of muscle sensitivity"),
    ("drift_adipose_per_day", "1/day", "log-rate of scenario drift of adipose sensitivity"),
    ("drift_reserve_per_day", "1/day", "log-rate of scenario drift of the beta cells' secretory reserve"),
    ("energy_surplus_kcal_day", "kcal/day", "explicit extra energy intake (the scenario's override), every day"),
    ("food_energy_kcal_day", "kcal/day", "energy of the day's food: meals plus the rest of the diet"),
    ("carbohydrate_g_day", "g/day", "carbohydrate eaten that day (meals x carbs_scale)"),
    ("resistance_exercise", "1", "1 during a resistance session, 0 otherwise"),
    ("daily_steps", "steps/day", "steps a day outside exercise sessions"),
    ("cortisol_rel", "1", "plasma cortisol relative to normal"),
    ("slow_dynamics_on", "1", "1 normally; 0 freezes slow states (used to find the starting state)"),
    ("iv_glucose_mg_kg_min", "mg/kg/min", "intravenous glucose infusion (clinic protocols)"),
    ("iv_insulin_pmol_kg_min", "pmol/kg/min", "intravenous insulin infusion (clinic protocols)"),
]
Drv = index_enum("Drv", (name for name, _, _ in DRIVER_SPEC), "Index of each driver in a segment's driver vector.")
N_DRIVERS = len(DRIVER_SPEC)


def tables_markdown() -> str:
    """docs/states.md: the state, flux and driver tables as Markdown (regenerate with
    ``python -m glucosim.physiology.indices > docs/states.md``; tests/test_state_table.py checks it is current)."""
    lines = [
        "# States, fluxes and drivers",
        "",
        "Generated from `src/glucosim/physiology/indices.py` by",
        "`python -m glucosim.physiology.indices > docs/states.md`; do not edit by hand.",
        "",
        "## States",
        "",
        "In state-vector order. *Dynamic* states steer the step size with their absolute tolerance;",
        "*quadratures* are running integrals reset each output chunk (daily totals). *Slow* states freeze",
        "while slow dynamics are off (clinic tests, the starting state) and are constants in the SBML export.",
        "",
        "| # | state | kind | unit | atol | slow | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, spec in enumerate(STATE_TABLE):
        slow = "yes" if spec.slow else ""
        lines.append(
            f"| {i} | `{spec.name}` | {spec.kind.value} | {spec.unit} | {spec.atol:g} | {slow} | {spec.description} |"
        )
    lines += ["", "## Fluxes (`evaluate_fluxes` columns)", "", "| # | flux | unit | description |", "|---|---|---|---|"]
    lines += [f"| {i} | `{spec.name}` | {spec.unit} | {spec.description} |" for i, spec in enumerate(FLUX_TABLE)]
    lines += ["", "## Drivers (constant within a schedule segment)", "", "| # | driver | unit | description |"]
    lines += ["|---|---|---|---|"]
    lines += [f"| {i} | `{name}` | {unit} | {text} |" for i, (name, unit, text) in enumerate(DRIVER_SPEC)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(tables_markdown(), end="")
