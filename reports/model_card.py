"""The regression suites' results, written into the adapter's model card (README.md) in place of its
Results section, so the card that travels with the adapter says how it compared with its base."""

from __future__ import annotations

from typing import Any

import json

from harness.core.results import COMPARE_SCHEMA

from .compare_format import interval, n_of, num, signed
from .markdown import md_escape

HEADING = "## Results"


def results_markdown(results: dict[str, Any]) -> str:
    lines = [HEADING, "",
             f"`harness compare` on {results['created']}: verdict **{results['verdict'].upper()}** "
             f"(base {md_escape(results['base']['name'])}, adapter sha256 {results['adapter']['sha256'][:12]}...).", "",
             "| metric | base | tuned | delta | 95% interval | p | n | gate |", "|---|---|---|---|---|---|---|---|"]
    for suite_name, suite in results["suites"].items():
        if suite["status"] == "error":
            lines.append(f"| {md_escape(suite_name)} | | | | | | | error: {md_escape(suite.get('error', '')[:80])} |")
            continue
        for name, m in suite.get("metrics", {}).items():
            p = "-" if m.get("p") is None else f"{m['p']:.3g}"
            lines.append(f"| {md_escape(suite_name + '.' + name)} | {num(m.get('base'))} | {num(m.get('tuned'))} | "
                         f"{signed(m.get('delta'))} | {interval(m)} | {p} | {n_of(m)} | {m.get('status', 'info')} |")
    lines += ["", f"Figures from results.json (`{results.get('schema') or COMPARE_SCHEMA}`); intervals are paired bootstrap intervals "
              "(seeded), p-values exact McNemar where accuracy is paired.", ""]
    return "\n".join(lines)


def fill_results(card: str, results: dict[str, Any]) -> str:
    """Replace the card's Results section (through the next level-2 heading) with the results."""
    at = card.find(HEADING)
    if at < 0:
        return card.rstrip("\n") + "\n\n" + results_markdown(results)
    nxt = card.find("\n## ", at + len(HEADING))
    rest = card[nxt + 1:] if nxt >= 0 else ""
    return card[:at] + results_markdown(results) + ("\n" + rest if rest else "")


def render_model_card(m: dict[str, Any]) -> str:
    """The adapter's model card (README.md) from its manifest; the Results section is filled by compare."""
    last = m["evals"][-1] if m["evals"] else {}
    best = [e for e in m["evals"] if e.get("best")]
    lines = [
        f"# LoRA adapter for {md_escape(m['base']['name'])}", "",
        "## Intended use",
        f"A {m['data']['shape']} adapter trained with finetune-harness {m['harness_version']}. Use it only for the task",
        "its training data describes, and only after the regression suites have compared it with its base.", "",
        "## Training data",
        f"- train: {md_escape(m['data']['train']['path'])} ({m['data']['train']['good_rows']} rows, sha256 {m['data']['train']['sha256'][:12]}...)",
    ]
    if m["data"]["eval"]:
        lines.append(f"- eval: {md_escape(m['data']['eval']['path'])} ({m['data']['eval']['good_rows']} rows)")
    if m["data"]["labels"]:
        lines.append(f"- labels: {', '.join(md_escape(x) for x in m['data']['labels'])}")
    lines += [f"- refused rows (nothing to learn within max_seq_len): {len(m['data']['refused_rows'])}",
              f"- audit verdict: {m['audit_verdict'] or 'no audit given'}", "",
              "## Training",
              f"- base: {md_escape(m['base']['name'])} (weights sha256 {m['base']['weights_sha256'][:12]}..., {m['base']['dtype']})",
              f"- LoRA r={m['config']['lora_r']} alpha={m['config']['lora_alpha']}, lr {m['config']['lr']}, "
              f"{m['steps']} steps, seed {m['seed']}",
              f"- last epoch: {md_escape(json.dumps(last))}" + (f"; kept the best epoch {best[-1]['epoch']}" if best else ""), "",
              "## Known limitations",
              "- Trained on the rows above only; behaviour outside that task is not measured here.",
              "- Check drift, forgetting and calibration with `harness compare` before deploying.", "",
              "## Results", "", "_Filled in by the regression suites._", ""]
    return "\n".join(lines)
