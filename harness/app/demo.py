"""`harness demo`: the whole job on the shipped ticket example with the built-in SmolLM2 model.

1. audit the raw example (it has planted defects: the audit fails and says where);
2. drop the rows the audit flagged (harness/auditing/clean.py) and take the first rows of what is left;
3. `harness run` on the cleaned rows: audit again, train, compare with the base, gate, report.
Drift and overfitting score fixed subsets of their items to keep the demo within minutes on two CPU
cores (the pipeline's results and report record the sizes); the forgetting probe sets run whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from harness.app.artefacts import write_audit, write_json
from harness.examples import TICKETS as EXAMPLE  # package data: found in a wheel as in the checkout
from harness.core.io import write_text_atomic

DEMO_GATE = """# The demo's gate: the default rules; smaller item counts for drift and overfitting (CPU minutes).
suites:
  task: {params: {max_items: 80}}
  baselines: {params: {max_items: 32}}
  slices: {params: {slices: [{name: mentions an order or device, regex: "order|#[0-9]+|laptop|phone|monitor|tablet"}]}}
  overfitting: {params: {max_items: 40, extraction_items: 24}}
  drift: {params: {max_items: 30, max_new_tokens: 24}}
"""


def run_demo(out: str | Path = "demo-out", rows: int = 300, base: str = "smollm2-135m-instruct",
             on_stage: Callable[[str, str], None] | None = None,
             on_progress: Callable[[str, str], None] | None = None) -> dict[str, Any]:
    from harness import audit
    from harness.auditing.clean import clean
    from harness.app.pipeline import PipelineConfig, data_spec, run

    out = Path(out)
    say = on_stage or (lambda name, status: None)
    # The trainer's defaults (issue 17); tickets fit in 192 tokens, and the per-epoch eval scores 100 of
    # the 200 eval rows to keep the demo within minutes.
    train_config = {"max_seq_len": 192, "eval_max_rows": 100}
    say("raw audit", "running")
    # The raw audit measures length as the pipeline's audit and the trainer do: the pipeline's one data
    # spec (the base's tokenizer, the training max_seq_len).
    spec = data_spec(PipelineConfig(base=base, train="", audit_policy=str(EXAMPLE / "policy.yaml"),
                                    train_config=train_config))
    raw = audit(str(EXAMPLE / "train.jsonl"), str(EXAMPLE / "eval.jsonl"), str(EXAMPLE / "policy.yaml"), spec=spec)
    write_audit(out / "raw-audit", raw)
    say("raw audit", raw["verdict"])
    cleaned = clean(EXAMPLE / "train.jsonl", raw, out / "clean")
    lines = (out / "clean" / "train.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[:rows]
    write_text_atomic(out / "clean" / "train.jsonl", "".join(lines))
    say("clean", f"removed {cleaned['removed']} flagged rows, training on {len(lines)}")
    write_text_atomic(out / "demo-gate.yaml", DEMO_GATE)
    cfg = PipelineConfig(base=base, train=str(out / "clean" / "train.jsonl"), eval=str(EXAMPLE / "eval.jsonl"),
                         out=str(out / "pipeline"), audit_policy=str(EXAMPLE / "policy.yaml"),
                         gate_policy=str(out / "demo-gate.yaml"), train_config=train_config)
    summary = run(cfg, on_stage=on_stage, on_progress=on_progress)
    summary["raw_audit"] = {"verdict": raw["verdict"], "path": str(out / "raw-audit" / "report.html"),
                            "failed_checks": [c["check"] for c in raw["checks"] if c["status"] == "fail"]}
    summary["clean"] = {k: v for k, v in cleaned.items() if k != "rows"}
    write_json(out / "demo.json", summary)
    return summary
