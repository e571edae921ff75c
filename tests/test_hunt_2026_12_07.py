"""Holes found by the bad-input hunt of 2026-12-07 (public API, protocol files, result access)."""

import pytest

from glucosim.errors import GlucosimError

# ------------------------------------------------------------------ protocol fields that do nothing where given
INFUSION_WITH_A_DURATION = """name = "a 10-min infusion?"
kind = "fasting"
duration_min = 60
sample_every_min = 5

[[actions]]
at_min = 0
{action}
"""


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        # meant as a 10-min infusion: the rate held to the end of the test, the duration ignored
        ("iv_glucose_mg_kg_min = 8\nbolus_duration_min = 10", "bolus_duration_min applies only to an action with iv_"),
        ("oral_glucose_g = 75\nbolus_duration_min = 5", "bolus_duration_min applies only to an action with iv_"),
        # glucose by vein at a 'slow' absorption: the speed was ignored
        ("iv_glucose_g_per_kg = 0.3\nabsorption = \"slow\"", "absorption applies only to an action with oral_glucose_g"),
        ("insulin_infusion_mU_m2_min = 40\nabsorption = 2.0", "absorption applies only to an action with oral_glucose_g"),
    ],
)
def test_a_protocol_field_for_another_kind_of_action_is_refused(tmp_path, action, expected):
    from glucosim.clinic.protocol import load_protocol

    path = tmp_path / "p.toml"
    path.write_text(INFUSION_WITH_A_DURATION.format(action=action))
    with pytest.raises(GlucosimError) as error:
        load_protocol(path)
    message = str(error.value)
    assert str(path) in message and "actions[0]" in message and expected in message and "allowed:" in message
    # the same fields with their own kind of action load
    for own in ("iv_glucose_g_per_kg = 0.3\nbolus_duration_min = 2", "oral_glucose_g = 75\nabsorption = \"slow\""):
        path.write_text(INFUSION_WITH_A_DURATION.format(action=own))
        load_protocol(path)
