"""Physiology: one module per compartment, pure numba functions over float arrays.

Units inside the kernels: time in minutes, glucose and insulin masses per kg
body weight (Dalla Man 2007 convention), concentrations in mg/dl and pmol/l.
No I/O, scenario logic or Python objects live here; ``model.rhs`` composes the
compartments into one right-hand side that the solver integrates.
"""
