"""A virtual continuous glucose monitor: what a CGM would read from a subject's plasma glucose.

Published CGM statistics (time in range, the coefficient of variation) are statistics of sensor readings. A
sensor reads interstitial glucose, a few minutes behind plasma glucose, through a factory calibration that
drifts over the sensor's life, with noise. Compared with plasma glucose straight from the model, a CGM study
looks more variable than the physiology it measured; ``sensor_readings`` puts the model's trace through the
same instrument.

The instrument is a data file in ``models/sensors/`` (one definition per device, each value with its unit and
source). The shipped one, ``dexcom_g6``, is the error model of Vettoretti et al. 2019 (IEEE EMBC, Dexcom G6)
with the plasma-to-interstitium lag of Basu et al. 2013; the file says where each value comes from.

    from glucosim.clinic.cgm_sensor import load_sensor, sensor_readings
    readings = sensor_readings(glucose_mg_dl, seed=1)          # 5-minute plasma glucose in, sensor readings out
    glucosim.cgm_metrics(readings)                               # the consensus metrics of what the CGM saw
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glucosim._resources import package_path
from glucosim.errors import ClinicError
from glucosim.physiology.units import MINUTES_PER_DAY

DEFAULT_SENSOR = "dexcom_g6"

PARAMETER_KEYS = ("value", "unit", "range", "source")
"""What each of a device file's model parameters gives (a table): the project's rule for every parameter."""
PARAMETER_UNITS = {
    "interstitial_time_constant_min": "min",
    "gain": "1, 1/day, 1/day^2",
    "offset_mg_dl": "mg/dl, mg/dl/day, mg/dl/day^2",
    "sensor_noise_ar": "1",
    "sensor_noise_innovation_variance": "(mg/dl)^2",
    "common_component_ar": "1",
    "common_component_innovation_variance": "(mg/dl)^2",
}
"""The unit each model parameter is read in (the error model's: times in minutes and days, glucose in mg/dl). A file
must state it: a value written in other units (a time constant in hours) is refused, not read as minutes."""
SPEC_FIELDS = ("sample_interval_min", "lifetime_days", "reading_range_mg_dl")
"""A device file's bare device specs."""
TOP_LEVEL_FIELDS = frozenset(("name", *SPEC_FIELDS, *PARAMETER_UNITS))
"""Every field a device file may hold: anything else (a misspelt parameter) is refused, as scenario files refuse it."""
CALIBRATION_CHECK_GLUCOSE_MG_DL = (70.0, 180.0)
"""Glucose the calibration curve must read inside the device's reading range over the whole sensor life: a gain and
offset polynomial run past the days it was identified over (the G6's 10, to 30) read a steady 120 mg/dl as LOW."""
NOISE_BURN_IN_SAMPLES = 200
"""Samples an AR(2) noise runs before the first reading, so that it starts from its stationary spread (the
shipped processes' slowest roots, 0.81 and 0.70 per sample, leave under 1e-18 of the start after it)."""


@dataclass(frozen=True)
class SensorModel:
    """A CGM's error model (see ``models/sensors/*.toml`` for the meaning and source of each field)."""

    name: str
    sample_interval_min: float
    lifetime_days: float
    reading_range_mg_dl: tuple[float, float]
    interstitial_time_constant_min: float
    gain: tuple[float, float, float]
    offset_mg_dl: tuple[float, float, float]
    sensor_noise_ar: tuple[float, float]
    sensor_noise_innovation_variance: float
    common_component_ar: tuple[float, float]
    common_component_innovation_variance: float

    def stationary_noise_sd_mg_dl(self) -> float:
        """The SD of the two noise processes together, at stationarity (mg/dl)."""
        return float(
            np.sqrt(
                _ar2_stationary_variance(self.sensor_noise_ar, self.sensor_noise_innovation_variance)
                + _ar2_stationary_variance(self.common_component_ar, self.common_component_innovation_variance)
            )
        )


def _ar2_stationary_variance(coefficients, innovation_variance: float) -> float:
    a1, a2 = coefficients
    return innovation_variance * (1.0 - a2) / ((1.0 + a2) * ((1.0 - a2) ** 2 - a1**2))


def _is_stationary(coefficients) -> bool:
    a1, a2 = coefficients
    return abs(a2) < 1.0 and a2 + a1 < 1.0 and a2 - a1 < 1.0


def load_sensor(name: str = DEFAULT_SENSOR) -> SensorModel:
    """A CGM's error model, from its device file.

    **Main arguments:**

    - `name`: a shipped device (`"dexcom_g6"`, the default: ``models/sensors/dexcom_g6.toml``; with or without
      `.toml`) or the path of a file of the same fields: the device's specs (`sample_interval_min`,
      `lifetime_days`, `reading_range_mg_dl`) as bare values, and each model parameter a table with its `value`,
      `unit`, plausible `range` (`[low, high]`, or one pair per component of a list value) and `source`. The unit
      must be the one the error model reads (``PARAMETER_UNITS``: minutes, days, mg/dl); no other field is allowed.
      The plausible range is the file's own: a new device's file states its device family's span, with its source.

    **Returns:**

    A frozen `SensorModel`, for `sensor_readings(..., sensor=...)`.

    **Raises:** `ClinicError` naming the file and the field if the file cannot be read, or a field is missing,
    not a finite number (or list of them), lacks its unit, range or source, states another unit, is unknown, or is
    outside its allowed values or its plausible range (each message gives them), or if the calibration curve reads
    a glucose of 70 or 180 mg/dl outside the reading range during the sensor's life (a lifetime longer than the days
    its polynomials were identified over).
    """
    from pathlib import Path

    from glucosim._toml import read_toml_file, shown_path

    if not isinstance(name, (str, Path)):
        raise ClinicError(f"a sensor is a shipped name or a file path, got {name!r}")
    shipped = {path.stem: path for path in sorted(package_path("models", "sensors").glob("*.toml"))}
    stem = str(name)[: -len(".toml")] if str(name).endswith(".toml") else str(name)
    path = Path(name)
    if stem in shipped and path.parent == Path("."):  # a bare shipped name is the shipped file, wherever run from
        path = shipped[stem]
    elif not path.is_file():
        raise ClinicError(f"no sensor model '{name}' (shipped: {', '.join(shipped)}; or a path to a .toml file)")
    data, _ = read_toml_file(path, ClinicError, "sensor")
    where = shown_path(path)
    unknown = sorted(set(data) - TOP_LEVEL_FIELDS)
    if unknown:
        raise ClinicError(
            f"{where}: field '{unknown[0]}': unknown field; allowed: {', '.join(sorted(TOP_LEVEL_FIELDS))}"
        )

    def number(key: str, entry) -> float:
        if isinstance(entry, bool) or not isinstance(entry, (int, float)) or not np.isfinite(entry):
            raise ClinicError(f"{where}: field '{key}' must hold finite numbers, got {entry!r}")
        return float(entry)

    def numbers(key: str, entry, size: int | None):
        if size is None:
            return number(key, entry)
        if not isinstance(entry, list) or len(entry) != size:
            raise ClinicError(f"{where}: field '{key}' must be a list of {size} numbers, got {entry!r}")
        return tuple(number(key, x) for x in entry)

    ranges: dict[str, list[tuple[float, float]]] = {}

    def spec(key: str, size: int | None = None):
        """A device spec: a bare value (what the device is, not a fitted quantity)."""
        if key not in data:
            raise ClinicError(f"{where}: missing field '{key}'")
        if isinstance(data[key], dict):
            raise ClinicError(f"{where}: field '{key}' is a device spec, a bare value (e.g. {key} = ...), not a table")
        return numbers(key, data[key], size)

    def parameter(key: str, size: int | None = None):
        """A model parameter: a table with its value, unit, plausible range and source."""
        if key not in data:
            raise ClinicError(f"{where}: missing field '{key}'")
        entry = data[key]
        if not isinstance(entry, dict):
            raise ClinicError(
                f"{where}: field '{key}' is a model parameter: a table [{key}] with {', '.join(PARAMETER_KEYS)}, "
                f"not a bare value"
            )
        for part in PARAMETER_KEYS:
            if part not in entry:
                raise ClinicError(
                    f"{where}: field '{key}' has no '{part}' (a parameter gives {', '.join(PARAMETER_KEYS)})"
                )
        for part in ("unit", "source"):
            if not isinstance(entry[part], str) or not entry[part].strip():
                raise ClinicError(f"{where}: field '{key}.{part}' must be a non-empty string, got {entry[part]!r}")
        extra = sorted(set(entry) - set(PARAMETER_KEYS))
        if extra:
            raise ClinicError(f"{where}: field '{key}.{extra[0]}': unknown field; allowed: {', '.join(PARAMETER_KEYS)}")
        expected_unit = PARAMETER_UNITS[key]
        if " ".join(entry["unit"].split()) != expected_unit:
            raise ClinicError(
                f"{where}: field '{key}.unit' is {entry['unit']!r}; allowed: {expected_unit!r} (the error model "
                f"reads the value in these units; convert the value, not the label)"
            )
        # the range of each component: [low, high], or one [low, high] pair per component of a list value
        bounds = entry["range"] if size is not None else [entry["range"]]
        shape = "[low, high]" if size is None else f"{size} [low, high] pairs"
        if (
            not isinstance(bounds, list)
            or len(bounds) != (size or 1)
            or not all(isinstance(pair, list) and len(pair) == 2 for pair in bounds)
        ):
            raise ClinicError(f"{where}: field '{key}.range' must be {shape}, got {entry['range']!r}")
        pairs = [numbers(f"{key}.range", pair, 2) for pair in bounds]
        if any(not low <= high for low, high in pairs):
            raise ClinicError(f"{where}: field '{key}.range' must have low <= high, got {entry['range']!r}")
        ranges[key] = pairs
        return numbers(key, entry["value"], size)

    sensor = SensorModel(
        name=str(data.get("name", path.stem)),
        sample_interval_min=spec("sample_interval_min"),
        lifetime_days=spec("lifetime_days"),
        reading_range_mg_dl=spec("reading_range_mg_dl", 2),
        interstitial_time_constant_min=parameter("interstitial_time_constant_min"),
        gain=parameter("gain", 3),
        offset_mg_dl=parameter("offset_mg_dl", 3),
        sensor_noise_ar=parameter("sensor_noise_ar", 2),
        sensor_noise_innovation_variance=parameter("sensor_noise_innovation_variance"),
        common_component_ar=parameter("common_component_ar", 2),
        common_component_innovation_variance=parameter("common_component_innovation_variance"),
    )
    for field in ("sensor_noise_ar", "common_component_ar"):
        if not _is_stationary(getattr(sensor, field)):
            raise ClinicError(
                f"{where}: field '{field}' {list(getattr(sensor, field))} is not a stationary AR(2) process "
                "(allowed: |a2| < 1, a1 + a2 < 1, a2 - a1 < 1)"
            )
    for field in ("sample_interval_min", "interstitial_time_constant_min"):
        if not getattr(sensor, field) > 0.0:
            raise ClinicError(f"{where}: field '{field}' must be > 0, got {getattr(sensor, field)}")
    if not sensor.lifetime_days * MINUTES_PER_DAY >= 2.0 * sensor.sample_interval_min:
        raise ClinicError(f"{where}: field 'lifetime_days' must hold at least two samples, got {sensor.lifetime_days}")
    for field in ("sensor_noise_innovation_variance", "common_component_innovation_variance"):
        if not getattr(sensor, field) >= 0.0:
            raise ClinicError(f"{where}: field '{field}' must be >= 0, got {getattr(sensor, field)}")
    low, high = sensor.reading_range_mg_dl
    if not 0.0 <= low < high:
        raise ClinicError(
            f"{where}: field 'reading_range_mg_dl' must be [low, high] with 0 <= low < high, got {[low, high]}"
        )
    days = np.linspace(0.0, sensor.lifetime_days, 101)
    gain = np.polyval(sensor.gain[::-1], days)
    if not np.all(gain > 0.0):
        raise ClinicError(f"{where}: field 'gain' must stay > 0 over the sensor's life (0-{sensor.lifetime_days} days)")
    for key, pairs in ranges.items():
        components = getattr(sensor, key)
        for index, (component, (low, high)) in enumerate(zip(np.atleast_1d(components), pairs)):
            if not low <= component <= high:
                which = f"[{index}]" if len(pairs) > 1 else ""
                raise ClinicError(
                    f"{where}: field '{key}'{which} = {component:g} is outside its plausible range "
                    f"[{low:g}, {high:g}] (the file's '{key}.range'; widen it, with its source, if a device needs it)"
                )
    # after the range checks: a mistyped gain or offset is named as that, not as a lifetime problem
    offset = np.polyval(sensor.offset_mg_dl[::-1], days)
    reading_low, reading_high = sensor.reading_range_mg_dl
    for glucose in CALIBRATION_CHECK_GLUCOSE_MG_DL:
        read = gain * glucose + offset
        outside = np.flatnonzero((read < reading_low) | (read > reading_high))
        if outside.size:
            day = days[outside[0]]
            holds = days[outside[0] - 1] if outside[0] > 0 else 0.0
            raise ClinicError(
                f"{where}: fields 'gain', 'offset_mg_dl' and 'lifetime_days': the calibration reads a plasma glucose "
                f"of {glucose:g} mg/dl as {read[outside[0]]:.0f} on day {day:.1f} of the sensor's "
                f"{sensor.lifetime_days:g}-day life, outside the reading range [{reading_low:g}, {reading_high:g}]; "
                f"allowed: lifetime_days up to {holds:.1f} with these gain and offset polynomials (the days they "
                f"were identified over)"
            )
    return sensor


def _interstitial(glucose: np.ndarray, step_min: float, tau_min: float) -> np.ndarray:
    """Interstitial glucose of one compartment, dIG/dt = (G - IG) / tau, with G linear between samples (exact)
    and IG in equilibrium with the first sample."""
    decay = np.exp(-step_min / tau_min)
    out = np.empty_like(glucose)
    out[0] = glucose[0]
    for k in range(1, glucose.size):
        slope_tau = (glucose[k] - glucose[k - 1]) / step_min * tau_min
        out[k] = glucose[k] - slope_tau + decay * (out[k - 1] - glucose[k - 1] + slope_tau)
    return out


def _ar2(rng: np.random.Generator, coefficients, innovation_variance: float, size: int) -> np.ndarray:
    a1, a2 = coefficients
    innovations = rng.standard_normal(size + NOISE_BURN_IN_SAMPLES) * np.sqrt(innovation_variance)
    x = np.zeros(size + NOISE_BURN_IN_SAMPLES)
    for k in range(2, x.size):
        x[k] = a1 * x[k - 1] + a2 * x[k - 2] + innovations[k]
    return x[NOISE_BURN_IN_SAMPLES:]


def sensor_readings(
    glucose_mg_dl,
    *,
    sensor: SensorModel | str = DEFAULT_SENSOR,
    step_min: float = 5.0,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """What a CGM reads from a plasma glucose trace.

    **Main arguments:**

    - `glucose_mg_dl`: plasma glucose at equal intervals of `step_min` (e.g. a run's 5-minute trace), from the
      moment the first sensor is inserted.
    - `sensor`: a `SensorModel` or the name of a shipped one (`"dexcom_g6"`).
    - `step_min`: the spacing of `glucose_mg_dl`; it must be the sensor's sampling interval (5 min for the G6),
      because the noise model is identified at that interval.
    - `seed`: the noise's seed (an int), or a `numpy.random.Generator` to draw it from; the same int gives the
      same readings, and a reading does not depend on how long the trace goes on after it. `None` draws fresh
      noise on every call.

    **Returns:**

    The readings (mg/dl), one per sample, clipped to the device's reading range. A record longer than a
    sensor's life is read by consecutive sensors, each new one starting its calibration drift afresh with
    its own noise.

    **Raises:** `ClinicError` if the trace has a non-finite or negative value, or is not at the sensor's interval.
    """
    model = sensor if isinstance(sensor, SensorModel) else load_sensor(sensor)
    try:
        glucose = np.asarray(glucose_mg_dl, dtype=float)
    except (TypeError, ValueError) as error:  # a string was numpy's ValueError traceback
        raise ClinicError(f"sensor_readings: glucose_mg_dl must be numbers: {error}") from None
    if glucose.ndim != 1 or glucose.size == 0:
        raise ClinicError(
            f"sensor_readings needs a one-dimensional trace with at least one sample, got shape {glucose.shape}"
        )
    if not np.all(np.isfinite(glucose)) or np.any(glucose < 0.0):
        raise ClinicError("sensor_readings: glucose_mg_dl must be finite and >= 0 (a trace with gaps: read each piece)")
    if not np.isclose(step_min, model.sample_interval_min):
        raise ClinicError(
            f"sensor_readings: step_min {step_min} is not the {model.name}'s sampling interval "
            f"({model.sample_interval_min} min); resample the trace to it"
        )
    if (
        isinstance(seed, bool)
        or not (seed is None or isinstance(seed, (int, np.integer, np.random.Generator)))
        or (isinstance(seed, (int, np.integer)) and seed < 0)  # numpy's ValueError traceback
    ):
        raise ClinicError(
            f"sensor_readings: seed must be an int from 0, a numpy.random.Generator or None, got {seed!r}"
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    interstitial = _interstitial(glucose, step_min, model.interstitial_time_constant_min)
    samples_per_sensor = max(2, int(round(model.lifetime_days * MINUTES_PER_DAY / step_min)))
    days = np.arange(samples_per_sensor) * step_min / MINUTES_PER_DAY
    gain = np.polyval(model.gain[::-1], days)
    offset_mg_dl = np.polyval(model.offset_mg_dl[::-1], days)
    readings = np.empty_like(glucose)
    for start in range(0, glucose.size, samples_per_sensor):
        stop = min(start + samples_per_sensor, glucose.size)
        # each sensor draws its whole life's noise from a generator of its own, so a reading does not depend on
        # how long the trace goes on after it
        own = np.random.default_rng(rng.integers(0, 2**63 - 1))
        noise = _ar2(own, model.sensor_noise_ar, model.sensor_noise_innovation_variance, samples_per_sensor) + _ar2(
            own, model.common_component_ar, model.common_component_innovation_variance, samples_per_sensor
        )
        used = stop - start
        readings[start:stop] = gain[:used] * interstitial[start:stop] + offset_mg_dl[:used] + noise[:used]
    # the device shows LOW / HIGH outside its reading range; those readings are kept at the range's ends
    return np.clip(readings, *model.reading_range_mg_dl)


__all__ = ["SensorModel", "load_sensor", "sensor_readings", "DEFAULT_SENSOR"]
