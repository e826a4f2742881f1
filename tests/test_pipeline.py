"""`harness run` on the tiny model: every stage, reuse by content hash, the audit stop, config errors."""

import json

import pytest

from conftest import write_jsonl
from harness.core.errors import InputError, UsageError
from harness.app.pipeline import PipelineConfig, run
from tiny_model import build_tiny_model

ROWS = [{"text": f"{t} number {i}", "label": lab} for i in range(6) for t, lab in [
    ("where is my parcel", "delivery"), ("i was charged twice", "billing"),
    ("the app crashes on start", "technical_issue"), ("please cancel my plan", "cancellation")]]
SMALL_GATE = """suites:
  forgetting: {params: {max_items: 5}}
  drift: {params: {max_items: 3, max_new_tokens: 4}}
  overfitting: {params: {extraction_items: 8}}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("pipe")
    tiny = build_tiny_model(d / "tiny")
    write_jsonl(d / "train.jsonl", ROWS)
    write_jsonl(d / "eval.jsonl", [{"text": f"{r['text']} again", "label": r["label"]} for r in ROWS[:8]])
    (d / "gate.yaml").write_text(SMALL_GATE)
    (d / "audit.yaml").write_text("checks:\n  shortcuts: {enabled: false}\n  near_duplicates: {enabled: false}\n"
                                  "  label_conflicts: {enabled: false}\n  leakage: {enabled: false}\n")
    cfg = d / "pipeline.yaml"
    cfg.write_text(f"base: {tiny}\ntrain: train.jsonl\neval: eval.jsonl\nout: out\naudit_policy: audit.yaml\n"
                   f"gate_policy: gate.yaml\ntrain_config: {{epochs: 1, lr: 0.005, batch_size: 8, max_seq_len: 64, "
                   f"prompt_template: '{{text}}'}}\n")
    return d, cfg


def test_the_whole_job_then_reuse(setup):
    d, cfg = setup
    first = run(cfg)
    assert [first["stages"][s]["status"] for s in ("audit", "train", "compare")] == ["ran"] * 3
    out = d / "out"
    for artifact in ("audit/audit.json", "audit/report.html", "adapter/adapter_model.safetensors", "compare/results.json",
                     "compare/junit.xml", "report.html", "pipeline.json"):
        assert (out / artifact).is_file(), artifact
    page = (out / "report.html").read_text()
    assert 'id="audit"' in page and 'id="training"' in page and 'id="compare"' in page
    assert first["verdict"] in ("pass", "fail") and json.loads((out / "pipeline.json").read_text())["verdict"] == first["verdict"]
    again = run(cfg)
    assert [again["stages"][s]["status"] for s in ("audit", "train", "compare")] == ["reused"] * 3
    # Only the gate policy changes: audit and training are reused, compare re-runs (from its cache).
    (d / "gate.yaml").write_text(SMALL_GATE + "gates:\n  drift.kl: {field: tuned, below: 0.001}\n")
    third = run(cfg)
    assert [third["stages"][s]["status"] for s in ("audit", "train", "compare")] == ["reused", "reused", "ran"]


def test_a_failed_audit_stops_before_training(setup, tmp_path):
    d, _ = setup
    leaky = write_jsonl(tmp_path / "eval.jsonl", ROWS[:6])  # eval rows copied from train: leakage fails
    cfg = tmp_path / "p.yaml"
    cfg.write_text(f"base: {d / 'tiny'}\ntrain: {d / 'train.jsonl'}\neval: {leaky}\nout: o\n")
    summary = run(cfg)
    assert summary["verdict"] == "fail" and "train" not in summary["stages"]
    assert any("leakage" in r for r in summary["reasons"]) and not (tmp_path / "o" / "adapter").exists()
    assert (tmp_path / "o" / "report.html").is_file()
    from harness.app.cli import main

    assert main(["run", str(cfg)]) == 1  # the CLI: a failed pipeline exits 1 with its reasons


def _config(setup, tmp_path, out):
    d, cfg = setup
    text = cfg.read_text().replace("out: out", f"out: {tmp_path / out}")
    for name in ("train.jsonl", "eval.jsonl", "audit.yaml"):
        text = text.replace(f" {name}", f" {d / name}")
    path = tmp_path / f"{out}.yaml"
    path.write_text(text.replace("gate_policy: gate.yaml", f"gate_policy: {d / 'gate.yaml'}"))
    return path


class Stop(KeyboardInterrupt):
    pass


def stop_when(match, log: list | None = None):
    """A progress callback that acts as Ctrl-C at the first progress line `match` accepts, keeping the
    training lines it saw in `log`."""
    def on_progress(stage, text):
        if log is not None and stage == "train":
            log.append(text)
        if match(text):
            raise Stop
    return on_progress


def test_interrupted_runs_leave_nothing_half_written_and_resume(setup, tmp_path):
    """Ctrl-C in training resumes from the checkpoint (same adapter as an uninterrupted run); Ctrl-C in
    compare leaves no results and the next run finishes it from the result cache."""
    from safetensors.torch import load_file

    whole = run(_config(setup, tmp_path, "whole"))
    cfg = _config(setup, tmp_path, "cut")

    with pytest.raises(KeyboardInterrupt):
        run(cfg, on_progress=stop_when(lambda text: text.startswith("step 2/")))
    out = tmp_path / "cut"
    assert (out / "adapter.partial" / "checkpoint.pt").is_file() and not (out / "adapter").exists()
    assert "train" not in json.loads((out / "stages.json").read_text())
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        run(cfg, on_progress=stop_when(lambda text: text == "suite forgetting: scoring", steps))
    assert steps and steps[0].startswith("step 3/")  # steps 1-2 were not trained again
    assert (out / "adapter" / "manifest.json").is_file() and not (out / "adapter.partial").exists()
    assert not (out / "compare" / "results.json").exists() and not list(out.rglob("*.tmp"))
    resumed = run(cfg)
    assert [resumed["stages"][s]["status"] for s in ("audit", "train", "compare")] == ["reused", "reused", "ran"]
    a = load_file(tmp_path / "whole" / "adapter" / "adapter_model.safetensors")
    b = load_file(out / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    assert resumed["verdict"] == whole["verdict"]
    first, second = (json.loads((tmp_path / o / "compare" / "results.json").read_text()) for o in ("whole", "cut"))
    assert first["suites"]["forgetting"]["metrics"] == second["suites"]["forgetting"]["metrics"]


def test_a_stale_checkpoint_from_other_inputs_is_dropped(setup, tmp_path):
    cfg = _config(setup, tmp_path, "stale")

    with pytest.raises(KeyboardInterrupt):
        run(cfg, on_progress=stop_when(lambda text: text.startswith("step 1/")))
    cfg.write_text(cfg.read_text().replace("epochs: 1", "epochs: 2"))  # another config: the checkpoint no longer fits
    summary = run(cfg)
    assert summary["stages"]["train"]["status"] == "ran"
    assert json.loads((tmp_path / "stale" / "adapter" / "manifest.json").read_text())["config"]["epochs"] == 2


def test_config_errors_are_one_line_and_named(setup, tmp_path):
    d, _ = setup
    cfg = tmp_path / "p.yaml"
    cfg.write_text(f"base: {d / 'tiny'}\ntrian: x.jsonl\n")
    with pytest.raises(UsageError, match="unknown key 'trian'; did you mean 'train'"):
        PipelineConfig.load(cfg)
    cfg.write_text(f"base: {d / 'tiny'}\ntrain: missing.jsonl\n")
    with pytest.raises(InputError, match="missing.jsonl: no such file"):
        PipelineConfig.load(cfg)
    cfg.write_text(f"base: {d / 'tiny'}\ntrain: {d / 'train.jsonl'}\ntrain_config: {{epoch: 2}}\n")
    with pytest.raises(UsageError, match="did you mean 'epochs'"):
        PipelineConfig.load(cfg)
    cfg.write_text(f"base: {d / 'tiny'}\ntrain: {d / 'train.jsonl'}\nprobes: knowledge.jsonl\n")
    with pytest.raises(UsageError, match="probes: expected a list"):
        PipelineConfig.load(cfg)


def test_harness_demo_on_the_builtin_model(tmp_path):
    """The demo CI runs (a few minutes on 2 cores): the raw example's audit catches its planted defects,
    the cleaned rows train an adapter with the real model, and the gate judges it; one report at the end."""
    from harness.app.cli import main

    code = main(["demo", "--out", str(tmp_path / "demo")])
    summary = json.loads((tmp_path / "demo" / "demo.json").read_text())
    assert summary["raw_audit"]["verdict"] == "fail"
    assert {"leakage", "pii"} <= set(summary["raw_audit"]["failed_checks"])
    assert summary["clean"]["removed"] > 0 and summary["stages"]["train"]["status"] == "ran"
    assert code == (0 if summary["verdict"] == "pass" else 1)
    page = (tmp_path / "demo" / "pipeline" / "report.html").read_text()
    assert 'id="training"' in page and 'id="compare"' in page
