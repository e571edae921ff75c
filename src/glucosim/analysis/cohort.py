"""Re-exported for old imports: cohort outcomes live in ``glucosim.analysis.sweep.cohort``."""

from glucosim.analysis.sweep.cohort import arm_comparison, cumulative_incidence

__all__ = ["arm_comparison", "cumulative_incidence"]
