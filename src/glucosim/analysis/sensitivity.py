"""Re-exported for old imports: sensitivity indices live in ``glucosim.analysis.sweep.sensitivity``."""

from glucosim.analysis.sweep.sensitivity import DEFAULT_OUTPUTS, outcome_grid, ranking_column, sensitivity_indices

__all__ = ["DEFAULT_OUTPUTS", "outcome_grid", "ranking_column", "sensitivity_indices"]
