"""The gate policy: merging, validation with did-you-mean, and how rules judge figures."""

import pytest

from harness.core.errors import UsageError
from harness.comparing.gate import apply, judge, load_gate, rule_for


def test_defaults_and_overrides_merge():
    gate = load_gate({"gates": {"drift.kl": {"field": "tuned", "below": 0.2}, "task.accuracy": None},
                      "suites": {"drift": {"params": {"max_new_tokens": 8}}, "forgetting": {"enabled": False}}})
    assert gate["gates"]["drift.kl"]["below"] == 0.2 and "task.accuracy" not in gate["gates"]
    assert gate["suites"]["drift"]["params"] == {"max_items": 200, "max_new_tokens": 8}
    assert gate["suites"]["forgetting"]["enabled"] is False and gate["on_error"] == "fail"


@pytest.mark.parametrize("policy, message", [
    ({"gate": {}}, "unknown gate policy key 'gate'; did you mean 'gates'"),
    ({"suites": {"drfit": {}}}, "unknown suite 'drfit' under suites; did you mean 'drift'"),
    ({"suites": {"drift": {"param": {}}}}, "did you mean 'params'"),
    ({"gates": {"tsk.accuracy": {"field": "lower", "above": 0}}}, "unknown suite 'tsk'"),
    ({"gates": {"task.acuracy": {"field": "lower", "above": 0}}}, "did you mean 'accuracy'"),
    ({"gates": {"task.accuracy": {"field": "middle", "above": 0}}}, "field must be one of"),
    ({"gates": {"task.accuracy": {"field": "lower"}}}, "needs `above` or `below`"),
    ({"gates": {"task.accuracy": {"field": "lower", "above": "zero"}}}, "must be a finite number"),
    ({"on_error": "maybe"}, "on_error: expected one of warn, fail"),
    ({"required": ["tsak"]}, "did you mean 'task'"),
    # Issue 16.4: values that silently switched a suite off or broke a rule.
    ({"suites": {"drift": {"enabled": "no"}}}, "suites.drift.enabled: expected true or false, got 'no'"),
    ({"gates": {"drift.kl": {"field": "tuned", "below": float("nan")}}}, "below must be a finite number, got nan"),
    ({"suites": {"task": {"params": {"max_items": -1}}}}, "max_items: must be >= 1"),
    ({"required": "task"}, "required: expected a list"),
    ({"suites": {"forgetting": {"params": {"format": "chatt"}}}}, "did you mean 'chat'"),
])
def test_bad_policies_are_named(policy, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("`", "`")):
        load_gate(policy)


def test_policy_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "gate.yaml"
    bad.write_text("gates:\n  task.accuracy: {field: lower, above: 0\n")
    with pytest.raises(Exception, match="gate.yaml"):
        load_gate(str(bad))


def test_rules_judge_the_named_figure():
    m = {"base": 0.5, "tuned": 0.6, "delta": 0.1, "interval": [-0.01, 0.2]}
    judge(m, {"field": "lower", "above": 0.0})
    assert m["status"] == "fail" and "lower = -0.01" in m["gate"]["reason"]
    m2 = dict(m, interval=[0.02, 0.2])
    judge(m2, {"field": "lower", "above": 0.0})
    assert m2["status"] == "pass"
    m3 = {"tuned": None, "interval": None}
    judge(m3, {"field": "tuned", "below": 0.6})
    assert m3["status"] == "skipped"
    m4 = {"tuned": 0.3}
    judge(m4, None)
    assert m4["status"] == "info"


def test_patterns_cover_every_probe_set():
    gates = load_gate(None)["gates"]
    assert rule_for(gates, "forgetting.my_probe.accuracy") == gates["forgetting.*.accuracy"]
    assert rule_for(gates, "forgetting.my_probe.accuracy_norm") is None
    # The pooled figure has its own rule (non-inferiority): an exact rule wins over a pattern.
    assert rule_for(gates, "forgetting.all.accuracy") == {"field": "lower", "above": -0.05}


def _probe(n, r2w, w2r, interval):
    return {"base": 0.6, "tuned": 0.6 + (w2r - r2w) / n, "delta": (w2r - r2w) / n, "interval": interval, "n": n,
            "interval_of": "delta", "right_to_wrong": r2w, "wrong_to_right": w2r}


def _forgetting(**sets):
    metrics = {f"{k}.accuracy": v for k, v in sets.items()}
    metrics["all.accuracy"] = {**_probe(550, 30, 28, [-0.03, 0.02])}
    return {"suites": {"forgetting": {"status": "pass", "metrics": metrics}}}


def test_a_family_is_judged_on_simultaneous_intervals():
    """Five probe sets under one `*` rule: each is judged on its 99% interval (Bonferroni), recomputed from
    its discordant counts; a drop whose 95% interval lies below 0 but whose 99% one does not passes."""
    gate = load_gate({"required": []})
    # 20 right->wrong, 8 wrong->right of 112: the 95% interval is below 0, the 99% one reaches above it.
    borderline = _probe(112, 20, 8, [-0.19, -0.02])
    collapsed = _probe(112, 40, 3, [-0.45, -0.2])
    quiet = {k: _probe(110, 5, 6, [-0.05, 0.06]) for k in ("a", "b", "c")}
    results = _forgetting(border=borderline, **quiet, gone=collapsed)
    apply(results, gate)
    m = results["suites"]["forgetting"]["metrics"]
    joint = m["border.accuracy"]["simultaneous"]
    assert joint["adjusted"] and joint["size"] == 5 and abs(joint["level"] - 0.99) < 1e-9
    assert joint["interval"][1] > 0 > -0.02  # its own 95% interval would have failed it
    assert m["border.accuracy"]["status"] == "pass" and "99.0% interval" in m["border.accuracy"]["gate"]["reason"]
    assert m["gone.accuracy"]["status"] == "fail"
    assert "simultaneous" not in m["all.accuracy"]  # the pooled figure has its own exact rule: a family of one
    family = results["multiplicity"]["forgetting.*.accuracy"]
    assert len(family["members"]) == 5 and "Bonferroni" in family["method"]
    # Turned off, the same borderline set fails on its own 95% interval.
    results = _forgetting(border=borderline, **quiet, gone=collapsed)
    apply(results, load_gate({"required": [], "multiplicity": "none"}))
    assert results["suites"]["forgetting"]["metrics"]["border.accuracy"]["status"] == "fail"
    assert results["multiplicity"]["forgetting.*.accuracy"]["method"].startswith("not adjusted")


def test_a_family_member_without_counts_keeps_its_own_interval():
    gate = load_gate({"required": [], "gates": {"forgetting.*.accuracy": {"field": "lower", "above": -0.15}}})
    results = _forgetting(a=_probe(110, 5, 6, [-0.05, 0.06]), b={"delta": -0.1, "interval": [-0.2, 0.0], "n": 50})
    apply(results, gate)
    m = results["suites"]["forgetting"]["metrics"]
    assert m["b.accuracy"]["simultaneous"] == {"adjusted": False, "family": "forgetting.*.accuracy", "size": 2,
                                               "why": "no paired counts: judged on its own 95% interval"}
    assert m["b.accuracy"]["status"] == "fail" and m["a.accuracy"]["status"] == "pass"
    # re-judging (a new policy over the same results) starts from the figures, not the last adjustment
    apply(results, load_gate({"required": [], "multiplicity": "none"}))
    assert "simultaneous" not in m["a.accuracy"]


def test_a_crashed_suite_fails_the_gate_unless_on_error_is_warn():
    results = {"suites": {"task": {"status": "error", "metrics": {}},
                          "drift": {"status": "pass", "metrics": {"kl": {"tuned": 0.01, "interval": [0, 0.02]}}}}}
    assert apply(results, load_gate(None)) == "fail"
    assert results["suites"]["drift"]["metrics"]["kl"]["status"] == "pass"
    assert apply(results, load_gate({"on_error": "warn", "required": []})) == "pass"
    # A required suite that ran but measured nothing fails the gate, whatever on_error says.
    assert apply(results, load_gate({"on_error": "warn"})) == "fail"
    assert results["gate_reasons"] == ["required suite task measured nothing: error"]
    results["suites"]["task"] = {"status": "skipped", "reasons": ["no held-out rows (give --eval)"], "metrics": {},
                                 "info": {"reason": "no held-out rows (give --eval)"}}
    assert apply(results, load_gate(None)) == "fail" and "give --eval" in results["gate_reasons"][0]
    del results["suites"]["task"]
    assert apply(results, load_gate(None)) == "pass"  # left out on purpose: not required


def test_the_fast_preset_sits_between_the_defaults_and_the_user_policy():
    fast = load_gate(None, fast=True)
    assert fast["suites"]["task"]["params"]["max_items"] == 100
    assert fast["suites"]["baselines"]["params"]["max_items"] == 40
    assert fast["suites"]["drift"]["params"] == {"max_items": 30, "max_new_tokens": 24}
    assert fast["gates"] == load_gate(None)["gates"]  # the same rules, fewer items
    mine = load_gate({"suites": {"task": {"params": {"max_items": 60}}}}, fast=True)
    assert mine["suites"]["task"]["params"]["max_items"] == 60 and mine["suites"]["baselines"]["params"]["max_items"] == 40


def _task_results(kind, metrics):
    info = {"shape": "classification"} if kind == "classification" else {"shape": "instruction", "output_kind": kind}
    return {"suites": {"task": {"status": "pass", "info": info, "metrics": metrics, "feeds": ["output_kind"]}}}


def _m(lower, upper=0.3, tuned=0.5, n=100):
    return {"base": 0.4, "tuned": tuned, "delta": (lower + upper) / 2, "interval": [lower, upper], "n": n}


def test_the_task_rules_follow_the_kind_of_output():
    """Free text is never gated on exact match: a reply fine-tune whose answers never match word for
    word passes on chrF rising with length and format kept; the same figures on label-like answers fail."""
    gate = load_gate(None)
    figures = lambda: {"exact_match": _m(-0.02, 0.01), "chrf": _m(0.05), "length_ratio": _m(-0.1, 0.1, tuned=1.1),  # noqa: E731
                       "format_match": _m(-0.01, 0.01)}
    free = _task_results("free_text", figures())
    assert apply(free, gate) == "pass"
    assert free["task_rules"] == {"output_kind": "free_text", "rules": ["task.chrf", "task.format_match", "task.length_ratio"]}
    assert free["suites"]["task"]["metrics"]["exact_match"]["status"] == "info"
    label = _task_results("label", figures())
    assert apply(label, gate) == "fail" and label["suites"]["task"]["metrics"]["exact_match"]["status"] == "fail"
    # Answers three times the reference's length fail however chrF moves.
    long = _task_results("free_text", dict(figures(), length_ratio=_m(1.5, 2.5, tuned=3.0)))
    assert apply(long, gate) == "fail" and "length_ratio" in long["suites"]["task"]["reasons"][0]
    # JSON: field F1 must rise; validity may not drop by more than 5 points.
    js = _task_results("json", {"field_f1": _m(0.1), "json_validity": _m(-0.08, 0.02), "schema_match": _m(0.0)})
    assert apply(js, gate) == "fail" and js["suites"]["task"]["metrics"]["json_validity"]["status"] == "fail"
    assert apply(_task_results("final_answer", {"final_answer": _m(0.01)}), gate) == "pass"
    assert apply(_task_results("classification", {"accuracy": _m(-0.01)}), gate) == "fail"


def test_task_rules_are_overridden_or_removed_from_the_user_policy():
    gate = load_gate({"gates": {"task.chrf": None}, "task_gates": {"free_text": {"task.rouge_l": {"field": "lower", "above": 0.0}}}})
    r = _task_results("free_text", {"chrf": _m(-0.1), "rouge_l": _m(0.02), "length_ratio": _m(0, 0.1, tuned=1.0),
                                    "format_match": _m(0, 0)})
    assert apply(r, gate) == "pass" and r["suites"]["task"]["metrics"]["chrf"]["status"] == "info"
    with pytest.raises(UsageError, match="unknown output kind 'freetext'; did you mean 'free_text'"):
        load_gate({"task_gates": {"freetext": {}}})
    with pytest.raises(UsageError, match="task_gates.json: unknown metric 'task.field_f2'"):
        load_gate({"task_gates": {"json": {"task.field_f2": {"field": "lower", "above": 0}}}})


def test_a_suites_status_is_the_gates_decision_in_the_one_vocabulary():
    """Issue 31.4: a measured suite's status is pass / warn / fail (no `ok`), one that did not apply is
    `skipped` with its reason, a crashed one `error`; results of the first schema (`ok` + verdict,
    `not_applicable`) are read in the same words."""
    gate = load_gate({"required": []})
    results = {"suites": {
        "drift": {"status": "pass", "metrics": {"kl": {"tuned": 3.0, "interval": [2.5, 3.5]}}},
        "slices": {"status": "pass", "metrics": {"worst.accuracy": {"delta": -0.2, "interval": [-0.3, -0.1]}}},
        "calibration": {"status": "skipped", "reasons": ["needs label probabilities"], "metrics": {}, "info": {}},
        "overfitting": {"status": "ok", "verdict": "pass", "metrics": {"membership_auc": {"tuned": 0.5}}},
        "forgetting": {"status": "not_applicable", "metrics": {}, "info": {"reason": "no probe sets"}}}}
    assert apply(results, gate) == "fail"
    s = results["suites"]
    assert s["drift"]["status"] == "fail" and s["drift"]["reasons"][0].startswith("kl: tuned = 3")
    assert s["slices"]["status"] == "warn" and s["slices"]["reasons"] and results["warnings"]
    assert s["calibration"]["status"] == "skipped" and s["calibration"]["reasons"] == ["needs label probabilities"]
    assert s["overfitting"]["status"] == "pass" and "verdict" not in s["overfitting"]
    assert s["forgetting"]["status"] == "skipped" and s["forgetting"]["reasons"] == ["no probe sets"]
    assert {m.get("status") for x in s.values() for m in x["metrics"].values()} <= {"pass", "warn", "fail", "skipped", "info"}


@pytest.mark.parametrize("rule, message", [
    ({"field": "tuned", "above": 0.5}, "gates.drift.kl: `above` passes when drift.kl rises, but lower is better"),
    ({"field": "delta", "at_least": 0.0}, "`at_least` passes when drift.kl rises"),
])
def test_a_rule_must_agree_with_the_metrics_better_direction(rule, message):
    with pytest.raises(UsageError, match=message):
        load_gate({"gates": {"drift.kl": rule}})
    with pytest.raises(UsageError, match="passes when task.accuracy falls, but higher is better"):
        load_gate({"gates": {"task.accuracy": {"field": "lower", "below": 0.0}}})
    load_gate({"gates": {"task.length_ratio": {"field": "tuned", "above": 0.8, "below": 1.2}}})  # no direction: a band


def test_a_metric_may_carry_a_warn_and_a_fail_rule_and_inclusive_bounds():
    rules = [{"field": "tuned", "at_most": 1.0, "severity": "warn"}, {"field": "tuned", "below": 2.0}]
    gate = load_gate({"required": [], "gates": {"drift.kl": rules}})
    for kl, status in ((1.0, "pass"), (1.5, "warn"), (2.0, "fail")):
        m = {"tuned": kl}
        judge(m, gate["gates"]["drift.kl"])
        assert m["status"] == status, (kl, m)
    assert m["gate"]["rule"] == "tuned <= 1; tuned < 2" and "breaks tuned < 2" in m["gate"]["reason"]
