"""Paired statistics: exact values on hand-made cases, agreement with scipy/sklearn, and invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.comparing import stats
def test_mcnemar_exact_values():
    assert stats.mcnemar_exact(0, 0) == 1.0
    assert stats.mcnemar_exact(5, 5) == pytest.approx(1.0)
    assert stats.mcnemar_exact(0, 10) == pytest.approx(2 * 0.5 ** 10)
    assert stats.mcnemar_exact(1, 9) == pytest.approx(2 * (0.5 ** 10) * (1 + 10))


def test_holm_step_down():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.2, None, 0.5]) == [0.4, None, 0.5]
    assert stats.holm([]) == []


def test_auc_matches_sklearn_and_edges():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    pos, neg = rng.normal(0.5, 1, 40), rng.normal(0, 1, 30)
    y = np.r_[np.ones(40), np.zeros(30)]
    assert stats.auc(pos, neg) == pytest.approx(roc_auc_score(y, np.r_[pos, neg]))
    assert stats.auc([3, 4], [1, 2]) == 1.0 and stats.auc([1, 1], [1, 1]) == 0.5 and stats.auc([], [1]) is None


def test_ece_and_brier_by_hand():
    assert stats.ece(np.array([0.9, 0.9]), np.array([1, 0])) == pytest.approx(0.4)
    assert stats.ece(np.array([0.95, 0.05 + 1e-9]), np.array([1, 0])) == pytest.approx((0.05 + 0.05) / 2, abs=1e-6)
    assert stats.brier(np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([0, 1])) == pytest.approx([0.0, 0.5])


def test_macro_f1_matches_sklearn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(2)
    truth, pred = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    pred[:80] = truth[:80]
    assert stats.macro_f1(pred, truth, 5) == pytest.approx(f1_score(truth, pred, average="macro"))


def test_bootstrap_is_seeded_and_paired():
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2, 100).astype(float)
    tuned = base.copy()
    tuned[:10] = 1 - tuned[:10]
    a, b = stats.paired_mean_delta(base, tuned, seed=7), stats.paired_mean_delta(base, tuned, seed=7)
    assert a == b and a["n"] == 100
    # Identical sides: a paired interval is exactly zero (an unpaired one would not be).
    same = stats.paired_mean_delta(base, base)
    assert same["interval"] == [0.0, 0.0]
    with pytest.raises(ValueError):
        stats.paired_mean_delta([1, 0], [1])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=60))
def test_swapping_sides_mirrors_the_delta_and_interval(pairs):
    base, tuned = [p[0] for p in pairs], [p[1] for p in pairs]
    fwd, back = stats.paired_mean_delta(base, tuned, seed=1), stats.paired_mean_delta(tuned, base, seed=1)
    assert fwd["delta"] == pytest.approx(-back["delta"], abs=1e-9)
    assert fwd["interval"][0] == pytest.approx(-back["interval"][1], abs=1e-9)
    assert fwd["interval"][0] <= fwd["delta"] + 1e-9 or len(pairs) == 1


def test_shipped_evaluate_modules_agree_with_the_statistics():
    from harness.suites import metric_modules

    truth, pred = [0, 1, 2, 2, 1, 0, 3], [0, 1, 1, 2, 1, 3, 3]
    assert metric_modules.compute("accuracy", pred, truth)["accuracy"] == pytest.approx(5 / 7)
    assert metric_modules.compute("macro_f1", pred, truth)["macro_f1"] == pytest.approx(
        stats.macro_f1(np.array(pred), np.array(truth), 4))
    assert metric_modules.compute("exact_match", [" Paris ", "rome"], ["paris", "Madrid"])["exact_match"] == 0.5
    assert metric_modules.compute("json_validity", ['{"a": 1}', "nope"], ["", ""])["json_validity"] == 0.5
    f1 = metric_modules.compute("field_f1", ['{"a": 1, "b": "X"}', "broken"], ['{"a": 1, "b": "x"}', '{"a": 2}'])
    assert f1["field_f1"] == pytest.approx(0.5)


def test_unknown_metric_says_did_you_mean():
    from harness.core.errors import UsageError
    from harness.suites import metric_modules

    with pytest.raises(UsageError, match="did you mean 'accuracy'"):
        metric_modules.load("acuracy")


def test_paired_binary_interval_keeps_its_coverage_and_widens_with_the_level():
    """Bonett-Price on simulated paired 2x2 tables (110 items, 10% flips each way, true change 0):
    the 95% interval covers 0 at least ~94% of the time, the 99% one more often, and it is nested."""
    from harness.comparing.stats import paired_binary_interval

    rng = np.random.default_rng(0)
    flips = rng.multinomial(110, [0.1, 0.1, 0.8], size=2000)
    cover = {lvl: np.mean([lo <= 0 <= hi for lo, hi in (paired_binary_interval(110, int(a), int(b), lvl)
                                                         for a, b, _ in flips)]) for lvl in (0.95, 0.99)}
    assert cover[0.95] >= 0.94 and cover[0.99] >= 0.985
    lo95, hi95 = paired_binary_interval(110, 20, 8, 0.95)
    lo99, hi99 = paired_binary_interval(110, 20, 8, 0.99)
    assert lo99 < lo95 < -12 / 110 < hi95 < hi99
    assert paired_binary_interval(0, 0, 0) is None
