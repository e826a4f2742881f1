"""The audit policy: thresholds and severities per check, kept out of the checks (deepchecks'
conditions). A user policy is merged over harness/auditing/default_policy.yaml and validated key by key.

A check's rules are the gate's format (harness/core/status.py): `rules: {metric: {below|at_most|...: x,
severity: warn|fail}}`, a list of such rules where a metric has two. `warn_if: {metric: x}` and
`fail_if: {metric: x}` are its shorthand, kept for the many policies written with them: each entry is
`{metric: {at_most: x, severity: warn}}` (fail), i.e. the status when summary[metric] > x. A check's
`rules` in a user policy replace all of that check's rules; its `warn_if` (`fail_if`) replaces those of
severity warn (fail), as the mapping it was always merged as. The policy as loaded holds `rules` alone.

A check's parameters are declared once, by the check (its `Params`, harness/core/params.py): the policy as
loaded holds every one of them under `checks.<name>.params`, the declared default where the user gave
none, checked against the declaration's types and ranges.

How the data is read (shape, field mapping, labels, max_seq_len, tokenizer) is not a threshold: it is the
data spec (harness/inputs/data_spec.py), given under `data:` (or, in older policies, at the top). The policy as
loaded holds the whole spec under `data`; DataSpec.of_policy reads it back."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from harness.core.config_schema import check_tree, check_value
from harness.inputs.data_spec import POLICY_KEYS, DataSpec, policy_settings
from harness.core.errors import UsageError
from harness.core.hints import did_you_mean
from harness.core.io import read_yaml_mapping
from harness.core.params import Params
from harness.core.params import check as check_params
from harness.core.params import defaults as param_defaults
from harness.core.status import FAIL, LOWER, SKIPPED, WARN, as_rules, check_rules, directions, judge_rules, skip_reason
from harness.core.status import verdict as _verdict

DEFAULT_POLICY = Path(__file__).with_name("default_policy.yaml")
POLICY_SCHEMA = Path(__file__).with_name("policy_schema.yaml")
_SHORTHAND = {"warn_if": WARN, "fail_if": FAIL}
_RULE_KEYS = ("rules", *_SHORTHAND)
_CHECK_KEYS = ("enabled", "params", *_RULE_KEYS)


@lru_cache(maxsize=1)
def policy_rules() -> dict[str, str]:
    """harness/auditing/policy_schema.yaml: the type and range of every policy value."""
    return yaml.safe_load(POLICY_SCHEMA.read_text(encoding="utf-8"))


def params_of(check: str) -> type[Params]:
    """A check's parameter declaration (none for a name no check is registered under)."""
    from harness.checks import REGISTRY

    return REGISTRY[check].Params if check in REGISTRY else Params


def default_policy() -> dict[str, Any]:
    """harness/auditing/default_policy.yaml, plus an entry with no limits for every plug-in check it does not name
    (another package's check runs and reports; the user's policy gives it limits); each check's params
    are its declared defaults."""
    from harness.checks import REGISTRY

    policy = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    for name in REGISTRY.names():
        policy["checks"].setdefault(name, {"enabled": True, "warn_if": {}, "fail_if": {}})
    for name, conf in policy["checks"].items():
        conf["params"] = param_defaults(params_of(name))
    return policy


def load_policy(policy: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge a policy (path, dict or None) over the defaults and validate it; each check's rules in the one
    rule format (`rules`), its shorthand converted."""
    base = default_policy()
    # The defaults' rules, converted before the user's are merged: what a user gives replaces them.
    defaults = {check: _check_rules(check, {k: conf.pop(k) for k in _RULE_KEYS if k in conf}, {}, str(DEFAULT_POLICY))
                for check, conf in base["checks"].items()}
    if policy is None:
        user, name = {}, "<defaults>"
    elif isinstance(policy, Mapping):
        user, name = dict(policy), "<policy>"
    else:
        name, user = str(policy), read_yaml_mapping(policy, "policy")
    # The data spec (harness/inputs/data_spec.py) is not a threshold: its `data` section, and the older form's keys
    # at the top (shape, fields, labels, max_seq_len, tokenizer, eval_max_bad_share), are read by DataSpec.
    spec = DataSpec.from_mapping(policy_settings(user, name), f"{name}: data")
    user = {k: v for k, v in user.items() if k != "data" and k not in POLICY_KEYS}
    merged = _merge(base, user, name, "")
    # A check's parameters are checked by its own declaration (type and range of each, unknown keys).
    check_tree({**merged, "checks": {c: {k: v for k, v in conf.items() if k != "params"}
                                     for c, conf in merged["checks"].items()}}, base, policy_rules(), name)
    merged["data"] = spec.to_dict()
    for check, conf in merged["checks"].items():
        check_params(params_of(check), conf.get("params"), f"{name}: checks.{check}.params")
    for check, conf in merged["checks"].items():
        given = {k: conf.pop(k) for k in _RULE_KEYS if k in conf}   # only a user's: the base has none left
        conf["rules"] = _check_rules(check, given, defaults.get(check, {}), name)
    return merged


def _merge(base: Any, user: Any, name: str, where: str) -> Any:
    if not isinstance(base, dict):
        return copy.deepcopy(user)
    if not isinstance(user, dict):
        raise UsageError(f"{name}: {where.rstrip('.') or 'policy'} must be a mapping")
    out = copy.deepcopy(base)
    for key, value in user.items():
        path = f"{where}{key}"
        if where in ("fields.", "spark.conf.") or where.endswith(".warn_if.") or where.endswith(".fail_if."):
            out[key] = value
            continue
        if where == "checks." and key not in base:
            from harness.checks import REGISTRY

            raise UsageError(f"{name}: unknown check {key!r} under checks{did_you_mean(key, REGISTRY)}")
        if where.startswith("checks.") and where.count(".") == 2 and key not in _CHECK_KEYS:
            raise UsageError(f"{name}: unknown key {path!r}{did_you_mean(key, _CHECK_KEYS)}")
        if where.startswith("checks.") and where.count(".") == 2 and key == "params":
            # Over the declared defaults; load_policy checks the result against the declaration.
            out[key] = value if value is not None and not isinstance(value, dict) else {**out.get(key, {}), **(value or {})}
            continue
        if key not in base and not (where.startswith("checks.") and key in _CHECK_KEYS):
            known = [*base, "data", *POLICY_KEYS] if where == "" else base
            raise UsageError(f"{name}: unknown policy key {path!r}{did_you_mean(key, known)}")
        if key in ("warn_if", "fail_if", "fields", "rules"):
            if value is not None and not isinstance(value, dict):
                raise UsageError(f"{name}: {path} must be a mapping of metric to {'rule' if key == 'rules' else 'limit'}")
            out[key] = dict(value or {})
        elif isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value or {}, name, path + ".")
        else:
            out[key] = value
    return out


def _check_rules(check: str, given: Mapping[str, Any], current: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A check's rules ({metric: rule or [rules]}) after the `given` keys of one policy (rules, warn_if,
    fail_if) over `current`, each validated against the check's declared metrics and their direction."""
    from harness.checks import REGISTRY

    declared = directions(REGISTRY[check].metrics, LOWER) if check in REGISTRY else {}
    where = f"{name}: checks.{check}"
    if "rules" in given and any(k in given for k in _SHORTHAND):
        raise UsageError(f"{where}: give `rules` or its shorthand warn_if / fail_if, not both")

    def known(metric: Any, key: str) -> None:
        if declared and metric not in declared:
            raise UsageError(f"{where}.{key}: unknown metric {metric!r}{did_you_mean(str(metric), declared)}")

    if "rules" in given:
        rules: dict[str, list[dict[str, Any]]] = {}
        for metric, value in (given["rules"] or {}).items():
            known(metric, "rules")
            if value is not None:  # `metric: null`: no rule for it
                check_rules(value, f"{where}.rules.{metric}", metric, declared.get(metric))
                rules[metric] = copy.deepcopy(as_rules(value))
    else:
        rules = {m: copy.deepcopy(as_rules(v)) for m, v in current.items()}
    for key, severity in _SHORTHAND.items():
        if key not in given:
            continue
        rules = {m: [r for r in rs if r.get("severity", FAIL) != severity] for m, rs in rules.items()}
        for metric, limit in (given[key] or {}).items():
            known(metric, key)
            at = f"{where}.{key}.{metric}"
            check_value(limit, "float", at)
            if declared.get(metric) not in (LOWER, None):
                raise UsageError(f"{at}: {key} fires when {metric} rises, but higher is better; write a rule "
                                 f"under `rules`, e.g. {metric}: {{at_least: x, severity: {severity}}}")
            rules.setdefault(metric, []).append({"at_most": limit, "severity": severity})
    # One rule is written as a mapping, several as a list: the form a user writes them in.
    return {m: rs[0] if len(rs) == 1 else rs for m, rs in rules.items() if rs}


def rules_of(conf: Mapping[str, Any]) -> dict[str, Any]:
    """A check's rules from its policy entry: `rules` as loaded, or (an entry not loaded through
    load_policy) its shorthand converted."""
    rules = dict(conf.get("rules") or {})
    for key, severity in _SHORTHAND.items():
        for metric, limit in (conf.get(key) or {}).items():
            rules[metric] = as_rules(rules.get(metric)) + [{"at_most": limit, "severity": severity}]
    return rules


def decide(conf: Mapping[str, Any], summary: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Status of one check from its summary: skipped when it does not apply, fail when a rule of severity
    fail breaks, else warn when a warn rule does, else pass; with the reasons."""
    if summary.get("applicable") is False:
        return SKIPPED, [skip_reason({"summary": summary})]
    return judge_rules((metric, rules, summary.get(metric)) for metric, rules in rules_of(conf).items())


def verdict(statuses: list[str], on_error: str = "fail") -> str:
    """The audit's verdict from its checks' statuses (harness/core/status.py: the worst wins)."""
    return _verdict(statuses, on_error)
