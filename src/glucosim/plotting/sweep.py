"""Re-exported for old imports: sweep figures live in ``glucosim.analysis.sweep.figures``."""

from glucosim.analysis.sweep.figures import (
    axis_label,
    plot_cumulative_incidence,
    plot_outcome_map,
    plot_sensitivity,
    plot_stage_map,
)

__all__ = ["axis_label", "plot_cumulative_incidence", "plot_outcome_map", "plot_sensitivity", "plot_stage_map"]
