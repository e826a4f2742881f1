"""A plug-in's parameters, declared once: each check and suite names a frozen dataclass of its parameters,
with the type, default, allowed range and meaning of each, as lm-evaluation-harness's TaskConfig does.
Policy files override the defaults; the schema checker reads the types and ranges from here, so a key, its
default and its rule cannot drift apart in three files (drift's token budget once did: 32, 24 and 32).

    @dataclass(frozen=True)
    class DriftParams(Params):
        max_items: int = param(200, ">=1", "prompts per set")
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from typing import Any, Literal, Mapping, TypeVar, Union

from harness.core.config_schema import check_value
from harness.core.errors import UsageError
from harness.core.hints import did_you_mean

P = TypeVar("P", bound="Params")


def param(default: Any, rule: str = "", doc: str = "") -> Any:
    """A parameter: its default, its range (`>=1`, `0..1`, `>0`; several separated by spaces) and one line
    saying what it does. Lists and mappings are copied per instance."""
    meta = {"rule": rule, "doc": doc}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class Params:
    """No parameters: the base of every plug-in's own. A plug-in that declares none accepts none."""


def _spec_of_type(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _spec_of_type(args[0]) if len(args) == 1 else "any"
        return inner if inner.startswith("null|") or inner == "any" else "null|" + inner
    if origin is Literal:
        return "enum " + "|".join(str(a) for a in typing.get_args(hint))
    if origin in (list, tuple):
        args = typing.get_args(hint)
        return f"list[{_spec_of_type(args[0]) if args else 'any'}]"
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        return "map"
    return {bool: "bool", int: "int", float: "float", str: "str"}.get(hint, "any")


def specs(cls: type[Params]) -> dict[str, str]:
    """Each parameter's rule in harness/core/config_schema.py's grammar: its type from the annotation, then its range."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        spec = _spec_of_type(hints[f.name])
        rule = f.metadata.get("rule", "")
        out[f.name] = f"{spec} {rule}".strip() if rule and not spec.startswith(("list[", "enum ")) else spec
    return out


def defaults(cls: type[Params]) -> dict[str, Any]:
    return dataclasses.asdict(cls())


def docs(cls: type[Params]) -> dict[str, str]:
    return {f.name: f.metadata.get("doc", "") for f in dataclasses.fields(cls)}


def check(cls: type[Params], values: Mapping[str, Any] | None, where: str) -> None:
    """A one-line UsageError for an unknown key (with did-you-mean) or a value of the wrong type or range."""
    if values is not None and not isinstance(values, Mapping):
        raise UsageError(f"{where}: expected a mapping of parameter to value, got {values!r:.60}")
    rules = specs(cls)
    for key, value in (values or {}).items():
        if key not in rules:
            known = ", ".join(rules) or "none"
            hint = did_you_mean(str(key), list(rules))
            raise UsageError(f"{where}: unknown parameter {key!r}"
                             + (hint if "did you mean" in hint else f" (known: {known})"))
        check_value(value, rules[key], f"{where}.{key}")


def build(cls: type[P], values: Mapping[str, Any] | None, where: str = "params") -> P:
    """The plug-in's parameters: its defaults with `values` over them, checked."""
    check(cls, values, where)
    return cls(**dict(values or {}))
