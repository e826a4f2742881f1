"""A check from another package is one file and one entry point (issue 31.1): installed beside the harness
(a dist-info with an entry point on the path, as pip leaves it), it runs in the audit, its policy limits
decide its status, the report shows it, and `harness clean` removes the rows it flags because the check
says it removes rows, with no file of the harness changed."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN = '''
"""A throwaway check: requests written in capitals."""
from harness.checks.base import Check, CheckResult


class Shouting(Check):
    name = "shouting"
    title = "Shouted requests"
    why = "A model tuned on shouted requests learns that shouting is normal."
    metrics = ("shouted_rows",)
    key_figures = ("shouted_rows",)
    removes = "all"

    def run(self, data, params):
        refs = [ex.ref for ex in data.rows("train") if ex.input.isupper()]
        return CheckResult(summary={"shouted_rows": len(refs)},
                           findings=[{"rows": [r], "message": "the request is in capitals"} for r in refs])
'''


def _install(site: Path) -> None:
    (site / "throwaway_check.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "throwaway_check-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: throwaway-check\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[finetune_harness.checks]\nshouting = throwaway_check:Shouting\n")


def _harness(cwd: Path, site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_a_check_from_an_entry_point_is_audited_gated_rendered_and_cleaned(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _install(site)
    rows = [{"text": f"where is my parcel number {i}, it was due on day {i % 7}", "label": "delivery"} for i in range(20)]
    rows += [{"text": f"my card was charged {i} times for one order", "label": "billing"} for i in range(2, 22)]
    shouted = [7, 30]  # 0-based
    for i in shouted:
        rows[i]["text"] = rows[i]["text"].upper()
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "policy.yaml").write_text("checks:\n  shouting:\n    fail_if: {shouted_rows: 0}\n")

    proc = _harness(tmp_path, site, "audit", "train.jsonl", "--policy", "policy.yaml", "--out", "out", "--quiet")
    assert proc.returncode == 1, proc.stderr
    audit = json.loads((tmp_path / "out" / "audit.json").read_text())
    [entry] = [c for c in audit["checks"] if c["check"] == "shouting"]
    assert entry["status"] == "fail" and entry["summary"] == {"shouted_rows": 2} and entry["removes"] == "all"
    assert "Shouted requests" in (tmp_path / "out" / "report.html").read_text()

    proc = _harness(tmp_path, site, "clean", "out/audit.json", "train.jsonl", "--out", "clean.jsonl",
                    "--drop", "shouting")
    assert proc.returncode == 0, proc.stderr
    kept = [json.loads(line)["text"] for line in (tmp_path / "clean.jsonl").read_text().splitlines()]
    assert len(kept) == len(rows) - 2 and not any(t.isupper() for t in kept)
    removed = json.loads((tmp_path / "clean.jsonl.removed.json").read_text())
    assert [(r["line"], r["check"]) for r in removed["rows"]] == [(i + 1, "shouting") for i in shouted]
