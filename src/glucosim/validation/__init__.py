"""The validation suite: glucosim held against published physiology.

Each case is a data file in ``validation/cases/`` naming its source and the
published values with their spread; ``cases.py`` computes glucosim's value for
each quantity under the same protocol; ``report.py`` writes docs/validation.md.
"""
