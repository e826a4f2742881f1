"""The `harness` command: parse, call a stage, write its artifacts, exit with its code.

Exit codes: 0 pass or warn; 1 fail (a policy threshold crossed); 2 unusable input or usage; 3 an
internal error (a bug: set HARNESS_DEBUG=1 for the traceback); 130 interrupted."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError, InputError, clipped
from harness.core.visible import visible


def _field(value: str) -> tuple[str, str]:
    if "=" not in value:
        raise argparse.ArgumentTypeError(f"expected CANONICAL=COLUMN (e.g. text=body), got {value!r}")
    key, col = value.split("=", 1)
    return key.strip(), col.strip()


def _github_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--github", action="store_true",
                   help="GitHub Actions: append the Markdown summary to $GITHUB_STEP_SUMMARY and print findings as "
                        "file:line annotations (on by default when GITHUB_STEP_SUMMARY is set)")


def _github(args: argparse.Namespace, docs: dict) -> None:
    """The step summary and the annotations, when running in GitHub Actions (or asked to)."""
    if not (args.github or os.environ.get("GITHUB_STEP_SUMMARY")):
        return
    from harness.reports.github import append_summary, audit_annotations, compare_annotations, emit
    from harness.reports.markdown import render_markdown

    append_summary(render_markdown(docs))
    emit(audit_annotations(docs["audit"]) if "audit" in docs else compare_annotations(docs["compare"]))


def _data_arguments(p: argparse.ArgumentParser) -> None:
    """--shape and --field, the same for audit, train and compare (compare: default from the manifest)."""
    from harness.inputs.data import shape_choices

    p.add_argument("--shape", choices=["auto", *shape_choices()],
                   help="data shape (default: detected from the fields; compare: as the adapter was trained)")
    p.add_argument("--field", action="append", type=_field, default=[], metavar="NAME=COLUMN",
                   help="map a canonical field to your column, e.g. --field text=body (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    from harness.core.version import __version__

    parser = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"finetune-harness {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    a = sub.add_parser("audit", help="audit training data before fine-tuning",
                       description="Audit training data (and an eval set) before fine-tuning.")
    a.add_argument("train", help="training data: .jsonl (also .gz/.zst), .json, .csv, .parquet, a Hugging Face "
                                 "save_to_disk directory or hf:NAME[:SPLIT] from the local datasets cache")
    a.add_argument("--eval", dest="eval_path", metavar="EVAL", help="held-out eval data, checked for leakage")
    a.add_argument("--out", default="audit-out", help="output directory for audit.json (default: audit-out)")
    a.add_argument("--policy", help="policy YAML merged over the defaults")
    _data_arguments(a)
    a.add_argument("--labels", help="comma-separated allowed labels")
    a.add_argument("--max-seq-len", type=int, help="trainer's max sequence length in tokens")
    a.add_argument("--tokenizer", help="local tokenizer directory for exact token counts")
    a.add_argument("--engine", choices=["inprocess", "spark"],
                   help="where the checks run (default: the policy's engine, inprocess)")
    a.add_argument("--spark-master", help="Spark master URL for --engine spark (default local[*])")
    a.add_argument("--quiet", action="store_true", help="print only the verdict line")
    a.add_argument("--junit", metavar="FILE", help="also write JUnit XML: one test case per check")
    a.add_argument("--no-row-text", action="store_true",
                   help="the report shows file:line only, not the flagged rows' text (masked and shortened by default)")
    a.add_argument("--issues", metavar="FILE", help="also write one row per flagged example (.csv, .parquet or .jsonl)")
    _github_argument(a)

    t = sub.add_parser("train", help="train a LoRA adapter", description="Train a LoRA adapter on a base model.")
    t.add_argument("--base", required=True, help="built-in name (smollm2-135m-instruct), model directory, .gguf or hub id")
    t.add_argument("--train", required=True, dest="train_path", help="training data (same formats as audit)")
    t.add_argument("--eval", dest="eval_path", help="held-out data: eval loss (and accuracy) each epoch, early stopping")
    t.add_argument("--out", required=True, help="adapter directory (written whole or not at all)")
    t.add_argument("--config", help="train config YAML (see harness/training/train_config.py for every key)")
    t.add_argument("--audit", help="an audit.json; a fail verdict refuses training")
    t.add_argument("--allow-failed-audit", action="store_true", help="train even if the audit failed")
    t.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    _data_arguments(t)
    for flag, typ in (("--epochs", int), ("--lr", float), ("--lora-r", int), ("--batch-size", int),
                      ("--max-seq-len", int), ("--seed", int), ("--max-steps", int), ("--eval-max-rows", int)):
        t.add_argument(flag, type=typ)
    t.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"],
                   help="where to train (default auto: CUDA if visible, else MPS, else CPU)")
    t.add_argument("--quantize", choices=["4bit"], help="load the base in 4-bit NF4 (QLoRA; CUDA and the [gpu] extra)")

    c = sub.add_parser("compare", help="compare a tuned adapter with its base and gate the deploy",
                       description="Score base and tuned on the regression suites (task, calibration, overfitting, "
                                   "forgetting, drift) and apply the gate policy.")
    c.add_argument("--base", required=True, help="the base the adapter was trained on")
    c.add_argument("--adapter", required=True, help="adapter directory (harness train output or any peft LoRA)")
    c.add_argument("--train", dest="train_path", help="the training data (overfitting and memorisation)")
    c.add_argument("--eval", dest="eval_path", help="held-out data (task, calibration, overfitting)")
    c.add_argument("--probes", action="append", default=[], metavar="PATH",
                   help="extra multiple-choice probe set(s): a .jsonl file or a directory of them (repeatable)")
    c.add_argument("--prompts", action="append", default=[], metavar="PATH",
                   help="extra general prompts for the drift suite: .jsonl with a `prompt` per line (repeatable)")
    c.add_argument("--policy", help="gate policy YAML merged over harness/comparing/default_gate.yaml")
    c.add_argument("--suites", help="comma-separated suites to run (default: all enabled in the policy)")
    c.add_argument("--out", required=True, help="output directory for results.json and junit.xml")
    c.add_argument("--cache", help="result cache file (default: the harness cache directory)")
    c.add_argument("--no-cache", action="store_true", help="score everything afresh, remember nothing")
    c.add_argument("--quiet", action="store_true", help="print only the verdict line")
    c.add_argument("--fast", action="store_true",
                   help="seeded samples of fewer items per suite (harness/comparing/fast_gate.yaml), for CI; --policy still applies")
    _data_arguments(c)
    c.add_argument("--junit", metavar="FILE", help="also write the JUnit XML here (OUT/junit.xml is always written)")
    _github_argument(c)

    p = sub.add_parser("run", help="the whole job: audit, train, compare, gate, report",
                       description="Run audit -> train -> compare -> gate -> report from one pipeline YAML; stages "
                                   "whose inputs did not change are reused.")
    p.add_argument("config", help="pipeline YAML (see harness/app/pipeline.py for every key)")

    d = sub.add_parser("demo", help="the whole job on the shipped ticket example with the built-in model",
                       description="Audit the ticket example (planted defects), clean it, train, compare, gate "
                                   "and report with the built-in SmolLM2 model.")
    d.add_argument("--out", default="demo-out", help="output directory (default demo-out)")

    k = sub.add_parser("clean", help="drop the training rows an audit flagged, into a new file",
                       description="Write TRAIN without the rows AUDIT flagged (duplicates keep their first row), "
                                   "and OUT.removed.json listing each removed row's line and check. TRAIN is never "
                                   "modified.")
    k.add_argument("audit", help="the audit.json of TRAIN")
    k.add_argument("train", help="the training data the audit read (JSONL)")
    k.add_argument("--out", required=True, help="the cleaned JSONL file (written atomically)")
    k.add_argument("--drop", help="comma-separated checks whose findings remove rows (default: every check that does)")
    k.add_argument("--keep", help="comma-separated checks whose flagged rows stay")
    k.add_argument("--dry-run", action="store_true", help="say what would be removed; write nothing")

    r = sub.add_parser("report", help="render results as one self-contained HTML file (or Markdown)",
                       description="Render audit.json, an adapter's manifest.json and/or compare's results.json "
                                   "(or directories holding them) as one report.")
    r.add_argument("paths", nargs="+", metavar="PATH", help="result files or directories holding them")
    r.add_argument("--out", required=True, help="output file (written atomically)")
    r.add_argument("--format", choices=["html", "md"], default="html")
    r.add_argument("--no-row-text", action="store_true",
                   help="show file:line only, not the flagged rows' text (read back from the audited files by default)")
    return parser


def _staged(console, work):
    """Run a staged job under a live status line (stage, training step and loss, suite); each stage's
    outcome stays on its own line with its time."""
    started: dict[str, float] = {}

    def on_stage(name: str, st: str) -> None:
        if st == "running":
            started[name] = time.perf_counter()
            status.update(f"{name}: running...")
            return
        took = f" ({time.perf_counter() - started[name]:.0f} s)" if name in started and st != "reused" else ""
        console.print(f"{name}: {st}{took}", highlight=False)

    with console.status("starting...") as status:
        return work(on_stage, lambda name, text: status.update(f"{name}: {text}"))


def _print_pipeline(console, summary: dict) -> int:
    for reason in summary["reasons"]:
        console.print(f"  [red]x[/] {reason}", highlight=False)
    style = "bold green" if summary["verdict"] == "pass" else "bold red"
    console.print(f"verdict: [{style}]{summary['verdict'].upper()}[/]  report: {summary['report']}", highlight=False)
    return 1 if summary["verdict"] == "fail" else 0


def cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from harness.app.pipeline import run

    console = Console(width=None if sys.stdout.isatty() else 140)
    return _print_pipeline(console, _staged(console, lambda say, tell: run(args.config, on_stage=say, on_progress=tell)))


def cmd_demo(args: argparse.Namespace) -> int:
    from rich.console import Console

    from harness.app.demo import run_demo

    from harness.core.outputs import writable_dir

    writable_dir(args.out)
    console = Console(width=None if sys.stdout.isatty() else 140)
    summary = _staged(console, lambda say, tell: run_demo(args.out, on_stage=say, on_progress=tell))
    console.print(f"raw audit: {summary['raw_audit']['verdict'].upper()} (planted defects found by: "
                  f"{', '.join(summary['raw_audit']['failed_checks'])}); report {summary['raw_audit']['path']}",
                  highlight=False)
    return _print_pipeline(console, summary)


def cmd_report(args: argparse.Namespace) -> int:
    from harness.app.artefacts import write_report
    from harness.core.outputs import input_paths, writable_file
    from harness.reports.view import RESULT_FILES, load_results

    # A directory given is read for the results files in it: those are the inputs an --out may not replace.
    writable_file(args.out, input_paths(*args.paths, *(Path(p) / n for p in args.paths for n in RESULT_FILES)))
    docs = load_results(args.paths)
    try:
        write_report(docs, args.out, args.format, row_text=not args.no_row_text)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        # The documents passed their schema check but lack what a report reads: a hand-edited or
        # truncated file, not a bug in the renderer (which is tested on every document the harness writes).
        raise InputError(", ".join(map(str, args.paths)), "malformed results file: "
                         f"{type(exc).__name__} {exc} (was it written by this version of the harness?)") from None
    print(f"report: {args.out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from rich.console import Console

    from harness import compare
    from harness.reports.compare_terminal import print_compare

    from harness.core.outputs import input_files, output_lock, refuse_inputs_as_outputs, writable_dir, writable_file

    # The adapter's files are inputs, except its model card, which compare fills in with the results.
    card = Path(args.adapter) / "README.md"
    inputs = [p for p in input_files(args.train_path, args.eval_path, args.probes, args.prompts, args.policy,
                                     args.adapter) if p != card.resolve()]
    outputs = [(f"{f} in --out", Path(args.out) / f) for f in ("results.json", "junit.xml", "report.html")]
    refuse_inputs_as_outputs([*outputs, *([("the adapter's model card", card)] if card.is_file() else []),
                              *([("--junit", args.junit)] if args.junit else [])], inputs)
    writable_dir(args.out, ("results.json", "junit.xml", "report.html"), inputs)
    if args.junit:
        writable_file(args.junit, inputs)
    console = Console(width=None if sys.stdout.isatty() else 140)  # CI logs: wide enough for one row per metric
    cache = "" if args.no_cache else args.cache
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # One bar per suite: the items it scores on each side as their batches finish, then its outcome.
    bars = Progress(TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console)
    task_of: dict[str, Any] = {"": bars.add_task("loading base and adapter", total=None)}

    def on_suite(name: str, st: str) -> None:
        if st == "start":
            bars.update(task_of[""], visible=False)
            task_of[name] = bars.add_task(f"{name}: starting", total=None)
        else:
            t = bars.tasks[task_of[name]]
            bars.update(task_of[name], description=f"{name}: {st}", total=t.total or 1, completed=t.total or 1)

    def on_progress(name: str, side: str, done: int, total: int) -> None:
        if name in task_of:
            bars.update(task_of[name], description=f"{name}: {side}", total=total, completed=done)

    with output_lock(args.out), bars:
        results = compare(args.base, args.adapter, args.train_path, args.eval_path, probes=args.probes,
                          prompts=args.prompts, policy=args.policy, out=args.out,
                          suites=[s.strip() for s in args.suites.split(",") if s.strip()] if args.suites else None,
                          cache=cache, fast=args.fast, shape=None if args.shape in (None, "auto") else args.shape,
                          fields=dict(args.field) or None, on_suite=on_suite, on_progress=on_progress)
    where = str(Path(args.out) / "results.json")
    if args.junit:
        from harness.core.io import write_text_atomic
        from harness.reports.junit import render_junit

        write_text_atomic(args.junit, render_junit(results))
    if args.quiet:
        console.print(f"verdict: {results['verdict']}  ({where})")
    else:
        print_compare(results, console, where)
    _github(args, {"compare": results})
    return 1 if results["verdict"] == "fail" else 0


def cmd_audit(args: argparse.Namespace) -> int:
    from rich.console import Console

    from harness import audit
    from harness.app.artefacts import write_audit
    from harness.inputs.data_spec import DataSpec
    from harness.auditing.policy import load_policy
    from harness.reports.terminal import print_audit

    from harness.auditing.issues import issues_format
    from harness.core.outputs import input_files, output_lock, refuse_inputs_as_outputs, writable_dir, writable_file

    # Every output path is checked before the audit runs, not after it: a bad --issues suffix, an output
    # over an input, two outputs on one file (`--junit OUT/audit.json`).
    if args.issues:
        issues_format(args.issues)
    extras = [(flag, path) for flag, path in (("--junit", args.junit), ("--issues", args.issues)) if path]
    inputs = input_files(args.train, args.eval_path, args.policy)
    refuse_inputs_as_outputs([*((f"{f} in --out", Path(args.out) / f) for f in ("audit.json", "report.html")), *extras],
                             inputs)
    policy = load_policy(args.policy)
    writable_dir(args.out, ("audit.json", "report.html"), inputs)
    for _, extra in extras:
        writable_file(extra, inputs)
    # The data spec (harness/inputs/data_spec.py): the policy's `data`, the flags over it, checked here (exit 2).
    spec = DataSpec.of_policy(policy).override(
        "flags", labels=[x.strip() for x in args.labels.split(",") if x.strip()] if args.labels else None,
        max_seq_len=args.max_seq_len, tokenizer=args.tokenizer or None)
    if args.engine:
        policy["engine"] = args.engine
    if args.spark_master:
        policy["spark"]["master"] = args.spark_master
    console = Console(stderr=False)
    with output_lock(args.out), console.status("auditing...") as status:
        started, done, rows = time.perf_counter(), [], [0]

        def on_check(name: str, entry: dict) -> None:
            done.append(name)
            rows[0] = rows[0] or int((entry.get("summary") or {}).get("rows") or 0)  # the schema check runs first
            elapsed = time.perf_counter() - started
            rate = f", {rows[0] * len(done) / elapsed:,.0f} row-checks/s" if rows[0] >= 10_000 and elapsed > 1 else ""
            status.update(f"auditing... {name} {entry['status']} ({len(done)} checks done, {rows[0]:,} rows, "
                          f"{elapsed:.0f} s{rate})")

        result = audit(args.train, args.eval_path, policy, shape=args.shape, fields=dict(args.field), spec=spec,
                       on_check=on_check)
        out = write_audit(args.out, result, row_text=not args.no_row_text)
        if args.junit:
            from harness.core.io import write_text_atomic
            from harness.reports.junit import render_audit_junit

            write_text_atomic(args.junit, render_audit_junit(result))
        if args.issues:
            from harness.auditing.issues import write_issues

            write_issues(result, args.issues)
    if args.quiet:
        console.print(f"verdict: {result['verdict']}  ({out})")
    else:
        print_audit(result, console, str(out))
    _github(args, {"audit": result})
    return 1 if result["verdict"] == "fail" else 0


def cmd_clean(args: argparse.Namespace) -> int:
    import json

    from harness.auditing.clean import clean_file
    from harness.core.outputs import input_paths, writable_file

    writable_file(args.out, input_paths(args.audit, args.train))
    try:
        audit = json.loads(Path(args.audit).read_text(encoding="utf-8"))
        audit["checks"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(args.audit, "not a readable audit.json") from None
    split = lambda v: [x.strip() for x in v.split(",") if x.strip()] if v else None  # noqa: E731
    summary = clean_file(args.train, audit, args.out, drop=split(args.drop), keep=split(args.keep), dry_run=args.dry_run,
                         audit_path=args.audit)
    by = ", ".join(f"{c} {n}" for c, n in summary["by_check"].items()) or "nothing flagged"
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {summary['removed']} rows ({by}); kept {summary['kept']}"
          + ("" if args.dry_run else f": {args.out} (removed rows: {args.out}.removed.json)"))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from harness import train
    console = Console(quiet=os.environ.get("RANK", "0") != "0")  # one launcher, one voice: rank 0 speaks
    overrides = {"epochs": args.epochs, "lr": args.lr, "lora_r": args.lora_r, "batch_size": args.batch_size,
                 "max_seq_len": args.max_seq_len, "seed": args.seed, "max_steps": args.max_steps,
                 "eval_max_rows": args.eval_max_rows, "device": args.device, "quantize": args.quantize,
                 "shape": None if args.shape in (None, "auto") else args.shape, "fields": dict(args.field) or None}
    with Progress(TextColumn("[bold]training"), BarColumn(), TextColumn("step {task.completed}/{task.total}"),
                  TextColumn("{task.fields[info]}"), TimeRemainingColumn(), console=console,
                  disable=console.quiet) as progress:
        task = progress.add_task("train", total=None, info="")
        started = [None]

        def on_step(s: dict) -> None:
            now = time.perf_counter()
            started[0] = started[0] or (now, s["body_tokens"], s["tokens"])
            elapsed = max(now - started[0][0], 1e-9)
            rate = (s["body_tokens"] - started[0][1]) / elapsed
            useful = (s["tokens"] - started[0][2]) / elapsed
            progress.update(task, total=s["total_steps"], completed=s["step"],
                            info=f"loss {s['loss']:.4f}  {rate:,.0f} tok/s ({useful:,.1f} supervised)")

        manifest = train(args.base, args.train_path, args.eval_path, out=args.out, config=args.config,
                         audit=args.audit, allow_failed_audit=args.allow_failed_audit, overwrite=args.overwrite,
                         on_step=on_step, **overrides)
    for e in manifest["evals"]:
        console.print("epoch {epoch}: ".format(**e) + ", ".join(f"{k} {v}" for k, v in e.items() if k != "epoch"))
    if manifest["data"]["refused_rows"]:
        console.print(f"[yellow]{len(manifest['data']['refused_rows'])} rows refused (nothing to learn); see manifest.json")
    console.print(f"Adapter: {args.out}  ({manifest['steps']} steps, {manifest['tokens_per_second']:,.0f} supervised tok/s)",
                  soft_wrap=True, highlight=False)
    return 0


def _quiet_libraries() -> None:
    """The harness draws its own progress; the libraries' loading bars and deprecation notices are noise in
    a terminal or CI log (HARNESS_DEBUG=1 keeps them)."""
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # SIGTERM (a CI job cancelled, `kill`) ends a run as Ctrl-C does: temporary files removed, exit 130;
    # the trainer swaps in its own handler to checkpoint first.
    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # main() called from a thread other than the main one (an embedding application)
        pass
    if not os.environ.get("HARNESS_DEBUG"):
        import warnings

        # Libraries' deprecation notices (PySpark on pandas 3, transformers' renames) are not the user's
        # business; one-line errors stay one line.
        warnings.filterwarnings("ignore", category=FutureWarning)
        if args.command in ("audit", "train", "compare", "run", "demo"):  # the audit loads the embedding model
            _quiet_libraries()
    try:
        return {"audit": cmd_audit, "train": cmd_train, "compare": cmd_compare, "report": cmd_report,
                "run": cmd_run, "demo": cmd_demo, "clean": cmd_clean}[args.command](args)
    except HarnessError as exc:
        print(f"harness: error: {visible(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("harness: interrupted; nothing half-written was left behind (train resumes from its checkpoint)",
              file=sys.stderr)
        return 130
    except MemoryError:
        print("harness: error: out of memory; lower --batch-size or --max-seq-len, or set gradient_checkpointing: true",
              file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: one line unless debugging
        if os.environ.get("HARNESS_DEBUG"):
            raise
        if "out of memory" in str(exc).lower():  # torch.OutOfMemoryError and allocator RuntimeErrors
            print("harness: error: out of memory; lower --batch-size or --max-seq-len, or set "
                  "gradient_checkpointing: true", file=sys.stderr)
            return 2
        print(f"harness: internal error: {type(exc).__name__}: {clipped(visible(exc))} (set HARNESS_DEBUG=1 for details)",
              file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
