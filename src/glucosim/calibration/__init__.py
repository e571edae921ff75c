"""Calibration: fit parameters to published targets, rerunnably, and say what the targets pin down.

``targets`` reads the target files (validation/targets/*.toml), ``measure``
computes glucosim's value of each target at a parameter vector (after solving
the reference day), ``cache`` stores every evaluation on disk so a run
resumes, ``fit`` runs scipy's least_squares and the identifiability analysis,
and ``report`` writes docs/calibration.md and the table's values.
"""
