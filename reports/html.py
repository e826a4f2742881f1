"""One self-contained HTML report from the JSON results: Jinja2 with autoescaping on, inline CSS and
SVG, a Content-Security-Policy that forbids scripts and remote loads. Training data is untrusted
text: every data string goes through escaping, and none is placed in an attribute, URL or style."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import svg
from .compare_format import interval, n_of, signed
from .view import build

TEMPLATES = Path(__file__).with_name("templates")


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 1e-3 and x != 0 else f"{x:.3f}"
    return str(x)


def render_html(docs: dict[str, dict]) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("report.html.j2")
    return template.render(v=build(docs), svg=svg, fmt=_fmt, signed=signed, interval=interval, n_of=n_of)
