"""README.md's worked examples of a check, a suite and an input format run as written (issue 31.1): each
section's python block becomes the module its toml block's entry point names, in a package installed
beside the harness, and goes through the harness: the format and the check in an audit and its report
(and the check in the exported contract), the suite in a compare on a tiny model, gated by a rule of the
user's and drawn in the report. An example in the README that stops working fails here."""

import re
from pathlib import Path

import pytest

import harness
from harness.reports.html import render_html
from plugin_helpers import install, load_here

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
SECTIONS = ("## Adding a check", "## Adding a suite or a probe set", "## Adding an input format, a data shape or a row format")


def example(heading: str) -> tuple[str, str, str, str]:
    """(python source, entry point group, entry point name, module) of a README section."""
    body = README.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    [source] = re.findall(r"```python\n(.*?)```", body, flags=re.S)
    [(group, name, module)] = re.findall(r'```toml\n\[project\.entry-points\."([\w.]+)"\]\n(\w+) = "([\w.]+)"\n```', body)
    return source, group, name, module


@pytest.fixture
def examples(tmp_path, monkeypatch):
    """The three examples installed as the package their entry points name, and loaded here."""
    modules, points = {}, {}
    for heading in SECTIONS:
        source, group, name, module = example(heading)
        modules[module] = source
        points.setdefault(group, {})[name] = module
    site = install(tmp_path / "site", "my-package", modules, points)
    load_here(monkeypatch, site, "my_package", *modules)
    return points


def test_the_readme_shows_an_example_for_a_check_a_suite_and_a_format(examples):
    assert set(examples) == {"finetune_harness.checks", "finetune_harness.suites", "finetune_harness.formats"}


def test_the_format_and_check_examples_run_in_an_audit(examples, tmp_path):
    from harness.testing import check_check

    requests = [f"where is my parcel number {i}" if i % 2 else f"i was charged {i} times" for i in range(30)]
    shouted = [4, 11]
    for i in shouted:
        requests[i] = requests[i].upper()
    rows = ["text|label"] + [f"{t}|{'delivery' if i % 2 else 'billing'}" for i, t in enumerate(requests)]
    (tmp_path / "rows.psv").write_text("\n".join(rows) + "\n")
    result = harness.audit(str(tmp_path / "rows.psv"), None, {"checks": {"shouting": {"fail_if": {"shouted_rows": 0}}}})
    assert result["inputs"]["train"]["format"] == "psv" and result["inputs"]["train"]["rows"] == 30
    entry = next(c for c in result["checks"] if c["check"] == "shouting")
    assert entry["status"] == "fail" and entry["summary"] == {"shouted_rows": 2} and entry["removes"] == "all"
    assert [f["rows"][0]["line"] for f in entry["findings"]] == [i + 2 for i in shouted]  # line 1 is the header
    page = render_html({"audit": result})
    assert "<h3>Requests in capitals per label</h3>" in page and 'class="lbl">billing</text>' in page
    assert "<td>Are the requests written calmly?</td>" in page and "<td>2 requests in capitals</td>" in page
    check_check("shouting")
    # Its parameter: declared once, recorded, and set from a policy.
    assert result["policy"]["checks"]["shouting"]["params"] == {"min_letters": 3}
    strict = harness.audit(str(tmp_path / "rows.psv"), None, {"checks": {"shouting": {"params": {"min_letters": 500}}}})
    assert next(c for c in strict["checks"] if c["check"] == "shouting")["summary"] == {"shouted_rows": 0}


def test_the_suite_example_runs_in_compare_and_is_gated(examples, tiny_adapter):
    from harness.testing import check_suite

    base, adapter, rows = tiny_adapter
    results = harness.compare(base, adapter, eval=rows, suites=["answer_likelihood"], cache="",
                              policy={"gates": {"answer_likelihood.logprob": {"field": "lower", "above": 0}}})
    suite = results["suites"]["answer_likelihood"]
    m = suite["metrics"]["logprob"]
    assert m["n"] == len(rows) and m["gate"]["rule"] == "lower > 0"
    assert m["status"] == suite["status"] == ("pass" if m["interval"][0] > 0 else "fail")
    assert results["verdict"] == suite["status"]
    check_suite("answer_likelihood", results)
    page = render_html({"compare": results})
    assert 'id="suite-answer_likelihood"' in page and "<h3>Log-probability gained per held-out row</h3>" in page
