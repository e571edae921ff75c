"""Fat added to a starch meal, in the whole model (issue 11; validation case mixed_meals_cgm).

The healthy preset, adapted to the reference day, eats the next morning 50 g of carbohydrate alone or with
41 g of fat (50 g butter), as in the validation case. The gut equations alone are tested in test_compartments.py.
"""

import numpy as np
import pytest

from tests.conftest import load_tool

STARCH_G = 50.0
BUTTER_FAT_G = 41.0
MEAL_CLOCK_H = 8.0
WINDOW_H = 5.0


def _incremental_areas(fat_g: float) -> dict[str, float]:
    """5-h incremental areas (above the pre-meal value) of glucose and insulin, per minute."""
    import glucosim
    from glucosim._toml import load_toml
    from glucosim.clinic.runner import REFERENCE_ROUTINE_PATH
    from glucosim.scenario.load import parse_scenario

    data = {
        "name": "starch meal",
        "duration_days": 2,
        "routine": load_toml(REFERENCE_ROUTINE_PATH),
        "changes": [{"from_day": 1, "meals": [{"time_h": MEAL_CLOCK_H, "carbs_g": STARCH_G, "fat_g": fat_g}]}],
        "output": {"trajectory_days": [1]},
    }
    day = glucosim.simulate(parse_scenario(data, "test"), progress=False).trajectories[1]
    window = (day["clock_h"] >= MEAL_CLOCK_H) & (day["clock_h"] <= MEAL_CLOCK_H + WINDOW_H)
    areas = {}
    for column in ("glucose_mg_dl", "insulin_pmol_l"):
        before = day.loc[day["clock_h"] <= MEAL_CLOCK_H, column].iloc[-1]
        rise = np.clip(day.loc[window, column] - before, 0.0, None)
        areas[column] = float(np.trapezoid(rise, day.loc[window, "time_min"]))
    return areas


@pytest.fixture(scope="module")
def fat_over_starch() -> dict[str, float]:
    """Area with fat / area without, for glucose and insulin."""
    alone, with_fat = _incremental_areas(0.0), _incremental_areas(BUTTER_FAT_G)
    return {column: with_fat[column] / alone[column] for column in alone}


def test_fat_lowers_the_glucose_area_of_a_starch_meal(fat_over_starch):
    # Collier & O'Dea 1983 Am J Clin Nutr 37:941 (abstract read): 50 g butter with potato (50 g carbohydrate)
    # reduced the postprandial glucose response in eight normal subjects
    assert fat_over_starch["glucose_mg_dl"] < 1.0


@pytest.mark.xfail(
    strict=True,
    reason="fat's GIP potentiation (gut.fat_gip_potentiation, since 2026-12-04 night) keeps insulin per unit of "
    "glucose nearer where it was (area x0.67 against glucose x0.72; x0.64 against x0.90 without it), but the slower "
    "emptying still lowers insulin with glucose, where people keep or raise it (gut.py docstring)",
)
def test_fat_added_to_a_starch_meal_raises_insulin_per_unit_of_glucose(fat_over_starch):
    # Collier & O'Dea 1983 (abstract read): "despite the lower blood glucose levels in the presence of fat the
    # insulin response was not reduced, suggesting a potentiation of insulin secretion"; fat greatly increased GIP
    assert fat_over_starch["insulin_pmol_l"] > fat_over_starch["glucose_mg_dl"]


# ---------------------------------------------------------------- tools/fat_meal.py on a trace known by hand
def _fat_meal_tool():
    return load_tool("fat_meal")


def test_fat_meal_tool_splits_the_incremental_areas_at_3_h():
    import pandas as pd

    tool = _fat_meal_tool()
    clock_h = np.arange(0.0, 24.0, 5.0 / 60.0)
    # glucose 90, 30 mg/dl higher from 09:00 to 12:30, and 20 below from 14:00 (outside the window, not counted)
    glucose = 90.0 + np.where((clock_h >= 9.0 - 1e-9) & (clock_h <= 12.5 + 1e-9), 30.0, 0.0)
    glucose -= np.where(clock_h >= 14.0 - 1e-9, 20.0, 0.0)
    day = pd.DataFrame(
        {
            "clock_h": clock_h,
            "time_min": 1440.0 + 60.0 * clock_h,
            "glucose_mg_dl": glucose,
            "insulin_pmol_l": np.full_like(clock_h, 40.0),
            "secretion_pmol_kg_min": np.full_like(clock_h, 1.0),
            "stomach_solid_mg_kg": np.where(clock_h >= 13.0 - 1e-9, 10.0, 0.0),
            "stomach_liquid_mg_kg": np.zeros_like(clock_h),
        }
    )
    areas = tool.measures(day)
    # 30 mg/dl for 2 h (09:00-11:00) then 1.5 h (11:00-12:30), each side's 5-min ramp counting half
    assert areas["glucose area 0-3 h"] == pytest.approx(30.0 * (120.0 + 2.5), rel=1e-9)
    assert areas["glucose area 3-5 h"] == pytest.approx(30.0 * (90.0 + 2.5), rel=1e-9)
    assert areas["glucose area 0-5 h"] == pytest.approx(30.0 * (210.0 + 5.0), rel=1e-9)
    assert areas["insulin area 0-5 h"] == 0.0
    assert areas["secretion above basal 0-5 h"] == 0.0
    assert areas["stomach content at 5 h (mg/kg)"] == pytest.approx(10.0)
