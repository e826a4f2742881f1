"""Contract tests for plug-ins, exported for their authors (scikit-learn's `check_estimator`): the same
checks our own test suite runs over every registered check and suite.

    from harness.testing import check_check, check_suite
    check_check("my_check")                      # runs it through harness.audit on a small sample
    check_suite("my_suite", harness.compare(...)) # a compare run's results, e.g. on a tiny model

Each raises AssertionError naming what is wrong, and returns the entry it looked at."""

from __future__ import annotations

import json
import sys
from typing import Any, Sequence

from harness.core.status import DIRECTIONS, ERROR, FAIL, PASS, SKIPPED, WARN

# A small classification set with something for most checks to find: a duplicate, a row with an e-mail
# address, an eval row copied from train.
SAMPLE_TRAIN = [{"text": f"ticket {i} about {'billing charge' if i % 2 else 'parcel delivery'} number {i % 7}",
                 "label": "billing" if i % 2 else "delivery"} for i in range(40)]
SAMPLE_TRAIN += [dict(SAMPLE_TRAIN[0]), {"text": "contact me at a@b.example.com", "label": "billing"}]
SAMPLE_EVAL = [dict(SAMPLE_TRAIN[3]), {"text": "something else entirely", "label": "delivery"}]


def _class(kind: str, plugin: Any) -> type:
    if isinstance(plugin, str):
        if kind == "check":
            from harness.checks import get_check

            return get_check(plugin)
        from harness.suites import get_suite

        return get_suite(plugin)
    return plugin if isinstance(plugin, type) else type(plugin)


def _declares(cls: type, kind: str) -> None:
    name = getattr(cls, "name", None)
    assert isinstance(name, str) and name.isidentifier(), f"{kind} {cls.__qualname__}: `name` must be an identifier"
    for attr in ("title", "why"):
        value = getattr(cls, attr, None)
        assert isinstance(value, str) and value.strip(), f"{kind} {name}: `{attr}` must be a non-empty sentence"
    assert sys.modules[cls.__module__].__doc__, f"{kind} {name}: its module's docstring says why it exists"
    metrics = getattr(cls, "metrics", ())
    assert (isinstance(metrics, tuple) and all(isinstance(m, str) for m in metrics)) or \
        (isinstance(metrics, dict) and all(isinstance(m, str) and d in DIRECTIONS for m, d in metrics.items())), \
        f"{kind} {name}: `metrics` must map each name to its better direction (LOWER, HIGHER or None), or be a tuple of names"
    assert isinstance(getattr(cls, "order", None), int), f"{kind} {name}: `order` must be an int"
    figures = getattr(cls, "key_figures", ())
    assert isinstance(figures, tuple), f"{kind} {name}: `key_figures` must be a tuple of names"
    limits = getattr(cls, "limitations", ())
    assert isinstance(limits, tuple) and all(isinstance(x, str) and x.strip() for x in limits), \
        f"{kind} {name}: `limitations` must be a tuple of sentences (the report's known limitations)"
    _declares_params(cls, kind, name)
    if kind == "check":
        assert getattr(cls, "removes", None) in (None, "all", "all_but_first"), \
            f"check {name}: `removes` must be None, 'all' or 'all_but_first' (what harness clean does with its rows)"


def _declares_params(cls: type, kind: str, name: str) -> None:
    """Its parameters are a frozen dataclass of harness.core.params.Params whose every field has a type the
    schema reads, a range its own default meets, and a line saying what it does."""
    import dataclasses

    from harness.core.params import Params, check, defaults, docs, specs

    params = getattr(cls, "Params", None)
    assert isinstance(params, type) and issubclass(params, Params) and dataclasses.is_dataclass(params) \
        and params.__dataclass_params__.frozen, f"{kind} {name}: `Params` must be a frozen dataclass of harness.core.params.Params"
    try:
        rules = specs(params)
        check(params, defaults(params), f"{kind} {name} params")
    except Exception as exc:  # an unreadable type or a default outside its own range
        raise AssertionError(f"{kind} {name}: its Params do not hold: {exc}") from None
    assert "any" not in {r.split()[0].removeprefix("null|") for r in rules.values()}, \
        f"{kind} {name}: every parameter needs a type the schema can check ({rules})"
    undocumented = [k for k, doc in docs(params).items() if not doc.strip()]
    assert not undocumented, f"{kind} {name}: parameters {undocumented} need a line saying what they do (param(..., doc=))"


def check_check(check: Any, train: Sequence[dict] | None = None, eval: Sequence[dict] | None = None,
                policy: dict[str, Any] | None = None) -> dict[str, Any]:
    """A check (class, instance or registered name) keeps the contract: it declares name, title, why,
    metrics with their better direction, and its parameters (`Params`: each typed, ranged, documented); on
    the data (default: a small sample) it does not crash, returns plain JSON-able data (no NaN), is
    `skipped` with a reason or reports every declared metric, and each finding has a message and rows that
    point at real lines of real splits, with similarities and scores in [0, 1]."""
    from harness import audit
    from harness.checks import REGISTRY

    cls = _class("check", check)
    _declares(cls, "check")
    assert cls.name in REGISTRY and REGISTRY[cls.name] is cls, \
        f"check {cls.name}: not registered (decorate the class with harness.checks.register)"
    train = list(train if train is not None else SAMPLE_TRAIN)
    eval = list(eval if eval is not None else SAMPLE_EVAL)
    result = audit(train, eval or None, policy)
    entries = [c for c in result["checks"] if c["check"] == cls.name]
    assert entries, f"check {cls.name}: did not run (is it disabled in the policy?)"
    entry = entries[0]
    assert entry["status"] != ERROR, f"check {cls.name} crashed: {entry.get('error')}\n{entry.get('traceback')}"
    assert entry["status"] in (PASS, WARN, FAIL, SKIPPED), f"check {cls.name}: status {entry['status']!r}"
    try:
        json.dumps(entry, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"check {cls.name}: its result is not plain JSON data ({exc})") from None
    summary = entry["summary"]
    if entry["status"] == SKIPPED:
        assert entry["reasons"] and all(isinstance(r, str) and r for r in entry["reasons"]), \
            f"check {cls.name}: skipped without saying why (return not_applicable(reason))"
    else:
        missing = [m for m in cls.metrics if m not in summary]
        assert not missing, f"check {cls.name}: summary lacks declared metrics {missing}"
        unknown = [k for k in cls.key_figures if k not in summary]
        assert not unknown, f"check {cls.name}: key_figures {unknown} are not in its summary"
    lines = {"train": len(train), "eval": len(eval)}
    for f in entry["findings"]:
        assert isinstance(f.get("message"), str) and f["message"], f"check {cls.name}: a finding without a message"
        assert isinstance(f.get("rows"), list), f"check {cls.name}: a finding without rows"
        for ref in f["rows"]:
            assert set(ref) == {"split", "line"} and ref["split"] in lines and 1 <= ref["line"] <= lines[ref["split"]], \
                f"check {cls.name}: row {ref} is not a line of the data"
        for key in ("similarity", "score"):
            if key in f:
                assert 0.0 <= f[key] <= 1.0, f"check {cls.name}: {key} {f[key]} is outside [0, 1]"
    return entry


def check_suite(suite: Any, results: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """A suite (class, instance or registered name) keeps the contract: it declares name, title, why, a
    version and its metrics with their better direction; in a compare run's results (when given) it did not
    crash, has a status of the one vocabulary (skipped with a reason when it did not apply), reports only
    declared metrics, each paired (n, and an interval whenever there is a delta), as plain JSON data."""
    from harness.suites import REGISTRY

    cls = _class("suite", suite)
    _declares(cls, "suite")
    assert cls.name in REGISTRY and REGISTRY[cls.name] is cls, \
        f"suite {cls.name}: not registered (decorate the class with harness.suites.register)"
    assert isinstance(cls.version, int) and cls.version >= 1, f"suite {cls.name}: `version` must be an int >= 1"
    assert cls.metrics, f"suite {cls.name}: declare the metrics a gate may test"
    if results is None:
        return None
    entry = results.get("suites", {}).get(cls.name)
    assert entry is not None, f"suite {cls.name}: not in the results (was it enabled?)"
    assert entry["status"] != ERROR, f"suite {cls.name} crashed: {entry.get('error')}\n{entry.get('traceback')}"
    assert entry["status"] in (PASS, WARN, FAIL, SKIPPED), f"suite {cls.name}: status {entry['status']!r}"
    assert entry["status"] != SKIPPED or entry["reasons"], f"suite {cls.name}: skipped without saying why"
    try:
        json.dumps(entry, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"suite {cls.name}: its result is not plain JSON data ({exc})") from None
    assert entry["version"] == cls.version and entry["seconds"] >= 0, f"suite {cls.name}: version or seconds wrong"
    for metric, m in entry["metrics"].items():
        assert metric.rsplit(".", 1)[-1] in cls.metrics, f"suite {cls.name}: {metric} is not declared"
        assert m.get("n"), f"suite {cls.name}: {metric} has no n"
        assert m.get("delta") is None or m.get("interval") is not None, f"suite {cls.name}: {metric} has a delta but no interval"
        assert m.get("interval_of") in ("delta", "tuned"), f"suite {cls.name}: {metric}: interval_of must be delta or tuned"
    return entry
