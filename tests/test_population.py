"""The population fit (calibration.population), the DPP table (analysis.sweep.dpp) and the DPP lifestyle arm."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from glucosim.analysis.sweep import dpp
from glucosim.calibration import population
from glucosim.errors import CalibrationError
from glucosim.physiology.units import DAYS_PER_YEAR

ROOT = Path(__file__).resolve().parent.parent
PREVENTION_SWEEP = ROOT / "scenarios" / "sweeps" / "prediabetes_lifestyle.toml"


# ------------------------------------------------------------------------------------------ the targets
def test_shipped_targets_load_and_name_their_sources():
    problem = population.load_population_targets()
    assert problem.cohort == "prediabetic"
    assert problem.sweep == PREVENTION_SWEEP.resolve()
    assert {t.statistic for t in problem.targets} <= set(population.STATISTICS)
    assert all(len(t.source) > 40 for t in problem.targets)
    placebo = next(t for t in problem.targets if t.statistic == "diabetes_incidence_per_100py")
    assert (placebo.published, placebo.low, placebo.high) == (11.0, 9.8, 12.3)


def test_the_library_proposal_is_centred_where_the_targets_say_and_widened_where_the_fit_moves():
    """The wide stage: each free field at its proposal centre, the spreads of the variables with a free field
    widened; a variable set from the data (body weight) keeps the cohort's distribution."""
    problem = population.load_population_targets()
    proposal = {v["name"]: v for v in population.proposal_variables(problem)}
    start = {v["name"]: v for v in population.start_cohort(problem)[0]}
    for f in problem.free:
        centre = f.start if f.proposal is None else f.proposal
        if f.field in ("median", "mean"):  # a free spread is checked below: its centre, widened
            assert proposal[f.variable][f.field] == pytest.approx(centre)
    moved = {f.variable for f in problem.free}
    assert "body_weight" in proposal and "body_weight" not in moved
    # a spread that is itself free (the drift's sd) is widened from its proposal centre, the others from the cohort's
    centres = {(f.variable, f.field): (f.start if f.proposal is None else f.proposal) for f in problem.free}
    for name, v in proposal.items():
        factor = problem.spread_factor if name in moved else 1.0
        if v["distribution"] == "lognormal":
            base = centres.get((name, "gsd"), start[name]["gsd"])
            assert v["gsd"] == pytest.approx(base**factor)
        else:
            base = centres.get((name, "sd"), start[name]["sd"])
            assert v["sd"] == pytest.approx(base * factor)
    assert ("routine.drift.whole_body_per_year", "sd") in centres  # the case above is exercised


def test_the_refining_stage_is_centred_at_the_rounded_first_fit_with_its_own_seed():
    problem = population.load_population_targets()
    assert problem.refine_samples > 0
    first = {f.name: f.low + 0.123456 * (f.high - f.low) for f in problem.free}
    wide, refine = population.library_stages(problem, first)
    assert wide == population.library_stages(problem)[0]
    assert refine.seed != wide.seed and refine.samples == problem.refine_samples
    assert refine.spread_factor == problem.refine_spread_factor
    for f, centre in zip(problem.free, refine.centre):
        assert centre == pytest.approx(first[f.name], rel=5e-3) and centre == float(f"{centre:.3g}")
    # the stage's sweep holds its centre: another first fit is another library
    other = population.library_stages(problem, {n: v * 1.1 for n, v in first.items()})[1]
    assert population.library_sweep(problem, refine).sha256 != population.library_sweep(problem, other).sha256


def test_the_check_simulates_the_trial_sweeps_own_control_patients():
    """Patient i of the check is patient i of the shipped prevention sweep: the same draws from the cohort file."""
    from glucosim.sweep.design import design_samples
    from glucosim.sweep.load import load_sweep

    problem = population.load_population_targets()
    check = population.check_sweep(problem)
    shipped = load_sweep(PREVENTION_SWEEP)
    assert [a.name for a in check.sweep.arms] == [shipped.sweep.arms[0].name]
    assert check.sweep.design.samples == shipped.sweep.design.samples
    n_variables = len(check.sweep.variables)
    np.testing.assert_array_equal(design_samples(check), design_samples(shipped)[:, :n_variables])


def test_the_library_cache_does_not_depend_on_the_cohort_files():
    """The library's sweeps give their variables explicitly: rewriting the cohort file (--write) must not make a
    rerun simulate the library again, while every model source still counts."""
    from glucosim.sweep.load import COHORT_DIR

    files = {path.resolve() for path in population.library_model_files()}
    assert not any(path.parent == COHORT_DIR.resolve() for path in files)
    names = {path.name for path in files}
    assert {"beta_cells.py", "parameters.py"} <= names


def test_a_library_folder_is_named_by_every_change_its_store_would_refuse(monkeypatch):
    """The sweep store refuses a folder made by other code (sweep.store.results_source_sha256); the library's folder
    name carries that hash, so such a change makes a new library instead of a rerun that fails on the old one."""
    from glucosim.sweep import store

    before = population.library_model_hash()
    monkeypatch.setattr(store, "results_source_sha256", lambda: "0" * 16)
    assert population.library_model_hash() != before


def test_the_lifestyle_reduction_is_not_a_fit_target():
    """The 58 % is the validation: no target of the population fit may read the lifestyle arm."""
    text = (population.DEFAULT_TARGETS).read_text()
    problem = population.load_population_targets()
    assert all("lifestyle" not in t.statistic and "reduction" not in t.name for t in problem.targets)
    assert "58" in text  # said, as what is NOT fitted


def test_cohort_file_says_what_it_was_fitted_to_or_why_not():
    """The cohort names its population targets; a fit not adopted leaves the start values and says why."""
    from glucosim._toml import load_toml

    problem = population.load_population_targets()
    cohort = load_toml(population.cohort_path("prediabetic"))
    assert "validation/targets/population/dpp.toml" in cohort["source"]
    assert "pilot" not in cohort["source"]
    if problem.adopted:
        assert cohort["source"].startswith("fitted by")
    else:
        assert "not adopted" in cohort["source"] and problem.not_adopted_because in cohort["source"]
        assert population.table_values(problem) == {f.name: f.start for f in problem.free}
    weight = next(v for v in cohort["variables"] if v.get("parameter") == "body_weight")
    assert (weight["mean"], weight["sd"]) == (93.5, 18.4)  # the DPP's baseline, set from the data
    drift = next(v for v in cohort["variables"] if v.get("field") == "routine.drift.whole_body_per_year")
    assert drift["mean"] == 0.0  # the DPP placebo group's sensitivity did not change in a year (Kitabchi 2005)
    assert any(v.get("parameter") == "insulin_sensitivity_muscle" for v in cohort["variables"])  # IGT's muscle


def test_a_bad_statistic_is_refused(tmp_path):
    text = population.DEFAULT_TARGETS.read_text().replace(
        'statistic = "baseline_hba1c_percent"', 'statistic = "baseline_hba1c"'
    )
    path = tmp_path / "dpp.toml"
    path.write_text(text)
    from glucosim.errors import CalibrationError

    with pytest.raises(CalibrationError, match="statistic"):
        population.load_population_targets(path)


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("follow_up_years = 3\n", 'follow_up_years = "three"\n', "follow_up_years: 'three' (allowed: a whole number"),
        ("follow_up_years = 3\n", "follow_up_years = 2.9\n", "follow_up_years: 2.9"),
        ("follow_up_years = 3\n", "follow_up_years = 1000\n", "follow_up_years: 1000"),
        ("adopted = true", 'adopted = "no"', "adopted: 'no' (allowed: true, false)"),
        ('id = "dpp"', 'id = "../../escaped"', "id: '../../escaped'"),
        ('cohort = "prediabetic"', 'cohort = "bogus"', "cohort: 'bogus' is not a cohort (allowed: "),
        ('sweep = "scenarios/sweeps/', 'sweep = "scenarios/nope/', "sweep: 'scenarios/nope/"),
        ("seed = 20020207", "seed = -1", "library.seed: -1"),
        ("samples = 1000", 'samples = "x"', "library.samples: 'x'"),
        ("spread = 0.65", 'spread = "x"', ".spread: 'x' is not a finite number"),
        ("spread = 0.65", "spread = nan", ".spread: nan is not a finite number"),
        ('id = "dpp"', 'id = "dpp"\nbogus_field = 1', "unknown fields ['bogus_field']"),
    ],
)
def test_a_bad_target_file_is_refused_naming_the_field(tmp_path, old, new, said):
    # each was a traceback, or silently read another way (adopted = "no" as true), in a bad-input hunt (2026-12-05)
    from glucosim.errors import CalibrationError

    text = population.DEFAULT_TARGETS.read_text()
    assert old in text
    path = tmp_path / "dpp.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(CalibrationError, match=re.escape(said)):
        population.load_population_targets(path)


# ------------------------------------------------------------------------------------------ reweighting
def _variables():
    return [
        {"name": "a", "distribution": "lognormal", "median": 0.4, "gsd": 1.3},
        {"name": "b", "distribution": "normal", "mean": -0.03, "sd": 0.012},
    ]


def test_density_is_the_copula_of_the_marginals():
    """Independent scores: the joint log density is the sum of the marginal log densities."""
    from scipy import stats

    x = np.array([[0.3, -0.02], [0.5, -0.05]])
    found = population.log_density(_variables(), np.eye(2), x)
    expected = stats.lognorm(s=math.log(1.3), scale=0.4).logpdf(x[:, 0]) + stats.norm(-0.03, 0.012).logpdf(x[:, 1])
    np.testing.assert_allclose(found, expected, rtol=1e-12)


def _clipped_draws(variables, correlation, n, seed):
    """Draws as the sweep makes them (sweep.design._from_normal_score): copula scores, clipped to the bounds."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, len(variables))) @ np.linalg.cholesky(np.asarray(correlation)).T
    x = np.empty_like(z)
    for j, v in enumerate(variables):
        value = v["median"] * v["gsd"] ** z[:, j] if v["distribution"] == "lognormal" else v["mean"] + v["sd"] * z[:, j]
        x[:, j] = np.clip(value, *v["bounds"])
    return x


def test_a_draw_clipped_to_a_bound_has_the_mass_beyond_it_given_the_others():
    """Two correlated variables, the second clipped at an upper bound: at the bound the density is the first's
    marginal density times P(second's score beyond the bound's | first's score); inside, the copula density."""
    from scipy import stats

    rho = 0.5
    variables = [
        {"name": "a", "distribution": "lognormal", "median": 0.4, "gsd": 1.3, "bounds": [0.01, 10.0]},
        {"name": "b", "distribution": "normal", "mean": 0.0, "sd": 0.012, "bounds": [-0.08, 0.01]},
    ]
    correlation = np.array([[1.0, rho], [rho, 1.0]])
    x = np.array([[0.5, 0.01], [0.3, 0.01], [0.5, 0.002]])
    found = population.log_density(variables, correlation, x)
    za = np.log(x[:, 0] / 0.4) / math.log(1.3)
    log_a = stats.lognorm(s=math.log(1.3), scale=0.4).logpdf(x[:, 0])
    beyond = stats.norm.logsf((0.01 / 0.012 - rho * za) / math.sqrt(1 - rho**2))
    np.testing.assert_allclose(found[:2], (log_a + beyond)[:2], rtol=1e-10)
    inside = (
        stats.multivariate_normal(cov=correlation).logpdf([za[2], 0.002 / 0.012])
        + log_a[2]
        - stats.norm.logpdf(za[2])
        - math.log(0.012)
    )
    assert found[2] == pytest.approx(inside, rel=1e-10)


def test_reweighting_clipped_draws_recovers_the_target_cohort():
    """A library drawn as the sweep draws (clipped at the bounds, a third of it at one) from a two-stage proposal
    reweights to a correlated target cohort: the share at the bound and a mean of an outcome match those of a
    large direct sample of the target, within the reweighting's own noise."""
    base = [
        {"name": "a", "distribution": "lognormal", "median": 1.6, "gsd": 1.3, "bounds": [1.0, 5.0]},
        {"name": "b", "distribution": "normal", "mean": -0.005, "sd": 0.012, "bounds": [-0.08, 0.01]},
    ]
    target = [dict(base[0], median=1.35), dict(base[1], mean=0.0)]
    correlation = np.array([[1.0, 0.3], [0.3, 1.0]])
    stages = [(4000, [dict(base[0], gsd=1.3**1.5), dict(base[1], sd=0.018)]), (4000, base)]
    x = np.vstack([_clipped_draws(v, correlation, n, seed) for seed, (n, v) in enumerate(stages)])
    from scipy.special import logsumexp

    log_q = logsumexp([np.log(0.5) + population.log_density(v, correlation, x) for _, v in stages], axis=0)
    log_w = population.log_density(target, correlation, x) - log_q
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    direct = _clipped_draws(target, correlation, 400_000, 99)

    def outcome(rows):
        return (rows[:, 0] < 1.3) & (rows[:, 1] > -0.004)  # a made-up course: low reserve, no drift

    for statistic in (lambda r: r[:, 0] <= 1.0, lambda r: r[:, 1] >= 0.01, outcome):
        truth = float(np.mean(statistic(direct)))
        estimate = float(np.sum(w * statistic(x)))
        noise = math.sqrt(truth * (1 - truth) / population.effective_samples(w))
        assert abs(estimate - truth) < 4 * noise + 0.002, (estimate, truth)
    assert np.mean(direct[:, 0] <= 1.0) > 0.1 and np.mean(direct[:, 1] >= 0.01) > 0.15  # the bounds matter


def test_without_the_clipped_mass_the_reweighting_misses():
    """The same library weighted by the unclipped density (the previous code) misses the share at the bound:
    the correction is what the test above measures."""
    variables = [{"name": "b", "distribution": "normal", "mean": 0.0, "sd": 0.012, "bounds": [-0.08, 0.01]}]
    proposal = [dict(variables[0], mean=-0.01, sd=0.018)]
    x = _clipped_draws(proposal, np.eye(1), 20000, 3)
    right = population.log_density(variables, np.eye(1), x) - population.log_density(proposal, np.eye(1), x)
    z = (x[:, 0] - 0.0) / 0.012
    zq = (x[:, 0] + 0.01) / 0.018
    wrong = (-0.5 * z**2 - math.log(0.012)) - (-0.5 * zq**2 - math.log(0.018))
    from scipy import stats

    truth = stats.norm.sf(0.01 / 0.012)
    at_bound = x[:, 0] >= 0.01
    share = {}
    for name, log_w in (("right", right), ("wrong", wrong)):
        w = np.exp(log_w - log_w.max())
        share[name] = float(np.sum(w * at_bound) / np.sum(w))
    assert share["right"] == pytest.approx(truth, abs=0.01)
    assert abs(share["wrong"] - truth) > 0.03


def _library(x, enrolled, diabetes_years, regression_years, fg, proposal):
    n = len(x)
    return population.Library(
        x=np.asarray(x, float),
        variable_names=["a", "b"],
        ok=np.ones(n, bool),
        enrolled=np.asarray(enrolled, bool),
        fasting_glucose_0=np.asarray(fg, float),
        hba1c_0=np.full(n, 5.8),
        diabetes_years=np.asarray(diabetes_years, float),
        regression_years=np.asarray(regression_years, float),
        follow_up_years=3.0,
        log_proposal=population.log_density(proposal, np.eye(2), np.asarray(x, float)),
    )


def test_weights_are_equal_when_the_cohort_is_the_proposal():
    rng = np.random.default_rng(1)
    x = np.column_stack([0.4 * 1.3 ** rng.standard_normal(50), -0.03 + 0.012 * rng.standard_normal(50)])
    library = _library(x, np.ones(50), np.full(50, np.nan), np.full(50, np.nan), np.full(50, 105.0), _variables())
    weights = population.importance_weights(library, _variables(), np.eye(2))
    np.testing.assert_allclose(weights, 1 / 50, rtol=1e-12)
    assert population.effective_samples(weights) == pytest.approx(50)


def test_statistics_arithmetic_on_a_tiny_cohort():
    """Four enrolled of five, equal weights: onsets at 1 and 2.5 years, one regression at year 2 (at risk
    until then), one never; 3-year follow-up."""
    x = np.array([[0.4, -0.03]] * 5)
    library = _library(
        x,
        enrolled=[1, 1, 1, 1, 0],
        diabetes_years=[1.0, 2.5, np.nan, np.nan, 0.5],
        regression_years=[np.nan, np.nan, 2.0, np.nan, np.nan],
        fg=[110, 108, 102, 104, 130],
        proposal=_variables(),
    )
    found = population.statistics(library, np.full(5, 0.2))
    closing = 1096 / DAYS_PER_YEAR  # the closing visit, as the DPP table counts it (dpp.closing_visit_day)
    assert found["diabetes_incidence_per_100py"] == pytest.approx(100 * 2 / (1 + 2.5 + 2 * closing))
    assert found["regression_per_100py"] == pytest.approx(100 * 1 / (1 + 2.5 + 2 + closing))
    assert found["baseline_fasting_glucose_mg_dl"] == pytest.approx(106.0)
    assert found["enrolled_fraction"] == pytest.approx(0.8)


def test_a_failed_library_run_does_not_poison_the_baselines():
    """A run that failed has no baseline (NaN) and is not enrolled: the statistics of the others stay finite and
    equal those of the library without it (0 x NaN is NaN: a weighted sum over all patients would be NaN)."""
    x = np.array([[0.4, -0.03]] * 4)
    kept = _library(x[:3], [1, 1, 0], [1.0, np.nan, np.nan], [np.nan, 2.0, np.nan], [110, 104, 130], _variables())
    library = _library(
        x,
        [1, 1, 0, 0],
        [1.0, np.nan, np.nan, np.nan],
        [np.nan, 2.0, np.nan, np.nan],
        [110, 104, 130, np.nan],
        _variables(),
    )
    library.ok[3] = False
    library.hba1c_0[3] = np.nan
    found = population.statistics(library, np.array([1 / 3, 1 / 3, 1 / 3, 0.0]))
    assert found == pytest.approx(population.statistics(kept, np.full(3, 1 / 3)), nan_ok=True)  # no OGTT: NaN in both
    assert math.isfinite(found["baseline_fasting_glucose_mg_dl"]) and math.isfinite(found["baseline_hba1c_percent"])


def test_the_enrolled_two_hour_glucose_is_their_weighted_mean_through_resampling_and_stages():
    """The screening OGTT's 2-h glucose (a target since 2026-12-04): the weighted mean over the enrolled only, kept
    by a bootstrap resample and by joining the library's stages."""
    x = np.array([[0.4, -0.03]] * 5)
    library = _library(x, [1, 1, 1, 0, 0], [np.nan] * 5, [np.nan] * 5, [105.0] * 5, _variables())
    library.two_hour_glucose_0 = np.array([150.0, 170.0, 160.0, 300.0, np.nan])  # the last two are not enrolled
    library.ok[4] = False  # a failed run: no screening values at all (0 x NaN would poison a plain weighted sum)
    found = population.statistics(library, np.array([0.4, 0.2, 0.2, 0.1, 0.1]))
    assert found["baseline_two_hour_glucose_mg_dl"] == pytest.approx((0.4 * 150 + 0.2 * 170 + 0.2 * 160) / 0.8)
    resampled = library.subset(np.array([0, 0, 1]))
    assert population.statistics(resampled, np.full(3, 1 / 3))["baseline_two_hour_glucose_mg_dl"] == pytest.approx(
        470 / 3
    )
    joined = population.Library.concat([library, library.subset(np.array([1]))])
    np.testing.assert_array_equal(joined.two_hour_glucose_0, [150.0, 170.0, 160.0, 300.0, np.nan, 170.0])
    # a stage without the screening OGTT: the joined library has no 2-h glucose rather than a misaligned one
    assert (
        population.Library.concat(
            [library, _library(x, [1] * 5, *[[np.nan] * 5] * 2, [105.0] * 5, _variables())]
        ).two_hour_glucose_0
        is None
    )


def test_the_enrolled_fasting_insulin_is_their_weighted_mean_read_from_the_yearly_marker():
    """The baseline fasting insulin (a target since 2026-12-05): the weighted mean over the enrolled of the sweep's
    year-0 marker, converted from uU/ml to pmol/l, kept by resampling and joining; a library whose sweep kept no
    fasting insulin has none, and a target on it is refused with the reason."""
    x = np.array([[0.4, -0.03]] * 4)
    library = _library(x, [1, 1, 0, 0], [np.nan] * 4, [np.nan] * 4, [105.0] * 4, _variables())
    library.fasting_insulin_0 = np.array([120.0, 180.0, 600.0, np.nan])  # the last two are not enrolled
    library.ok[3] = False
    found = population.statistics(library, np.array([0.5, 0.25, 0.25, 0.0]))
    assert found["baseline_fasting_insulin_pmol_l"] == pytest.approx((0.5 * 120 + 0.25 * 180) / 0.75)
    assert population.statistics(library.subset(np.array([1, 1])), np.full(2, 0.5))[
        "baseline_fasting_insulin_pmol_l"
    ] == pytest.approx(180.0)
    joined = population.Library.concat([library, library.subset(np.array([0]))])
    np.testing.assert_array_equal(joined.fasting_insulin_0, [120.0, 180.0, 600.0, np.nan, 120.0])

    results = pd.DataFrame(
        {
            "status": ["ok", "ok"],
            "y0_stage": ["prediabetes", "normal"],
            "diabetes_onset_day": [np.nan, np.nan],
            "y0_fasting_glucose_mg_dl": [106.0, 95.0],
            "y0_hba1c_percent": [5.9, 5.4],
            "y0_fasting_insulin_uU_ml": [25.0, 8.0],
            "insulin_sensitivity_whole_body": [0.4, 0.5],
        }
    )
    read = population.Library.from_results(results, ["insulin_sensitivity_whole_body"], follow_up_years=0)
    np.testing.assert_allclose(read.fasting_insulin_0, [150.0, 48.0])  # 6 pmol/l per uU/ml
    without = population.Library.from_results(
        results.drop(columns="y0_fasting_insulin_uU_ml"), ["insulin_sensitivity_whole_body"], follow_up_years=0
    )
    assert without.fasting_insulin_0 is None
    problem = _one_target_problem("baseline_fasting_insulin_pmol_l", 161.0, 7.1, 139.0, 167.0, library_samples=2)
    with pytest.raises(CalibrationError, match="fasting insulin"):
        population.require_measured(problem, without)


def _one_target_problem(
    statistic: str,
    published: float,
    spread: float,
    low: float,
    high: float,
    library_samples: int,
    spread_factor: float = 1.5,
):
    """A population problem with one free field (``a``'s median, 0.25-0.6 from 0.4) and one target on ``statistic``."""
    target = population.PopulationTarget(
        name=statistic,
        label=statistic,
        statistic=statistic,
        unit="",
        source="",
        published=published,
        spread=spread,
        low=low,
        high=high,
    )
    return population.PopulationProblem(
        id="t",
        title="t",
        description="",
        cohort="prediabetic",
        sweep=PREVENTION_SWEEP,
        follow_up_years=3,
        library_samples=library_samples,
        library_seed=0,
        spread_factor=spread_factor,
        free=[population.FreeField("a", "median", 0.4, 0.25, 0.6)],
        fixed=[],
        targets=[target],
        path=Path("t.toml"),
    )


def test_a_target_the_library_cannot_measure_is_refused_by_name():
    """A library whose clinic ran no screening OGTT has no 2-h glucose: the fit says so instead of stopping on
    NaN residuals."""
    from glucosim.errors import CalibrationError

    x = np.array([[0.4, -0.03]] * 3)
    library = _library(x, [1, 1, 0], [np.nan] * 3, [np.nan] * 3, [105.0] * 3, _variables())
    problem = _one_target_problem(
        "baseline_two_hour_glucose_mg_dl", published=164.6, spread=6.0, low=158.6, high=170.6, library_samples=3
    )
    with pytest.raises(CalibrationError, match="two_hour.*screening OGTT"):
        population.require_measured(problem, library)
    library.two_hour_glucose_0 = np.full(3, np.nan)  # the clinic's column without values: a screening without OGTT
    with pytest.raises(CalibrationError, match="two_hour"):
        population.require_measured(problem, library)
    library.two_hour_glucose_0 = np.array([150.0, 160.0, np.nan])  # the one not enrolled has none: it is not read
    population.require_measured(problem, library)  # measured: no error
    with pytest.raises(CalibrationError, match="two_hour"):  # an empty library measures nothing
        population.require_measured(problem, library.subset(np.array([], dtype=int)))


def test_objective_moves_smoothly_and_the_fit_recovers_a_planted_median():
    """A synthetic library where onset depends on sensitivity: the fit finds the median that gives the
    planted incidence, and the objective is smooth (no steps between neighbouring medians)."""
    rng = np.random.default_rng(7)
    n = 3000
    proposal = [dict(v) for v in _variables()]
    proposal[0]["gsd"] = 1.3**1.8
    x = np.column_stack([0.4 * proposal[0]["gsd"] ** rng.standard_normal(n), -0.03 + 0.012 * rng.standard_normal(n)])
    onset = np.where(x[:, 0] < 0.35, 1.5, np.nan)  # the resistant convert within the follow-up
    library = _library(x, np.ones(n), onset, np.full(n, np.nan), np.full(n, 106.0), proposal)
    problem = _one_target_problem(
        "diabetes_incidence_per_100py",
        published=11.0,
        spread=0.5,
        low=9.8,
        high=12.3,
        library_samples=n,
        spread_factor=1.8,
    )
    objective = population.Objective(problem, library)
    objective.variables, objective.correlation = _variables(), np.eye(2)
    values = [objective([m])[0] for m in np.linspace(0.38, 0.42, 9)]
    assert np.all(np.diff(values) < 0)  # higher sensitivity, fewer onsets, monotone and strictly moving
    from scipy.optimize import brentq

    median = brentq(lambda m: objective([m])[0], 0.3, 0.6)
    # analytic: share below 0.35 is p = Phi(ln(0.35/m)/ln 1.3); rate = 100 p / (1.5 p + 3 (1 - p)) = 11
    p = 11 * 3 / (100 + 11 * 1.5)
    from scipy.stats import norm

    expected = 0.35 / math.exp(norm.ppf(p) * math.log(1.3))
    assert median == pytest.approx(expected, rel=0.03)


# ------------------------------------------------------------------------------------------ the DPP table
def _results(arm, onsets_years, stages):
    n = len(onsets_years)
    return pd.DataFrame(
        {
            "sample": range(n),
            "arm": arm,
            "status": "ok",
            "y0_stage": stages,
            "diabetes_onset_day": [np.nan if y is None else y * DAYS_PER_YEAR for y in onsets_years],
        }
    )


def test_dpp_table_arithmetic():
    """Control: 4 enrolled, onsets at 1 and 2 years (a fifth, normal at baseline, is not enrolled), follow-up
    3 years (the closing visit, day 1096 = 3.0007 years): 2 / (1 + 2 + 3.0007 + 3.0007) = 22.2 per 100 py.
    Lifestyle: one onset at 2 years: 1 / 11 = 9.09. The reduction is 1 - 9.09 / 22.2 = 59 %; an onset after the
    follow-up counts as none."""
    closing_years = 1096 / DAYS_PER_YEAR
    stages = ["prediabetes"] * 4 + ["normal"]
    results = pd.concat(
        [
            _results("control", [1.0, 2.0, None, None, 0.5], stages),
            _results("lifestyle", [None, 2.0, None, 4.0, 0.5], stages),
        ],
        ignore_index=True,
    )
    table = dpp.trial_table(results, "control", 3.0).set_index("arm")
    assert table.loc["control", "enrolled"] == 4
    control_years = 1.0 + 2.0 + 2 * closing_years
    lifestyle_years = 2.0 + 3 * closing_years
    assert table.loc["control", "person_years"] == pytest.approx(control_years)
    assert table.loc["control", "incidence_per_100py"] == pytest.approx(200 / control_years)
    assert table.loc["lifestyle", "incidence_per_100py"] == pytest.approx(100 / lifestyle_years)
    assert table.loc["lifestyle", "relative_reduction_percent"] == pytest.approx(
        100 * (1 - (1 / lifestyle_years) / (2 / control_years))
    )
    low, high = table.loc["lifestyle", ["reduction_ci_low", "reduction_ci_high"]]
    assert low < table.loc["lifestyle", "relative_reduction_percent"] < high
    assert table.loc["control", "dpp_incidence_per_100py"] == 11.0
    text = dpp.markdown(table.reset_index().rename_axis(None))
    assert "OUTSIDE the trial's CI" in text  # 22.2 is not in 9.8-12.3


def test_an_onset_seen_at_the_closing_visit_counts_however_long_the_run():
    """The clinic's year-3 visit is day 1096 (3.0007 years) in a run longer than 3 years, day 1095 (the last day)
    in a 3-year run: either is inside a 3-year follow-up; the next day is not (found 2026-12-02)."""
    assert dpp.closing_visit_day(3.0) == 1096
    events, _ = dpp.events_and_person_years(np.array([1096.0, 1095.0, 1097.0, np.nan]), 3.0)
    assert events == 2


def test_poisson_interval_matches_the_exact_chi_square_bounds():
    """10 events in 100 person-years: the exact 95 % interval of the rate is 4.80-18.39 per 100 py."""
    low, high = dpp.poisson_interval(10, 100.0)
    assert low == pytest.approx(4.795, abs=0.01)
    assert high == pytest.approx(18.39, abs=0.01)


# ------------------------------------------------------------------------------------------ the DPP arm
def _arm_scenario(arm_name: str, duration_days: int):
    from glucosim.scenario.load import parse_scenario
    from glucosim.sweep.load import load_sweep
    from glucosim.sweep.scenario_edit import run_scenario_data

    loaded = load_sweep(PREVENTION_SWEEP)
    arm = next(a for a in loaded.sweep.arms if a.name == arm_name)
    values = {
        "insulin_sensitivity_whole_body": 0.4,
        "beta_function_max": 2.0,
        "routine.drift.whole_body_per_year": -0.03,
        "body_weight": 93.5,
        "insulin_sensitivity_muscle": 1.0,
        # the protocol as written: full diet and activity adherence, no regain (the sweep draws them per patient)
        "lifestyle.diet": 1.0,
        "lifestyle.activity": 1.0,
        "lifestyle.regain": 0.0,
    }
    data = run_scenario_data(loaded, arm, values)
    data.pop("duration_years", None)
    data["duration_days"] = duration_days
    return data, parse_scenario(data)


def test_lifestyle_arm_keeps_the_drift_and_loses_weight_through_energy_balance_only():
    """The protocol arm changes intake and exercise; it does not switch the drift off or set weight."""
    data, _ = _arm_scenario("lifestyle", 200)
    assert data["routine"]["drift"]["whole_body_per_year"] == -0.03
    for change in data["changes"]:
        assert "drift" not in change
        assert set(change) <= {"from_day", "label", "energy_surplus_kcal_per_day", "exercise"}
    minutes = sum(s["duration_min"] * len(s.get("weekdays", range(7))) for s in data["changes"][0]["exercise"])
    assert minutes >= 150


def test_lifestyle_arm_reaches_the_dpp_goal_of_7_percent_weight_loss_at_week_24():
    from glucosim.simulation.run import simulate

    _, scenario = _arm_scenario("lifestyle", 200)
    weight = simulate(scenario, progress=False).daily["weight_change_kg"]
    assert -7.5 <= 100 * weight.iloc[167] / 93.5 <= -6.5
    assert weight.iloc[30] > weight.iloc[167]  # lost gradually, through the energy balance


def test_glucosim_calibrate_population_forwards_to_the_module_command():
    from click.testing import CliRunner

    from glucosim.cli import main

    result = CliRunner().invoke(main, ["calibrate-population", "--help"])
    assert result.exit_code == 0
    assert "--write" in result.output and "--cache-dir" in result.output
    bad = CliRunner().invoke(main, ["calibrate-population", "--no-such-option"])
    assert bad.exit_code == 2


def test_analyze_writes_the_trial_table_for_a_cohort_trial_of_three_years_or_more(tmp_path):
    from glucosim.analysis.sweep import _trial_table

    stages = ["prediabetes"] * 4 + ["normal"]
    results = pd.concat(
        [
            _results("control", [1.0, 2.0, None, None, 0.5], stages),
            _results("lifestyle", [None, 2.0, None, 4.0, 0.5], stages),
        ],
        ignore_index=True,
    )
    manifest = {"design": "cohort", "arms": ["control", "lifestyle"]}
    files: dict = {}
    table = _trial_table(results, manifest, "control", 3.0, tmp_path, files)
    assert table is not None and (tmp_path / "trial_table.md").is_file()
    assert "| lifestyle | 4 | 1 |" in (tmp_path / "trial_table.md").read_text()
    assert _trial_table(results, manifest, "control", 2.0, tmp_path, {}) is None  # shorter than the DPP's follow-up
    assert _trial_table(results, {**manifest, "design": "grid"}, "control", 3.0, tmp_path, {}) is None


def test_no_onset_in_an_arm_is_a_full_reduction_without_an_interval():
    reduction, low, high = dpp.relative_reduction(0, 10.0, 3, 9.0)
    assert reduction == 100.0 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in dpp.relative_reduction(2, 10.0, 0, 9.0))  # no reference onsets: undefined


# ------------------------------------------------------------------------------------------ the virtual clinic
def _course(fasting_start, fasting_end, hba1c_start=5.8, hba1c_end=None, years=3):
    n = int(round(years * DAYS_PER_YEAR))
    hba1c_end = hba1c_start if hba1c_end is None else hba1c_end
    return np.linspace(fasting_start, fasting_end, n), np.linspace(hba1c_start, hba1c_end, n)


def test_noiseless_clinic_diagnoses_at_the_first_visit_past_126_and_its_confirmation():
    """Fasting glucose rising 108 -> 138 over 3 years passes 126 at year 1.8: the visit at 2 years diagnoses
    (its repeat 6 weeks later is higher still); HbA1c stays below 6.5 %."""
    from glucosim.analysis.sweep.clinic import ClinicSettings, clinic_course

    fasting, hba1c = _course(108.0, 138.0)
    seen = clinic_course(0, fasting, hba1c, ClinicSettings(fasting_glucose_cv=0.0, hba1c_cv=0.0))
    assert seen["enrolled"] and seen["screen_fasting_glucose_mg_dl"] == pytest.approx(108.0)
    assert seen["diagnosis_day"] == pytest.approx(2 * DAYS_PER_YEAR, abs=1.0)
    assert math.isnan(seen["normal_day"])
    # outside the DPP's fasting window, or already at an HbA1c of diabetes: not enrolled
    for start, a1c in ((93.0, 5.9), (127.0, 6.0), (110.0, 6.6)):
        fasting, hba1c = _course(start, start, a1c)
        assert not clinic_course(0, fasting, hba1c, ClinicSettings(0.0, 0.0))["enrolled"]


def test_a_repeat_test_must_confirm_the_diagnosis():
    """A patient steady at a fasting glucose of 120 mg/dl: one test reads >= 126 with p = P(z >= 0.877) = 0.19
    (CV 5.7 %), two in a row with p^2 = 0.036; six semiannual visits diagnose 1 - (1 - p^2)^6 = 20 % of such
    patients, where single tests would diagnose 1 - (1 - p)^6 = 72 %."""
    from scipy.stats import norm

    from glucosim.analysis.sweep.clinic import clinic_course

    fasting, hba1c = _course(120.0, 120.0, 5.9)
    diagnosed = [not math.isnan(clinic_course(i, fasting, hba1c)["diagnosis_day"]) for i in range(3000)]
    p = norm.sf((126.0 / 120.0 - 1.0) / 0.057)
    assert np.mean(diagnosed) == pytest.approx(1.0 - (1.0 - p * p) ** 6, abs=0.025)


def test_day_to_day_variability_lets_a_steady_prediabetic_patient_test_normal():
    """Steady at 101 mg/dl and HbA1c 5.6 %: at a yearly visit both tests read normal with q = P(z < -0.174) x
    P(z < 0.496) = 0.30; a first return by year 3: 1 - (1 - q)^3 = 65 %. The true course never changes."""
    from scipy.stats import norm

    from glucosim.analysis.sweep.clinic import clinic_course

    fasting, hba1c = _course(101.0, 101.0, 5.6)
    seen = [clinic_course(i, fasting, hba1c) for i in range(3000)]
    returned = [not math.isnan(s["normal_day"]) for s in seen if s["enrolled"]]
    q = norm.cdf((100.0 / 101.0 - 1.0) / 0.057) * norm.cdf((5.7 / 5.6 - 1.0) / 0.036)
    assert np.mean(returned) == pytest.approx(1.0 - (1.0 - q) ** 3, abs=0.03)


def test_screening_is_staged_a_preliminary_fasting_test_then_the_eligibility_visit():
    """Steady at a normal fasting glucose of 92 mg/dl and HbA1c 5.5 %: the eligibility visit alone lets in
    P(95 <= f <= 125 and (f >= 100 or HbA1c >= 5.7)); the DPP's staged screening also needs the preliminary
    fasting test in the window, independent of the visit's, which multiplies that by P(95 <= f <= 125) = 0.28.
    One test let one in three enrolled DPP patients in on a single high reading (found 2026-12-03)."""
    from scipy.stats import norm

    from glucosim.analysis.sweep.clinic import clinic_course

    fasting, hba1c = _course(92.0, 92.0, 5.5)
    enrolled = [clinic_course(i, fasting, hba1c)["enrolled"] for i in range(4000)]
    z = lambda glucose: (glucose / 92.0 - 1.0) / 0.057  # noqa: E731
    in_window = norm.cdf(z(125.0)) - norm.cdf(z(95.0))
    prediabetic_visit = (norm.cdf(z(125.0)) - norm.cdf(z(100.0))) + (norm.cdf(z(100.0)) - norm.cdf(z(95.0))) * norm.sf(
        (5.7 / 5.5 - 1.0) / 0.036
    )
    assert np.mean(enrolled) == pytest.approx(in_window * prediabetic_visit, abs=0.01)
    assert in_window * prediabetic_visit < 0.4 * prediabetic_visit  # the staging matters here


def test_clinic_draws_are_the_patients_own_the_same_in_every_arm():
    from glucosim.analysis.sweep.clinic import clinic_course

    fasting, hba1c = _course(110.0, 125.0, 6.0, 6.4)
    assert clinic_course(7, fasting, hba1c) == clinic_course(7, fasting, hba1c)
    assert clinic_course(7, fasting, hba1c)["screen_fasting_glucose_mg_dl"] != pytest.approx(
        clinic_course(8, fasting, hba1c)["screen_fasting_glucose_mg_dl"]
    )


def test_dpp_table_reads_the_clinic_columns_when_the_sweep_kept_daily_values():
    """Two patients, both arms: the clinic enrols the first only (the second screens at 130 mg/dl); the control
    arm's first patient is diagnosed at year 2, the lifestyle arm's returns to normal at year 1."""
    from glucosim.analysis.sweep.clinic import ClinicSettings, clinic_outcomes

    n = int(round(3 * DAYS_PER_YEAR))
    rising, normal, high = np.linspace(108, 138, n), np.full(n, 98.0), np.full(n, 130.0)
    courses = {0: (rising, 5.8), 1: (high, 5.8), 2: (normal, 5.5), 3: (high, 5.8)}  # control 0, 1; lifestyle 2, 3
    daily = pd.concat(
        [
            pd.DataFrame({"run_id": r, "day": np.arange(n), "fasting_glucose_mg_dl": f, "hba1c_percent": a1c})
            for r, (f, a1c) in courses.items()
        ]
    )
    results = pd.DataFrame(
        {
            "run_id": [0, 1, 2, 3],
            "sample": [0, 1, 0, 1],
            "arm": ["control", "control", "lifestyle", "lifestyle"],
            "status": "ok",
            "y0_stage": "prediabetes",
            "diabetes_onset_day": [600.0, 0.0, np.nan, 0.0],
        }
    )
    seen = clinic_outcomes(results, daily, ClinicSettings(0.0, 0.0))
    table = dpp.trial_table(seen, "control", 3.0).set_index("arm")
    assert table.loc["control", "enrolled"] == 1 and table.loc["control", "diabetes_onsets"] == 1
    assert table.loc["control", "person_years"] == pytest.approx(2.0, abs=0.01)
    assert table.loc["lifestyle", "diabetes_onsets"] == 0
    # the lifestyle patient tests normal at the first yearly visit: 1 return in 1 person-year at risk
    assert table.loc["lifestyle", "returns_to_normal"] == 1
    assert table.loc["lifestyle", "return_to_normal_per_100py"] == pytest.approx(100.0, rel=0.01)
    assert table.loc["control", "returns_to_normal"] == 0
    text = dpp.markdown(table.reset_index().rename_axis(None))
    assert "virtual DPP clinic" in text and "return to normal regulation" in text


def test_dpp_report_sets_the_lifestyle_arms_return_to_normal_beside_perreault():
    """Control returns to normal at the year-2 visit (50 per 100 person-years at risk), lifestyle at year 1 (100):
    the report gives the 2.0-fold ratio of crude rates beside the DPP's adjusted hazard ratio, as context."""
    from glucosim.analysis.sweep.clinic import ClinicSettings, clinic_outcomes

    n = int(round(3 * DAYS_PER_YEAR))
    day = np.arange(n)
    late = np.where(day < 500, 108.0, 95.0)  # prediabetic at screening, normal from ~1.4 years on
    courses = {0: (late, np.where(day < 500, 5.8, 5.5)), 1: (np.full(n, 95.0), np.full(n, 5.5))}
    daily = pd.concat(
        [
            pd.DataFrame({"run_id": r, "day": day, "fasting_glucose_mg_dl": f, "hba1c_percent": a1c})
            for r, (f, a1c) in courses.items()
        ]
    )
    results = pd.DataFrame(
        {
            "run_id": [0, 1],
            "sample": [0, 0],
            "arm": ["control", "lifestyle"],
            "status": "ok",
            "y0_stage": "prediabetes",
            "diabetes_onset_day": [np.nan, np.nan],
        }
    )
    seen = clinic_outcomes(results, daily, ClinicSettings(0.0, 0.0))
    table = dpp.trial_table(seen, "control", 3.0)
    rates = table.set_index("arm")["return_to_normal_per_100py"]
    assert rates["lifestyle"] / rates["control"] == pytest.approx(2.0, rel=0.02)
    text = dpp.markdown(table)
    assert "lifestyle / control: return to normal 2.0-fold (crude rates)" in text
    assert f"hazard ratio {dpp.LIFESTYLE_RETURN_TO_NORMAL_HAZARD_RATIO.value:g} for the programme adjusted" in text
    # no return to normal in the control arm: the ratio is said to be undefined, not printed as inf or dropped
    no_return = table.copy()
    no_return.loc[no_return["arm"] == "control", "return_to_normal_per_100py"] = 0.0
    assert "return to normal ratio undefined" in dpp.markdown(no_return)


# ------------------------------------------------------------------------------------------ the report
def _fit_and_check(direct_return: float):
    """A made-up fit of the shipped problem: return to normal reweighted to 12 (above its range 5-10: not reached),
    the other targets inside; a check whose direct return to normal is ``direct_return`` +- 2."""
    problem = population.load_population_targets()
    statistics = {
        "diabetes_incidence_per_100py": 11.0,
        "regression_per_100py": 12.0,
        "baseline_fasting_glucose_mg_dl": 106.0,
        "baseline_hba1c_percent": 5.9,
        "baseline_two_hour_glucose_mg_dl": 164.0,
        "baseline_fasting_insulin_pmol_l": 158.0,
        "enrolled_fraction": 0.35,
    }
    errors = dict.fromkeys(statistics, 1.0)
    fit = population.PopulationFit(
        problem=problem,
        values={f.name: f.proposal for f in problem.free},
        statistics=statistics,
        start_statistics=statistics,
        cost=1.0,
        start_cost=2.0,
        effective_enrolled=250.0,
        library_size=1500,
        library_enrolled=520,
        status="ok",
        jacobian=np.eye(len(problem.free)),
        log_sd=[0.1] * (len(problem.free) - 1) + [0.001],
        errors=errors,
        stages=population.library_stages(problem, {f.name: f.proposal for f in problem.free}),
    )
    direct = dict(statistics, regression_per_100py=direct_return)
    by_statistic = {t.statistic: t for t in problem.targets}
    rows = [
        population.CheckRow(name, name, "", statistics[name], 1.0, direct[name], 2.0, by_statistic.get(name))
        for name in population.STATISTICS
    ]
    check = population.CheckResult(rows, 400, 135, 240.0, fit.values, "/tmp/x")
    return fit, check


def test_the_report_states_the_ess_each_target_and_those_not_reached():
    fit, check = _fit_and_check(13.0)
    assert [t.name for t in population.not_reached(fit)] == ["regression_to_normal"]
    text = population.report_markdown(fit, 10.0, check)
    assert "**250** of 520" in text  # the effective sample size
    assert "**Not reached:** return to normal regulation" in text
    assert "| 11 +- 1 |" in text  # a target with its fitted value and bootstrap SE
    assert "**The cohort file holds:**" in text
    lines = "\n".join(population.summary_lines(fit, check))
    assert "effective sample size of the enrolled at the fit: 250" in lines
    assert "not reached: regression_to_normal" in lines
    source = population.cohort_text(fit, "cmd", check)
    assert "NOT REACHED" in source and "Not reached: regression_to_normal" in source and "it holds" in source
    # the header's prose is the target file's: every free and fixed field named, the independent variables listed
    header = " ".join(line.lstrip("# ") for line in source.split("\ndescription =")[0].splitlines())
    for field in (*fit.problem.free, *fit.problem.fixed):
        assert population._field_words(field.variable, field.field) in header
    assert "drawn independently of the rest: the secretory reserve" in header


def test_the_check_fails_when_a_target_statistic_does_not_carry():
    """Direct 19.5 against reweighted 12, SEs 2 and 1: z = 7.5 / sqrt(5) = 3.35 > 2.5: the file does not hold."""
    fit, check = _fit_and_check(19.5)
    row = next(r for r in check.rows if r.statistic == "regression_per_100py")
    assert row.z == pytest.approx(7.5 / math.sqrt(5.0))
    assert not row.carries and not check.holds and check.failed == [row]
    assert "**The cohort file does not hold:**" in population.report_markdown(fit, None, check)
    assert "DOES NOT HOLD" in population.cohort_text(fit, "cmd", check)
    # the enrolled fraction is no target: it is shown, never decides
    fraction = next(r for r in check.rows if r.statistic == "enrolled_fraction")
    fraction.direct = 0.9
    assert check.failed == [row]


def test_bootstrap_errors_shrink_with_the_library():
    """The bootstrap SE of a reweighted rate falls like 1 / sqrt(size) (a library 4x larger: about half)."""
    rng = np.random.default_rng(3)

    def se(n):
        x = np.column_stack([0.4 * 1.3 ** rng.standard_normal(n), -0.03 + 0.012 * rng.standard_normal(n)])
        onset = np.where(rng.random(n) < 0.3, rng.uniform(0.1, 3.0, n), np.nan)
        library = _library(x, np.ones(n), onset, np.full(n, np.nan), np.full(n, 105.0), _variables())
        return population.statistic_errors(library, np.full(n, 1.0 / n), replicates=200, seed=1)[
            "diabetes_incidence_per_100py"
        ]

    assert se(1600) / se(400) == pytest.approx(0.5, abs=0.12)


def test_a_statistic_the_library_cannot_measure_has_no_error_and_no_warning():
    """A library without the screening OGTT (every 2-h glucose NaN): its bootstrap gives the 2-h glucose no error,
    quietly (numpy warned of the all-NaN SD before), and the other statistics theirs."""
    import warnings

    rng = np.random.default_rng(4)
    n = 200
    x = np.column_stack([0.4 * 1.3 ** rng.standard_normal(n), -0.03 + 0.012 * rng.standard_normal(n)])
    onset = np.where(rng.random(n) < 0.3, rng.uniform(0.1, 3.0, n), np.nan)
    library = _library(x, np.ones(n), onset, np.full(n, np.nan), np.full(n, 105.0), _variables())
    assert library.two_hour_glucose_0 is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        errors = population.statistic_errors(library, np.full(n, 1.0 / n), replicates=50, seed=1)
    assert math.isnan(errors["baseline_two_hour_glucose_mg_dl"])
    assert errors["diabetes_incidence_per_100py"] > 0.0


def test_cohort_file_values_keep_four_significant_digits():
    """Four decimals wrote a fitted drift mean of -0.0005237 as -0.0005 (4.5 % off), and the file then failed
    its own 1 % reproduction check (found 2026-12-03)."""
    from glucosim.calibration.population import _toml_value

    assert _toml_value(-0.0005237) == "-0.0005237"
    assert _toml_value(1.33623) == "1.336" and _toml_value(-1e-18) in ("-1e-18", "1e-18")
    assert _toml_value(0.0) == "0.0" and _toml_value(-0.0) == "0.0"


def test_regenerating_the_report_keeps_its_hand_written_tail(tmp_path):
    page = tmp_path / "population.md"
    page.write_text("# old generated text\n\nold numbers\n\n" + population.KEPT_MARKER + "\n\n## Diagnosis\n\nkept\n")
    population.write_report("# new generated text\n\nnew numbers\n", page)
    text = page.read_text()
    assert text.startswith("# new generated text\n\nnew numbers\n")
    assert "old numbers" not in text
    assert text.endswith(population.KEPT_MARKER + "\n\n## Diagnosis\n\nkept\n")
    population.write_report("# newer\n", page)  # a second regeneration keeps it once
    assert page.read_text().count(population.KEPT_MARKER) == 1
    fresh = tmp_path / "fresh.md"
    population.write_report("# only generated\n", fresh)
    assert fresh.read_text() == "# only generated\n"


def test_parameters_every_patient_shares_reach_the_library_the_check_and_the_cohort_file(tmp_path):
    """A target file's [parameters] (with its reason): set on every library run, written into the cohort file as its
    [parameters] and named in its header; without the reason the file is refused."""
    import tomllib

    from glucosim.errors import CalibrationError

    text = population.DEFAULT_TARGETS.read_text()
    # the shipped target file shares its patients' held set point and fitness; a test adds a third parameter
    table = "\n[parameters]\nsetpoint_adaptation_at_start = 1.0\nresting_intensity = 13.9\n"
    assert table in text  # above the first table, as TOML needs
    reason = text[text.index("parameters_source = ") : text.index(table)]
    shared = tmp_path / "dpp_shared.toml"
    shared.write_text(text.replace(table, table + "glucose_sensing_offset = 10.0\n", 1))
    expected = {"setpoint_adaptation_at_start": 1.0, "resting_intensity": 13.9, "glucose_sensing_offset": 10.0}
    problem = population.load_population_targets(shared)
    assert problem.parameters == expected
    library = population.library_sweep(problem)
    assert library.sweep.design.parameters == problem.parameters
    assert library.base_data["subject"]["parameters"]["glucose_sensing_offset"] == 10.0
    assert library.base_data["subject"]["parameters"]["resting_intensity"] == 13.9
    # the check draws the cohort file as it is (written by the fit with these; the next test)
    fit, check = _fit_and_check(7.0)
    fit.problem = problem
    source = population.cohort_text(fit, "cmd", check)
    assert tomllib.loads(source)["parameters"] == expected
    shares = (
        "Every patient shares setpoint_adaptation_at_start = 1, resting_intensity = 13.9, glucose_sensing_offset = 10:"
    )
    assert shares + " setpoint_adaptation_at_start = 1 (since 2026-12-05)" in " ".join(
        line.lstrip("# ") for line in source.split("\ndescription =")[0].splitlines()
    )
    unexplained = tmp_path / "dpp_unexplained.toml"
    unexplained.write_text(text.replace(reason, "", 1))
    with pytest.raises(CalibrationError, match="parameters_source"):
        population.load_population_targets(unexplained)


def test_the_check_draws_the_cohort_files_shared_parameters_and_a_bad_one_is_refused(tmp_path, monkeypatch):
    """The check simulates the cohort file as the trial sweep draws it: with the file's own [parameters] (not the
    target file's); a [parameters] entry that is not a number is refused by name."""
    from glucosim.errors import CalibrationError

    source = population.cohort_path("prediabetic").read_text()
    cohort = tmp_path / "prediabetic.toml"
    shipped_table = "[parameters]\nsetpoint_adaptation_at_start = 1.0\nresting_intensity = 13.9\n"
    assert shipped_table in source
    cohort.write_text(source.replace(shipped_table, "[parameters]\nglucose_sensing_offset = 5.0\n", 1))
    monkeypatch.setattr(population, "cohort_path", lambda name: cohort)
    problem = population.load_population_targets()
    # the shipped target file shares the held set point and the fitness
    assert problem.parameters == {"setpoint_adaptation_at_start": 1.0, "resting_intensity": 13.9}
    assert population.check_sweep(problem).sweep.design.parameters == {"glucose_sensing_offset": 5.0}
    text = population.DEFAULT_TARGETS.read_text()
    table = "\n[parameters]\nsetpoint_adaptation_at_start = 1.0\nresting_intensity = 13.9\n"
    bad = tmp_path / "dpp_bad.toml"
    bad.write_text(text.replace(table, table + 'glucose_sensing_offset = "ten"\n', 1))
    with pytest.raises(CalibrationError, match="parameters.glucose_sensing_offset: a number"):
        population.load_population_targets(bad)


def test_the_trial_table_reports_the_enrolled_fasting_insulin_in_pmol_per_l():
    """The DPP table's baseline line carries the population fit's fasting insulin target's quantity: the enrolled's
    year-0 fasting insulin, converted from the sweep's uU/ml (6 pmol/l per uU/ml), beside the screening tests."""
    reference = pd.DataFrame(
        {
            "clinic_screen_fasting_glucose_mg_dl": [104.0, 108.0, 99.0],
            "y0_fasting_insulin_uU_ml": [25.0, 30.0, 8.0],  # the third patient is not enrolled
        },
        index=[0, 1, 2],
    )
    found = dpp._baseline(reference, [0, 1])
    mean, sd, unit, _ = found["fasting insulin"]
    assert (mean, sd, unit) == (pytest.approx(165.0), pytest.approx(15.0), "pmol/l")
    assert found["fasting glucose"][0] == pytest.approx(106.0)
    assert "HbA1c" not in found  # a column the sweep did not keep is left out, not reported as NaN
