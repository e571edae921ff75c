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

KIDNEYS = {
    "main (TmG 375, s 25)": {"renal_glucose_tm": 375.0, "renal_glucose_splay": 25.0},
    "clamp (TmG 300, s 50)": {"renal_glucose_tm": 300.0, "renal_glucose_splay": 50.0},
}
SUBJECTS = {
    "cohort median": {"insulin_sensitivity_whole_body": 0.4056, "beta_function_max": 1.608},
    "lower reserve": {"insulin_sensitivity_whole_body": 0.4056, "beta_function_max": 1.3},
    "resistant, low reserve": {"insulin_sensitivity_whole_body": 0.3, "beta_function_max": 1.3},
}
SLOW = {
    "main grid": {"glucotoxicity_threshold": 136.0, "beta_mass_workload_rate": 0.00015},
    "regrid": {"glucotoxicity_threshold": 132.0, "beta_mass_workload_rate": 0.0002},
}


def main() -> None:
    data = tomllib.loads(glucosim.load_scenario("03_insulin_resistance_low_reserve").text)
    data["duration_years"] = 3
    data["routine"] = dict(data["routine"])
    data["routine"]["drift"] = dict(data["routine"].get("drift", {})) | {"whole_body_per_year": 0.0}
    data.pop("clinic", None)
    for subject, overrides in SUBJECTS.items():
        for kidney, renal in KIDNEYS.items():
            for slow_name, slow in SLOW.items():
                if kidney.startswith("main") and slow_name == "regrid":
                    continue
                daily = glucosim.simulate(
                    data, progress=False, resolution="envelope", **(overrides | renal | slow | {"body_weight": 93.5})
                ).daily
                fasting = daily["fasting_glucose_mg_dl"].rolling(30, min_periods=1).mean()
                urine_g_day = daily["renal_excretion_mg_kg_day"].iloc[-365:].mean() * 93.5 / 1000
                print(
                    f"{subject:24s} {kidney:22s} {slow_name:9s}: fasting {fasting.iloc[29]:.1f} -> "
                    f"{fasting.iloc[-1]:.1f} mg/dl, HbA1c {daily['hba1c_percent'].iloc[29]:.2f} -> "
                    f"{daily['hba1c_percent'].iloc[-1]:.2f} %, urine year 3 {urine_g_day:.2f} g/day, weight "
                    f"{daily['weight_change_kg'].iloc[-1]:+.2f} kg",
                    flush=True,
                )


if __name__ == "__main__":
    main()
