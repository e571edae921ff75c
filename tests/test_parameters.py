"""The parameter table: every entry traceable, in range, and presets valid."""

import pytest

from glucosim.errors import ParameterError
from glucosim.parameters import available_presets, load_parameter_table, load_preset


def test_every_parameter_has_unit_range_and_source():
    table = load_parameter_table()
    for row in table:
        assert row.unit, row.name
        assert row.source.strip(), row.name
        assert row.description.strip(), row.name
        assert row.low <= row.value <= row.high, row.name
        assert row.low < row.high, row.name


def test_out_of_range_override_names_parameter_and_range():
    with pytest.raises(ParameterError, match=r"secretion_max.*outside.*\[10, 50\]"):
        load_parameter_table().vector({"secretion_max": 500.0})


def test_a_ratio_out_of_range_reads_as_a_ratio_not_a_unit_of_one():
    ratio = next(row for row in load_parameter_table() if row.unit == "1")
    with pytest.raises(ParameterError) as error:
        ratio.check(ratio.high * 10 + 1)
    message = str(error.value)
    assert "(dimensionless; source:" in message
    assert f"{ratio.high * 10 + 1:g} 1 " not in message and f"{ratio.high:g}] 1" not in message


def test_unknown_parameter_suggests_close_names():
    with pytest.raises(ParameterError, match="did you mean 'secretion_max'"):
        load_parameter_table().vector({"secretion_maxx": 20.0})


@pytest.mark.parametrize("name", available_presets())
def test_presets_are_valid_overrides(name):
    overrides = load_preset(name)
    load_parameter_table().vector(overrides)


def test_required_presets_exist():
    assert {"healthy", "insulin_resistant", "insulin_resistant_low_reserve"} <= set(available_presets())


def test_low_reserve_preset_has_less_reserve_than_normal():
    table = load_parameter_table()
    low = load_preset("insulin_resistant_low_reserve")
    assert low["beta_function_max"] < table["beta_function_max"].value


def test_the_table_values_identity_ignores_texts_and_follows_values_and_ranges(tmp_path):
    """``parameter_values_sha256``: what results depend on. A parameter's source or description edited keeps it;
    a value or a range edited changes it."""
    from glucosim.parameter_identity import parameter_values_sha256
    from glucosim.physiology.indices import PARAMETER_TABLE_PATH

    text = PARAMETER_TABLE_PATH.read_text()
    shipped = parameter_values_sha256(PARAMETER_TABLE_PATH)

    def identity_of(edited: str) -> str:
        path = tmp_path / "parameters.toml"
        path.write_text(edited)
        return parameter_values_sha256(path)

    assert 'value = 375.0\nunit = "mg/min"\nrange = [300.0, 500.0]' in text  # renal_glucose_tm, as edited below
    assert identity_of(text) == shipped
    source_edited = text.replace('source = "reviews: TmG', 'source = "edited: reviews: TmG', 1)
    symbol_edited = text.replace('symbol = "TmG"', 'symbol = "T_mG"', 1)
    assert source_edited != text and symbol_edited != text  # the edits below are real edits
    assert identity_of(source_edited) == shipped
    assert identity_of(symbol_edited) == shipped
    assert identity_of(text.replace("value = 375.0\n", "value = 376.0\n", 1)) != shipped
    assert identity_of(text.replace("range = [300.0, 500.0]", "range = [290.0, 500.0]", 1)) != shipped
