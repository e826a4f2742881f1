"""The deploy gate: suites report figures, this file decides pass or fail from the gate policy
(harness/comparing/default_gate.yaml merged with the user's), so no threshold lives in a suite. A rule is the one
rule format of harness/core/status.py (the audit policy's too), with the `field` of the metric it tests; each
suite's status becomes the worst of its metrics' (pass / warn / fail)."""

from __future__ import annotations

import copy
import fnmatch
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from harness.core.config_schema import check_tree
from harness.core.declarations import feeding
from harness.core.errors import UsageError
from harness.core.hints import did_you_mean
from harness.core.io import read_yaml_mapping
from harness.core.params import check as check_params, defaults as param_defaults
from harness.core.results import compare_reasons
from harness.comparing.stats import LEVEL, paired_binary_interval
from harness.core.status import (ERROR, FAIL, INFO, PASS, SKIPPED, WARN, as_rules, check_rules, describe, directions, entry_status,
                     measured, meets, severity, skip_reason, worst)

DEFAULT_GATE = Path(__file__).with_name("default_gate.yaml")
FAST_GATE = Path(__file__).with_name("fast_gate.yaml")
FIELDS = ("tuned", "base", "delta", "lower", "upper")
_TOP = ("on_error", "seed", "multiplicity", "required", "suites", "task_gates", "gates")
OUTPUT_KINDS = ("classification", "label", "json", "final_answer", "free_text", "text", "preference")
_PATTERN = "*?["


def default_gate() -> dict[str, Any]:
    """harness/comparing/default_gate.yaml, a fresh copy each call (callers merge into it)."""
    return copy.deepcopy(_default_gate())


@lru_cache(maxsize=1)
def _default_gate() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_GATE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def gate_rules() -> dict[str, str]:
    """harness/comparing/gate_schema.yaml: the type and range of every gate policy value outside `gates`."""
    return yaml.safe_load(Path(__file__).with_name("gate_schema.yaml").read_text(encoding="utf-8"))


def load_gate(policy: str | Path | Mapping[str, Any] | None, fast: bool = False) -> dict[str, Any]:
    """The default gate policy with a user's (path, dict or None) merged over it, validated. `fast`
    merges harness/comparing/fast_gate.yaml (fewer items per suite) between the two."""
    from harness.suites import REGISTRY

    merged = default_gate()
    for suite in REGISTRY.names():  # a plug-in suite the default gate does not name runs, with no rules
        conf = merged["suites"].setdefault(suite, {"enabled": True})
        # Every parameter, from the suite's own declaration (harness/core/params.py), the policy's over it:
        # the results then record what ran.
        conf["params"] = {**param_defaults(REGISTRY[suite].Params), **(conf.get("params") or {})}
    if fast:
        merged = _merge(merged, yaml.safe_load(FAST_GATE.read_text(encoding="utf-8")), str(FAST_GATE))
    if policy is None:
        return merged
    name, user = ("<policy>", dict(policy)) if isinstance(policy, Mapping) else (str(policy), read_yaml_mapping(policy, "gate policy"))
    return _merge(merged, user, name)


def _merge(merged: dict[str, Any], user: Mapping[str, Any], name: str) -> dict[str, Any]:
    """`user` merged over `merged` key by key (suites' params one by one; a `null` rule removes it), validated."""
    from harness.suites import REGISTRY

    for key, value in user.items():
        if key not in _TOP:
            raise UsageError(f"{name}: unknown gate policy key {key!r}{did_you_mean(key, _TOP)}")
        if key == "suites":
            if not isinstance(value, dict):
                raise UsageError(f"{name}: suites must be a mapping of suite name to settings")
            for suite, conf in value.items():
                if suite not in REGISTRY:
                    raise UsageError(f"{name}: unknown suite {suite!r} under suites{did_you_mean(suite, REGISTRY)}")
                conf = conf or {}
                for k in conf:
                    if k not in ("enabled", "params"):
                        raise UsageError(f"{name}: unknown key 'suites.{suite}.{k}'{did_you_mean(k, ('enabled', 'params'))}")
                target = merged["suites"].setdefault(suite, {"enabled": True, "params": {}})
                if "enabled" in conf:
                    target["enabled"] = conf["enabled"]   # checked below: "no" is not false
                given = conf.get("params") or {}
                if not isinstance(given, dict):
                    raise UsageError(f"{name}: suites.{suite}.params: expected a mapping of parameter to value, got {given!r:.60}")
                target["params"] = {**(target.get("params") or {}), **given}
        elif key == "gates":
            if not isinstance(value, dict):
                raise UsageError(f"{name}: gates must be a mapping of metric to rule")
            for metric, rule in value.items():
                if rule is None:
                    merged["gates"].pop(metric, None)  # `task.accuracy: null` removes a default rule
                    for rules in merged.get("task_gates", {}).values():
                        rules.pop(metric, None)
                else:
                    merged["gates"][metric] = copy.deepcopy(rule)
        elif key == "task_gates":
            if not isinstance(value, dict):
                raise UsageError(f"{name}: task_gates must be a mapping of output kind to rules")
            for kind, rules in value.items():
                if kind not in OUTPUT_KINDS:
                    raise UsageError(f"{name}: task_gates: unknown output kind {kind!r}{did_you_mean(str(kind), OUTPUT_KINDS)}")
                if not isinstance(rules, dict):
                    raise UsageError(f"{name}: task_gates.{kind} must be a mapping of metric to rule")
                target = merged.setdefault("task_gates", {}).setdefault(kind, {})
                for metric, rule in rules.items():
                    if rule is None:
                        target.pop(metric, None)
                    else:
                        target[metric] = copy.deepcopy(rule)
        else:
            merged[key] = value
    _validate(merged, name)
    return merged


def _validate(gate: dict[str, Any], name: str) -> None:
    from harness.suites import REGISTRY

    tree = {k: v for k, v in gate.items() if k not in ("gates", "task_gates")}
    # A suite's parameters are checked by its own declaration (type and range of each, unknown keys).
    tree["suites"] = {s: {k: v for k, v in (c or {}).items() if k != "params"} for s, c in gate["suites"].items()}
    check_tree(tree, default_gate(), gate_rules(), name)
    for suite, conf in gate["suites"].items():
        check_params(REGISTRY[suite].Params, conf.get("params"), f"{name}: suites.{suite}.params")
    required = gate.get("required") or []
    for suite in required:
        if suite not in REGISTRY:
            raise UsageError(f"{name}: required: unknown suite {suite!r}{did_you_mean(str(suite), REGISTRY)}")
    for where, rules in [("gates", gate["gates"])] + [(f"task_gates.{k}", r) for k, r in gate.get("task_gates", {}).items()]:
        for metric, rule in rules.items():
            _validate_rule(metric, rule, name, where)


def _validate_rule(metric: str, rule: Any, name: str, where: str) -> None:
    from harness.suites import REGISTRY

    suite, _, rest = metric.partition(".")
    if suite not in REGISTRY:
        raise UsageError(f"{name}: {where}: unknown suite {suite!r} in {metric!r}{did_you_mean(suite, REGISTRY)}")
    known = directions(REGISTRY[suite].metrics, None)
    last = rest.rsplit(".", 1)[-1]
    if not rest or (known and last not in known and not any(ch in rest for ch in "*?[")):
        raise UsageError(f"{name}: {where}: unknown metric {metric!r}{did_you_mean(last, known)}")
    check_rules(rule, f"{name}: {where}.{metric}", metric, known.get(last), FIELDS, "{field: lower, above: 0}")


def figure(m: Mapping[str, Any], field: str) -> float | None:
    if field in ("lower", "upper"):
        joint = m.get("simultaneous") or {}
        interval = joint.get("interval") if joint.get("adjusted") else m.get("interval")
        return None if not interval else interval[0 if field == "lower" else 1]
    value = m.get(field)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def rule_for(gates: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The exact rule for suite.metric, else the first matching pattern."""
    key = rule_key(gates, name)
    return None if key is None else gates[key]


def rule_key(gates: Mapping[str, Any], name: str) -> str | None:
    if name in gates:
        return name
    for pattern in gates:
        if any(ch in pattern for ch in _PATTERN) and fnmatch.fnmatchcase(name, pattern):
            return pattern
    return None


def adjust_families(results: dict[str, Any], gates: Mapping[str, Any], method: str) -> dict[str, Any]:
    """A `*` rule judges a family of metrics (one per probe set, say): each member is a fresh chance
    for noise to cross the bound, so a benign adapter fails some member far more often than the 5% a
    single interval suggests. With `multiplicity: bonferroni` each member of a family of m is judged on
    its (1 - 0.05/m) interval, so the m intervals hold together with 95% confidence. Paired accuracy
    metrics carry their discordant counts, from which the interval is recomputed at that level
    (stats.paired_binary_interval); a member without them keeps its own 95% interval, and says so.
    Returns the families, by pattern, for the results."""
    members: dict[str, list[tuple[str, str]]] = {}
    for suite_name, suite in results["suites"].items():
        for name, m in suite.get("metrics", {}).items():
            m.pop("simultaneous", None)
            key = rule_key(gates, f"{suite_name}.{name}")
            if key is not None and any(ch in key for ch in _PATTERN) and measured(suite):
                members.setdefault(key, []).append((suite_name, name))
    families = {}
    for pattern, found in members.items():
        fields, size = {r["field"] for r in as_rules(gates[pattern])}, len(found)
        field = next(iter(fields)) if len(fields) == 1 else " / ".join(sorted(fields))
        if method == "none" or size < 2 or not fields <= {"lower", "upper"}:
            why = ("multiplicity: none" if method == "none" else "one metric" if size < 2
                   else f"a rule on `{field}` is not an interval end")
            families[pattern] = {"members": [f"{s}.{n}" for s, n in found], "method": f"not adjusted ({why})"}
            continue
        level = 1 - (1 - LEVEL) / size
        text = (f"Bonferroni over the {size} metrics matching {pattern}: each judged on its {level:.1%} interval "
                f"(Bonett-Price, paired), {LEVEL:.0%} for all together")
        for suite_name, name in found:
            m = results["suites"][suite_name]["metrics"][name]
            counts = [m.get(k) for k in ("n", "right_to_wrong", "wrong_to_right")]
            if m.get("interval_of") == "delta" and all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
                m["simultaneous"] = {"adjusted": True, "interval": paired_binary_interval(*counts, level=level),
                                     "level": level, "family": pattern, "size": size}
            else:
                m["simultaneous"] = {"adjusted": False, "family": pattern, "size": size,
                                     "why": "no paired counts: judged on its own 95% interval"}
        families[pattern] = {"members": [f"{s}.{n}" for s, n in found], "method": text, "level": level}
    return families


def judge(metric: dict[str, Any], rule: Mapping[str, Any] | list | None) -> None:
    """Fill metric['status'] and metric['gate'] (the rule and why): pass, or the severity of a broken rule
    (a broken rule of severity `warn` flags the metric without failing the gate); skipped when the figure
    its rule tests is missing; `info` when it has no rule (reported, not judged: not a Status).
    With several rules, the worst outcome is the metric's."""
    if rule is None:
        metric["status"] = INFO
        metric.pop("gate", None)
        return
    outcomes = [_judge_one(metric, r) for r in as_rules(rule)]
    status = worst(o[0] for o in outcomes)
    if status == PASS and any(o[0] == SKIPPED for o in outcomes):
        status = SKIPPED if all(o[0] == SKIPPED for o in outcomes) else PASS
    _, gate = next((o for o in outcomes if o[0] == status), outcomes[0])
    if len(outcomes) > 1:
        gate = {"rules": list(as_rules(rule)), **{k: v for k, v in gate.items() if k in ("value", "reason")},
                "rule": "; ".join(o[1]["rule"] for o in outcomes)}
    metric.update(status=status, gate=gate)


def _judge_one(metric: Mapping[str, Any], rule: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    value = figure(metric, rule["field"])
    text = describe(rule, rule["field"])
    if value is None:
        return SKIPPED, {**rule, "rule": text, "reason": f"no {rule['field']} figure"}
    ok = meets(rule, value)
    joint = metric.get("simultaneous") or {}
    of = (f" (of the {joint['level']:.1%} interval, {LEVEL:.0%} simultaneous over {joint['size']})"
          if joint.get("adjusted") and rule["field"] in ("lower", "upper") else "")
    return (PASS if ok else severity(rule),
            {**rule, "rule": text, "value": value,
             "reason": f"{rule['field']} = {value:.4g}{of}: {'meets' if ok else 'breaks'} {text}"})


def output_kind(results: Mapping[str, Any]) -> str | None:
    """The kind of output the task asks for, as the suite that feeds `output_kind` found it (None: none
    ran, or it measured nothing)."""
    task = feeding(results["suites"].values(), "output_kind")
    info = task.get("info") or {}
    if not measured(task):
        return None
    return "classification" if info.get("shape") == "classification" else info.get("output_kind")


def apply(results: dict[str, Any], gate: Mapping[str, Any]) -> str:
    """Judge every metric of every suite in place, each measured suite's status the worst of its metrics'
    (pass / warn / fail; a crashed suite stays `error`, one that did not apply `skipped`); return the
    verdict, pass or fail (a warn rule flags without failing the gate)."""
    failed = errored = False
    warnings: list[str] = []
    kind = output_kind(results)
    task_rules = (gate.get("task_gates") or {}).get(kind or "", {})
    gates = {**task_rules, **gate["gates"]}  # `gates` plus the task rules of its kind (a rule under `gates` wins)
    results["task_rules"] = {"output_kind": kind, "rules": sorted(task_rules)}
    results["multiplicity"] = adjust_families(results, gates, gate.get("multiplicity", "bonferroni"))
    for suite_name, suite in results["suites"].items():
        suite.pop("verdict", None)  # harness.compare/1 kept the decision there; the status says it now
        status = entry_status(suite)
        if status == ERROR:
            suite["status"] = ERROR
            errored = True
            continue
        if status == SKIPPED:
            suite.update(status=SKIPPED, reasons=[skip_reason(suite)])
            continue
        statuses = []
        for name, m in suite.get("metrics", {}).items():
            judge(m, rule_for(gates, f"{suite_name}.{name}"))
            statuses.append(m["status"])
        suite["status"] = worst(s for s in statuses if s in (PASS, WARN, FAIL))
        # Why this status: its broken rules of that severity (a passing suite has none).
        suite["reasons"] = [f"{name}: {m['gate']['reason']}" for name, m in suite.get("metrics", {}).items()
                            if m["status"] == suite["status"] != PASS]
        failed |= FAIL in statuses
        warnings += [f"{suite_name}.{name}: {m['gate']['reason']}" for name, m in suite.get("metrics", {}).items()
                     if m["status"] == WARN]
    reasons = []
    for suite_name in gate.get("required") or []:
        suite = results["suites"].get(suite_name)  # a suite left out on purpose (--suites) is not required
        if suite is not None and (not measured(suite) or not suite.get("metrics")):
            why = suite.get("error") or suite.get("info", {}).get("reason") or suite["status"]
            reasons.append(f"required suite {suite_name} measured nothing: {why}")
    results["gate_reasons"] = reasons
    results["warnings"] = warnings
    results.pop("reasons", None)
    results["reasons"] = compare_reasons(results)  # every line of why, written once, read by every renderer
    if failed or reasons or (errored and gate["on_error"] == FAIL):
        return FAIL
    return PASS
