"""Every file the harness writes for people and CI, in one place: audit.json, results.json, pipeline and
demo summaries, JUnit, the HTML and Markdown reports, the adapter's model card. The stages return plain
data and write only what they exist for (adapter weights, checkpoints); the application calls these.
Each file appears whole or not at all (harness/core/io.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from harness.core.declarations import declarations
from harness.core.io import json_text, write_files_atomic, write_json_atomic, write_text_atomic
from harness.core.results import AUDIT_SCHEMAS
from harness.reports.html import render_html


def with_row_text(docs: dict[str, Any], row_text: bool = True) -> dict[str, Any]:
    """The documents plus the flagged rows' text (masked, shortened) for the report, unless asked not to."""
    if row_text and isinstance(docs.get("audit"), dict):
        from harness.inputs.row_text import row_texts

        return {**docs, "row_text": row_texts(docs["audit"], _shown_rows(docs["audit"]))}
    return docs


def declared(docs: dict[str, Any]) -> dict[str, Any]:
    """Results written before each entry carried its plug-in's declarations (charts, answers, feeds:
    harness/core/declarations.py) take them from the installed plug-in of the entry's name, so an older
    audit.json or results.json still draws its charts and answers its checklist."""
    out = dict(docs)
    audit, compare = docs.get("audit"), docs.get("compare")
    if isinstance(audit, dict) and any("charts" not in c for c in audit.get("checks") or []):
        from harness.checks import REGISTRY as CHECKS

        out["audit"] = {**audit, "checks": [c if "charts" in c or c.get("check") not in CHECKS else
                                            {**declarations(CHECKS[c["check"]]), **c} for c in audit["checks"]]}
    if isinstance(compare, dict) and any("charts" not in s for s in (compare.get("suites") or {}).values()):
        from harness.suites import REGISTRY as SUITES

        out["compare"] = {**compare, "suites": {n: s if "charts" in s or n not in SUITES else
                                                {**declarations(SUITES[n]), **s} for n, s in compare["suites"].items()}}
    return out


def _shown_rows(audit: dict[str, Any]) -> set[tuple[str, int]]:
    """The rows the report lists (its caps per check and per finding): the only ones worth reading back."""
    from harness.reports.view import MAX_FINDINGS, MAX_ROWS_PER_FINDING

    return {(r["split"], r["line"]) for c in audit["checks"] for f in (c.get("findings") or [])[:MAX_FINDINGS]
            for r in (f.get("rows") or [])[:MAX_ROWS_PER_FINDING]}


def write_audit(directory: str | Path, result: dict[str, Any], row_text: bool = True) -> Path:
    """DIR/audit.json and DIR/report.html (with the flagged rows' text unless `row_text` is off); returns
    the audit.json path."""
    directory = Path(directory)
    page = render_html(with_row_text({"audit": result}, row_text))
    path, _ = write_files_atomic(directory, {"audit.json": json_text(result), "report.html": page})
    return path


def write_compare(directory: str | Path, results: dict[str, Any], adapter: str | Path) -> Path:
    """DIR/results.json, DIR/junit.xml, DIR/report.html, and the results filled into the adapter's model
    card (README.md) when it has one; returns the results.json path."""
    from harness.reports.junit import render_junit
    from harness.reports.model_card import fill_results

    directory, adapter = Path(directory), Path(adapter)
    docs = {"compare": results}
    manifest = _read_json(adapter / "manifest.json")
    if manifest is not None:
        docs["manifest"] = manifest
    path, _, _ = write_files_atomic(directory, {"results.json": json_text(results), "junit.xml": render_junit(results),
                                                "report.html": render_html(docs)})
    card = adapter / "README.md"
    if card.is_file():
        write_text_atomic(card, fill_results(card.read_text(encoding="utf-8"), results))
    return path


def adapter_documents(directory: Path, manifest: dict[str, Any]) -> None:
    """The trainer's hook: the model card (README.md) and the run's HTML report (with its audit when one
    was given) beside the adapter. A rendering bug must not cost a finished training run, so the report's
    failure is a warning on stderr and the adapter is kept."""
    from harness.reports.model_card import render_model_card

    write_text_atomic(directory / "README.md", render_model_card(manifest))
    docs: dict[str, Any] = {"manifest": manifest}
    audit = _read_json(Path(manifest["audit_path"])) if manifest.get("audit_path") else None
    if isinstance(audit, dict) and audit.get("schema") in AUDIT_SCHEMAS:
        docs["audit"] = audit
    try:
        write_text_atomic(directory / "report.html", render_html(with_row_text(declared(docs))))
    except Exception as exc:  # noqa: BLE001
        print(f"harness: warning: the training report could not be written ({type(exc).__name__}: {exc})",
              file=sys.stderr)


def write_report(docs: dict[str, Any], out: str | Path, fmt: str = "html", row_text: bool = True) -> Path:
    """One report from loaded results (`harness report`): self-contained HTML, or Markdown."""
    docs = declared(docs)
    if fmt == "md":
        from harness.reports.markdown import render_markdown

        return write_text_atomic(out, render_markdown(docs))
    return write_text_atomic(out, render_html(with_row_text(docs, row_text)))


def write_summary(directory: str | Path, name: str, summary: dict[str, Any], docs: dict[str, Any]) -> dict[str, Any]:
    """A pipeline's (or demo's) DIR/report.html from every stage's results, then DIR/<name> with the
    summary and the report's path."""
    directory = Path(directory)
    write_text_atomic(directory / "report.html", render_html(with_row_text(declared(docs))))
    summary["report"] = str(directory / "report.html")
    write_json_atomic(directory / name, summary)
    return summary


def write_json(path: str | Path, data: Any) -> Path:
    return write_json_atomic(path, data)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None
