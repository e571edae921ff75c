"""Re-exported for old imports: sweep analysis lives in ``glucosim.analysis.sweep``."""

from glucosim.analysis.sweep import ANALYSIS_DIR, SweepAnalysis, analyze_sweep

__all__ = ["ANALYSIS_DIR", "SweepAnalysis", "analyze_sweep"]
