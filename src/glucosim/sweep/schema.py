"""The sweep file schema: a base scenario, the variables, the design, the arms and the outputs.

A sweep is plain data, like a scenario. Each run is the base scenario with
the variables set to one sample of the design and one arm's changes added.
Unknown fields are errors; units are checked against the parameter table on
load (see ``glucosim.sweep.load``).
"""

from typing import Literal

from pydantic import Field, model_validator

from glucosim.scenario.schema import StrictModel

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
    variables: tuple[Variable, ...] = Field(min_length=1)


class Arm(_Strict):
    """One arm of the study: changes added to the base scenario's (e.g. an intervention)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    changes: tuple[dict, ...] = Field(default=(), description="scenario [[changes]] entries added to the base's")


class Outputs(_Strict):
    """What each run keeps. Stage and threshold-crossing days are always kept."""

    yearly: tuple[str, ...] = Field(default=DEFAULT_YEARLY_OUTPUTS, description="yearly markers to keep")
    daily: tuple[str, ...] = Field(default=(), description="daily-table columns to keep for every day (large)")


class Sweep(_Strict):
    """A complete sweep file."""

    name: str = Field(min_length=1)
    description: str = ""
    base_scenario: str = Field(min_length=1, description="scenario file, relative to the sweep file")
    duration_years: float | None = Field(default=None, gt=0.0, le=60.0, description="replaces the base's duration")
    seed: int = Field(ge=0, description="seed of the design (and of every run's own seed)")
    design: Design
    variables: tuple[Variable, ...] = ()
    arms: tuple[Arm, ...] = (Arm(name="base"),)
    outputs: Outputs = Field(default_factory=Outputs)

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
        return self
