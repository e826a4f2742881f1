"""The regression suites' results, written into the adapter's model card (README.md) in place of its
Results section, so the card that travels with the adapter says how it compared with its base."""

from __future__ import annotations

from typing import Any

from .compare_format import interval, n_of, num, signed

HEADING = "## Results"


def results_markdown(results: dict[str, Any]) -> str:
    lines = [HEADING, "",
             f"`harness compare` on {results['created']}: verdict **{results['verdict'].upper()}** "
             f"(base {results['base']['name']}, adapter sha256 {results['adapter']['sha256'][:12]}...).", "",
             "| metric | base | tuned | delta | 95% interval | p | n | gate |", "|---|---|---|---|---|---|---|---|"]
    for suite_name, suite in results["suites"].items():
        if suite["status"] == "error":
            lines.append(f"| {suite_name} | | | | | | | error: {suite.get('error', '')[:80]} |")
            continue
        for name, m in suite.get("metrics", {}).items():
            p = "-" if m.get("p") is None else f"{m['p']:.3g}"
            lines.append(f"| {suite_name}.{name} | {num(m.get('base'))} | {num(m.get('tuned'))} | "
                         f"{signed(m.get('delta'))} | {interval(m)} | {p} | {n_of(m)} | {m.get('status', 'info')} |")
    lines += ["", "Figures from results.json (`harness.compare/1`); intervals are paired bootstrap intervals "
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
