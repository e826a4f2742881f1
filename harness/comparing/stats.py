"""Paired statistics for base-vs-tuned comparisons.

Every item is scored by both models, so every comparison is paired: deltas get paired bootstrap
intervals (resampling items, not models), paired accuracy gets an exact McNemar test on the discordant
pairs, and p-values across probe sets get a Holm correction. lm-eval's comparison script runs an
unpaired z-test on paired data (lm-evaluation-harness #3831), which throws the pairing's power away.
The bootstrap is seeded so a re-run prints the same interval.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

N_BOOT = 2000
LEVEL = 0.95


def _indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def paired_mean_delta(base: Sequence[float], tuned: Sequence[float], seed: int = 0, n_boot: int = N_BOOT,
                      level: float = LEVEL) -> dict:
    """Mean of tuned - base over items with a paired bootstrap percentile interval."""
    b, t = np.asarray(base, float), np.asarray(tuned, float)
    if b.shape != t.shape:
        raise ValueError("paired data needs the same items on both sides")
    n = len(b)
    if n == 0:
        return {"base": None, "tuned": None, "delta": None, "interval": None, "n": 0}
    d = t - b
    boots = d[_indices(n, n_boot, seed)].mean(axis=1)
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return {"base": float(b.mean()), "tuned": float(t.mean()), "delta": float(d.mean()),
            "interval": [float(lo), float(hi)], "n": n}


def paired_stat_delta(stat: Callable[[np.ndarray], float], n: int, seed: int = 0, n_boot: int = N_BOOT,
                      level: float = LEVEL, base: Callable[[np.ndarray], float] | None = None) -> dict:
    """A statistic that is not a mean (macro-F1, ECE): `stat(idx)` returns tuned - base on the items
    idx; both sides are always evaluated on the same resample. `base(idx)` (optional) gives the base
    value so the result carries base and tuned too."""
    if n == 0:
        return {"base": None, "tuned": None, "delta": None, "interval": None, "n": 0}
    full = np.arange(n)
    boots = np.array([stat(idx) for idx in _indices(n, n_boot, seed)])
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    delta = float(stat(full))
    out = {"delta": delta, "interval": [float(lo), float(hi)], "n": n}
    if base is not None:
        b = float(base(full))
        out.update(base=b, tuned=b + delta)
    return out


def unpaired_mean_difference(a: Sequence[float], b: Sequence[float], seed: int = 0, n_boot: int = N_BOOT,
                             level: float = LEVEL) -> dict:
    """mean(a) - mean(b) for two different sets of rows (train vs held-out), each resampled on its own."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    if len(x) == 0 or len(y) == 0:
        return {"delta": None, "interval": None, "n": [len(x), len(y)]}
    rng = np.random.default_rng(seed)
    bx = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(axis=1)
    by = y[rng.integers(0, len(y), size=(n_boot, len(y)))].mean(axis=1)
    lo, hi = np.quantile(bx - by, [(1 - level) / 2, (1 + level) / 2])
    return {"delta": float(x.mean() - y.mean()), "interval": [float(lo), float(hi)], "n": [len(x), len(y)]}


def paired_binary_interval(n: int, right_to_wrong: int, wrong_to_right: int, level: float = LEVEL) -> list[float] | None:
    """Interval of the change in accuracy (tuned - base) from a paired 2x2 table's discordant counts at any
    level: Bonett & Price's adjusted Wald (2012), which keeps its coverage with few discordant pairs. The
    gate uses it for simultaneous intervals over a family of metrics (a bootstrap would need the items)."""
    from scipy.stats import norm

    if n <= 0:
        return None
    gain, loss = (wrong_to_right + 1) / (n + 2), (right_to_wrong + 1) / (n + 2)
    diff = gain - loss
    half = float(norm.ppf((1 + level) / 2)) * math.sqrt(max(gain + loss - diff ** 2, 0.0) / (n + 2))
    return [max(-1.0, diff - half), min(1.0, diff + half)]


def mcnemar_exact(right_to_wrong: int, wrong_to_right: int) -> float:
    """Two-sided exact McNemar p: a binomial test of the discordant pairs at 1/2."""
    from scipy.stats import binomtest

    n = right_to_wrong + wrong_to_right
    if n == 0:
        return 1.0
    return float(binomtest(right_to_wrong, n, 0.5, alternative="two-sided").pvalue)


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values (None stays None)."""
    present = [(p, i) for i, p in enumerate(pvalues) if p is not None]
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    m = len(present)
    for rank, (p, i) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def auc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """Probability that a positive scores above a negative (ties count half): the ROC AUC."""
    from scipy.stats import rankdata

    p, q = np.asarray(positive, float), np.asarray(negative, float)
    if len(p) == 0 or len(q) == 0:
        return None
    ranks = rankdata(np.concatenate([p, q]))
    return float((ranks[: len(p)].sum() - len(p) * (len(p) + 1) / 2) / (len(p) * len(q)))


def auc_interval(positive: Sequence[float], negative: Sequence[float], seed: int = 0, n_boot: int = 1000,
                 level: float = LEVEL) -> list[float] | None:
    p, q = np.asarray(positive, float), np.asarray(negative, float)
    if len(p) == 0 or len(q) == 0:
        return None
    rng = np.random.default_rng(seed)
    boots = [auc(p[rng.integers(0, len(p), len(p))], q[rng.integers(0, len(q), len(q))]) for _ in range(n_boot)]
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return [float(lo), float(hi)]


def ece(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error, equal-width bins over (0, 1] (Guo et al. 2017)."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    if len(confidence) == 0:
        return float("nan")
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in np.unique(which):
        sel = which == b
        total += sel.sum() / len(confidence) * abs(correct[sel].mean() - confidence[sel].mean())
    return float(total)


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> list[dict]:
    """Per non-empty bin: its range, mean confidence, accuracy and row count (the reliability diagram)."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    return [{"low": b / bins, "high": (b + 1) / bins, "confidence": float(confidence[which == b].mean()),
             "accuracy": float(correct[which == b].mean()), "n": int((which == b).sum())} for b in np.unique(which)]


def brier(probs: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-row multi-class Brier score: sum over classes of (p - onehot)^2."""
    probs = np.asarray(probs, float)
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(probs)), np.asarray(truth, int)] = 1.0
    return ((probs - onehot) ** 2).sum(axis=1)


def macro_f1(pred: np.ndarray, truth: np.ndarray, classes: int) -> float:
    """Macro-F1 over the classes present in truth or prediction (vectorised for the bootstrap)."""
    pred, truth = np.asarray(pred, int), np.asarray(truth, int)
    tp = np.bincount(truth[pred == truth], minlength=classes)
    fp = np.bincount(pred, minlength=classes) - tp
    fn = np.bincount(truth, minlength=classes) - tp
    present = (tp + fp + fn) > 0
    if not present.any():
        return 0.0
    f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(classes), where=(2 * tp + fp + fn) > 0)
    return float(f1[present].mean())


def zero_failure_upper_bound(n: int) -> float | None:
    """95% upper bound on a rate after n clean trials (the rule of three)."""
    return None if n == 0 else min(1.0, 3.0 / n)
