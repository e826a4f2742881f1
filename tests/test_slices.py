"""Slices: membership by label, field value and regular expression; the arithmetic of per-slice
deltas; a better average hiding a worse slice is flagged by the gate (and failed when the policy says)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import harness.suites.slices as slices_mod
from harness.inputs.data import Example
from harness.core.errors import UsageError
from harness.comparing.gate import apply, load_gate
from harness.suites.base import Context, SuiteResult
from harness.suites.slices import SlicesSuite, slice_members


def ex(i, label, channel=None, text=None):
    meta = {"channel": channel} if channel else {}
    return Example("eval", i + 1, text or f"row {i}", None, label, {"text": text or f"row {i}"}, None, meta)


def run_slices(examples, base_ok, tuned_ok, params, monkeypatch, labels=("a", "b")):
    ctx = Context(pair=None, shape="classification", labels=list(labels), train=[], eval=examples,
                  prompt_template="{text}", system=None, max_seq_len=64)
    monkeypatch.setattr(slices_mod, "correctness", lambda c, rows: {
        "examples": list(rows), "metric": "accuracy", "base": np.asarray(base_ok, bool), "tuned": np.asarray(tuned_ok, bool)})
    from harness.core.params import build

    res = SlicesSuite().run(ctx, build(SlicesSuite.Params, params))
    assert isinstance(res, SuiteResult)
    return {"metrics": res.metrics, "info": res.info, "rows": res.rows}


def test_slice_members_by_field_value_and_regex():
    rows = [ex(0, "a", "email", "refund please"), ex(1, "a", "phone", "where is it"), ex(2, "b", "email", "Money back now"),
            ex(3, "b", None, "hello")]
    assert slice_members(rows, {"field": "channel"}, 20) == {"channel=email": [0, 2], "channel=phone": [1]}
    assert slice_members(rows, {"field": "channel", "values": ["phone"], "name": "ch"}, 20) == {"ch=phone": [1]}
    assert slice_members(rows, {"name": "refunds", "regex": "refund|money back"}, 20) == {"refunds": [0, 2]}
    assert slice_members(rows, {"name": "r", "regex": "Money", "ignore_case": False}, 20) == {"r": [2]}


def test_bad_slice_specs_are_one_line_usage_errors():
    rows = [ex(0, "a", "email")]
    with pytest.raises(UsageError, match="no held-out row has the field 'chanel' \\(their other fields: channel\\)"):
        slice_members(rows, {"field": "chanel"}, 20)
    with pytest.raises(UsageError, match="bad regular expression"):
        slice_members(rows, {"name": "x", "regex": "("}, 20)
    with pytest.raises(UsageError, match="each slice is"):
        slice_members(rows, {"name": "x", "regex": "a", "field": "channel"}, 20)
    with pytest.raises(UsageError, match="unknown key"):
        slice_members(rows, {"field": "channel", "value": "email"}, 20)


def test_a_better_average_with_one_worse_slice_is_flagged_and_gated_on_request(monkeypatch):
    # 40 email rows go from wrong to right; 12 phone rows go from right to wrong: the average rises.
    examples = [ex(i, "a" if i % 2 else "b", "email") for i in range(40)] + [ex(40 + i, "a", "phone") for i in range(12)]
    base_ok = [False] * 40 + [True] * 12
    tuned_ok = [True] * 40 + [False] * 12
    res = run_slices(examples, base_ok, tuned_ok, {"slices": [{"field": "channel"}], "min_n": 10}, monkeypatch)
    m = res["metrics"]
    assert m["channel=email.accuracy"]["delta"] == 1.0 and m["channel=phone.accuracy"]["delta"] == -1.0
    assert m["worst.accuracy"]["slice"] == "channel=phone" and m["worst.accuracy"]["n"] == 12
    assert res["info"]["overall"]["delta"] == pytest.approx((40 - 12) / 52)
    assert res["info"]["regressed"] == ["channel=phone"]
    results = {"suites": {"slices": {"status": "pass", **res}}}
    assert apply(results, load_gate(None)) == "pass"  # default: flagged, not failed
    assert results["suites"]["slices"]["metrics"]["worst.accuracy"]["status"] == "warn"
    assert results["warnings"] and "slices.worst.accuracy" in results["warnings"][0]
    strict = load_gate({"gates": {"slices.worst.accuracy": {"field": "delta", "above": -0.1, "severity": "fail"}}})
    results = {"suites": {"slices": {"status": "pass", **res, "feeds": ["hidden_regression"]}}}
    assert apply(results, strict) == "fail"

    from harness.reports.view import build

    results["verdict"] = "pass"
    results["suites"]["slices"]["metrics"]["worst.accuracy"]["status"] = "warn"
    view = build({"compare": {"base": {"name": "b"}, "adapter": {"path": "a"}, **results}})
    assert "fell by -1.000" in view["compare"]["hidden_regression"] and "channel=phone" in view["compare"]["hidden_regression"]


def test_small_slices_are_listed_not_measured(monkeypatch):
    examples = [ex(i, "a", "email") for i in range(12)] + [ex(12 + i, "b", "fax") for i in range(3)]
    res = run_slices(examples, [True] * 15, [True] * 15, {"slices": [{"field": "channel"}], "min_n": 10}, monkeypatch)
    assert "channel=fax.accuracy" not in res["metrics"] and "channel=email.accuracy" in res["metrics"]
    assert set(res["info"]["too_small"]) == {"label=b", "channel=fax"}


def test_a_rule_with_an_unknown_severity_is_refused():
    with pytest.raises(UsageError, match="severity must be 'fail' or 'warn'"):
        load_gate({"gates": {"slices.worst.accuracy": {"field": "delta", "above": -0.1, "severity": "loud"}}})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.booleans(), st.booleans()), min_size=3, max_size=60))
def test_label_slices_partition_the_rows_so_their_weighted_deltas_sum_to_the_overall_delta(rows):
    import pytest as _pytest

    examples = [ex(i, lab) for i, (lab, _, _) in enumerate(rows)]
    with _pytest.MonkeyPatch.context() as mp:
        res = run_slices(examples, [b for _, b, _ in rows], [t for _, _, t in rows], {"min_n": 1}, mp,
                         labels=("a", "b", "c"))
    label_metrics = [m for k, m in res["metrics"].items() if k.startswith("label=")]
    assert sum(m["n"] for m in label_metrics) == len(rows)
    assert sum(m["share"] * m["delta"] for m in label_metrics) == pytest.approx(res["info"]["overall"]["delta"], abs=1e-3)
