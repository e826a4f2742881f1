"""Shared wording for compare results (terminal, JUnit, model card): one figure, one line."""

from __future__ import annotations

from typing import Any


def num(x: Any, digits: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, list):
        return "[" + ", ".join(num(v, digits) for v in x) + "]"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def signed(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:+.{digits}f}"


def interval(m: dict[str, Any]) -> str:
    iv = m.get("interval")
    if not iv:
        return "-"
    of = m.get("interval_of", "delta")
    fmt = signed if of == "delta" else num
    return f"[{fmt(iv[0])}, {fmt(iv[1])}]" + ("" if of == "delta" else f" ({of})")


def n_of(m: dict[str, Any]) -> str:
    n = m.get("n")
    if isinstance(n, list):
        return " / ".join(map(str, n))
    return "-" if n is None else str(n)


def line(suite: str, name: str, m: dict[str, Any]) -> str:
    """suite.metric: base -> tuned (delta, 95% interval, p, n) status [rule]."""
    parts = [f"{suite}.{name}: base {num(m.get('base'))} -> tuned {num(m.get('tuned'))}",
             f"delta {signed(m.get('delta'))}", f"95% {interval(m)}"]
    if m.get("p") is not None:
        parts.append(f"p {m['p']:.3g}")
    parts.append(f"n {n_of(m)}")
    text = ", ".join(parts) + f": {m.get('status', 'info')}"
    if m.get("gate"):
        text += f" ({m['gate']['reason']})"
    return text


def per_side(items: dict[str, int] | None) -> int:
    """Items a suite scored on its busiest side (base, tuned, or both at once)."""
    return max(items.get(k, 0) for k in ("base", "tuned", "joint")) if items else 0


def task_rules_line(results: dict) -> str | None:
    """"task rules for json answers: task.field_f1, ..." (the gate's task rules follow the kind of output)."""
    rules = results.get("task_rules") or {}
    if not rules.get("output_kind"):
        return None
    return f"task rules for {rules['output_kind'].replace('_', ' ')} answers: {', '.join(rules.get('rules') or []) or 'none'}"
