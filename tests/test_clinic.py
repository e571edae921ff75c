"""The virtual clinic: protocol files, the tests on virtual subjects, and the minimal-model fit."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import glucosim
from glucosim.cli import main
from glucosim.clinic.minimal_model import _simulate, fit_minimal_model
from glucosim.clinic.protocol import available_protocols, load_protocol
from glucosim.clinic.runner import run_protocol
from glucosim.errors import ScenarioError
from glucosim.scenario.load import parse_scenario
from tests.conftest import SCENARIO_DIR, scenario_dict


@pytest.mark.parametrize("name", available_protocols())
def test_shipped_protocols_load(name):
    assert load_protocol(name).protocol.name


def test_protocol_errors_name_file_and_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\nkind = "clamp"\nduration_min = 60\nsamples_min = [0]\n')
    with pytest.raises(ScenarioError, match=r"(?s)bad.toml: invalid protocol.*\[clamp\] table is required"):
        load_protocol(path)
    path.write_text(
        'name = "x"\nkind = "ogtt"\nduration_min = 60\nsamples_min = [0]\n[[actions]]\nat_min = 0\noral_glucose = 75\n'
    )
    with pytest.raises(ScenarioError, match=r"actions\[0\].oral_glucose: unknown field"):
        load_protocol(path)


def test_unknown_protocol_lists_shipped():
    with pytest.raises(ScenarioError, match="shipped protocols: .*ogtt_75g"):
        load_protocol("ogtt_100g")


@pytest.fixture(scope="module")
def healthy():
    names = ("fasting", "ogtt_75g", "clamp_40mU", "clamp_20mU", "ivgtt_0.3g", "meal_carbohydrate_protein")
    return {name: run_protocol(name, "healthy") for name in names}


@pytest.fixture(scope="module")
def resistant():
    return {name: run_protocol(name, "insulin_resistant") for name in ("ogtt_75g", "clamp_40mU", "ivgtt_0.3g")}


def test_each_protocol_reports_exactly_the_indices_its_kind_lists(healthy):
    # INDEX_NAMES is what a calibration target's measure is checked against when its file is read
    from glucosim.clinic.analysis import INDEX_NAMES

    for result in healthy.values():
        assert tuple(result.indices) == INDEX_NAMES[result.protocol.protocol.kind], result.protocol.protocol.name


def test_clinic_fasting_matches_simulated_fasting_marker(healthy):
    loaded = parse_scenario(scenario_dict(), "<test>")
    daily = glucosim.simulate(loaded, progress=False).daily.iloc[0]
    # the clinic freezes slow processes overnight, the run does not (beta-cell function drifts ~3e-5 in
    # those 7.5 h, which fasting insulin amplifies): agreement to 5e-4, not to rounding
    assert healthy["fasting"].indices["fasting_glucose_mg_dl"] == pytest.approx(
        daily["fasting_glucose_mg_dl"], rel=1e-4
    )
    assert healthy["fasting"].indices["fasting_insulin_uU_ml"] == pytest.approx(
        daily["fasting_insulin_uU_ml"], rel=5e-4
    )


def test_ogtt_healthy_is_normal_and_resistant_needs_more_insulin(healthy, resistant):
    ogtt = healthy["ogtt_75g"].indices
    assert ogtt["glucose_tolerance"] == "normal"
    assert ogtt["peak_glucose_mg_dl"] > ogtt["fasting_glucose_mg_dl"] + 30
    assert ogtt["two_hour_glucose_mg_dl"] < 140
    assert resistant["ogtt_75g"].indices["peak_insulin_uU_ml"] > ogtt["peak_insulin_uU_ml"]
    assert resistant["ogtt_75g"].indices["matsuda_index"] < ogtt["matsuda_index"]


def test_a_meal_tests_protein_adds_insulin_and_lowers_the_glucose_rise(healthy):
    """The mixed-meal test carries the meal's protein into the gut: against the same 50 g of carbohydrate alone,
    protein raises the insulin area (its potentiation of secretion) and the insulin lowers the glucose peak."""
    meal = healthy["meal_carbohydrate_protein"]
    alone = meal.protocol.without_protein()
    assert [a.protein_g for a in alone.protocol.actions] == [0.0] and alone.protocol.actions[0].oral_glucose_g == 50
    assert alone.protocol.name.endswith("without its protein")
    carbohydrate = run_protocol(alone, "healthy").indices
    assert "glucose_tolerance" not in meal.indices  # a 50 g meal is not the 75 g OGTT: no class
    assert meal.indices["insulin_incremental_area_uU_ml_min"] > 1.2 * carbohydrate["insulin_incremental_area_uU_ml_min"]
    assert meal.indices["peak_glucose_mg_dl"] < carbohydrate["peak_glucose_mg_dl"]
    assert carbohydrate["glucose_incremental_area_mg_dl_min"] > 0.0


MEAL_HEAD = 'name = "x"\nkind = "meal"\nduration_min = 60\nsamples_min = [0, 60]\n'
PROTEIN_DRINK = "[[actions]]\nat_min = 0\noral_glucose_g = 50\nprotein_g = 200\n"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            MEAL_HEAD + "[[actions]]\nat_min = 0\niv_glucose_g_per_kg = 0.3\nprotein_g = 20\n",
            r"(?s)meal\.toml.*fat_g and protein_g are eaten with oral glucose",
        ),
        (
            MEAL_HEAD + "[[actions]]\nat_min = 0\niv_glucose_g_per_kg = 0.3\n",
            r"a 'meal' needs an oral_glucose_g action",
        ),
        (
            MEAL_HEAD + "[[actions]]\nat_min = 10\noral_glucose_g = 50\n",
            r"a 'meal' needs its oral_glucose_g meal at minute 0",
        ),
        (MEAL_HEAD + "[[actions]]\nat_min = 0\noral_glucose_g = 50\nfat_g = 301\n", r"actions\[0\]\.fat_g"),
        # each within its limit, together 400 g of protein
        (MEAL_HEAD + PROTEIN_DRINK * 2, r"the protein_g doses add up to 400 g"),
        (
            MEAL_HEAD.replace("samples_min = [0, 60]", "samples_min = [30, 60]") + PROTEIN_DRINK,
            r"samples_min: a sample at minute 0 is needed",
        ),
        (
            MEAL_HEAD.replace('"meal"', '"ogtt"') + "[[actions]]\nat_min = 0\noral_glucose_g = 75\nprotein_g = 50\n",
            r"actions\[0\]\.protein_g: .*only in kind = 'meal' .*kind = 'ogtt'",
        ),
    ],
)
def test_fat_and_protein_come_with_oral_glucose_and_a_meal_test_needs_it(tmp_path, text, match):
    path = tmp_path / "meal.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=match):
        load_protocol(path)


def test_clamp_holds_glucose_and_ranks_sensitivity(healthy, resistant):
    clamp = healthy["clamp_40mU"].indices
    assert clamp["steady_state_glucose_mg_dl"] == pytest.approx(clamp["fasting_glucose_mg_dl"], rel=0.02)
    assert clamp["glucose_cv_percent"] < 2.0
    assert clamp["m_value_mg_kg_min"] > 1.0
    assert clamp["liver_output_suppression_percent"] > 20.0
    assert clamp["steady_state_insulin_uU_ml"] > 5 * clamp["fasting_insulin_uU_ml"]
    assert resistant["clamp_40mU"].indices["m_value_mg_kg_min"] < clamp["m_value_mg_kg_min"]
    assert (
        resistant["clamp_40mU"].indices["liver_output_suppression_percent"] < clamp["liver_output_suppression_percent"]
    )


def test_the_low_dose_clamp_halves_insulin_and_suppresses_the_liver_less(healthy):
    # the 20 mU/m2/min clamp reads the liver's sensitivity: its insulin is about half the standard dose's (clearance
    # is linear in insulin) and the liver is partly, not fully, suppressed
    low, standard = healthy["clamp_20mU"].indices, healthy["clamp_40mU"].indices
    rise = {
        name: c["steady_state_insulin_uU_ml"] - c["fasting_insulin_uU_ml"]
        for name, c in (("low", low), ("std", standard))
    }
    assert rise["low"] / rise["std"] == pytest.approx(0.5, abs=0.05)
    assert 10.0 < low["liver_output_suppression_percent"] < standard["liver_output_suppression_percent"]
    assert low["m_value_mg_kg_min"] < standard["m_value_mg_kg_min"]
    assert low["steady_state_glucose_mg_dl"] == pytest.approx(low["fasting_glucose_mg_dl"], rel=0.02)


def test_the_hyperglycaemic_clamp_holds_10_mmol_l_and_reads_both_phases():
    # the protocol primes glucose up and holds 180 mg/dl; a healthy subject's insulin answers in two phases (a first
    # burst in the first 10 min above the second phase), a failing beta cell with a smaller second phase
    from glucosim.clinic.analysis import INDEX_NAMES

    healthy = run_protocol("hyperglycemic_clamp_10mM", "healthy")
    assert tuple(healthy.indices) == INDEX_NAMES["clamp"]
    assert healthy.indices["steady_state_glucose_mg_dl"] == pytest.approx(180.0, abs=1.5)
    assert healthy.indices["glucose_cv_percent"] < 1.0
    samples = healthy.samples
    first_phase = samples.loc[samples["time_min"].between(2.0, 10.0), "insulin_uU_ml"].mean()
    second_phase = healthy.indices["steady_state_insulin_uU_ml"]
    assert second_phase > 4.0 * healthy.indices["fasting_insulin_uU_ml"]
    assert first_phase > second_phase
    assert samples.loc[samples["time_min"].between(2.0, 10.0), "glucose_mg_dl"].min() > 150.0  # the priming bolus
    diabetic = run_protocol(
        "hyperglycemic_clamp_10mM", str(SCENARIO_DIR / "03_insulin_resistance_low_reserve.toml"), day=16 * 365
    )
    assert diabetic.indices["steady_state_glucose_mg_dl"] == pytest.approx(180.0, abs=2.0)
    assert diabetic.indices["steady_state_insulin_uU_ml"] < 0.5 * second_phase
    assert diabetic.indices["m_value_mg_kg_min"] < 0.25 * healthy.indices["m_value_mg_kg_min"]


def test_the_liver_stores_part_of_an_oral_load_as_glycogen(healthy):
    # the clinic's samples follow the liver's glycogen, as 13C MRS does through a meal test: Taylor 1996 (J Clin
    # Invest 97:126, abstract) found ~19 % of a mixed meal's carbohydrate stored at the 5-h peak; the OGTT's 2 h
    # catch part of its storage, so a loose bound: some, not most, of the 75 g
    from glucosim.clinic.runner import subject_scenario
    from glucosim.physiology.indices import Par

    glycogen = healthy["ogtt_75g"].samples["liver_glycogen_mg_kg"].to_numpy()
    weight_kg = subject_scenario("healthy").parameters[Par.body_weight]
    stored_g = (glycogen[-1] - glycogen[0]) * weight_kg / 1000.0
    assert 0.05 * 75.0 < stored_g < 0.4 * 75.0


def test_ivgtt_first_phase_and_sensitivity_ranking(healthy, resistant):
    ivgtt = healthy["ivgtt_0.3g"].indices
    assert ivgtt["air_glucose_uU_ml"] > 10 * ivgtt["fasting_insulin_uU_ml"]
    assert ivgtt["si_1e4_per_min_per_uU_ml"] > resistant["ivgtt_0.3g"].indices["si_1e4_per_min_per_uU_ml"]
    assert resistant["ivgtt_0.3g"].indices["air_glucose_uU_ml"] > ivgtt["air_glucose_uU_ml"]
    # first-phase secretion (pre-hepatic, what C-peptide deconvolution reads) ranks the same way
    resistant_secretion = resistant["ivgtt_0.3g"].indices["first_phase_secretion_pmol_min"]
    assert resistant_secretion > ivgtt["first_phase_secretion_pmol_min"] > 0.0
    samples = healthy["ivgtt_0.3g"].samples
    early = samples[(samples["time_min"] >= 2.0) & (samples["time_min"] <= 10.0)]
    basal = samples.loc[samples["time_min"] == 0.0, "secretion_pmol_min"].iloc[0]
    assert ivgtt["first_phase_secretion_pmol_min"] == pytest.approx(early["secretion_pmol_min"].mean() - basal)


def test_minimal_model_fit_recovers_known_parameters():
    t = np.array(
        [0, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 19, 22, 25, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 160, 180.0]
    )
    basal_glucose, basal_insulin = 90.0, 8.0
    insulin = basal_insulin + 80.0 * np.exp(-t / 8.0) * (t > 0) + 15.0 * np.exp(-t / 60.0) * (t > 0)
    truth = (0.02, 4e-4, 0.04, 260.0)  # SG, SI, p2, G0

    glucose = _simulate(np.log(truth), t, t, insulin, basal_glucose, basal_insulin)
    glucose[0] = basal_glucose
    fit = fit_minimal_model(t, glucose, insulin, p2_prior=None)  # least squares: the Bayesian fit is tested below
    assert fit.si_per_min_per_uU_ml == pytest.approx(truth[1], rel=0.05)
    assert fit.sg_per_min == pytest.approx(truth[0], rel=0.05)
    assert fit.rms_relative_error < 1e-3
    assert fit.at_bound == ()


def test_a_minimal_model_fit_on_a_bound_says_so():
    # a remote insulin action slower than the search allows (p2 below its 0.001/min bound): the fit ends on the
    # bound, so its SI is the bound's consequence, not the samples', and the clinic's text says so
    from glucosim.clinic.analysis import _fit_status

    t = np.array([0, 8, 10, 12, 14, 16, 19, 22, 25, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 160, 180.0])
    insulin = 8.0 + 80.0 * np.exp(-t / 8.0) * (t > 0) + 15.0 * np.exp(-t / 60.0) * (t > 0)
    glucose = _simulate(np.log((0.02, 4e-5, 2e-4, 260.0)), t, t, insulin, 90.0, 8.0)
    glucose[0] = 90.0
    fit = fit_minimal_model(t, glucose, insulin, p2_prior=None)  # the plain least-squares fit
    assert fit.at_bound == ("p2_per_min",) and not fit.failure
    assert _fit_status(fit) == "fitted, but p2_per_min ended on a bound of the search (SI not identified)"
    assert _fit_status(fit_minimal_model(t, glucose * np.nan, insulin)).startswith("not fitted (")


def test_the_p2_prior_holds_p2_where_the_samples_leave_it_free_and_shrinks_it_where_they_say_little():
    """The Bayesian fit (posterior mode under P2_PRIOR). On samples whose remote insulin action is far slower than the
    search allows (the test above: least squares ends on p2's bound) the prior keeps p2 inside, within two prior SDs of
    its median. On noise-free samples of a standard IVGTT the glucose curve hardly tells p2 apart at the measurement
    error of GLUCOSE_ERROR (the SI-p2 trade-off), so a p2 of 0.04 /min is estimated between the truth and the prior's
    median, with SI shrunk with it; a subject at the prior's median is recovered."""
    from glucosim.clinic.minimal_model import P2_PRIOR, LogNormalPrior

    t = np.array([0, 8, 10, 12, 14, 16, 19, 22, 25, 30, 40, 50, 60, 70, 80, 90, 100, 120, 140, 160, 180.0])
    insulin = 8.0 + 80.0 * np.exp(-t / 8.0) * (t > 0) + 15.0 * np.exp(-t / 60.0) * (t > 0)

    def samples(sg, si, p2):
        glucose = _simulate(np.log((sg, si, p2, 260.0)), t, t, insulin, 90.0, 8.0)
        glucose[0] = 90.0
        return glucose

    held = fit_minimal_model(t, samples(0.02, 4e-5, 2e-4), insulin)
    assert held.at_bound == () and not held.failure
    assert abs(np.log(held.p2_per_min / P2_PRIOR.median)) < 2.0 * P2_PRIOR.log_sd
    shrunk = fit_minimal_model(t, samples(0.02, 4e-4, 0.04), insulin)
    assert P2_PRIOR.median < shrunk.p2_per_min < 0.04 and shrunk.si_per_min_per_uU_ml < 4e-4
    at_median = fit_minimal_model(t, samples(0.02, 4e-4, P2_PRIOR.median), insulin)
    assert at_median.si_per_min_per_uU_ml == pytest.approx(4e-4, rel=0.02)
    assert at_median.p2_per_min == pytest.approx(P2_PRIOR.median, rel=0.02)
    # a prior far narrower than the samples' information decides p2 alone
    tight = fit_minimal_model(t, samples(0.02, 4e-4, 0.04), insulin, LogNormalPrior(0.01, 1e-4, source="test"))
    assert tight.p2_per_min == pytest.approx(0.01, rel=1e-3)


@pytest.mark.slow  # quick tier: simulates three years (~19 s)
def test_protocol_on_a_progressing_subject_sees_the_progression():
    path = SCENARIO_DIR / "03_insulin_resistance_low_reserve.toml"
    early = run_protocol("fasting", path, day=0).indices
    later = run_protocol("fasting", path, day=3 * 365).indices
    assert later["fasting_insulin_uU_ml"] > early["fasting_insulin_uU_ml"]


def test_cli_clinic_prints_and_writes(tmp_path):
    result = CliRunner().invoke(main, ["clinic", "ogtt_75g", "--subject", "healthy", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "two_hour_glucose_mg_dl" in result.output and "matsuda_index" in result.output
    saved = json.loads((tmp_path / "clinic.json").read_text())
    assert saved["kind"] == "ogtt" and saved["indices"]["glucose_tolerance"] == "normal"
    assert (tmp_path / "clinic_samples.csv").read_text().count("\n") == 10


def test_cli_clinic_unknown_subject_fails_cleanly():
    result = CliRunner().invoke(main, ["clinic", "ogtt_75g", "--subject", "athlete"])
    assert result.exit_code == 2 and "--subject: athlete: no such scenario file, and not a shipped" in result.output
    assert "a preset is one of healthy, insulin_resistant, insulin_resistant_low_reserve" in result.output


def test_cli_clinic_misspelt_subject_suggests_the_name():
    # a misspelt scenario name went on as a preset and the error listed only the presets (bad-input hunt, 2026-12-05)
    result = CliRunner().invoke(main, ["clinic", "ogtt_75g", "--subject", "01_heathy_baseline"])
    assert result.exit_code == 2 and "did you mean 01_healthy_baseline?" in result.output
    result = CliRunner().invoke(main, ["clinic", "ogtt_75g", "--subject", "healthi"])
    assert result.exit_code == 2 and "or the preset healthy?" in result.output


def test_cli_clinic_subject_by_shipped_name_with_its_extension(tmp_path):
    # `run` takes a shipped name with or without .toml; --subject took it only without (found in review)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["clinic", "fasting", "--subject", "30_multi_day_fast.toml", "--out", str(out)])
    assert result.exit_code == 0, result.output


def test_cli_clinic_scenario_given_as_protocol_is_named(tmp_path):
    # every scenario field was listed as an unknown protocol field
    from glucosim._resources import shipped_scenarios

    path = shipped_scenarios()["01_healthy_baseline"]
    result = CliRunner().invoke(main, ["clinic", str(path)])
    assert result.exit_code == 2
    assert f"{path}: is a scenario file, not a protocol: a scenario is the subject" in result.output
    assert "unknown field" not in result.output


def test_cli_sweep_given_a_folder_says_so(tmp_path):
    result = CliRunner().invoke(main, ["sweep", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and f"{tmp_path}: is a folder, not a sweep file" in result.output


def test_a_visit_year_past_the_run_names_the_latest_year_that_is_a_day_of_it():
    """A 20-year run's last day is 7304; year 20 is day 7305. The message once said "years 0 to 20.00"."""
    from glucosim.clinic.runner import subject_state
    from glucosim.errors import ClinicError
    from glucosim.scenario.schema import Scenario

    data = scenario_dict(duration_years=20)
    del data["duration_days"]
    loaded = parse_scenario(data, "long.toml")
    with pytest.raises(ClinicError) as info:
        subject_state(loaded, Scenario.visit_day(20.0))
    assert "long.toml: day 7305 is outside the scenario (allowed: 0 to 7304, i.e. years 0 to 19.998)" in str(info.value)
    assert Scenario.visit_day(19.998) == 7304 < Scenario.visit_day(19.999)


def test_cli_gallery_refuses_zero_workers():
    result = CliRunner().invoke(main, ["gallery", "--workers", "0"])
    assert result.exit_code == 2 and "'--workers': 0 is not in the range x>=1" in result.output


def test_scheduled_visits_appear_in_summary(tmp_path):
    data = scenario_dict(duration_days=20, clinic=[{"protocol": "fasting", "at_years": [0, 0.05]}])
    result = glucosim.simulate(parse_scenario(data, "<test>"), progress=False)
    assert [visit["day"] for visit in result.summary["clinic"]] == [0, 18]
    paths = result.save(tmp_path, figures=False)
    assert "clinic" in paths and paths["clinic"].is_file()


def test_scheduled_visit_with_unknown_protocol_is_a_scenario_error():
    data = scenario_dict(clinic=[{"protocol": "ogtt_100g", "at_years": [0]}])
    with pytest.raises(ScenarioError, match=r"clinic\[0\].protocol: .*no such protocol"):
        parse_scenario(data, "bad.toml")


def test_run_protocol_on_a_later_day_does_not_rerun_scheduled_visits(monkeypatch):
    """Visits run above ``simulate``: reaching day 2 must not run the day-0 visit and throw it away."""
    import glucosim.clinic.runner as runner

    calls = []
    original = runner.morning_test_state

    def counting(loaded, day=0, state=None):
        calls.append(day)
        return original(loaded, day, state)

    monkeypatch.setattr(runner, "morning_test_state", counting)
    loaded = parse_scenario(scenario_dict(duration_days=3, clinic=[{"protocol": "fasting", "at_years": [0]}]), "<t>")
    result = runner.run_protocol("fasting", loaded, day=2)
    assert calls == [2]
    assert result.day == 2 and result.indices["fasting_glucose_mg_dl"] > 0
    assert glucosim.simulate(loaded, progress=False).summary["clinic"][0]["day"] == 0  # the visit still runs
    assert calls == [2, 0]


def test_a_shipped_sweep_name_wins_over_a_folder_of_that_name(tmp_path, monkeypatch):
    # the folder check must not shadow a shipped name run from a folder holding results named after it
    from glucosim._resources import shipped_sweeps, sweep_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "reversibility_map").mkdir()
    assert sweep_path("reversibility_map") == shipped_sweeps()["reversibility_map"]


def test_clinic_json_records_its_samples_file(tmp_path):
    # the two files of a clinic --out could come from two tests (a save killed between the renames): clinic.json,
    # written last, now records the samples file's size and checksum (an interrupted-run hunt, 2026-12-05)
    import json

    from glucosim.clinic.runner import run_protocol
    from glucosim.io.results import file_sha256

    paths = run_protocol("fasting", "healthy").save(tmp_path / "c")
    record = json.loads(paths["json"].read_text())["samples_file"]
    assert record["name"] == "clinic_samples.csv" and record["bytes"] == paths["csv"].stat().st_size
    assert record["sha256"] == file_sha256(paths["csv"])
