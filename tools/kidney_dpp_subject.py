"""Diagnostic (issue 11): subjects near the DPP cohort's medians for 3 years (scenario 03, no drift), two kidneys.

    PYTHONPATH=src python tools/kidney_dpp_subject.py

Prints, for a few subjects near the prediabetic cohort's medians (models/cohorts/prediabetic.toml) and each kidney,
fasting glucose and HbA1c at years 0 and 3, the mean urinary glucose over year 3 (g/day) and the weight change. A
cheap stand-in for the DPP sweep (which is not run here): the kidney matters to the cohort where it excretes glucose
at its glucose levels.
"""

from __future__ import annotations

import tomllib

import glucosim
from glucosim._toml import load_toml
from glucosim.parameters import load_parameter_table
from glucosim.physiology.units import mg_per_kg_to_grams
from glucosim.sweep.load import COHORT_DIR

COHORT = "prediabetic"
"""The DPP cohort (models/cohorts/prediabetic.toml): its medians and mean weight are read from the file, so they
follow its refits."""
SHIPPED = ("renal_glucose_tm", "renal_glucose_splay", "glucotoxicity_threshold", "beta_mass_workload_rate")
"""The kidney's and the course grid's parameters, at their values in models/parameters.toml."""


def cohort_centres(cohort: str = COHORT) -> dict[str, float]:
    """The median (lognormal) or mean (normal) of each parameter of ``cohort``'s file, by parameter name."""
    variables = load_toml(COHORT_DIR / f"{cohort}.toml")["variables"]
    return {v["parameter"]: float(v.get("median", v.get("mean"))) for v in variables if "parameter" in v}


def main() -> None:
    table = load_parameter_table()
    shipped = {name: table[name].value for name in SHIPPED}
    centres = cohort_centres()
    sensitivity, reserve = centres["insulin_sensitivity_whole_body"], centres["beta_function_max"]
    weight_kg = centres["body_weight"]
    # every parameter the cohort draws, at its centre (muscle's own sensitivity since 2026-12-04); the rows below
    # change only sensitivity and reserve
    centre = {name: value for name, value in centres.items() if name != "body_weight"}
    kidneys = {
        f"main (TmG {shipped['renal_glucose_tm']:g}, s {shipped['renal_glucose_splay']:g})": {
            name: shipped[name] for name in ("renal_glucose_tm", "renal_glucose_splay")
        },
        # the diagnostic alternative of the kidney branch (Wolf 2009's clamp), not shipped
        "clamp (TmG 300, s 50)": {"renal_glucose_tm": 300.0, "renal_glucose_splay": 50.0},
    }
    subjects = {
        f"cohort median (S {sensitivity:g}, reserve {reserve:g})": centre,
        "lower reserve (1.3)": centre | {"beta_function_max": 1.3},
        "resistant (0.3), low reserve (1.3)": centre
        | {"insulin_sensitivity_whole_body": 0.3, "beta_function_max": 1.3},
    }
    slow_grids = {
        "main grid": {name: shipped[name] for name in ("glucotoxicity_threshold", "beta_mass_workload_rate")},
        # the clamp kidney's regrid (diagnostic, not shipped)
        "regrid": {"glucotoxicity_threshold": 132.0, "beta_mass_workload_rate": 0.0002},
    }
    data = tomllib.loads(glucosim.load_scenario("03_insulin_resistance_low_reserve").text)
    data["duration_years"] = 3
    data["routine"] = dict(data["routine"])
    data["routine"]["drift"] = dict(data["routine"].get("drift", {})) | {"whole_body_per_year": 0.0}
    data.pop("clinic", None)
    for subject, overrides in subjects.items():
        for kidney, renal in kidneys.items():
            for slow_name, slow in slow_grids.items():
                if kidney.startswith("main") and slow_name == "regrid":
                    continue
                daily = glucosim.simulate(
                    data,
                    progress=False,
                    resolution="envelope",
                    **(overrides | renal | slow | {"body_weight": weight_kg}),
                ).daily
                fasting = daily["fasting_glucose_mg_dl"].rolling(30, min_periods=1).mean()
                urine_g_day = mg_per_kg_to_grams(
                    float(daily["renal_excretion_mg_kg_day"].iloc[-365:].mean()), weight_kg
                )
                print(
                    f"{subject:44s} {kidney:22s} {slow_name:9s}: fasting {fasting.iloc[29]:.1f} -> "
                    f"{fasting.iloc[-1]:.1f} mg/dl, HbA1c {daily['hba1c_percent'].iloc[29]:.2f} -> "
                    f"{daily['hba1c_percent'].iloc[-1]:.2f} %, urine year 3 {urine_g_day:.2f} g/day, weight "
                    f"{daily['weight_change_kg'].iloc[-1]:+.2f} kg",
                    flush=True,
                )


if __name__ == "__main__":
    main()
