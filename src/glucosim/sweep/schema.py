"""The sweep file schema: a base scenario, the variables, the design, the arms and the outputs.

A sweep is plain data, like a scenario. Each run is the base scenario with
the variables set to one sample of the design and one arm's changes added.
Unknown fields are errors; units are checked against the parameter table on
load (see ``glucosim.sweep.load``).
"""

from typing import Literal

from pydantic import Field, model_validator

from glucosim.scenario.schema import MAX_SCENARIO_YEARS, StrictModel

DesignKind = Literal["grid", "latin_hypercube", "sobol", "morris", "cohort"]
DistributionName = Literal["uniform", "normal", "lognormal"]

DEFAULT_YEARLY_OUTPUTS = (
    "fasting_glucose_mg_dl",
    "fasting_insulin_uU_ml",
    "hba1c_percent",
    "homa_ir",
    "beta_cell_mass_rel",
    "insulin_sensitivity_rel",
)
"""Yearly markers kept per run unless the sweep names others (any column of ``SimulationResult.yearly``)."""


_Strict = StrictModel  # no coercion, no NaN or infinity (see glucosim.scenario.schema)


class Variable(_Strict):
    """One varied quantity: a parameter-table entry or a scenario field.

    A parameter is named by its table name and must state the table's unit;
    a scenario field is named by its path (``routine.sleep_h``,
    ``changes[0].from_year``), whose unit is in the field name.

    What is sampled depends on the design: ``values`` or ``range`` +
    ``levels`` for a grid; ``range`` for Latin hypercube, Sobol and Morris; a
    ``distribution`` for a cohort.
    """

    parameter: str | None = Field(default=None, description="parameter-table name (glucosim parameters)")
    field: str | None = Field(default=None, description="scenario field path, e.g. 'changes[0].from_year'")
    unit: str | None = Field(default=None, description="the parameter's unit as in the table ('1' = relative)")
    label: str | None = Field(default=None, description="axis label for figures, with its unit in parentheses")
    values: tuple[float, ...] | None = Field(default=None, min_length=1, description="grid: explicit values")
    range: tuple[float, float] | None = Field(default=None, description="[low, high] of the sampled interval")
    levels: int | None = Field(default=None, ge=2, le=1000, description="grid: evenly spaced values in range")
    distribution: DistributionName | None = Field(default=None, description="cohort: sampling distribution")
    median: float | None = Field(default=None, description="lognormal: median")
    gsd: float | None = Field(default=None, gt=1.0, description="lognormal: geometric standard deviation")
    mean: float | None = Field(default=None, description="normal: mean")
    sd: float | None = Field(default=None, gt=0.0, description="normal: standard deviation")
    bounds: tuple[float, float] | None = Field(
        default=None, description="cohort: draws are clipped to [low, high] (default: the parameter's plausible range)"
    )

    @model_validator(mode="after")
    def _check(self):
        if (self.parameter is None) == (self.field is None):
            raise ValueError("give exactly one of 'parameter' (a table name) or 'field' (a scenario field path)")
        if self.field is not None and self.unit is not None:
            raise ValueError("'unit' is for parameters; a scenario field's unit is in its name")
        for name in ("range", "bounds"):
            interval = getattr(self, name)
            if interval is not None and not interval[0] < interval[1]:
                raise ValueError(f"'{name}' must be [low, high] with low < high")
        return self

    def grid_values(self) -> tuple[float, ...]:
        """A grid design's values of this variable: its list, or its range at ``levels`` evenly spaced points."""
        import numpy as np

        if self.values is not None:
            return tuple(float(value) for value in self.values)
        return tuple(float(value) for value in np.linspace(self.range[0], self.range[1], self.levels))

    @property
    def name(self) -> str:
        """The column name of this variable in the results."""
        return self.parameter if self.parameter is not None else self.field


class Design(_Strict):
    """How the variables are sampled.

    ``samples`` is the number of patients for a cohort or a Latin hypercube,
    the base sample size N of a Sobol design (N x (variables + 2) runs per
    arm, N a power of two), the number of trajectories of a Morris design
    (r x (variables + 1) runs per arm); a grid takes the product of its levels.
    """

    kind: DesignKind
    samples: int | None = Field(default=None, ge=1, le=10_000_000)
    cohort: str | None = Field(default=None, description="a named cohort in models/cohorts (its variables)")
    correlation: tuple[tuple[float, ...], ...] | None = Field(
        default=None, description="cohort: correlation matrix of the variables' normal scores, in variable order"
    )
    parameters: dict[str, float] = Field(
        default_factory=dict,
        description="parameter-table entries every run shares, set on the base scenario's subject over its own "
        "values (a named cohort's file brings its own)",
    )
    morris_levels: int = Field(default=4, ge=2, le=20, description="morris: grid levels per variable")

    @model_validator(mode="after")
    def _check(self):
        if self.kind == "grid" and self.samples is not None:
            raise ValueError("a grid takes its size from the variables' levels; remove 'samples'")
        if self.kind != "grid" and self.samples is None:
            raise ValueError(f"design '{self.kind}' needs 'samples'")
        if self.kind == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"a Sobol design needs 'samples' a power of two (got {self.samples})")
        if self.kind != "cohort" and (self.cohort is not None or self.correlation is not None):
            raise ValueError("'cohort' and 'correlation' belong to a cohort design")
        return self


class CohortFile(_Strict):
    """A named cohort in models/cohorts: the variables (with distributions) and their correlation."""

    description: str = Field(min_length=1)
    source: str = Field(min_length=1, description="where the distributions come from, or 'calibrated: how'")
    correlation: tuple[tuple[float, ...], ...] | None = None
    parameters: dict[str, float] = Field(
        default_factory=dict, description="parameter-table entries every patient of the cohort shares (not drawn)"
    )
    variables: tuple[Variable, ...] = Field(min_length=1)


DISTRIBUTION_FIELDS = {"uniform": ("range",), "normal": ("mean", "sd"), "lognormal": ("median", "gsd")}
"""The fields each distribution of a cohort variable or an adherence draw takes (besides the optional ``bounds``)."""


class AdherenceTerm(_Strict):
    """``field`` of the arm's changes gains ``per_unit`` x the patient's draw (e.g. kcal/day per unit of adherence)."""

    field: str = Field(min_length=1, description="path in the arm, e.g. 'changes[1].energy_surplus_kcal_per_day'")
    per_unit: float = Field(description="added to the field per unit of the draw, in the field's unit")


class Adherence(_Strict):
    """A per-patient draw that scales (or adds to) an arm's changes: how far patient *i* follows the protocol.

    The draw comes from the patient's own seed (``glucosim.sweep.design.adherence_samples``), so patient
    *i* has the same adherence at any cohort size; it is a column of the results named
    ``<arm>.<name>`` (present in every arm's rows, used only in its own arm). ``scales`` multiplies
    numbers of the arm's changes by the draw; a path to an ``exercise`` list multiplies each session's
    ``duration_min`` (a session scaled to nothing is dropped). ``adds`` adds ``per_unit`` x the draw to a
    number. A draw of 0 in every entry whose terms are all ``scales`` leaves the arm's changes without effect.
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_]+$")
    description: str = ""
    distribution: DistributionName = Field(description="uniform (range), normal (mean, sd), lognormal (median, gsd)")
    range: tuple[float, float] | None = None
    mean: float | None = None
    sd: float | None = Field(default=None, gt=0.0)
    median: float | None = Field(default=None, gt=0.0)
    gsd: float | None = Field(default=None, gt=1.0)
    bounds: tuple[float, float] | None = Field(default=None, description="draws are clipped to [low, high]")
    scales: tuple[str, ...] = Field(default=(), description="paths in the arm multiplied by the draw")
    adds: tuple[AdherenceTerm, ...] = Field(default=(), description="paths in the arm that gain per_unit x draw")

    @model_validator(mode="after")
    def _check(self):
        wanted = set(DISTRIBUTION_FIELDS[self.distribution])
        given = {name for name in ("range", "mean", "sd", "median", "gsd") if getattr(self, name) is not None}
        if given != wanted:
            needs = "; ".join(f"{kind}: {', '.join(fields)}" for kind, fields in DISTRIBUTION_FIELDS.items())
            raise ValueError(
                f"adherence '{self.name}': distribution '{self.distribution}' takes {', '.join(sorted(wanted))}; "
                f"got {', '.join(sorted(given)) or 'nothing'} (allowed: {needs})"
            )
        for name in ("range", "bounds"):
            interval = getattr(self, name)
            if interval is not None and not interval[0] < interval[1]:
                raise ValueError(f"adherence '{self.name}': '{name}' must be [low, high] with low < high")
        if not self.scales and not self.adds:
            raise ValueError(f"adherence '{self.name}': give 'scales' or 'adds' (what the draw acts on)")
        return self

    @property
    def support(self) -> tuple[float, float]:
        """[low, high] of the draws: the bounds, else the range, else mean +- 4 sd (median */ gsd^4)."""
        if self.bounds is not None:
            return self.bounds
        if self.range is not None:
            return self.range
        if self.distribution == "lognormal":
            return (self.median / self.gsd**4, self.median * self.gsd**4)
        return (self.mean - 4.0 * self.sd, self.mean + 4.0 * self.sd)


class Arm(_Strict):
    """One arm of the study: changes added to the base scenario's (e.g. an intervention), and optionally the
    patients' adherence to them (per-patient draws that scale the changes; a cohort design only)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    changes: tuple[dict, ...] = Field(default=(), description="scenario [[changes]] entries added to the base's")
    adherence: tuple[Adherence, ...] = Field(default=(), description="per-patient draws scaling this arm's changes")
    adherence_correlation: tuple[tuple[float, ...], ...] | None = Field(
        default=None,
        description="correlation matrix of the normal scores of this arm's adherence draws, in entry order "
        "(a Gaussian copula: a patient who keeps one part of a programme tends to keep another); "
        "absent: the draws are independent",
    )

    @model_validator(mode="after")
    def _check(self):
        names = [entry.name for entry in self.adherence]
        if len(set(names)) != len(names):
            raise ValueError(f"arm '{self.name}': an adherence name is listed twice ({', '.join(names)})")
        if self.adherence_correlation is not None and len(self.adherence) < 2:
            raise ValueError(
                f"arm '{self.name}': 'adherence_correlation' correlates two or more adherence draws; "
                f"the arm has {len(self.adherence)}"
            )
        return self

    def adherence_column(self, entry: Adherence) -> str:
        """The results column of one of this arm's adherence draws."""
        return f"{self.name}.{entry.name}"


class Outputs(_Strict):
    """What each run keeps. Stage and threshold-crossing days are always kept."""

    yearly: tuple[str, ...] = Field(default=DEFAULT_YEARLY_OUTPUTS, description="yearly markers to keep")
    daily: tuple[str, ...] = Field(default=(), description="daily-table columns to keep for every day (large)")
    yearly_ogtt: bool = Field(
        default=False,
        description="run a 75-g OGTT on the morning of each of the trial clinic's yearly visits and 6 weeks later "
        "(its repeat test), on the run's own state, and keep the true 2-h glucose "
        "(columns ogtt_y<year>_two_hour_glucose_mg_dl and ogtt_y<year>_repeat_two_hour_glucose_mg_dl; "
        "glucosim.sweep.visits): the virtual DPP clinic then diagnoses by the DPP's own rule",
    )

    @model_validator(mode="after")
    def _check(self):
        # a column named twice was accepted here and failed the first chunk's write with a traceback
        for name in ("yearly", "daily"):
            columns = getattr(self, name)
            twice = sorted({column for column in columns if columns.count(column) > 1})
            if twice:
                raise ValueError(f"outputs.{name}: {twice[0]!r} is listed twice; list each column once")
        return self


ScreeningRule = Literal["dpp"]
"""Screening rules (``glucosim.sweep.screening.SCREENING_RULES``)."""


class Screening(_Strict):
    """Screen each sampled patient before simulating and run the arms only for those enrolled (a cohort design).

    ``rule = "dpp"``: the DPP's staged screening on day 0 of the reference arm (the first), two fasting glucose
    tests of 95-125 mg/dl and a 75-g OGTT with a 2-h glucose of 140-199 mg/dl, each with its within-person
    variability (``glucosim.sweep.screening``). The screening table is kept in the results directory
    (``screening.parquet``); the patients it does not enrol are rows with status ``screened_out``.
    """

    rule: ScreeningRule = Field(description="the screening visit: 'dpp' (the DPP's, with its OGTT)")


class Sweep(_Strict):
    """A complete sweep file."""

    name: str = Field(min_length=1)
    description: str = ""
    base_scenario: str = Field(min_length=1, description="scenario file, relative to the sweep file")
    duration_years: float | None = Field(
        default=None, gt=0.0, le=MAX_SCENARIO_YEARS, description="replaces the base's duration"
    )
    seed: int = Field(ge=0, description="seed of the design (and of every run's own seed)")
    design: Design
    variables: tuple[Variable, ...] = ()
    arms: tuple[Arm, ...] = (Arm(name="base"),)
    outputs: Outputs = Field(default_factory=Outputs)
    screening: Screening | None = Field(default=None, description="screen before simulating (default: none)")

    @model_validator(mode="after")
    def _check(self):
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("arm names must be unique")
        if not self.arms:
            raise ValueError("give at least one arm")
        variable_names = [variable.name for variable in self.variables]
        if len(set(variable_names)) != len(variable_names):
            raise ValueError("a variable is listed twice")
        if any(arm.adherence for arm in self.arms) and self.design.kind != "cohort":
            raise ValueError(
                f"adherence draws are per patient: they need design.kind = 'cohort' (got '{self.design.kind}')"
            )
        return self

    @property
    def adherence_columns(self) -> tuple[str, ...]:
        """Results columns of the arms' adherence draws, in arm then entry order."""
        return tuple(arm.adherence_column(entry) for arm in self.arms for entry in arm.adherence)
