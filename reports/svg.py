"""Charts as small inline SVG strings, drawn here (no plotting library in the page, nothing fetched).

Every label that may come from data goes through markupsafe.escape; numbers are formatted by us. The
functions return markupsafe.Markup so the (autoescaping) templates embed them as they are."""

from __future__ import annotations

from typing import Sequence

from markupsafe import Markup, escape

W, ROW = 560, 18
BASE_C, TUNED_C, BAR_C = "#8a8f98", "#1f6feb", "#4c78a8"


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
                  f'role="img" aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
                  + "".join(body) + "</svg>")


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def bars(items: Sequence[tuple[str, float]], title: str, color: str = BAR_C) -> Markup:
    """Horizontal bars, one per (label, value)."""
    items = list(items)[:40]
    top = max([v for _, v in items] + [1e-12])
    label_w, plot_w = 170, W - 170 - 60
    body = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * ROW
        w = max(0.5, plot_w * value / top)
        text = str(label)
        text = text if len(text) <= 26 else text[:25] + "…"
        body.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" class="lbl">{escape(text)}</text>'
                    f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{ROW - 5}" fill="{color}"/>'
                    f'<text x="{label_w + w + 4:.1f}" y="{y + 12}" class="val">{_num(value)}</text>')
    return _svg(W, 8 + ROW * len(items), body, title)


def histogram(counts: Sequence[int], edges: Sequence[float], title: str, marker: float | None = None,
              marker_label: str = "") -> Markup:
    """Vertical bars over bins; an optional vertical marker (max_seq_len)."""
    h, left, bottom = 160, 40, 24
    n = max(len(counts), 1)
    top = max(list(counts) + [1])
    lo, hi = (edges[0], edges[-1]) if edges else (0, 1)
    span = (hi - lo) or 1
    bw = (W - left - 10) / n
    body = [f'<line x1="{left}" y1="{h - bottom}" x2="{W - 10}" y2="{h - bottom}" class="axis"/>']
    for i, c in enumerate(counts):
        bh = (h - bottom - 10) * c / top
        body.append(f'<rect x="{left + i * bw:.1f}" y="{h - bottom - bh:.1f}" width="{max(bw - 1, 0.5):.1f}" '
                    f'height="{bh:.1f}" fill="{BAR_C}"><title>{_num(edges[i])}-{_num(edges[i + 1])}: {c}</title></rect>')
    body.append(f'<text x="{left}" y="{h - 6}" class="val">{_num(lo)}</text>'
                f'<text x="{W - 10}" y="{h - 6}" text-anchor="end" class="val">{_num(hi)}</text>'
                f'<text x="{left - 4}" y="14" text-anchor="end" class="val">{top}</text>')
    if marker is not None and lo <= marker <= hi:
        x = left + (marker - lo) / span * (W - left - 10)
        body.append(f'<line x1="{x:.1f}" y1="6" x2="{x:.1f}" y2="{h - bottom}" class="mark"/>'
                    f'<text x="{x + 3:.1f}" y="14" class="val">{escape(marker_label)}</text>')
    return _svg(W, h, body, title)


def lines(series: dict[str, Sequence[tuple[float, float]]], title: str, x_label: str = "", y_label: str = "") -> Markup:
    """Line chart of named series of (x, y) points (training and eval loss)."""
    h, left, bottom = 180, 48, 26
    pts = [p for s in series.values() for p in s]
    if not pts:
        return _svg(W, 30, ['<text x="4" y="18" class="val">no data</text>'], title)
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    sx = lambda x: left + (x - x0) / ((x1 - x0) or 1) * (W - left - 100)  # noqa: E731
    sy = lambda y: 8 + (y1 - y) / ((y1 - y0) or 1) * (h - bottom - 16)  # noqa: E731
    colors = [TUNED_C, "#d1242f", "#2da44e", BASE_C]
    body = [f'<line x1="{left}" y1="{h - bottom}" x2="{W - 100}" y2="{h - bottom}" class="axis"/>',
            f'<text x="{left - 4}" y="14" text-anchor="end" class="val">{_num(y1)}</text>',
            f'<text x="{left - 4}" y="{h - bottom}" text-anchor="end" class="val">{_num(y0)}</text>',
            f'<text x="{left}" y="{h - 8}" class="val">{escape(x_label)} {_num(x0)}</text>',
            f'<text x="{W - 100}" y="{h - 8}" text-anchor="end" class="val">{_num(x1)}</text>']
    for k, (name, s) in enumerate(series.items()):
        c = colors[k % len(colors)]
        d = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s)
        body.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="1.5"/>')
        if len(s) <= 30:
            body += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{c}"/>' for x, y in s]
        body.append(f'<text x="{W - 94}" y="{16 + 14 * k}" class="lbl" fill="{c}">{escape(name)}</text>')
    return _svg(W, h, body, title)


def intervals(rows: Sequence[dict], title: str, lo: float = 0.0, hi: float = 1.0) -> Markup:
    """Per row: base (grey dot), tuned (blue dot) and the tuned value's 95% interval (a bar)."""
    label_w, plot_w = 170, W - 170 - 20
    sx = lambda v: label_w + (min(max(v, lo), hi) - lo) / ((hi - lo) or 1) * plot_w  # noqa: E731
    body = [f'<text x="{label_w}" y="12" class="val">{_num(lo)}</text>',
            f'<text x="{label_w + plot_w}" y="12" text-anchor="end" class="val">{_num(hi)}</text>']
    for i, r in enumerate(rows):
        y = 22 + i * ROW
        body.append(f'<text x="{label_w - 6}" y="{y + 4}" text-anchor="end" class="lbl">{escape(str(r["label"]))}</text>'
                    f'<line x1="{label_w}" y1="{y}" x2="{label_w + plot_w}" y2="{y}" class="grid"/>')
        if r.get("low") is not None and r.get("high") is not None:
            body.append(f'<line x1="{sx(r["low"]):.1f}" y1="{y}" x2="{sx(r["high"]):.1f}" y2="{y}" stroke="{TUNED_C}" '
                        f'stroke-width="4" stroke-opacity="0.35"/>')
        if r.get("base") is not None:
            body.append(f'<circle cx="{sx(r["base"]):.1f}" cy="{y}" r="4" fill="{BASE_C}"><title>base {_num(r["base"])}</title></circle>')
        if r.get("tuned") is not None:
            body.append(f'<circle cx="{sx(r["tuned"]):.1f}" cy="{y}" r="4" fill="{TUNED_C}"><title>tuned {_num(r["tuned"])}</title></circle>')
    return _svg(W, 30 + ROW * len(rows), body, title)


def reliability(curves: dict[str, Sequence[dict]], title: str) -> Markup:
    """Reliability diagram: accuracy against confidence per bin, the diagonal is perfect calibration."""
    size, pad = 220, 30
    s = lambda v: pad + v * (size - 2 * pad)  # noqa: E731
    body = [f'<rect x="{pad}" y="{pad}" width="{size - 2 * pad}" height="{size - 2 * pad}" class="frame"/>',
            f'<line x1="{s(0)}" y1="{size - s(0)}" x2="{s(1)}" y2="{size - s(1)}" class="grid"/>',
            f'<text x="{pad}" y="{size - 8}" class="val">confidence</text>',
            f'<text x="4" y="{pad - 8}" class="val">accuracy</text>']
    for k, (name, bins) in enumerate(curves.items()):
        c = [BASE_C, TUNED_C][k % 2]
        d = " ".join(f"{s(b['confidence']):.1f},{size - s(b['accuracy']):.1f}" for b in bins)
        body.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="1.5"/>')
        body += [f'<circle cx="{s(b["confidence"]):.1f}" cy="{size - s(b["accuracy"]):.1f}" r="{2 + min(4, b["n"] ** 0.5 / 2):.1f}" '
                 f'fill="{c}" fill-opacity="0.7"><title>{escape(name)}: n {b["n"]}</title></circle>' for b in bins]
        body.append(f'<text x="{size + 4}" y="{pad + 14 * k}" class="lbl" fill="{c}">{escape(name)}</text>')
    return _svg(size + 70, size, body, title)


def cost_bars(rows: Sequence[dict], title: str, metric: str = "accuracy") -> Markup:
    """Each way of doing the task as two bars side by side: its task metric (0-1) and the prompt tokens
    one request costs, so the gain and its price read on one line."""
    rows = list(rows)[:10]
    top = max([float(r["prompt_tokens"] or 0) for r in rows] + [1e-12])
    label_w, panel = 130, (W - 130 - 40) // 2
    body = [f'<text x="{label_w}" y="12" class="lbl">{escape(metric)}</text>',
            f'<text x="{label_w + panel + 20}" y="12" class="lbl">prompt tokens per request</text>']
    for i, r in enumerate(rows):
        y = 18 + i * ROW
        value = r.get(metric)
        color = TUNED_C if r["method"] == "tuned" else BASE_C
        body.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end" class="lbl">'
                    f'{escape(str(r["method"]).replace("_", "-"))}</text>')
        if value is not None:
            w = max(0.5, (panel - 40) * float(value))
            body.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{ROW - 5}" fill="{color}"/>'
                        f'<text x="{label_w + w + 4:.1f}" y="{y + 12}" class="val">{_num(float(value))}</text>')
        tokens = float(r["prompt_tokens"] or 0)
        w = max(0.5, (panel - 40) * tokens / top)
        x0 = label_w + panel + 20
        body.append(f'<rect x="{x0}" y="{y + 2}" width="{w:.1f}" height="{ROW - 5}" fill="{color}" opacity="0.6"/>'
                    f'<text x="{x0 + w + 4:.1f}" y="{y + 12}" class="val">{tokens:,.0f}</text>')
    return _svg(W, 24 + ROW * len(rows), body, title)


def draw(chart: dict) -> Markup:
    """A chart a plug-in declared (reports/view.py: charts), drawn by its kind."""
    kind, data, title = chart["kind"], chart["data"], chart["alt"]
    if kind == "bars":
        return bars(data, title, chart.get("color") or BAR_C)
    if kind == "histogram":
        return histogram(data["counts"], data["edges"], title, data["marker"], data["marker_label"])
    if kind == "intervals":
        return intervals(data, title)
    return reliability(data, title)
