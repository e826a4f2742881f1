"""The HTML and Markdown reports: rendered from JSON alone, self-contained, and safe with hostile data
(checked in the source and, where Chromium is installed, in a real headless browser)."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import harness
from harness.reports.html import render_html
from harness.reports.markdown import render_markdown

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = [
    "<script>document.title='PWNED'</script> where is my parcel",
    '<img src=x onerror="document.title=\'PWNED\'"> i was charged twice',
    "<a href=\"javascript:document.title='PWNED'\">click</a> the app crashes",
    "</table></div><div style=\"position:fixed;top:0\">unbalanced <b><i> please cancel my plan",
    "x" * 5000 + " a very long line with no breaks",
    "contact evil@example.com <svg onload=document.title='PWNED'> now",
]


@pytest.fixture(scope="module")
def hostile_audit(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    labels = ["delivery", "billing", "technical_issue", "cancellation"]
    rows = [{"text": t, "label": labels[i % 4]} for i, t in enumerate(HOSTILE)] * 3  # duplicates, conflicts
    rows += [{"text": f"<script>alert({i})</script> ticket {i}", "label": "<b>billing</b>"} for i in range(6)]
    path = d / "<img src=x onerror=alert(1)>.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return harness.audit(str(path), str(path))


def test_hostile_data_is_escaped_everywhere(hostile_audit):
    page = render_html({"audit": hostile_audit})
    assert "&lt;img src=x onerror=alert(1)&gt;.jsonl" in page  # the hostile path, shown as text
    assert "&lt;b&gt;billing&lt;/b&gt;" in page  # a hostile label, in the SVG chart and the tables
    assert not re.search(r"<script", page, re.I)
    assert not re.search(r"<[a-z]+\b[^<>]*\son\w+\s*=", page, re.I)  # no event-handler attribute at all
    assert not re.search(r"<[a-z]+\b[^<>]*\ssrc\s*=", page, re.I)  # nothing loaded from anywhere
    assert all(h.startswith("#check-") for h in re.findall(r'href="([^"]*)"', page))  # only our own anchors
    assert 'http-equiv="Content-Security-Policy"' in page and "default-src 'none'" in page
    # Self-contained: nothing to fetch (the SVG namespace is an identifier, not a fetch).
    assert not re.search(r"<(link|script|iframe|img)\b", page, re.I)
    assert "@import" not in page and "url(" not in page
    assert re.findall(r"https?://[^\s\"'<]+", page) == ["http://www.w3.org/2000/svg"] * page.count('xmlns="http://www.w3.org/2000/svg"')


def test_markdown_summary_escapes_too(hostile_audit):
    md = render_markdown({"audit": hostile_audit})
    assert md.startswith("## finetune-harness: FAIL") and "| check | status | figures |" in md
    assert "<script" not in md and "<img" not in md


def test_report_command_reads_results_and_refuses_unknown_files(tmp_path, hostile_audit):
    from harness.app.cli import main

    (tmp_path / "audit.json").write_text(json.dumps(hostile_audit))
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 0
    assert "Verdict: FAIL" in (tmp_path / "r.html").read_text()
    assert main(["report", str(tmp_path / "audit.json"), "--out", str(tmp_path / "r.md"), "--format", "md"]) == 0
    bad = tmp_path / "other.json"
    bad.write_text('{"schema": "something/9"}')
    assert main(["report", str(bad), "--out", str(tmp_path / "x.html")]) == 2
    assert not (tmp_path / "x.html").exists()


def test_audit_writes_its_report(tmp_path, tickets, tickets_policy):
    from harness.app.cli import main

    out, _ = tickets
    main(["audit", str(out / "train.jsonl"), "--eval", str(out / "eval.jsonl"), "--policy", tickets_policy,
          "--out", str(tmp_path), "--quiet"])
    page = (tmp_path / "report.html").read_text()
    for section in ('id="verdict"', 'id="checklist"', 'id="data-card"', 'id="audit"', 'id="limitations"'):
        assert section in page
    assert "<svg" in page and len(page) < 5_000_000


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (apt: chromium)")
def test_hostile_report_in_a_real_browser(hostile_audit, tmp_path):
    """Headless Chromium loads the page: no script ran (the title is untouched), the sections render,
    and screenshots at phone and desktop width are kept as artifacts."""
    page = tmp_path / "report.html"
    page.write_text(render_html({"audit": hostile_audit}))
    flags = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run"]
    dom = subprocess.run(flags + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "<title>finetune-harness report: FAIL</title>" in dom and "PWNED" not in dom.split("</title>")[0]
    for section in ('id="verdict"', 'id="checklist"', 'id="data-card"', 'id="audit"'):
        assert section in dom
    artifacts = ROOT / "out" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        shot = artifacts / f"hostile-report-{width}.png"
        subprocess.run(flags + [f"--screenshot={shot}", f"--window-size={width},2000", page.as_uri()],
                       capture_output=True, timeout=120)
        assert shot.is_file() and shot.stat().st_size > 10_000


def test_compare_report_has_its_charts(tmp_path):
    """A compare result (with a training manifest) renders the probe intervals, the reliability diagram,
    KL per category, loss curves, and every suite's table."""
    from harness import compare
    from harness import train
    from tiny_model import build_tiny_model

    tiny = str(build_tiny_model(tmp_path / "tiny"))
    rows = [{"text": t, "label": lab} for t, lab in [("where is my parcel", "delivery"), ("i was charged twice", "billing"),
                                                      ("the app crashes", "technical_issue"), ("cancel my plan", "cancellation")] * 6]
    train(tiny, rows, rows[:8], out=tmp_path / "adapter", epochs=2, lr=5e-3, batch_size=8, max_seq_len=64,
          prompt_template="{text}")
    policy = {"suites": {"forgetting": {"params": {"max_items": 6}}, "drift": {"params": {"max_items": 4, "max_new_tokens": 4}}}}
    compare(tiny, tmp_path / "adapter", rows, rows[:8], policy=policy, out=tmp_path / "cmp", cache="")
    page = (tmp_path / "cmp" / "report.html").read_text()
    for title in ("probe accuracy", "reliability diagram", "KL per prompt category", "loss curves", 'id="suite-drift"',
                  'id="suite-forgetting"', "Confident-but-wrong answers measured?"):
        assert title in page, title


def test_markdown_and_model_card_keep_data_inert():
    """Issue 16.9: raw ESC bytes, autolinks, e-mail links, @mentions, links, images and HTML in data stay text."""
    from harness.reports.markdown import md_escape
    from harness.reports.model_card import render_model_card

    hostile = "\x1b[2J ALL PASS https://evil.example bob@example.com @team [x](javascript:alert(1)) ![i](http://x/i.png) <script>"
    text = md_escape(hostile)
    assert "\x1b" not in text and "<script>" not in text and "](" not in text and "![" not in text
    assert "https://" not in text and "@team" not in text and "bob@example" not in text
    manifest = {"base": {"name": "<img src=x>", "weights_sha256": "0" * 64, "dtype": "float32"}, "harness_version": "t",
                "data": {"shape": "classification", "labels": [hostile], "refused_rows": [],
                         "train": {"path": "[a](javascript:x)", "good_rows": 1, "sha256": "0" * 64}, "eval": None},
                "audit_verdict": None, "config": {"lora_r": 8, "lora_alpha": 16, "lr": 1e-4}, "steps": 1, "seed": 0,
                "evals": []}
    card = render_model_card(manifest)
    assert "\x1b" not in card and "<img" not in card and "](javascript" not in card and "@team" not in card


def test_reports_read_results_of_the_first_schema_in_todays_words(hostile_audit, tmp_path):
    """Issue 31.4: audit.json and results.json written before the one vocabulary (`harness.audit/1`: a check
    that did not apply said `pass` with summary.applicable false; `harness.compare/1`: a suite said `ok`
    with its decision in `verdict`, or `not_applicable`) still render, in today's words."""
    import copy

    from rich.console import Console

    from harness.app.cli import main
    from harness.reports.compare_terminal import print_compare
    from harness.reports.junit import render_audit_junit, render_junit
    from harness.reports.terminal import print_audit
    from harness.reports.view import build

    skipped = [c for c in hostile_audit["checks"] if c["status"] == "skipped"]
    assert hostile_audit["schema"] == "harness.audit/2" and skipped and all(c["reasons"] for c in skipped)
    old = copy.deepcopy(hostile_audit)
    old["schema"] = "harness.audit/1"
    for c in old["checks"]:
        if c["status"] == "skipped":
            c.update(status="pass", reasons=[])
    assert [c["status"] for c in build({"audit": old})["audit"]["checks"]] == \
        [c["status"] for c in hostile_audit["checks"]]
    assert render_audit_junit(old).count("<skipped") == len(skipped)
    console = Console(record=True, width=200)
    print_audit(old, console)
    assert "skipped" in console.export_text()
    (tmp_path / "audit.json").write_text(json.dumps(old))
    assert main(["report", str(tmp_path / "audit.json"), "--out", str(tmp_path / "r.html")]) == 0

    metric = {"base": 0.5, "tuned": 0.4, "delta": -0.1, "interval": [-0.2, 0.0], "n": 50, "status": "fail",
              "gate": {"field": "lower", "above": 0.0, "rule": "lower > 0", "value": -0.2, "reason": "lower = -0.2: breaks lower > 0"}}
    results = {"schema": "harness.compare/1", "verdict": "fail", "created": "t", "seconds": 1.0,
               "base": {"name": "b"}, "adapter": {"path": "a", "sha256": "0" * 64},
               "cache": {"hits": 0, "misses": 0}, "reasons": ["task.accuracy: lower = -0.2: breaks lower > 0"],
               "suites": {"task": {"status": "ok", "verdict": "fail", "metrics": {"accuracy": metric}},
                          "calibration": {"status": "not_applicable", "metrics": {}, "info": {"reason": "no labels"}}}}
    suites = {s["name"]: s for s in build({"compare": results})["compare"]["suites"]}
    assert suites["task"]["status"] == "fail" and suites["calibration"]["status"] == "skipped"
    text = render_junit(results)
    assert '<skipped message="no labels"' in text and "<failure" in text
    console = Console(record=True, width=200)
    print_compare(results, console)
    assert "skipped: no labels" in console.export_text()
    (tmp_path / "results.json").write_text(json.dumps(results))
    assert main(["report", str(tmp_path / "results.json"), "--out", str(tmp_path / "c.html")]) == 0
    assert 'class="tag fail">fail</span></h3>' in (tmp_path / "c.html").read_text()


def test_results_written_before_entries_carried_declarations_render_the_same(hostile_audit, tmp_path):
    """Issue 31.1: an audit.json whose entries lack their plug-ins' declarations (charts, checklist answers:
    written before they were copied into each entry) takes them from the installed plug-ins: the same page."""
    import copy

    from harness.app.artefacts import write_report

    old = copy.deepcopy(hostile_audit)
    for c in old["checks"]:
        del c["charts"], c["answers"]
    write_report({"audit": old}, tmp_path / "old.html", row_text=False)
    write_report({"audit": hostile_audit}, tmp_path / "new.html", row_text=False)
    page = (tmp_path / "new.html").read_text()
    assert (tmp_path / "old.html").read_text() == page
    assert "<h3>Label distribution (train)</h3>" in page and "Is the labelling consistent?" in page
