"""Scenarios: TOML files describing a subject, a daily routine and its changes over time.

``load_scenario(path)`` parses and validates a file (``schema``); ``compile``
turns a scenario into the solver's piecewise-constant schedule.
"""
