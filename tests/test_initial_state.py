"""The starting state's slow body states: balance on the day-0 routine, so a constant routine starts steady."""

import numpy as np
import pytest

import glucosim
from glucosim.physiology.body import (
    extracellular_fluid_rate_kg_day,
    glycogen_change_rate_kg_day,
    tissue_weight_change_kg,
)
from glucosim.physiology.indices import N_DRIVERS, Drv, Par, St
from glucosim.scenario.compile import ScenarioProgram
from glucosim.simulation.initial_state import initial_state

# Isocaloric days (the rest of the diet fills up to energy balance) that differ only in their carbohydrate:
# 3 x 20 g (a low-carbohydrate diet: Hall's natriuresis and an emptier store), the reference day's 60 + 80 + 80 g
# (models/reference_routine.toml), 3 x 200 g.
CARBS_PER_MEAL_G = {"low": (20.0, 20.0, 20.0), "reference": (60.0, 80.0, 80.0), "high": (200.0, 200.0, 200.0)}


def _scenario(carbs_per_meal_g, days: int = 28):
    meals = [{"time_h": hour, "carbs_g": carbs} for hour, carbs in zip((7.5, 12.5, 19.0), carbs_per_meal_g)]
    return glucosim.load_scenario(
        {
            "name": "constant routine",
            "duration_days": days,
            "subject": {"preset": "healthy"},
            "routine": {"meals": meals},
        }
    )


@pytest.mark.parametrize("diet", list(CARBS_PER_MEAL_G))
def test_body_glycogen_and_fluid_start_at_their_balance_on_the_day0_routine(diet):
    loaded = _scenario(CARBS_PER_MEAL_G[diet])
    program = ScenarioProgram(loaded)
    y = initial_state(program)
    p = loaded.parameters
    drv = np.zeros(N_DRIVERS)
    drv[Drv.carbohydrate_g_day] = program.day_plan(0).carbohydrate_g_day
    # the kernel's own rates (physiology/body.py) vanish at the start: kg/day
    assert abs(glycogen_change_rate_kg_day(y, drv, p)) < 1e-9
    assert abs(extracellular_fluid_rate_kg_day(y, drv, p)) < 1e-9
    # the water sits in weight; fat and lean tissue start unchanged
    assert abs(tissue_weight_change_kg(y, p)) < 1e-12
    assert y[St.fat_mass_change_kg] == 0.0
    if diet == "reference":
        # at the reference intake nothing moves
        assert drv[Drv.carbohydrate_g_day] == p[Par.carbohydrate_reference]
        assert y[St.body_glycogen_change_kg] == y[St.extracellular_fluid_change_kg] == y[St.weight_change_kg] == 0.0
    else:
        # away from the reference the store really differs (the test is not passing on zeros)
        assert abs(p[Par.glycogen_weight_factor] * y[St.body_glycogen_change_kg]) > 0.2


@pytest.mark.parametrize("diet", ["low", "high"])
def test_a_constant_isocaloric_routine_has_no_weight_transient_in_its_first_weeks(diet):
    """Weight stays within 0.1 kg over 4 weeks: it once moved by ~1.2 kg (3 x 200 g) and ~-1.5 kg (3 x 20 g) in the
    first days, from a start at the reference intake's glycogen and fluid rather than the routine's."""
    result = glucosim.simulate(_scenario(CARBS_PER_MEAL_G[diet]), progress=False)
    weight = result.daily["weight_change_kg"].to_numpy()
    glycogen = np.array([result.midnight_states[day][St.body_glycogen_change_kg] for day in (0, 27)])
    assert np.max(np.abs(weight - weight[0])) < 0.1, f"weight change over 4 weeks: {weight - weight[0]}"
    assert abs(glycogen[1] - glycogen[0]) < 1e-3
