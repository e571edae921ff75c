"""Protocol files: what is given when, what is sampled, and which analysis applies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationError, model_validator

from glucosim._toml import read_toml_file
from glucosim.errors import ScenarioError
from glucosim.scenario.messages import check_input_file, format_validation_error
from glucosim.scenario.schema import Absorption, StrictModel

PROTOCOL_DIR = Path(__file__).resolve().parent.parent / "protocols"


# strict: no "60" -> 60 or true -> 1; no NaN or infinity anywhere (a NaN sample time was silently dropped)
_Strict = StrictModel


TIME_DECIMALS = 6
"""Test times are rounded to 1e-6 min, so times that differ do so by far more than floating-point noise at any
start time (a duration of 30.000000000000004 min once made a zero-length solver segment)."""
TestMinutes = Annotated[float, AfterValidator(lambda value: round(value, TIME_DECIMALS))]
MIN_SAMPLE_SPACING_MIN = 0.1
"""Closest allowed spacing of ``sample_every_min`` (6 s: finer than any assay; 1e-9 hung the run)."""
MAX_SAMPLES = 6001
"""Most sampling times in one protocol (600 min at the closest spacing)."""
MAX_INSULIN_INFUSION_MU_M2_MIN = 1200.0
"""Highest insulin infusion used in clamp studies (Kolterman 1981 J Clin Invest 68:957: 15-1,200 mU/m^2/min)."""
MAX_IV_GLUCOSE_G_PER_KG = 0.5
"""Largest intravenous glucose bolus in use (0.5 g/kg, the classical IVGTT; the FSIGT gives 0.3 g/kg)."""
MAX_ORAL_GLUCOSE_G = 200.0
"""Largest glucose drink: 75 g (WHO OGTT) and 100 g (pregnancy) are the standard loads; 200 g is twice the largest."""
MAX_ORAL_FAT_OR_PROTEIN_G = 300.0
"""Most fat or protein eaten with a test's oral glucose: a scenario meal's limit (scenario.schema.Meal)."""
MIN_BOLUS_DURATION_MIN = 0.5
"""Shortest injection of an intravenous bolus (chosen: the FSIGT injects its glucose over about a minute, and a
syringe of 45-75 ml of 50 % dextrose is not pushed in much less); 1e-300 min made an infinite infusion rate and a
solver failure that named no field."""
MIN_CLAMP_INTERVAL_MIN = 1.0
"""Shortest interval between glucose-infusion adjustments of a clamp: DeFronzo 1979's algorithm adjusts every 5 min
and a bedside glucose analyser needs about a minute per sample; 1e-6 min over a 600-min clamp made 6e8 control
points (tens of GB before the first step)."""
RATE_FIELDS = ("iv_glucose_mg_kg_min", "insulin_infusion_mU_m2_min")
"""Actions that set an infusion rate from their minute on (a later one replaces it; they do not add up)."""


class Action(_Strict):
    """Something given at ``at_min`` minutes after the start of the test (exactly one kind per action)."""

    at_min: TestMinutes = Field(ge=0.0, le=600.0)
    oral_glucose_g: float | None = Field(
        default=None, gt=0.0, le=MAX_ORAL_GLUCOSE_G, description="glucose drink, grams"
    )
    absorption: Absorption = Field(
        default="fast", description="absorption speed of the drink (a glucose solution is fast)"
    )
    fat_g: float = Field(
        default=0.0,
        ge=0.0,
        le=MAX_ORAL_FAT_OR_PROTEIN_G,
        description="fat eaten with the oral glucose (a mixed-meal test), grams; only with oral_glucose_g",
    )
    protein_g: float = Field(
        default=0.0,
        ge=0.0,
        le=MAX_ORAL_FAT_OR_PROTEIN_G,
        description="protein eaten with the oral glucose (a mixed-meal test), grams; only with oral_glucose_g",
    )
    iv_glucose_g_per_kg: float | None = Field(
        default=None, gt=0.0, le=MAX_IV_GLUCOSE_G_PER_KG, description="intravenous bolus, g per kg body weight"
    )
    bolus_duration_min: float = Field(
        default=1.0,
        ge=MIN_BOLUS_DURATION_MIN,
        le=10.0,
        description=(
            "the bolus is injected over this time (an instantaneous jump would hide the rise the first phase senses)"
        ),
    )
    iv_glucose_mg_kg_min: float | None = Field(default=None, ge=0.0, le=30.0, description="fixed infusion from now on")
    insulin_infusion_mU_m2_min: float | None = Field(
        default=None,
        ge=0.0,
        le=MAX_INSULIN_INFUSION_MU_M2_MIN,
        description="insulin infusion from now on, mU per m^2 body surface per minute",
    )

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [
            self.oral_glucose_g,
            self.iv_glucose_g_per_kg,
            self.iv_glucose_mg_kg_min,
            self.insulin_infusion_mU_m2_min,
        ]
        if sum(kind is not None for kind in kinds) != 1:
            raise ValueError(
                "give exactly one of oral_glucose_g, iv_glucose_g_per_kg, iv_glucose_mg_kg_min, "
                "insulin_infusion_mU_m2_min"
            )
        if self.oral_glucose_g is None and (self.fat_g or self.protein_g):
            # the gut carries fat and protein with a meal's carbohydrate (per gram of it), never alone
            raise ValueError("fat_g and protein_g are eaten with oral glucose: give them with oral_glucose_g")
        # the runner reads each only for its own kind of action: elsewhere it was ignored without a word, so an
        # infusion with bolus_duration_min = 10 (meant as a 10-min infusion) ran to the end of the test
        for field, owner, why in (
            ("absorption", "oral_glucose_g", "what is given by vein is not absorbed"),
            (
                "bolus_duration_min",
                "iv_glucose_g_per_kg",
                "a drink empties at its absorption speed; an infusion rate holds until an action of its kind at a "
                "later minute sets another, e.g. 0 to stop it",
            ),
        ):
            if field in self.model_fields_set and getattr(self, owner) is None:
                raise ValueError(f"{field} applies only to an action with {owner} ({why}); allowed: leave it out here")
        return self


MAX_CLAMP_CORRECTION_X_INTERVAL = 2.5
"""Largest gain x interval and damping x interval a clamp accepts, (mg/kg/min per mg/dl) x min
(GlucoseClamp._check_loop_gain: measured, the controller oscillates or runs away beyond)."""


class GlucoseClamp(_Strict):
    """Variable glucose infusion adjusted every ``interval_min`` to hold glucose at the target.

    The rule (negative feedback on the deviation and its trend, as in DeFronzo
    1979's algorithm, simplified): GIR += gain*(target - G) + damping*(G_prev - G).
    """

    # 40-400 mg/dl spans hypoglycaemic (~45-50) to hyperglycaemic (basal + 125, DeFronzo 1979) clamps
    target_mg_dl: Literal["fasting"] | Annotated[float, Field(ge=40.0, le=400.0)] = Field(default="fasting")
    interval_min: TestMinutes = Field(default=5.0, ge=MIN_CLAMP_INTERVAL_MIN, le=30.0)
    gain_mg_kg_min_per_mg_dl: float = Field(default=0.1, gt=0.0, le=2.0)
    damping_mg_kg_min_per_mg_dl: float = Field(default=0.25, ge=0.0, le=5.0)
    steady_state_from_min: float = Field(default=120.0, ge=0.0, description="start of the window for M value and EGP")

    @model_validator(mode="after")
    def _check_loop_gain(self):
        # Each correction acts for a whole interval, so what the loop does depends on gain x interval and damping x
        # interval. Measured on the healthy and insulin_resistant_low_reserve presets with clamp_40mU's insulin
        # (2026-12-03), at the fasting target and at 400 mg/dl, clamps of 180 and 600 min: damping x interval of 10
        # or more ran glucose away (to 3,000-10^9 mg/dl); 5 (at a 400 target) reached 1,200-4,500 mg/dl; gain x
        # interval of 5 with damping x interval of 2.5 oscillated for 10 h (370-490 mg/dl around a 400 target);
        # both at 2.5 or below settled on the target (after at most a 1.7-fold overshoot of a 400 target). The
        # schema's own field limits accepted all of these, and a runaway was reported as a test done.
        for name, value in (
            ("gain_mg_kg_min_per_mg_dl", self.gain_mg_kg_min_per_mg_dl),
            ("damping_mg_kg_min_per_mg_dl", self.damping_mg_kg_min_per_mg_dl),
        ):
            product = value * self.interval_min
            if product > MAX_CLAMP_CORRECTION_X_INTERVAL:
                raise ValueError(
                    f"{name} x interval_min = {value!r} x {self.interval_min!r} = {product:.4g} must be at most "
                    f"{MAX_CLAMP_CORRECTION_X_INTERVAL:g} (beyond, the glucose-infusion controller oscillates or "
                    "runs away); lower it or the interval"
                )
        return self


class Protocol(_Strict):
    """A complete protocol file."""

    name: str = Field(min_length=1)
    description: str = ""
    kind: Literal["ogtt", "meal", "clamp", "ivgtt", "fasting"]
    duration_min: TestMinutes = Field(ge=0.0, le=600.0)
    samples_min: tuple[TestMinutes, ...] = Field(default=(), description="sampling times, minutes from the start")
    sample_every_min: float | None = Field(default=None, ge=MIN_SAMPLE_SPACING_MIN, le=60.0)
    actions: tuple[Action, ...] = ()
    clamp: GlucoseClamp | None = None

    @model_validator(mode="after")
    def _check(self):
        if (self.kind == "clamp") != (self.clamp is not None):
            raise ValueError("a [clamp] table is required for kind = 'clamp' and allowed only there")
        if not self.samples_min and self.sample_every_min is None:
            raise ValueError("give samples_min or sample_every_min")
        if any(t < 0 or t > self.duration_min for t in self.samples_min):
            raise ValueError("samples_min must lie within [0, duration_min]")
        if any(action.at_min > self.duration_min for action in self.actions):
            raise ValueError("an action is after the end of the test")
        if len(self.samples_min) > MAX_SAMPLES:
            raise ValueError(f"at most {MAX_SAMPLES} sampling times")
        if self.clamp is not None and self.clamp.steady_state_from_min >= self.duration_min:
            raise ValueError("clamp.steady_state_from_min must be before the end of the test (duration_min)")
        self._check_stacked_doses()
        if self.kind == "ivgtt" and not any(action.iv_glucose_g_per_kg is not None for action in self.actions):
            raise ValueError("an 'ivgtt' needs an iv_glucose_g_per_kg action (its indices come from an IV bolus)")
        if self.kind == "ivgtt" and any(action.oral_glucose_g is not None for action in self.actions):
            raise ValueError("an 'ivgtt' takes no oral glucose (gut absorption would confound SI and AIRg)")
        for oral, article in (("ogtt", "an"), ("meal", "a")):
            if self.kind == oral and not any(action.oral_glucose_g is not None for action in self.actions):
                raise ValueError(f"{article} {oral!r} needs an oral_glucose_g action")
        # the indices are read at minutes from the start (2-h glucose at 120, Matsuda at 0-120, AIRg at 2-10 min
        # after the bolus, the minimal model from it): a drink given at minute 120 of a 120-min test was classed
        # "normal glucose tolerance"
        for kind, article, field, what in (
            ("ogtt", "an", "oral_glucose_g", "drink"),
            ("meal", "a", "oral_glucose_g", "meal"),
            ("ivgtt", "an", "iv_glucose_g_per_kg", "bolus"),
        ):
            given = [action.at_min for action in self.actions if getattr(action, field) is not None]
            if self.kind == kind and min(given) != 0.0:
                raise ValueError(
                    f"{article} {kind!r} needs its {field} {what} at minute 0 (the first is at minute "
                    f"{min(given):g}); "
                    f"allowed: at_min = 0 for the first {what}, as its indices are read at minutes from the start "
                    f"(give a fasting lead-in as kind = 'fasting')"
                )
        for index, action in enumerate(self.actions):
            for field in ("fat_g", "protein_g"):
                if getattr(action, field) and self.kind != "meal":
                    # a 75 g OGTT with protein is no longer the OGTT its class and indices are defined on
                    raise ValueError(
                        f"actions[{index}].{field}: a mixed meal's {field[:-2]} is allowed only in kind = 'meal' "
                        f"(this protocol is kind = {self.kind!r})"
                    )
        if 0.0 not in self.sample_times:
            # every kind reports the fasting indices (glucose, insulin, HOMA, NEFA) from this sample, and the OGTT's
            # and the meal's read the rest against it: without one they were NaN, reported as values
            raise ValueError(
                "samples_min: a sample at minute 0 is needed (every kind reads its fasting glucose, insulin, HOMA "
                "and NEFA there, and the tests' increments against it)"
            )
        for index, action in enumerate(self.actions):
            end = action.at_min + action.bolus_duration_min
            if action.iv_glucose_g_per_kg is not None and end > self.duration_min + 1e-9:
                raise ValueError(
                    f"actions[{index}]: the bolus runs from minute {action.at_min:g} to {end:g}, past the end of the "
                    f"test (duration_min {self.duration_min:g}); allowed: at_min + bolus_duration_min <= duration_min "
                    f"(the rest of the dose would never be given)"
                )
        return self

    def _check_stacked_doses(self) -> None:
        """Each action is within its field's limit, but actions add up: ten 200-g drinks at minute 0 put 2 kg of
        glucose in the stomach, and boluses overlap into one. The drinks of a test (their glucose, fat and
        protein), and its boluses, must together stay within one action's limit; two rates of one kind set at the
        same minute are refused (the runner kept the last one silently)."""
        for field, limit, unit in (
            ("oral_glucose_g", MAX_ORAL_GLUCOSE_G, "g"),
            ("fat_g", MAX_ORAL_FAT_OR_PROTEIN_G, "g"),
            ("protein_g", MAX_ORAL_FAT_OR_PROTEIN_G, "g"),
            ("iv_glucose_g_per_kg", MAX_IV_GLUCOSE_G_PER_KG, "g/kg"),
        ):
            doses = [
                (index, getattr(action, field)) for index, action in enumerate(self.actions) if getattr(action, field)
            ]
            total = sum(dose for _, dose in doses)
            if len(doses) > 1 and total > limit:
                listed = ", ".join(f"actions[{index}] {dose:g}" for index, dose in doses[:4])
                listed += ", ..." if len(doses) > 4 else ""
                raise ValueError(
                    f"actions: the {field} doses add up to {total:g} {unit} ({listed}); allowed: at most {limit:g} "
                    f"{unit} in one test, the limit of one action (doses given together or in sequence add up)"
                )
        for field in RATE_FIELDS:
            seen: dict[float, int] = {}
            for index, action in enumerate(self.actions):
                if getattr(action, field) is None:
                    continue
                if action.at_min in seen:
                    raise ValueError(
                        f"actions[{seen[action.at_min]}] and actions[{index}] both set {field} at minute "
                        f"{action.at_min:g}; allowed: one rate of each kind per minute (a rate holds until the next "
                        f"action of its kind replaces it; rates do not add up)"
                    )
                seen[action.at_min] = index

    @property
    def oral_glucose_total_g(self) -> float:
        """The test's glucose drinks together, g (0 for a test without one)."""
        return sum(action.oral_glucose_g or 0.0 for action in self.actions)

    @property
    def sample_times(self) -> list[float]:
        """All sampling times, sorted, minutes."""
        times = set(self.samples_min)
        if self.sample_every_min is not None:
            k = 0
            while k * self.sample_every_min <= self.duration_min + 1e-9:
                times.add(round(k * self.sample_every_min, TIME_DECIMALS))
                k += 1
        return sorted(times)


@dataclass(frozen=True)
class LoadedProtocol:
    """A validated protocol and where it came from."""

    protocol: Protocol
    source: str
    text: str

    def without_protein(self) -> LoadedProtocol:
        """The same protocol with no protein in any action: the control arm of a protein-with-carbohydrate test
        (what protein adds to the insulin and glucose answer is the difference of the two runs)."""
        actions = tuple(action.model_copy(update={"protein_g": 0.0}) for action in self.protocol.actions)
        # the name says what was run (the source and text stay those of the file it came from)
        name = f"{self.protocol.name}, without its protein"
        return LoadedProtocol(
            self.protocol.model_copy(update={"actions": actions, "name": name}), self.source, self.text
        )


def available_protocols() -> list[str]:
    """Names of the shipped protocols (files in protocols/)."""
    return sorted(path.stem for path in PROTOCOL_DIR.glob("*.toml"))


SCENARIO_ONLY_FIELDS = frozenset(("subject", "routine", "changes", "duration_days", "duration_years", "duration_hours"))
"""Top-level fields of a scenario file that no protocol has: a file holding them is a scenario given as a protocol."""


def load_protocol(name_or_path) -> LoadedProtocol:
    """Load a shipped protocol by name (e.g. 'ogtt_75g') or a protocol file by path."""
    shipped = PROTOCOL_DIR / f"{name_or_path}.toml"
    path = shipped if shipped.is_file() else Path(name_or_path)
    expected = f"a protocol TOML file or a shipped name ({', '.join(available_protocols())})"
    check_input_file(path, "protocol", expected, ScenarioError)
    if not path.is_file():
        raise ScenarioError(f"{name_or_path}: no such protocol; shipped protocols: {', '.join(available_protocols())}")
    data, text = read_toml_file(path, ScenarioError, "protocol")
    if isinstance(data, dict) and "kind" not in data and data.keys() & SCENARIO_ONLY_FIELDS:
        # its every field was listed as an unknown protocol field
        raise ScenarioError(
            f"{path}: is a scenario file, not a protocol: a scenario is the subject a protocol is run on (e.g. "
            f"glucosim clinic PROTOCOL --subject {path}); shipped protocols: {', '.join(available_protocols())}"
        )
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(str(path), exc, Protocol, "protocol")) from None
    return LoadedProtocol(protocol, str(path), text)
