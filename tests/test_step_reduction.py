"""The loss of muscle insulin sensitivity with fewer daily steps (models/parameters.toml#inactivity_sensitivity_loss)
is its derivation: the clamp of Krogh-Madsen 2010's ten men after two weeks at 1,344 instead of 10,501 steps a day."""

import pytest

from glucosim.physiology.indices import Par

KROGH_MADSEN_2010_CLAMP_CHANGE_PERCENT = -17.0
"""Krogh-Madsen R et al. 2010 J Appl Physiol 108:1034 (abstract): glucose infusion rate -17 % after two weeks."""


def _clamp_change_percent(loss: float) -> float:
    from glucosim.validation.cases import OLSEN_TWO_WEEK_ARM, step_reduction_arm

    changes = step_reduction_arm(*OLSEN_TWO_WEEK_ARM, parameters={"inactivity_sensitivity_loss": loss}, ogtt=False)
    return changes["clamp_infusion_rate_change_percent"]


@pytest.mark.slow  # three 15-day runs with two clamps each
def test_inactivity_loss_is_its_derivation_from_krogh_madsen_2010(parameters):
    table = float(parameters[Par.inactivity_sensitivity_loss])
    error = abs(_clamp_change_percent(table) - KROGH_MADSEN_2010_CLAMP_CHANGE_PERCENT)
    assert error < 1.0
    # the nearest on the 0.01 grid the source names
    for neighbour in (table - 0.01, table + 0.01):
        assert error < abs(_clamp_change_percent(neighbour) - KROGH_MADSEN_2010_CLAMP_CHANGE_PERCENT)
