"""Plug-in parameters declared once (harness/params.py): the type, default and range of every key come from
the plug-in's Params dataclass; the gate reads them from there, records them whole, and refuses what they
do not allow; no suite keeps a fallback of its own."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from harness.errors import UsageError
from harness.gate import load_gate
from harness.params import Params, build, defaults, param, specs
from harness.suites import REGISTRY as SUITES
from harness.testing import _declares_params

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Sample(Params):
    n: int = param(3, ">=1", "how many")
    share: float = param(0.5, "0..1", "a share")
    flag: bool = param(True, "", "on or off")
    name: str = param("x", "", "a name")
    limit: int | None = param(None, ">=0", "a cap or none")
    names: list[str] | None = param(None, "", "some names")
    specs_: list[dict] = param([], "", "mappings")
    mode: Literal["text", "chat"] = param("text", "", "a choice")


def test_specs_come_from_the_annotations_and_ranges():
    assert specs(Sample) == {"n": "int >=1", "share": "float 0..1", "flag": "bool", "name": "str",
                             "limit": "null|int >=0", "names": "null|list[str]", "specs_": "list[map]",
                             "mode": "enum text|chat"}


def test_build_fills_defaults_and_refuses_what_the_declaration_does_not_allow():
    p = build(Sample, {"n": 5})
    assert p.n == 5 and p.share == 0.5 and p.specs_ == [] and defaults(Sample)["n"] == 3
    assert build(Sample, None) == Sample()
    assert Sample().specs_ is not Sample().specs_  # a list default is per instance
    for values, message in [({"m": 1}, "unknown parameter 'm'"), ({"nn": 1}, "did you mean 'n'"),
                            ({"n": 0}, "where.n: must be >= 1"), ({"n": "3"}, "expected an integer"),
                            ({"share": 2}, "between 0 and 1"), ({"flag": "no"}, "true or false"),
                            ({"mode": "chatt"}, "did you mean 'chat'"), ({"names": "a"}, "expected a list")]:
        with pytest.raises(UsageError, match=message):
            build(Sample, values, "where")
    with pytest.raises(UsageError, match="expected a mapping"):
        build(Sample, ["n"], "where")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", SUITES.names())
def test_every_suite_declares_its_parameters(name):
    _declares_params(SUITES[name], "suite", name)


def test_the_gate_records_every_parameter_from_the_declaration():
    gate = load_gate(None)
    for name in SUITES.names():
        assert gate["suites"][name]["params"] == defaults(SUITES[name].Params), name
    # drift's answer budget has one value: the declaration's (it once was 32 in code, 24 in the gate)
    assert gate["suites"]["drift"]["params"]["max_new_tokens"] == SUITES["drift"].Params().max_new_tokens
    mine = load_gate({"suites": {"drift": {"params": {"max_new_tokens": 8}}}})
    assert mine["suites"]["drift"]["params"] == {**defaults(SUITES["drift"].Params), "max_new_tokens": 8}


@pytest.mark.parametrize("policy, message", [
    ({"suites": {"drift": {"params": {"max_new_token": 8}}}}, "suites.drift.params: unknown parameter 'max_new_token'; did you mean 'max_new_tokens'"),
    ({"suites": {"baselines": {"params": {"k": -1}}}}, "suites.baselines.params.k: must be >= 0"),
    ({"suites": {"slices": {"params": {"slices": {"field": "channel"}}}}}, "suites.slices.params.slices: expected a list"),
    ({"suites": {"task": {"params": 5}}}, "suites.task.params: expected a mapping"),
])
def test_the_gate_refuses_parameters_the_declaration_does_not_allow(policy, message):
    with pytest.raises(UsageError, match=message.replace(".", r"\.").replace("'", ".")):
        load_gate(policy)


def test_no_plugin_keeps_a_fallback_of_its_own():
    """A `params.get("k", 5)` in a suite is a second default that can drift from the declared one."""
    found = []
    for path in sorted((ROOT / "suites").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "params":
                found.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "params":
                found.append(f"{path.name}:{node.lineno}")
    assert not found, f"parameters read past their declaration: {found}"


def test_the_report_lists_the_limitations_of_what_ran():
    from harness.reports.view import _limitations

    audit = {"checks": [{"check": "pii", "status": "pass", "summary": {}, "limitations": ["by pattern"]},
                        {"check": "x", "status": "skipped", "summary": {}, "limitations": ["not shown"]},
                        {"check": "y", "status": "error", "summary": {}, "limitations": ["crashed"]}]}
    compare = {"suites": {"drift": {"status": "warn", "limitations": ["phrases", "by pattern"]},
                          "task": {"status": "skipped", "limitations": ["skipped"]}}}
    assert _limitations(audit, compare) == ["by pattern", "phrases"]
    assert _limitations(None, None) == []
    # results of the first schema, in their words: a skipped check said pass + applicable false
    audit["checks"][1].update(status="pass", summary={"applicable": False})
    compare["suites"]["drift"]["status"], compare["suites"]["task"]["status"] = "ok", "not_applicable"
    assert _limitations(audit, compare) == ["by pattern", "phrases"]
