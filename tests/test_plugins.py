"""A check or a suite from another package is one file and one entry point (issue 31.1): installed beside
the harness (a dist-info with entry points on the path, as pip leaves it), the check runs in the audit,
its policy limits decide its status, `harness clean` removes the rows it flags because it says it removes
rows, and the suite runs in compare and is gated by a rule of the user's gate file; the report draws
both plug-ins' charts and asks their checklist questions, from what they declare, with no file of the
harness changed."""

import json

from plugin_helpers import harness_cli, install

CHECK = '''
"""A throwaway check: requests written in capitals."""
from harness.checks import Answer, Chart, Check, CheckResult, register


@register
class Shouting(Check):
    name = "shouting"
    title = "Shouted requests"
    why = "A model tuned on shouted requests learns that shouting is normal."
    metrics = ("shouted_rows",)
    key_figures = ("shouted_rows",)
    removes = "all"
    answers = (Answer("Are the requests written calmly?", "summary.shouted_rows", "requests in capitals"),)
    charts = (Chart("bars", "Shouted requests per label", "info.by_label"),)

    def run(self, data, params):
        found = [ex for ex in data.rows("train") if ex.input.isupper()]
        by_label = {}
        for ex in found:
            by_label[ex.label] = by_label.get(ex.label, 0) + 1
        return CheckResult(summary={"shouted_rows": len(found)}, info={"by_label": by_label},
                           findings=[{"rows": [ex.ref], "message": "the request is in capitals"} for ex in found])
'''

SUITE = '''
"""A throwaway suite: how likely each held-out label is after its request, base vs tuned."""
from harness.comparing import stats
from harness.model.scoring import continuation_logprobs
from harness.suites import HIGHER, Answer, Chart, Suite, SuiteResult, metric, not_applicable, register


@register
class LabelLogprob(Suite):
    name = "label_logprob"
    title = "Log-probability of the labels"
    why = "Tuning on labelled requests should make their labels likelier."
    metrics = {"logprob": HIGHER}
    answers = (Answer("Are held-out labels likelier after tuning?", "info.less_likely", "held-out labels less likely"),)
    charts = (Chart("bars", "Log-probability gained per held-out row", "rows", label="row", value="gain"),)

    def run(self, ctx, params):
        rows = [ex for ex in ctx.eval if ex.label]
        if not rows:
            return not_applicable("no labelled held-out rows")
        tok = ctx.pair.tokenizer
        s = ctx.pair.both(self.key, "label_logprob", rows, [[ex.input, ex.label] for ex in rows],
                          lambda model, batch: [continuation_logprobs(model, tok, ex.input, [" " + ex.label])[0]
                                                for ex in batch])
        m = stats.paired_mean_delta(s["base"], s["tuned"], seed=ctx.seed)
        gains = [t - b for b, t in zip(s["base"], s["tuned"])]
        return SuiteResult(metrics={"logprob": metric(m["base"], m["tuned"], m["delta"], m["interval"], None, m["n"],
                                                      interval_of="delta")},
                           info={"less_likely": sum(g < 0 for g in gains)},
                           rows=[{"split": ex.split, "line": ex.line, "row": f"{ex.split}:{ex.line}", "gain": g}
                                 for ex, g in zip(rows, gains)])
'''


def _site(tmp_path):
    return install(tmp_path / "site", "throwaway-plugins", {"throwaway_check": CHECK, "throwaway_suite": SUITE},
                   {"finetune_harness.checks": {"shouting": "throwaway_check:Shouting"},
                    "finetune_harness.suites": {"label_logprob": "throwaway_suite"}})


def test_a_check_from_an_entry_point_is_audited_gated_rendered_and_cleaned(tmp_path):
    site = _site(tmp_path)
    rows = [{"text": f"where is my parcel number {i}, it was due on day {i % 7}", "label": "delivery"} for i in range(20)]
    rows += [{"text": f"my card was charged {i} times for one order", "label": "billing"} for i in range(2, 22)]
    shouted = [7, 30]  # 0-based
    for i in shouted:
        rows[i]["text"] = rows[i]["text"].upper()
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "policy.yaml").write_text("checks:\n  shouting:\n    fail_if: {shouted_rows: 0}\n")

    proc = harness_cli(tmp_path, site, "audit", "train.jsonl", "--policy", "policy.yaml", "--out", "out", "--quiet")
    assert proc.returncode == 1, proc.stderr
    audit = json.loads((tmp_path / "out" / "audit.json").read_text())
    [entry] = [c for c in audit["checks"] if c["check"] == "shouting"]
    assert entry["status"] == "fail" and entry["summary"] == {"shouted_rows": 2} and entry["removes"] == "all"
    assert [f["rows"] for f in entry["findings"]] == [[{"split": "train", "line": i + 1}] for i in shouted]
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Shouted requests" in page and "the request is in capitals" in page
    assert "<h3>Shouted requests per label</h3>" in page and "<title>Shouted requests per label</title>" in page
    assert "<td>Are the requests written calmly?</td>" in page and "<td>2 requests in capitals</td>" in page

    proc = harness_cli(tmp_path, site, "clean", "out/audit.json", "train.jsonl", "--out", "clean.jsonl",
                       "--drop", "shouting")
    assert proc.returncode == 0, proc.stderr
    kept = [json.loads(line)["text"] for line in (tmp_path / "clean.jsonl").read_text().splitlines()]
    assert len(kept) == len(rows) - 2 and not any(t.isupper() for t in kept)
    removed = json.loads((tmp_path / "clean.jsonl.removed.json").read_text())
    assert [(r["line"], r["check"]) for r in removed["rows"]] == [(i + 1, "shouting") for i in shouted]


def test_a_suite_from_an_entry_point_is_compared_gated_and_rendered(tmp_path, tiny_adapter):
    site = _site(tmp_path)
    base, adapter, rows = tiny_adapter
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:8]))
    # Log-probabilities are never above 0: the user's rule fails the gate on the plug-in's metric.
    (tmp_path / "gate.yaml").write_text("gates:\n  label_logprob.logprob: {field: tuned, above: 0.0}\n")

    proc = harness_cli(tmp_path, site, "compare", "--base", base, "--adapter", str(adapter), "--eval", "eval.jsonl",
                       "--suites", "label_logprob", "--policy", "gate.yaml", "--out", "cmp", "--no-cache", "--quiet")
    assert proc.returncode == 1, proc.stderr
    results = json.loads((tmp_path / "cmp" / "results.json").read_text())
    assert list(results["suites"]) == ["label_logprob"] and results["verdict"] == "fail"
    suite = results["suites"]["label_logprob"]
    m = suite["metrics"]["logprob"]
    assert suite["status"] == "fail" and m["status"] == "fail" and m["n"] == 8 and m["tuned"] < 0
    assert m["gate"]["rule"] == "tuned > 0" and "label_logprob.logprob" in " ".join(results["reasons"])
    assert len(suite["rows"]) == 8 and suite["answers"][0]["figure"] == "info.less_likely"
    page = (tmp_path / "cmp" / "report.html").read_text()
    assert 'id="suite-label_logprob"' in page and "Log-probability of the labels" in page
    assert "<h3>Log-probability gained per held-out row</h3>" in page and 'class="lbl">eval:1</text>' in page
    assert "<td>Are held-out labels likelier after tuning?</td>" in page
    assert f"<td>{suite['info']['less_likely']} held-out labels less likely</td>" in page
