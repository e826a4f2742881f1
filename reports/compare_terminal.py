"""Compare results as a rich terminal table: one row per metric with base, tuned, delta, interval,
p, n and the gate's status; suites that crashed or did not apply say so."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.core.declarations import feeding
from harness.core.results import compare_reasons
from harness.core.status import ERROR, INFO, SKIPPED, entry_status, skip_reason
from harness.core.visible import visible, visible_tree

from .compare_format import interval, n_of, num, per_side, signed, task_rules_line

STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "info": "dim", "skipped": "yellow",
         "error": "bold magenta"}


def print_compare(results: dict[str, Any], console: Console, where: str | None = None) -> None:
    results = visible_tree(results)   # data strings never drive the terminal (harness/core/visible.py)
    where = visible(where) if where is not None else None
    table = Table(title=f"harness compare: {escape(results['base']['name'])} + adapter "
                        f"{escape(results['adapter']['path'])}", title_justify="left")
    for col, just in (("metric", "left"), ("base", "right"), ("tuned", "right"), ("delta", "right"),
                      ("95% interval", "right"), ("p", "right"), ("n", "right"), ("gate", "left")):
        table.add_column(col, justify=just, no_wrap=col in ("metric", "95% interval"))
    for suite_name, suite in results["suites"].items():
        status = entry_status(suite)   # results of the first schema say it in their old words
        if status == ERROR:
            table.add_row(f"[bold]{suite_name}[/]", "", "", "", "", "", "",
                          f"[{STYLE['error']}]error[/] {escape(suite.get('error') or '')[:80]}")
            continue
        if status == SKIPPED:
            table.add_row(f"[bold]{suite_name}[/]", "", "", "", "", "", "",
                          f"[dim]skipped: {escape(skip_reason(suite))}[/]")
            continue
        shown = suite.get("key_figures") or list(suite.get("metrics", {}))
        for name, m in suite.get("metrics", {}).items():
            if name not in shown and not any(name.endswith("." + k) for k in shown):
                continue
            status = m.get("status", INFO)
            rule = f" [dim]{escape(m['gate']['rule'])}[/]" if m.get("gate") and status != INFO else ""
            table.add_row(f"{suite_name}.{name}", num(m.get("base")), num(m.get("tuned")), signed(m.get("delta")),
                          interval(m), "-" if m.get("p") is None else f"{m['p']:.3g}", n_of(m),
                          f"[{STYLE.get(status, '')}]{status}[/]{rule}")
    console.print(table)
    for f in compare_reasons(results):
        console.print(f"  [red]x[/] {escape(f)}", highlight=False)
    for w in results.get("warnings", []):
        console.print(f"  [yellow]![/] {escape(w)}", highlight=False)
    timed = [f"{name} {suite['seconds']:.0f} s" + (f" ({per_side(suite['items'])} items)" if per_side(suite.get("items")) else "")
             for name, suite in results["suites"].items() if suite.get("seconds") is not None]
    if timed:
        console.print(f"  [dim]time: {escape(', '.join(timed))}{'  (--fast samples)' if results.get('fast') else ''}[/]",
                      highlight=False)
    rules = task_rules_line(results)
    if rules:
        console.print(f"  [dim]{escape(rules)}[/]", highlight=False)
    for family in (results.get("multiplicity") or {}).values():
        if family.get("level"):
            console.print(f"  [dim]multiplicity: {escape(family['method'])}[/]", highlight=False)
    # The worth-it sentence of the suite that feeds it (harness/core/declarations.py: FEEDS).
    sentence = (feeding(results["suites"].values(), "worth_it").get("info") or {}).get("worth_it", {}).get("sentence")
    if sentence:
        console.print(escape(sentence), highlight=False)
    style = "bold green" if results["verdict"] == "pass" else "bold red"
    tail = f"  ({escape(where)})" if where else ""
    console.print(f"verdict: [{style}]{results['verdict'].upper()}[/]  in {results['seconds']:.0f} s, "
                  f"cache {results['cache']['hits']} hits / {results['cache']['misses']} misses{tail}", highlight=False)

