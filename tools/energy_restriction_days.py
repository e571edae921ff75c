"""Diagnostic (issue 11): the diabetic liver in the first days of an energy restriction, beside Christiansen 2000.

    PYTHONPATH=src python tools/energy_restriction_days.py                       # ~5 s of CPU
    PYTHONPATH=src python tools/energy_restriction_days.py --set liver_glycogen_half=200   # a what-if (table names)

Christiansen MP et al. 2000, Diabetes 49:1691 (abstract read, 2026-12-07, in two stored copies): 8 obese adults
with type 2 diabetes on a eucaloric diet, then 10 days at 25 % of their energy requirement and 10 days at 75 %.
Fasting blood glucose 11.9 -> 8.9, 7.9 and 8.8 mmol/l at days 5, 10 and 20; endogenous glucose production 22 ->
18, 17 and 22 umol/kg lean body mass/min; gluconeogenesis (MIDA) 31, 41, 40 and 33 % of it (not significant);
glycogenolysis 15 -> 11, 11 and 15 (P < 0.001): "the reduction in EGP results entirely from a reduction of
glycogenolytic input", and weight -2, -3 and -3 kg, all of it fat.

glucosim's subject is scenario 03's at UKPDS's presentation (``glucosim.calibration.course.presentation_day``, the
entry of the UKPDS run-in: HbA1c 9.1 %, a fasting glucose ~150 mg/dl where Christiansen's was ~214), eating the
UKPDS diet (``diet_therapy_routine``) with its sensitivity drift stopped: 20 days at its full energy, then 10 at 25 %
and 10 at 75 % (every food scaled, as the UKPDS run-in scales it). Read at 07:00 on the morning the restriction starts
and 5, 10 and 20 days into it. Nothing here is fitted; the published rows are the abstract's means.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

EUCALORIC_DAYS = 20
RESTRICTION = ((0.25, 10), (0.75, 10))
"""(share of the day's energy eaten, days): Christiansen's two phases."""
READ_DAYS = (0, 5, 10, 20)
"""Days into the restriction read, Christiansen's (0: the morning it starts, after the last eucaloric day)."""
READ_CLOCK_H = 7.0

CHRISTIANSEN = {
    "fasting glucose (mmol/l)": (11.9, 8.9, 7.9, 8.8),
    "endogenous glucose production (umol/kg LBM/min)": (22.0, 18.0, 17.0, 22.0),
    "gluconeogenesis (% of production)": (31.0, 41.0, 40.0, 33.0),
    "glycogenolysis (umol/kg LBM/min)": (15.0, 11.0, 11.0, 15.0),
    "weight change (kg)": (0.0, -2.0, -3.0, -3.0),
}


def restriction_run(overrides: dict[str, float]):
    """(result, first day of the restriction) of scenario 03 put on Christiansen's protocol at its presentation."""
    import glucosim
    from glucosim.calibration.course import diet_eaten_at, diet_therapy_routine, presentation_day

    base = glucosim.load_scenario("03_insulin_resistance_low_reserve", **overrides)
    presented = presentation_day(glucosim.simulate(base, progress=False).daily)
    if presented is None:
        raise SystemExit("scenario 03 never reaches UKPDS's presentation HbA1c under these parameters")
    diet = diet_therapy_routine(base, presented)

    changes = [*base.scenario.model_dump(exclude_none=True).get("changes", ())]
    eucaloric = {"from_day": presented, "label": "eucaloric diet"} | diet_eaten_at(diet, 1.0)
    changes.append(eucaloric | {"drift": {"whole_body_per_year": 0.0}})
    start = day = presented + EUCALORIC_DAYS
    for fraction, days in RESTRICTION:
        changes.append({"from_day": day, "label": f"{fraction:.0%} of energy"} | diet_eaten_at(diet, fraction))
        day += days
    with warnings.catch_warnings():  # the lengthened or shortened run drops the scenario's later clinic visits
        warnings.simplefilter("ignore", UserWarning)
        loaded = glucosim.load_scenario(base, changes=changes, duration_days=day + 1)
    reads = tuple(start + d for d in READ_DAYS)
    return glucosim.simulate(loaded, progress=False, state_days=reads), start


def readings(result, start: int) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {}
    for d in READ_DAYS:
        trace = result.trace(start + d)
        row = trace.iloc[int(np.argmin(np.abs(trace["clock_h"].to_numpy() - READ_CLOCK_H)))]
        output = float(row["liver_output_mg_kg_min"])
        values = {
            "fasting glucose (mg/dl)": float(row["glucose_mg_dl"]),
            "liver glucose output (mg/kg/min)": output,
            "gluconeogenesis (% of output)": 100.0 * float(row["gluconeogenesis_mg_kg_min"]) / output,
            "glycogenolysis (mg/kg/min)": float(row["glycogenolysis_mg_kg_min"]),
            "liver glycogen (mg/kg)": float(row["liver_glycogen_mg_kg"]),
            "weight change (kg)": float(row["weight_change_kg"]),
        }
        for name, value in values.items():
            rows.setdefault(name, []).append(value)
    weight = rows["weight change (kg)"]
    rows["weight change (kg)"] = [w - weight[0] for w in weight]
    return rows


def _relative(name: str, values) -> str:
    """Changes from day 0, for the rows whose relative change means something (not shares or weight changes)."""
    if "%" in name or "weight" in name or not values[0]:
        return ""
    return "  ".join(f"{100.0 * (v / values[0] - 1.0):+6.0f}%" for v in values[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a parameter what-if")
    args = parser.parse_args()
    overrides = {name: float(value) for name, value in (item.split("=", 1) for item in args.set)}
    result, start = restriction_run(overrides)
    days = "  ".join(f"{'day ' + str(d):>8}" for d in READ_DAYS)
    print(f"{'':52}{days}   change from day 0 at days {', '.join(str(d) for d in READ_DAYS[1:])}")
    print("glucosim (scenario 03 at UKPDS's presentation)" + (f", {overrides}" if overrides else ""))
    for name, values in readings(result, start).items():
        print(f"  {name:50}" + "  ".join(f"{v:8.3g}" for v in values) + "   " + _relative(name, values))
    print("Christiansen 2000 (8 obese adults with type 2 diabetes; abstract means)")
    for name, values in CHRISTIANSEN.items():
        print(f"  {name:50}" + "  ".join(f"{v:8.3g}" for v in values) + "   " + _relative(name, values))


if __name__ == "__main__":
    main()
