"""One results vocabulary for the audit and the comparison, and one rule format for the audit policy and the
deploy gate.

Statuses. Every check entry, suite entry and gated metric says one of five words (`Status`): `pass`, `warn`,
`fail`, `error` (it crashed; the others still ran) and `skipped` (it does not apply to this data; its
`reasons` say why). A str enum, so results stay plain JSON strings. Combining them, the worst wins
(`verdict`): fail > error > warn > pass = skipped, where `on_error` decides whether a crash fails the verdict
or warns. One more word is not a status: a metric the gate has no rule for is reported with `info` (`INFO`),
meaning "shown, not judged" — nothing was decided, so it is neither a pass nor a skip, and combining ignores it.

Results written before this vocabulary (`harness.audit/1`, `harness.compare/1`) said `ok` for a suite that
measured (its decision was in `verdict`), `not_applicable` for one that did not apply, and `pass` with
`summary.applicable: false` for a check that did not apply; `entry_status` reads them in today's words.

Rules. A metric's rule is `{above|below|at_least|at_most: x, severity: warn|fail}` (severity fail when
left out): the figure must be above x (strictly), below x, at least x or at most x, else the rule breaks
with its severity. A suite metric's rule also names the `field` it tests (tuned, base, delta, lower,
upper); a check metric is one figure of the check's summary and has none. A metric may carry a list of
rules (a warn bound and a fail bound). Each plug-in declares its metrics with their better direction
(`metrics = {"duplicate_rate": LOWER, ...}`; a check's tuple of names means lower is better — a check
counts problems — and a suite's means no direction), and a rule must agree with it: a bound that passes
when a lower-is-better metric rises is a usage error. `check_rule` validates a rule, `meets` and
`judge_rules` evaluate them, for the policy and the gate alike."""

from __future__ import annotations

import math
from enum import Enum
from typing import Any, Iterable, Mapping

from harness.core.errors import UsageError
from harness.core.hints import did_you_mean


class Status(str, Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


PASS, WARN, FAIL, ERROR, SKIPPED = (s.value for s in Status)
INFO = "info"  # a metric reported without a rule: not judged, so not a Status (see the module docstring)
# Worst wins. A crash ranks between warn and fail (on_error decides which it counts as in a verdict); a
# skipped entry decided nothing and ranks with pass.
RANK = {SKIPPED: 0, PASS: 0, WARN: 1, ERROR: 2, FAIL: 3}
# Words of the first results schema, as today's (readers of old files).
OLD_WORDS = {"ok": PASS, "not_applicable": SKIPPED}


def rank(status: str | None) -> int:
    """How bad a status is (an unknown word counts as a failure)."""
    return RANK.get(OLD_WORDS.get(status, status), RANK[FAIL]) if status is not None else RANK[PASS]


def verdict(statuses: Iterable[str], on_error: str = "fail") -> str:
    """pass, warn or fail: the worst of `statuses`, a crash counting as `on_error` says (fail or warn)."""
    crash = FAIL if on_error == FAIL else WARN
    worst_rank = max((rank(crash if s == ERROR else s) for s in statuses if s != INFO), default=0)
    return FAIL if worst_rank >= RANK[FAIL] else WARN if worst_rank >= RANK[WARN] else PASS


def worst(statuses: Iterable[str]) -> str:
    """The worst of the statuses as written (error stays error); pass when none is worse than pass."""
    words = [OLD_WORDS.get(s, s) for s in statuses if s != INFO]
    top = max(words, key=rank, default=PASS)
    return top if rank(top) > 0 else PASS


def entry_status(entry: Mapping[str, Any]) -> str | None:
    """A check's or suite's status in today's words, from an entry of any results version: a first-release
    suite that measured said `ok` (its decision was its `verdict`), one that did not apply
    `not_applicable`; a first-release check that did not apply said `pass` with `summary.applicable`
    false."""
    word = entry.get("status")
    if word == "ok":
        return OLD_WORDS.get(entry.get("verdict"), entry.get("verdict")) or PASS
    if word == PASS and (entry.get("summary") or {}).get("applicable") is False:
        return SKIPPED
    return OLD_WORDS.get(word, word)


def measured(entry: Mapping[str, Any]) -> bool:
    """It ran and applied (neither crashed nor skipped)."""
    return bool(entry) and entry_status(entry) not in (ERROR, SKIPPED)


def skip_reason(entry: Mapping[str, Any]) -> str:
    """Why a skipped entry did not apply (its reasons; a first-release entry kept it in summary or info)."""
    return "; ".join(entry.get("reasons") or []) or (entry.get("summary") or {}).get("reason") \
        or (entry.get("info") or {}).get("reason") or "does not apply"


# ---- metrics' better direction ---------------------------------------------------------------------------
LOWER = "lower"     # lower is better: a rule bounds it from above (below / at_most)
HIGHER = "higher"   # higher is better: a rule bounds it from below (above / at_least)
DIRECTIONS = (LOWER, HIGHER, None)  # None: neither (a figure kept in a band, or only described)


def lower_is_better(*names: str) -> dict[str, str]:
    """`metrics = lower_is_better("bad_rows", "bad_rate")`: each named metric is better lower."""
    return dict.fromkeys(names, LOWER)


def directions(metrics: Any, default: str | None) -> dict[str, str | None]:
    """A plug-in's declared metrics as {name: better direction}: a mapping as declared, a tuple of names
    each with `default` (checks: LOWER, suites: None)."""
    if isinstance(metrics, Mapping):
        return dict(metrics)
    return dict.fromkeys(metrics or (), default)


# ---- rules -----------------------------------------------------------------------------------------------
# Bound -> (the comparison a figure must meet, the one that breaks it).
BOUNDS = {"above": (">", "<="), "below": ("<", ">="), "at_least": (">=", "<"), "at_most": ("<=", ">")}
RAISES = ("above", "at_least")   # bounds that pass when the figure rises
SEVERITIES = (WARN, FAIL)
_OPS = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}


def as_rules(value: Any) -> list[dict[str, Any]]:
    """A metric's rules as a list (a rule, or a list of them)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def severity(rule: Mapping[str, Any]) -> str:
    return rule.get("severity", FAIL)


def check_rule(rule: Any, where: str, metric: str, better: str | None = None, fields: tuple[str, ...] | None = None,
               example: str = "{below: 0.1, severity: fail}") -> None:
    """Raise a one-line UsageError (prefixed `where`) unless `rule` is a well-formed rule whose bounds agree
    with `metric`'s better direction. `fields`: the figures a suite metric's rule may name (None: a check
    metric, which has no field)."""
    if not isinstance(rule, Mapping):
        raise UsageError(f"{where} must be a mapping like {example}")
    keys = (*(("field",) if fields is not None else ()), *BOUNDS, "severity")
    for k in rule:
        if k == "field" and fields is None:
            raise UsageError(f"{where}: a check's metric has no `field` (the rule bounds the summary figure itself)")
        if k not in keys:
            raise UsageError(f"{where}: unknown key {k!r}{did_you_mean(str(k), keys)}")
    if fields is not None and rule.get("field") not in fields:
        raise UsageError(f"{where}.field must be one of {', '.join(fields)}")
    if severity(rule) not in SEVERITIES:
        raise UsageError(f"{where}.severity must be 'fail' or 'warn'")
    given = [k for k in BOUNDS if k in rule]
    if not given:
        raise UsageError(f"{where} needs `above` or `below` (or at_least / at_most)")
    for k in given:
        v = rule[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise UsageError(f"{where}.{k} must be a finite number, got {v!r}")
    wrong = [k for k in given if (k in RAISES) == (better == LOWER)] if better in (LOWER, HIGHER) else []
    if wrong:
        moves, fix = ("rises", "below or at_most") if better == LOWER else ("falls", "above or at_least")
        raise UsageError(f"{where}: `{wrong[0]}` passes when {metric} {moves}, but {better} is better; "
                         f"bound it with {fix}")


def check_rules(value: Any, where: str, metric: str, better: str | None = None,
                fields: tuple[str, ...] | None = None, example: str = "{below: 0.1, severity: fail}") -> None:
    """A metric's rule or list of rules (each checked by check_rule)."""
    if isinstance(value, list):
        if not value:
            raise UsageError(f"{where}: an empty list of rules (write null to remove the metric's rules)")
        for i, rule in enumerate(value):
            check_rule(rule, f"{where}[{i}]", metric, better, fields, example)
        return
    check_rule(value, where, metric, better, fields, example)


def meets(rule: Mapping[str, Any], value: float) -> bool:
    """The figure meets every bound of the rule."""
    return all(_OPS[BOUNDS[k][0]](value, rule[k]) for k in BOUNDS if k in rule)


def describe(rule: Mapping[str, Any], name: str) -> str:
    """'lower > 0 and lower < 0.5': what the rule asks of the figure `name`."""
    return " and ".join(f"{name} {BOUNDS[k][0]} {rule[k]:g}" for k in BOUNDS if k in rule)


def fmt(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def broken(rule: Mapping[str, Any], name: str, value: float) -> str:
    """'bad_rows = 3 > 0': the figure and each bound it breaks."""
    return "; ".join(f"{name} = {fmt(value)} {BOUNDS[k][1]} {fmt(rule[k])}" for k in BOUNDS
                     if k in rule and not _OPS[BOUNDS[k][0]](value, rule[k]))


def number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def judge_rules(figures: Iterable[tuple[str, Any, Any]]) -> tuple[str, list[str]]:
    """(status, reasons) over (metric, rule or rules, value) triples: fail when a fail rule breaks (its
    reasons), else warn when a warn rule does, else pass. A rule whose figure is missing decides nothing."""
    found: dict[str, list[str]] = {FAIL: [], WARN: []}
    for name, rules, value in figures:
        value = number(value)
        if value is None:
            continue
        for rule in as_rules(rules):
            if not meets(rule, value):
                found[severity(rule)].append(broken(rule, name, value))
    for status in (FAIL, WARN):
        if found[status]:
            return status, found[status]
    return PASS, []
