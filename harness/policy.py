"""The audit policy: thresholds and severities per check, kept out of the checks (deepchecks'
conditions). A user policy is merged over harness/default_policy.yaml and validated key by key."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from .config_schema import check_tree
from .errors import UsageError
from .hints import did_you_mean
from .io import read_yaml_mapping

DEFAULT_POLICY = Path(__file__).with_name("default_policy.yaml")
POLICY_SCHEMA = Path(__file__).with_name("policy_schema.yaml")
STATUSES = ("pass", "warn", "fail", "error")
_CHECK_KEYS = ("enabled", "params", "warn_if", "fail_if")


@lru_cache(maxsize=1)
def policy_rules() -> dict[str, str]:
    """harness/policy_schema.yaml: the type and range of every policy value."""
    return yaml.safe_load(POLICY_SCHEMA.read_text(encoding="utf-8"))


def default_policy() -> dict[str, Any]:
    """harness/default_policy.yaml, plus an entry with no limits for every plug-in check it does not name
    (another package's check runs and reports; the user's policy gives it limits)."""
    from .checks import REGISTRY

    policy = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    for name in REGISTRY.names():
        policy["checks"].setdefault(name, {"enabled": True, "params": {}, "warn_if": {}, "fail_if": {}})
    return policy


def load_policy(policy: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge a policy (path, dict or None) over the defaults and validate it."""
    base = default_policy()
    if policy is None:
        return base
    if isinstance(policy, Mapping):
        user, name = dict(policy), "<policy>"
    else:
        name, user = str(policy), read_yaml_mapping(policy, "policy")
    merged = _merge(base, user, name, "")
    _validate_conditions(merged, name)
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
            from .checks import REGISTRY

            raise UsageError(f"{name}: unknown check {key!r} under checks{did_you_mean(key, REGISTRY)}")
        if where.startswith("checks.") and where.count(".") == 2 and key not in _CHECK_KEYS:
            raise UsageError(f"{name}: unknown key {path!r}{did_you_mean(key, _CHECK_KEYS)}")
        if key not in base and not (where.startswith("checks.") and key in _CHECK_KEYS):
            raise UsageError(f"{name}: unknown policy key {path!r}{did_you_mean(key, base)}")
        if key in ("warn_if", "fail_if", "fields"):
            if value is not None and not isinstance(value, dict):
                raise UsageError(f"{name}: {path} must be a mapping of metric to limit")
            out[key] = dict(value or {})
        elif isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value or {}, name, path + ".")
        else:
            out[key] = value
    return out


def _validate_conditions(policy: dict[str, Any], name: str) -> None:
    from .checks import REGISTRY

    check_tree(policy, default_policy(), policy_rules(), name)
    for check, conf in policy["checks"].items():
        metrics = REGISTRY[check].metrics if check in REGISTRY else ()
        for kind in ("warn_if", "fail_if"):
            for metric in (conf.get(kind) or {}):
                if metrics and metric not in metrics:
                    raise UsageError(f"{name}: checks.{check}.{kind}: unknown metric {metric!r}"
                                     f"{did_you_mean(metric, metrics)}")


def decide(conf: Mapping[str, Any], summary: Mapping[str, Any]) -> tuple[str, list[str]]:
    """Status of one check from its summary: fail if a fail_if limit is crossed, else warn, else pass."""
    if summary.get("applicable") is False:
        return "pass", []
    for status in ("fail", "warn"):
        reasons = []
        for metric, limit in (conf.get(f"{status}_if") or {}).items():
            value = summary.get(metric)
            if isinstance(value, (int, float)) and value > limit:
                reasons.append(f"{metric} = {_fmt(value)} > {_fmt(limit)}")
        if reasons:
            return status, reasons
    return "pass", []


def _fmt(x: float) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def verdict(statuses: list[str], on_error: str = "fail") -> str:
    if "fail" in statuses or (on_error == "fail" and "error" in statuses):
        return "fail"
    if "warn" in statuses or "error" in statuses:
        return "warn"
    return "pass"
