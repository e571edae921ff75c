"""The liver's fast response to carbohydrate restriction: glycogen, not liver fat (issue 11, VLCD week 1).

Kirk E et al. 2009, Gastroenterology 136:1552 (abstract read, PubMed and the PMC author manuscript): 22 obese
non-diabetic adults (BMI 36.5) on an energy-deficit diet either low in carbohydrate (< 50 g/day) or high
(> 180 g/day). After 48 hours, basal glucose production had fallen 23.4 +/- 2.2 % on the low-carbohydrate diet
and 7.2 +/- 1.4 % on the high-carbohydrate one, before any change of insulin-stimulated glucose uptake. Neither
number sets a glucosim parameter: excess_output_glycogenolysis_share was derived from the gluconeogenic share of
fasting glucose production in type 2 diabetes (models/parameters.toml).

The energy content of Kirk's diets is not in the abstract; both diets here give ~1,100 kcal/day (the value the
lead's brief quotes for the trial, not read in the source).
"""

import numpy as np
import pytest

import glucosim

DIET_DAY = 3
"""The diet starts at midnight of this day; its morning's fasting state still follows the usual dinner."""
BEFORE_BREAKFAST_H = 7.4
"""Just before the usual breakfast (07:30): ~12.5 h after dinner, glucosim's basal state."""

USUAL_MEALS = [{"time_h": 7.5, "carbs_g": 60}, {"time_h": 12.5, "carbs_g": 80}, {"time_h": 19.0, "carbs_g": 80}]


def _meals(carbs_g: float, fat_g: float, protein_g: float) -> list[dict]:
    return [{"time_h": t, "carbs_g": carbs_g, "fat_g": fat_g, "protein_g": protein_g} for t in (8.0, 13.0, 19.0)]


LOW_CARBOHYDRATE = _meals(15.0, 22.0, 30.0)  # 45 g carbohydrate, ~1,130 kcal/day
HIGH_CARBOHYDRATE = _meals(65.0, 5.0, 15.0)  # 195 g carbohydrate, ~1,100 kcal/day


def basal_output_change_percent(diet: list[dict], **overrides) -> float:
    """Change of glucose production before breakfast from the diet's first morning to 48 h later, %."""
    scenario = {
        "name": "Kirk 2009 energy-deficit diet",
        "duration_days": DIET_DAY + 3,
        "subject": {"preset": "insulin_resistant", "parameters": overrides},
        "routine": {"meals": USUAL_MEALS},
        "changes": [{"from_day": DIET_DAY, "label": "diet", "other_food_kcal_per_day": 0, "meals": diet}],
    }
    result = glucosim.simulate(scenario, progress=False, state_days=(DIET_DAY, DIET_DAY + 2))

    def basal(day: int) -> float:
        trace = result.trace(day)
        row = int(np.argmin(np.abs(trace["clock_h"].to_numpy() - BEFORE_BREAKFAST_H)))
        return float(trace["liver_output_mg_kg_min"].iloc[row])

    return 100.0 * (basal(DIET_DAY + 2) / basal(DIET_DAY) - 1.0)


@pytest.fixture(scope="module")
def low_carbohydrate_change():
    return basal_output_change_percent(LOW_CARBOHYDRATE)


def test_48h_low_carbohydrate_diet_lowers_basal_glucose_production_as_kirk_2009(low_carbohydrate_change):
    # Kirk's mean +/- 2 SE: the liver empties its glycogen within two days and releases less of it before breakfast
    assert -27.8 <= low_carbohydrate_change <= -19.0


def test_carbohydrate_not_the_deficit_lowers_production_within_48h(low_carbohydrate_change):
    # Kirk: the low-carbohydrate diet lowered production 16 points more than the high-carbohydrate one.
    # glucosim's high-carbohydrate fall (~1 %) is below Kirk's 7.2 +/- 1.4 %: the deficit itself does not reach
    # the liver's output within two days in glucosim; asserted only as the direction of the difference.
    high_carbohydrate_change = basal_output_change_percent(HIGH_CARBOHYDRATE)
    assert low_carbohydrate_change < high_carbohydrate_change - 10.0
    assert high_carbohydrate_change < 0.5
