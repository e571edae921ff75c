"""Exceptions raised by glucosim. Each message names what was wrong and where."""

from glucosim.physiology.units import MINUTES_PER_DAY


class GlucosimError(Exception):
    """Base class of every error glucosim raises on purpose."""


class ParameterError(GlucosimError, ValueError):
    """A parameter name is unknown or its value is outside the table's range."""


class ScenarioError(GlucosimError, ValueError):
    """A scenario file is malformed: the message names the file, the field and the allowed values."""


class SolverError(GlucosimError, RuntimeError):
    """The integrator failed; the message names the simulated time and the state.

    Attributes:
        time_min: simulated time of the failure, minutes from the start of the run.
        state: dict of state name to value at the last accepted step.
        reason: short description (non-finite state, step-size underflow, too many steps).
    """

    def __init__(self, reason: str, time_min: float, state: dict):
        self.reason = reason
        self.time_min = time_min
        self.state = state
        days = time_min / MINUTES_PER_DAY
        shown = ", ".join(f"{name}={value:.6g}" for name, value in state.items())
        super().__init__(f"solver failed: {reason} at t = {time_min:.3f} min (day {days:.3f}); state: {shown}")


class SweepError(GlucosimError, ValueError):
    """A sweep file or sweep output directory is unusable: the message names the file, field or directory."""


class ClinicError(GlucosimError, ValueError):
    """A clinic test cannot be run as asked (e.g. its day is outside the subject's scenario)."""


class ResultError(GlucosimError, LookupError):
    """Something asked of a result that it does not have (e.g. a day outside the run)."""


class MissingDependencyError(GlucosimError, ImportError):
    """An optional dependency of a feature is not installed; the message names the extra to install."""


class CalibrationError(GlucosimError, ValueError):
    """A calibration target file, a validation results file or a fit request is unusable: the message names the
    file, field and allowed values."""


class FigureError(GlucosimError, ValueError):
    """A figure name, its scenarios or its output file are unusable; the message says what is allowed."""


class OutputError(GlucosimError, OSError):
    """An output folder cannot be used: it holds something else, or it cannot be written."""


def raise_if_interrupted(exc: BaseException) -> None:
    """Raise KeyboardInterrupt if ``exc`` came from one (Ctrl-C); otherwise return.

    A Ctrl-C that arrives while numba's compiled integrator runs does not surface as a KeyboardInterrupt: the
    dispatcher returns with the signal's exception pending and Python raises a SystemError whose context is the
    KeyboardInterrupt. Code that records a failed run instead of stopping (a sweep's worker, its screening) calls
    this first, so an interruption stops the work instead of being stored as that run's permanent failure.
    """
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, KeyboardInterrupt):
            raise KeyboardInterrupt from exc
        seen.add(id(link))
        link = link.__cause__ or link.__context__
