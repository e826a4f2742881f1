"""`harness run pipeline.yaml`: audit -> train -> compare -> gate -> report in one output directory.

Each stage records a key made of the content hashes of what it read (data files, policies, configs,
the adapter it judges); a re-run reuses every stage whose key is unchanged, so changing only the gate
policy re-runs compare alone, from its result cache. Every artifact is written atomically by its
stage, and an interrupted training resumes from its checkpoint on the next run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.app.artefacts import write_audit, write_compare, write_summary
from harness.core.config_schema import check_tree
from harness.inputs.data_spec import TRAIN_CONFIG_KEYS, DataSpec
from harness.inputs.data_spec import resolve as resolve_spec
from harness.core.errors import InputError, UsageError
from harness.core.hints import did_you_mean
from harness.core.io import read_yaml_mapping, sha256_file, write_json_atomic
from harness.auditing.policy import load_policy
from harness.core.results import PIPELINE_SCHEMA, audit_reasons, compare_reasons
from harness.core.version import __version__


# Type of every pipeline key (harness/core/config_schema.py); train_config is checked by TrainConfig.
RULES = {"base": "str", "train": "str", "eval": "null|str", "out": "str", "audit_policy": "null|str",
         "allow_failed_audit": "bool", "gate_policy": "null|str", "probes": "list[str]", "prompts": "list[str]",
         "suites": "null|list[str]", "fast_compare": "bool"}


@dataclass
class PipelineConfig:
    """One flat description of the job; paths are relative to the YAML file's directory."""

    base: str
    train: str
    eval: str | None = None
    out: str = "harness-out"
    audit_policy: str | None = None         # YAML merged over harness/auditing/default_policy.yaml
    allow_failed_audit: bool = False        # train even when the audit fails
    train_config: dict[str, Any] = field(default_factory=dict)  # any harness/training/train_config.py key
    gate_policy: str | None = None          # YAML merged over harness/comparing/default_gate.yaml
    probes: list[str] = field(default_factory=list)   # extra probe sets (files or directories)
    prompts: list[str] = field(default_factory=list)  # extra general prompts for drift
    suites: list[str] | None = None         # default: every suite the gate policy enables
    fast_compare: bool = False              # compare on harness/comparing/fast_gate.yaml's samples (`compare --fast`)
    source: str | None = field(default=None, repr=False)  # the YAML file read (for messages)

    @classmethod
    def load(cls, path: str | Path) -> "PipelineConfig":
        path = Path(path)
        data = read_yaml_mapping(path, "pipeline config")
        names = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
        for key in data:
            if key not in names:
                raise UsageError(f"{path}: unknown key {key!r}{did_you_mean(key, names)}")
        for key in ("base", "train"):
            if not data.get(key):
                raise UsageError(f"{path}: {key!r} is required")
        check_tree({k: v for k, v in data.items() if k != "train_config"}, None, RULES, str(path))
        here = path.resolve().parent
        resolve = lambda p: str((here / p).resolve()) if p and not Path(p).is_absolute() and not p.startswith("hf:") else p  # noqa: E731
        cfg = cls(**data)
        cfg.source = str(path)
        cfg.train, cfg.eval, cfg.out = resolve(cfg.train), resolve(cfg.eval), resolve(cfg.out)
        cfg.audit_policy, cfg.gate_policy = resolve(cfg.audit_policy), resolve(cfg.gate_policy)
        cfg.probes, cfg.prompts = [resolve(p) for p in cfg.probes], [resolve(p) for p in cfg.prompts]
        for key in ("train", "eval", "audit_policy", "gate_policy"):
            value = getattr(cfg, key)
            dataset = key in ("train", "eval") and bool(value) and (value.startswith("hf:") or Path(value).is_dir())
            if value and not Path(value).is_file() and not dataset:
                raise InputError(value, f"no such file (pipeline key {key!r} in {path})")
        if not Path(cfg.base).exists() and "/" not in cfg.base and not cfg.base.endswith(".gguf"):
            from harness.model.loading import resolve as resolve_model

            resolve_model(cfg.base)  # an unknown built-in name fails here, with a did-you-mean
        from harness.training.train_config import TrainConfig

        if not isinstance(cfg.train_config, dict):
            raise UsageError(f"{path}: train_config: expected a mapping, got {cfg.train_config!r}")
        # Unknown or mistyped train keys and bad policies fail before anything runs, not after the audit.
        TrainConfig.load(None, cfg.train_config)
        from harness.comparing.gate import load_gate

        load_policy(cfg.audit_policy)
        load_gate(cfg.gate_policy)
        data_spec(cfg, local_tokenizer=False)  # the audit policy and the train config agree on the data spec
        return cfg


def data_spec(cfg: PipelineConfig, local_tokenizer: bool = True) -> DataSpec:
    """The one data spec of this job (harness/inputs/data_spec.py), read once and handed to every stage: the audit
    policy's `data` (or its older top-level keys) and the train config's max_seq_len / shape / fields; the
    two setting one key to two values is a usage error naming both files. Lengths are counted with the
    base model's own tokenizer when the spec names none and the base is local (a hub id keeps the
    estimate rather than reach for the hub)."""
    from harness.model.loading import resolve as resolve_model

    written = read_yaml_mapping(cfg.audit_policy, "policy") if cfg.audit_policy else {}
    spec = resolve_spec(written, cfg.train_config, policy_name=f"audit policy {cfg.audit_policy}",
                        config_name=f"train_config of {cfg.source or 'the pipeline config'}")
    if local_tokenizer and spec.tokenizer is None:
        source, where = resolve_model(cfg.base)
        if source != "hub":
            spec = spec.override("pipeline", tokenizer=str(where))
    return spec


def train_settings(cfg: PipelineConfig) -> dict[str, Any]:
    """The train config without the data spec's keys: training takes those from the spec."""
    return {k: v for k, v in cfg.train_config.items() if k not in TRAIN_CONFIG_KEYS}


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, str) and p and Path(p).is_file():
            h.update(sha256_file(p).encode())
        elif isinstance(p, str) and p and (Path(p) / "state.json").is_file():  # a Hugging Face dataset directory
            for f in sorted(x for x in Path(p).rglob("*") if x.is_file()):
                h.update(f.relative_to(p).as_posix().encode() + sha256_file(f).encode())
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\0")
    return h.hexdigest()


def run(config: str | Path | PipelineConfig, on_stage: Callable[[str, str], None] | None = None,
        on_progress: Callable[[str, str], None] | None = None) -> dict[str, Any]:
    """Run (or reuse) every stage; returns the pipeline summary also written to OUT/pipeline.json.

    on_stage(name, status) hears each stage start and end; on_progress(name, text) the steps within one
    (training step and loss, the suite being scored), for a live status line."""
    from harness import audit, compare, train  # the API: each stage with its files written

    cfg = config if isinstance(config, PipelineConfig) else PipelineConfig.load(config)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    keys_path = out / "stages.json"
    done = json.loads(keys_path.read_text()) if keys_path.is_file() else {}
    summary: dict[str, Any] = {"schema": PIPELINE_SCHEMA, "harness_version": __version__, "stages": {},
                               "verdict": None, "reasons": []}
    say = on_stage or (lambda name, status: None)
    tell = on_progress or (lambda name, text: None)

    def stage(name: str, key: str, artifact: Path, work: Callable[[], None]) -> str:
        t0 = time.perf_counter()
        if done.get(name) == key and artifact.exists():
            say(name, "reused")
            summary["stages"][name] = {"status": "reused", "seconds": 0.0}
            return "reused"
        say(name, "running")
        work()
        done[name] = key
        write_json_atomic(keys_path, done)
        summary["stages"][name] = {"status": "ran", "seconds": round(time.perf_counter() - t0, 2)}
        say(name, "done")
        return "ran"

    # ---- audit ----------------------------------------------------------------------------------------
    audit_json = out / "audit" / "audit.json"
    spec = data_spec(cfg)   # read once; each stage below gets this one
    policy = load_policy(cfg.audit_policy)
    audit_key = _digest("audit", __version__, cfg.train, cfg.eval, cfg.audit_policy, policy, spec.to_dict())
    settings = train_settings(cfg)

    def do_audit() -> None:
        write_audit(audit_json.parent, audit(cfg.train, cfg.eval, policy, spec=spec))

    stage("audit", audit_key, audit_json, do_audit)
    audit_result = json.loads(audit_json.read_text(encoding="utf-8"))
    docs: dict[str, Any] = {"audit": audit_result}
    if audit_result["verdict"] == "fail" and not cfg.allow_failed_audit:
        summary["verdict"] = "fail"
        summary["reasons"] = [f"audit {line}" for line in audit_reasons(audit_result)] + [
            "training stopped: the audit failed (allow_failed_audit: true to train anyway)"]
        return write_summary(out, "pipeline.json", summary, docs)

    # ---- train ----------------------------------------------------------------------------------------
    adapter = out / "adapter"
    train_key = _digest("train", __version__, cfg.base, cfg.train, cfg.eval, settings, spec.to_dict())

    partial = adapter.with_name(adapter.name + ".partial")

    def do_train() -> None:
        # A checkpoint left by an interrupted run resumes only if it was made for these inputs; one made for
        # other data or another config would be refused by the trainer, so the pipeline (which owns out/) drops it.
        if partial.exists() and done.get("train_started") != train_key:
            import shutil

            shutil.rmtree(partial)
        done["train_started"] = train_key
        write_json_atomic(keys_path, done)
        train(cfg.base, cfg.train, cfg.eval, out=adapter, audit=audit_json, allow_failed_audit=cfg.allow_failed_audit,
              overwrite=True, on_step=lambda s: tell("train", f"step {s['step']}/{s['total_steps']}  loss {s['loss']:.4f}"),
              spec=spec, **settings)

    stage("train", train_key, adapter / "manifest.json", do_train)
    docs["manifest"] = json.loads((adapter / "manifest.json").read_text(encoding="utf-8"))

    # ---- compare and gate -----------------------------------------------------------------------------
    results_json = out / "compare" / "results.json"
    compare_key = _digest("compare", __version__, train_key, (adapter / "adapter_model.safetensors").as_posix(),
                          cfg.train, cfg.eval, cfg.gate_policy, cfg.probes, cfg.prompts, cfg.suites, cfg.fast_compare)

    def do_compare() -> None:
        results = compare(cfg.base, adapter, cfg.train, cfg.eval, probes=cfg.probes, prompts=cfg.prompts,
                          policy=cfg.gate_policy, suites=cfg.suites, cache=out / "cache.sqlite", fast=cfg.fast_compare,
                          on_suite=lambda name, st: tell("compare", f"suite {name}: {'scoring' if st == 'start' else st}"),
                          on_progress=lambda name, side, done, total: tell("compare", f"suite {name}: {side} {done}/{total} items"))
        write_compare(results_json.parent, results, adapter)

    stage("compare", compare_key, results_json, do_compare)
    results = json.loads(results_json.read_text(encoding="utf-8"))
    docs["compare"] = results
    summary["verdict"] = results["verdict"]
    summary["reasons"] = compare_reasons(results)
    return write_summary(out, "pipeline.json", summary, docs)
