"""A Markdown summary of the same results, for CI step summaries and pull-request comments. Data
strings are escaped for Markdown and for the HTML that Markdown renderers let through."""

from __future__ import annotations

import regex

from harness.core.visible import visible

from .compare_format import interval, n_of, num, signed
from .view import build


# What renderers turn into links or notifications on their own: bare URLs (scheme:// or www.), e-mail
# addresses and @mentions. An empty tag splits the text node, so no autolink or mention forms.
_AUTOLINK = regex.compile(r"(?i)(?<=\b(?:https?|ftp|mailto|javascript|data|file)):|(?<=\bwww)\.|@")


def md_escape(text: object) -> str:
    """Data as literal Markdown text: hidden characters shown as escapes (harness/core/visible.py), HTML and
    Markdown punctuation escaped, no autolinks, no mentions, one line."""
    s = visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _AUTOLINK.sub(lambda m: m.group() + "\x00", s)   # visible() left no NUL of the data's own
    for ch in "\\`*_{}[]()#+!|~":
        s = s.replace(ch, "\\" + ch)
    return " ".join(s.replace("\x00", "<span></span>").split())


def render_markdown(docs: dict[str, dict]) -> str:
    v = build(docs)
    icon = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}.get(v["verdict"], v["verdict"].upper())
    out = [f"## finetune-harness: {icon}", ""]
    out += [f"- {md_escape(r)}" for r in v["reasons"][:20]] + ([""] if v["reasons"] else [])
    if v["checklist"]:
        out += ["| question | answer | evidence |", "|---|---|---|"]
        out += [f"| {md_escape(c['question'])} | {c['answer']} | {md_escape(c['evidence'])} |" for c in v["checklist"]]
        out.append("")
    if v["audit"]:
        out += [f"### Audit: {v['audit']['verdict'].upper()}", "", "| check | status | figures |", "|---|---|---|"]
        for c in v["audit"]["checks"]:
            figures = ", ".join(f"{k} {val}" for k, val in list(c["figures"].items())[:6])
            out.append(f"| {md_escape(c['name'])} | {c['status']} | {md_escape(figures)} |")
        out.append("")
    if v["compare"]:
        out += [f"### Tuned vs base: {v['compare']['verdict'].upper()}", "",
                "| metric | base | tuned | delta | 95% interval | n | gate |", "|---|---|---|---|---|---|---|"]
        for s in v["compare"]["suites"]:
            for name, m in s["metrics"].items():
                if m.get("status") in ("pass", "fail", "warn", "skipped"):
                    out.append(f"| {md_escape(s['name'] + '.' + name)} | {num(m.get('base'))} | {num(m.get('tuned'))} | "
                               f"{signed(m.get('delta'))} | {interval(m)} | {n_of(m)} | {m['status']} |")
        out.append("")
        worth = v["compare"].get("worth")
        if worth:
            metric = worth["metric"]
            out += ["#### Was fine-tuning worth it?", ""] + ([md_escape(worth["sentence"]), ""] if worth["sentence"] else [])
            out += [f"| way | {metric} | prompt tokens / request |", "|---|---|---|"]
            out += [f"| {row['method'].replace('_', '-')} | {num(row.get(metric))} | {row['prompt_tokens']:.0f} |"
                    for row in worth["table"]]
            out.append("")
        for line in ([v["compare"]["hidden_regression"]] if v["compare"].get("hidden_regression") else []) + \
                [f"warning: {w}" for w in v["compare"].get("warnings", [])] + \
                [f"multiplicity: {m}" for m in v["compare"].get("multiplicity", [])] + \
                ([v["compare"]["task_rules"]] if v["compare"].get("task_rules") else []):
            out += [f"- {md_escape(line)}"]
    return "\n".join(out) + "\n"
