"""The audit as a rich terminal summary: status per check, key figures, a few example rows as file:line."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from harness.core.status import PASS, SKIPPED, entry_status, skip_reason
from harness.core.visible import visible, visible_tree
from rich.table import Table

STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "error": "bold magenta", "skipped": "dim"}
def where(result: dict[str, Any], ref: dict[str, Any]) -> str:
    path = result.get("inputs", {}).get(ref["split"], {}).get("path", ref["split"])
    return f"{path}:{ref['line']}"


def _figures(check: dict[str, Any]) -> str:
    s = check.get("summary", {})
    if entry_status(check) == SKIPPED:
        return "n/a"
    # Each check declares its key figures (Check.key_figures, copied into its entry); else the first few.
    keys = check.get("key_figures") or tuple(k for k, v in s.items() if isinstance(v, (int, float)))[:4]
    parts = []
    for k in keys:
        if k in s and s[k] is not None:
            v = s[k]
            parts.append(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}")
    return " ".join(parts)


def _examples(result: dict[str, Any], check: dict[str, Any], limit: int = 3) -> list[str]:
    out = []
    for f in check.get("findings", [])[:limit]:
        refs = f.get("rows") or []
        loc = ", ".join(where(result, r) for r in refs[:3]) + (f" (+{len(refs) - 3} more)" if len(refs) > 3 else "")
        out.append(f"{f.get('message', '')}" + (f"  [{loc}]" if loc else ""))
    extra = len(check.get("findings", [])) - limit
    if extra > 0:
        out.append(f"... and {extra} more in audit.json")
    return out


def print_audit(result: dict[str, Any], console: Console | None = None, out_path: str | None = None) -> None:
    result = visible_tree(result)   # data strings never drive the terminal (harness/core/visible.py)
    out_path = visible(out_path) if out_path is not None else None
    console = console or Console()
    table = Table(title="Data audit", expand=False)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("figures")
    table.add_column("why this status")
    for check in result["checks"]:
        st = entry_status(check)   # an audit of the first schema says it in its old words
        why = skip_reason(check) if st == SKIPPED else "; ".join(check["reasons"])
        table.add_row(check["check"], f"[{STATUS_STYLE.get(st, '')}]{st}[/]", escape(_figures(check)), escape(why))
    console.print(table)
    # Example rows go below the table, one per line, so file:line references are never wrapped.
    for check in result["checks"]:
        st = entry_status(check)
        if st in (PASS, SKIPPED) or not check.get("findings"):
            continue
        console.print(f"[bold]{check['check']}[/] [{STATUS_STYLE.get(st, '')}]{st}[/]")
        for line in _examples(result, check):
            console.print("  " + escape(line), soft_wrap=True, highlight=False)
    rows = ", ".join(f"{s}: {c['rows']} rows ({c['bad_rows']} bad)" for s, c in result["inputs"].items())
    v = result["verdict"]
    console.print(f"Verdict: [{STATUS_STYLE[v]}]{v.upper()}[/]  ({escape(rows)}; {result.get('seconds', result.get('duration_s', 0.0)):.1f} s)")
    if out_path:
        console.print(f"Results: {escape(str(out_path))}", soft_wrap=True, highlight=False)
