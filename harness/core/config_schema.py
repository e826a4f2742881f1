"""Every value a user configures is checked by type and range before anything runs: a policy that says
`kinds: secret` (a string, read as six one-letter kinds) or `enabled: "no"` (a true string) must not
silently switch a check off. The rules are data — a short spec per key (harness/auditing/policy_schema.yaml for
the policy, a table beside the train config) — and a key without a rule must have the type of its
default. One checker for all of them, so a new key cannot be left unchecked by forgetting some code.

Spec grammar: `[null|]TYPE [RANGE...]`, TYPE one of bool, int, float (int or float, finite), str, map,
any, `enum a|b|c`, `list[TYPE]`; RANGE tokens `>=x`, `>x`, `<=x`, `<x`, or `a..b` (inclusive)."""

from __future__ import annotations

import math
import operator
from fnmatch import fnmatchcase
from typing import Any, Mapping

from harness.core.errors import UsageError
from harness.core.hints import did_you_mean

_COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_value(value: Any, spec: str, where: str) -> None:
    """Raise a one-line UsageError when `value` does not meet `spec`."""
    nullable = spec.startswith("null|")
    spec = spec[5:] if nullable else spec
    if value is None:
        if nullable:
            return
        raise UsageError(f"{where}: must be set (got null)")
    if spec.startswith("list["):
        if not isinstance(value, list):
            raise UsageError(f"{where}: expected a list, got {_describe(value)}"
                             + (" (write [a, b] for several values)" if isinstance(value, str) else ""))
        inner = spec[5:spec.rindex("]")]
        for i, item in enumerate(value):
            check_value(item, inner, f"{where}[{i}]")
        return
    kind, _, rest = spec.partition(" ")
    if kind == "enum":
        options, _, rest = rest.partition(" ")
        _check_enum(value, options.split("|"), where)
        return
    _check_type(value, kind, where)
    for token in rest.split():
        _check_range(value, token, where)


def _check_enum(value: Any, options: list[str], where: str) -> None:
    # YAML reads true/false as booleans; an enum that offers "true" and "false" takes them.
    shown = str(value).lower() if isinstance(value, bool) else value
    if not isinstance(shown, str) or shown not in options:
        hint = did_you_mean(shown, options) if isinstance(shown, str) else ""
        hint = hint if "did you mean" in hint else ""
        raise UsageError(f"{where}: expected one of {', '.join(options)}, got {_describe(value)}{hint}")


def _check_type(value: Any, kind: str, where: str) -> None:
    ok = {"bool": lambda v: isinstance(v, bool),
          "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
          "str": lambda v: isinstance(v, str),
          "map": lambda v: isinstance(v, dict),
          "any": lambda v: True}.get(kind)
    if ok is None:
        raise ValueError(f"bad spec type {kind!r} for {where}")
    if not ok(value):
        article = {"int": "an integer", "float": "a finite number", "bool": "true or false", "str": "a string",
                   "map": "a mapping"}[kind]
        raise UsageError(f"{where}: expected {article}, got {_describe(value)}")


def _check_range(value: float, token: str, where: str) -> None:
    if ".." in token:
        low, high = (float(x) for x in token.split(".."))
        if not low <= value <= high:
            raise UsageError(f"{where}: must be between {low:g} and {high:g}, got {_describe(value)}")
        return
    for sign in (">=", "<=", ">", "<"):
        if token.startswith(sign):
            bound = float(token[len(sign):])
            if not _COMPARE[sign](value, bound):
                raise UsageError(f"{where}: must be {sign} {bound:g}, got {_describe(value)}")
            return
    raise ValueError(f"bad spec range {token!r} for {where}")


_SPEC_OF_TYPE = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "list[any]"), (dict, "map"))


def spec_of(value: Any) -> str:
    """The spec a key without a rule gets: the type of its default (bool before int: True is an int)."""
    return next((spec for kind, spec in _SPEC_OF_TYPE if isinstance(value, kind)), "any")


def rule_for(path: str, rules: Mapping[str, str]) -> str | None:
    """The rule of a dotted path: an exact key, else the matching pattern with the fewest wildcards."""
    if path in rules:
        return rules[path]
    matches = [p for p in rules if "*" in p and p.count(".") == path.count(".") and fnmatchcase(path, p)]
    if not matches:
        return None
    return rules[min(matches, key=lambda p: (p.count("*"), -len(p)))]


def check_tree(data: Mapping[str, Any], default: Mapping[str, Any] | None, rules: Mapping[str, str],
               name: str, prefix: str = "") -> None:
    """Check every key of `data` (a merged config): by its rule, else by its default's type."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        spec = rule_for(path, rules)
        base = default.get(key) if isinstance(default, Mapping) else None
        if spec is None:
            spec = spec_of(base) if base is not None else ("map" if isinstance(value, dict) else "any")
        check_value(value, spec, f"{name}: {path}")
        if isinstance(value, dict):
            check_tree(value, base, rules, name, path + ".")
