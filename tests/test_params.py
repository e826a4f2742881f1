"""Plug-in parameters declared once (harness/core/params.py): the type, default and range of every key come from
the plug-in's Params dataclass; the gate and the audit policy read them from there, record them whole, and
refuse what they do not allow; no suite or check keeps a fallback of its own."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from harness.checks import REGISTRY as CHECKS
from harness.core.errors import UsageError
from harness.comparing.gate import load_gate
from harness.core.params import Params, build, defaults, param, specs
from harness.auditing.policy import load_policy
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


@pytest.mark.parametrize("name", CHECKS.names())
def test_every_check_declares_its_parameters(name):
    _declares_params(CHECKS[name], "check", name)


def test_the_audit_policy_holds_every_check_parameter_from_the_declaration():
    """The shipped policy keeps rules, not parameters: each check's defaults are its declaration's, filled
    in by load_policy, a user's values over them."""
    import yaml

    shipped = yaml.safe_load((ROOT / "harness" / "auditing" / "default_policy.yaml").read_text(encoding="utf-8"))
    assert not [name for name, conf in shipped["checks"].items() if "params" in conf]
    assert not [rule for rule in yaml.safe_load((ROOT / "harness" / "auditing" / "policy_schema.yaml").read_text(encoding="utf-8"))
                if ".params" in rule]
    pol = load_policy(None)
    for name in CHECKS.names():
        assert pol["checks"][name]["params"] == defaults(CHECKS[name].Params), name
    mine = load_policy({"checks": {"leakage": {"params": {"ngram": 13}}, "pii": {"params": None}}})
    assert mine["checks"]["leakage"]["params"] == {**defaults(CHECKS["leakage"].Params), "ngram": 13}
    assert mine["checks"]["pii"]["params"] == defaults(CHECKS["pii"].Params)


@pytest.mark.parametrize("checks, message", [
    ({"leakage": {"params": {"ngrams": 8}}}, "checks.leakage.params: unknown parameter 'ngrams'; did you mean 'ngram'"),
    ({"schema": {"params": {"max_findings": 5}}}, "checks.schema.params: unknown parameter 'max_findings' (known: none)"),
    ({"outliers": {"params": {"min_class_rows": 1}}}, "checks.outliers.params.min_class_rows: must be >= 2"),
    ({"label_errors": {"params": {"use_embeddings": "no"}}}, "checks.label_errors.params.use_embeddings: expected true or false"),
    ({"boilerplate": {"params": {"refusal_patterns": "as an ai"}}}, "checks.boilerplate.params.refusal_patterns: expected a list"),
    ({"pii": {"params": ["kinds"]}}, "checks.pii.params: expected a mapping"),
])
def test_the_policy_refuses_check_parameters_the_declaration_does_not_allow(checks, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        load_policy({"checks": checks})


def test_a_check_runs_on_its_built_parameters_and_audit_json_records_them_all(tmp_path, monkeypatch):
    """`run` gets the declaration's instance, the policy's values in it; audit.json's policy holds every
    declared key of every check."""
    import json

    from harness.app.cli import main
    from harness.testing import SAMPLE_TRAIN

    seen = {}
    original = CHECKS["leakage"].run

    def spy(self, data, params):
        seen["params"] = params
        return original(self, data, params)

    monkeypatch.setattr(CHECKS["leakage"], "run", spy)
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in SAMPLE_TRAIN))
    (tmp_path / "policy.yaml").write_text("checks:\n  leakage:\n    params: {ngram: 13}\n")
    assert main(["audit", str(train), "--policy", str(tmp_path / "policy.yaml"), "--out", str(tmp_path / "o"),
                 "--quiet"]) in (0, 1)
    assert seen["params"] == CHECKS["leakage"].Params(ngram=13)
    recorded = json.loads((tmp_path / "o" / "audit.json").read_text())["policy"]["checks"]
    for name in CHECKS.names():
        declared = defaults(CHECKS[name].Params)
        assert recorded[name]["params"] == ({**declared, "ngram": 13} if name == "leakage" else declared), name


def test_an_unknown_check_parameter_is_a_one_line_usage_error(tmp_path):
    import subprocess
    import sys

    (tmp_path / "train.jsonl").write_text('{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n')
    (tmp_path / "policy.yaml").write_text("checks:\n  label_errors:\n    params: {fold: 3}\n")
    proc = subprocess.run([sys.executable, "-m", "harness", "audit", "train.jsonl", "--policy", "policy.yaml",
                           "--out", "o"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "policy.yaml: checks.label_errors.params: unknown parameter 'fold'; did you mean 'folds'?" in lines[0]
    assert not (tmp_path / "o" / "audit.json").exists()


def test_no_plugin_keeps_a_fallback_of_its_own():
    """A `params.get("k", 5)` in a suite or a check is a second default that can drift from the declared one."""
    found = []
    for path in sorted((ROOT / "suites").glob("*.py")) + sorted((ROOT / "checks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "params":
                found.append(f"{path.parent.name}/{path.name}:{node.lineno}")
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "params":
                found.append(f"{path.parent.name}/{path.name}:{node.lineno}")
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
