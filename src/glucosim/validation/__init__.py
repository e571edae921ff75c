"""The validation suite: glucosim held against published physiology.

Each case is a data file in ``validation/cases/`` naming its source and the
published values with their spread; ``cases.py`` computes glucosim's value for
each quantity under the same protocol; ``report.py`` writes docs/validation.md,
keeping apart the fit set (calibration targets of ``validation/targets/`` that
``glucosim calibrate`` fits to), the validation set (held-out targets and the
cases, never fitted to) and the reference-model reproductions (cases of
``kind = "reproduction"``: published models on glucosim's engine).
"""
