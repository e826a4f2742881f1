"""The LoRA trainer: transformers + peft and a loop that reads top to bottom (nanoGPT style).

What it guards against, because these failures are silent elsewhere: the loss mask is derived from the
chat template and covers the end-of-turn token (render.py); rows with nothing to learn are refused and
listed; the base is fingerprinted; the adapter directory appears whole or not at all, and after saving
it is reloaded and must reproduce the in-memory logits and differ from the base (an empty or no-op
adapter is an error); an interrupted run resumes from its last checkpoint with optimizer, scheduler,
RNG state and data position.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from harness.inputs.data import load_table
from harness.core.errors import InputError, UsageError
from harness.inputs.eval_shapes import frequent_outputs
from harness.core.io import write_json_atomic
from harness.model.loading import load_base
from harness.core.outputs import input_paths, replaceable_adapter, writable_dir
from harness.inputs.data_spec import DataSpec, for_training
from harness.model.render import Encoded, TemplateDropsContent, encode_all, prompt_messages
from harness.core.results import ADAPTER_SCHEMA
from harness.model.scoring import masked_loss, option_tokens, pad_batch, pad_token_id, score_items
from harness.inputs.shapes import get_shape
from harness.training.train_config import TrainConfig
from harness.core.version import __version__

SCHEMA = ADAPTER_SCHEMA


class TrainingError(InputError):
    """A run that cannot produce a trustworthy adapter (exit 2, one line)."""


class Dist:
    """torchrun / accelerate launch: several processes, each a rank. Gradients of the LoRA weights (a
    few MB) are averaged with one all-reduce per step, batches are dealt by rank, and rank 0 alone
    writes checkpoints and the adapter. One process: all of this is a no-op."""

    def __init__(self, requested: str = "auto") -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.device = pick_device(requested, self.local_rank, self.world)
        if self.world > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl" if self.device.startswith("cuda") else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def average_gradients(self, params: list[torch.Tensor]) -> None:
        if self.world == 1:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat)
        flat /= self.world
        offset = 0
        for p, g in zip(params, grads):
            n = g.numel()
            p.grad = flat[offset:offset + n].view_as(p).clone()
            offset += n

    def in_sync(self, params: list[torch.Tensor]) -> bool:
        """Whether every rank ends with the same weights (a checksum compared across ranks)."""
        if self.world == 1:
            return True
        local = torch.stack([torch.cat([p.detach().double().reshape(-1) for p in params]).abs().sum(),
                             torch.cat([p.detach().double().reshape(-1) for p in params]).sum()]).cpu()
        gathered = [torch.zeros_like(local) for _ in range(self.world)]
        torch.distributed.all_gather(gathered, local)
        return all(torch.allclose(g, gathered[0], rtol=1e-9, atol=0) for g in gathered)

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def close(self) -> None:
        if self.world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def pick_device(requested: str, local_rank: int = 0, world: int = 1) -> str:
    """`device: auto` takes CUDA when visible, else Apple's MPS (one process only), else the CPU; a device
    asked for by name that is not there is a usage error (exit 2), never a silent fall back to the CPU."""
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if requested == "cuda" and not cuda:
        raise UsageError("device cuda: no CUDA device is visible (torch.cuda.is_available() is false)")
    if requested == "mps" and not mps:
        raise UsageError("device mps: Apple's Metal backend is not available here")
    if requested == "mps" and world > 1:
        raise UsageError("device mps: one process only (MPS has no multi-process backend)")
    if requested == "cuda" or (requested == "auto" and cuda):
        return f"cuda:{local_rank}"
    if requested == "mps" or (requested == "auto" and mps and world == 1):
        return "mps"
    return "cpu"


def _release_freed_memory() -> Callable[[], None]:
    """glibc keeps the freed activations of variable-length batches in fragmented arenas, so RSS creeps
    up after the first step; malloc_trim hands them back (measured on the built-in model: training peak
    3.4 GB -> 2.9 GB for ~10-15% more time, since the pages are faulted in again next step; on by
    default to keep the built-in model under 3 GB, `trim_memory: false` for speed).
    A no-op where glibc is not the allocator."""
    import ctypes
    import ctypes.util

    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


def length_grouped_batches(rows: list[Encoded], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffle, then sort by length inside windows of 50 batches and shuffle the batches: batches of
    similar lengths (little padding) in an order that still changes every epoch. Deterministic in
    (seed, epoch), so a resumed run sees the same batches."""
    rnd = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(rows)))
    rnd.shuffle(order)
    window = batch_size * 50
    batches = []
    for s in range(0, len(order), window):
        chunk = sorted(order[s:s + window], key=lambda i: len(rows[i].input_ids))
        batches += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
    rnd.shuffle(batches)
    return batches


def _rng_state() -> dict[str, Any]:
    return {"python": list(random.getstate()[1]), "python_pos": random.getstate()[2],
            "numpy": np.random.get_state()[1].tolist(), "numpy_pos": int(np.random.get_state()[2]),
            "torch": torch.get_rng_state()}


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate((3, tuple(state["python"]), state["python_pos"]))
    np.random.set_state(("MT19937", np.array(state["numpy"], dtype=np.uint32), state["numpy_pos"], 0, 0.0))
    torch.set_rng_state(state["torch"])


def _lora_state(model) -> dict[str, torch.Tensor]:
    from peft import get_peft_model_state_dict

    return {k: v.detach().clone() for k, v in get_peft_model_state_dict(model).items()}


def _never() -> bool:
    return False


@torch.no_grad()
def evaluate(model, rows: list[Encoded], batch_size: int, pad_id: int,
             should_stop: Callable[[], bool] = _never) -> float:
    """Held-out loss; `should_stop()` is asked between batches, so SIGTERM is honoured within a batch."""
    model.eval()
    total, count = 0.0, 0
    device = next(model.parameters()).device
    for s in range(0, len(rows), batch_size):
        if should_stop():
            model.train()
            raise KeyboardInterrupt
        ids, labels, mask = (t.to(device) for t in pad_batch(rows[s:s + batch_size], pad_id))
        loss, n = masked_loss(model, ids, labels, mask)
        total += float(loss) * n
        count += n
    model.train()
    return total / max(count, 1)


def classification_accuracy(model, tokenizer, examples, shape, cfg: TrainConfig, labels: list[str],
                            should_stop: Callable[[], bool] = _never, chunk: int = 16) -> float:
    """Label accuracy by the log-likelihood of each label as the answer (see classification_eval)."""
    return classification_eval(model, tokenizer, examples, shape, cfg, labels, should_stop, chunk)[0]


@torch.no_grad()
def classification_eval(model, tokenizer, examples, shape, cfg: TrainConfig, labels: list[str],
                        should_stop: Callable[[], bool] = _never, chunk: int = 16) -> tuple[float, float]:
    """(label accuracy, held-out loss) in one pass through compare's batched, prefix-sharing scorer
    (scoring.score_items): scoring one row at a time took most of an epoch's wall time, and the loss is
    the gold label's own score (its supervised tokens, end-of-turn included, as in training), so no
    second forward pass over the eval rows is needed. `should_stop()` is asked between chunks of rows,
    so SIGTERM is honoured within seconds."""
    model.eval()
    pad = pad_token_id(tokenizer)
    hits, logprob, tokens = 0, 0.0, 0
    try:
        for s in range(0, len(examples), chunk):
            if should_stop():
                raise KeyboardInterrupt
            part = examples[s:s + chunk]
            items = [option_tokens(tokenizer, prompt_messages(ex, shape, cfg.prompt_template, labels, cfg.system),
                                   labels, cfg.max_seq_len * 4) for ex in part]
            scores = score_items(model, items, pad)
            for (_, _, scored), sc, ex in zip(items, scores, part):
                hits += labels[int(np.argmax(sc))] == ex.label
                if ex.label in labels:
                    gold = labels.index(ex.label)
                    logprob += sc[gold]
                    tokens += sum(scored[gold])
    finally:
        model.train()
    return hits / max(len(examples), 1), -logprob / max(tokens, 1)


def eval_sample(examples: list[Any], max_rows: int | None, seed: int) -> list[Any]:
    """At most max_rows eval rows, drawn with the seed and kept in file order: a per-epoch eval is a
    measurement, and 200 rows give accuracy within about +-0.07 (95%) at a fraction of an epoch's cost."""
    if not max_rows or len(examples) <= max_rows:
        return list(examples)
    keep = sorted(random.Random(seed).sample(range(len(examples)), max_rows))
    return [examples[i] for i in keep]


@dataclass
class Run:
    """Everything one training run holds between its three parts (prepare, loop, finish): the config,
    the data as token rows, the model and its optimizer, and `state`, the part a checkpoint saves."""

    cfg: TrainConfig
    out: Path
    dist: Dist
    base_model: Any
    model: Any
    tokenizer: Any
    train_table: Any
    eval_table: Any
    eval_examples: list[Any]
    chosen: dict[str, Any]
    shape: str
    labels: list[str]
    rows: list[Encoded]
    eval_rows: list[Encoded]
    refused: list[dict[str, Any]]
    pad_id: int
    params: list[torch.Tensor]
    optimizer: Any
    scheduler: Any
    total_steps: int
    state: dict[str, Any] = field(default_factory=lambda: {
        "step": 0, "epoch": 0, "batch": 0, "losses": [], "evals": [], "best": None, "bad_epochs": 0,
        "tokens": 0, "body_tokens": 0, "train_seconds": 0.0})
    spec: DataSpec | None = None       # the data spec trained with (harness/inputs/data_spec.py), kept in the manifest
    best_lora: dict[str, torch.Tensor] | None = None

    @property
    def partial(self) -> Path:
        return self.out.with_name(self.out.name + ".partial")

    def checkpoint(self) -> None:
        """Save what a resumed run needs (LoRA weights, optimizer, scheduler, RNG, data position)."""
        self.dist.barrier()
        if not self.dist.main:
            return
        self.partial.mkdir(parents=True, exist_ok=True)
        tmp = self.partial / "checkpoint.pt.tmp"
        torch.save({"config": self.cfg.to_dict(), "base": self.base_model.fingerprint.weights_sha256,
                    "lora": _lora_state(self.model), "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(), "rng": _rng_state(), "state": self.state,
                    "best_lora": self.best_lora}, tmp)
        os.replace(tmp, self.partial / "checkpoint.pt")

    def resume(self) -> None:
        """Pick up an interrupted run's checkpoint, if one was left for this config and base."""
        from peft import set_peft_model_state_dict

        ckpt = self.partial / "checkpoint.pt"
        if not ckpt.is_file():
            return
        saved = torch.load(ckpt, weights_only=True)
        if saved["config"] != self.cfg.to_dict() or saved["base"] != self.base_model.fingerprint.weights_sha256:
            raise InputError(self.partial, "a checkpoint from a different config or base is in the way; delete it to start over")
        set_peft_model_state_dict(self.model, saved["lora"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        _set_rng_state(saved["rng"])
        self.state = saved["state"]
        self.best_lora = saved.get("best_lora")


def train(base: str, train: Any, eval: Any = None, out: str | Path = "adapter", config: str | Path | None = None,
          audit: str | Path | None = None, allow_failed_audit: bool = False, overwrite: bool = False,
          on_step: Callable[[dict], None] | None = None, documents: Callable[[Path, dict], None] | None = None,
          spec: DataSpec | None = None, **overrides: Any) -> dict[str, Any]:
    """Train a LoRA adapter on `train` for `base`; returns the manifest written to OUT/manifest.json.

    spec: the data spec (harness/inputs/data_spec.py: shape, field mapping, max_seq_len, ...) the job's other
    stages use; the train config's own max_seq_len / shape / fields (its file, or `overrides`) go over it.
    The spec as trained with is recorded in the manifest (`data_spec`) and the config agrees with it.

    documents(directory, manifest), when given, adds files to the adapter directory before it is moved
    into place (the application's model card and report); the stage itself writes the adapter alone."""
    started = time.perf_counter()
    cfg = TrainConfig.load(config, overrides)
    spec = for_training(spec, cfg.to_dict())
    cfg = dataclasses.replace(cfg, max_seq_len=spec.max_seq_len, shape=spec.detected, fields=dict(spec.fields) or None)
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(out, "output directory exists (use --overwrite to replace it)")
    replaceable_adapter(out, input_paths(train, eval, config, audit, base))
    writable_dir(out.parent)
    verdict = _audit_verdict(audit, allow_failed_audit)
    run = prepare(base, train, eval, cfg, out, spec)
    run.resume()
    loop(run, on_step)
    return finish(run, started, verdict, audit, overwrite, documents)


def _audit_verdict(audit: str | Path | None, allow_failed_audit: bool) -> str | None:
    if not audit:
        return None
    try:
        verdict = json.loads(Path(audit).read_text(encoding="utf-8"))["verdict"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(audit, "not a readable audit.json") from None
    if verdict == "fail" and not allow_failed_audit:
        raise InputError(audit, "the audit verdict is fail; fix the data or pass --allow-failed-audit")
    return verdict


def prepare(base: str, train: Any, eval: Any, cfg: TrainConfig, out: Path, spec: DataSpec | None = None) -> Run:
    """Seeds, data as token rows (rows with nothing to learn refused), the base with LoRA attached, the
    optimizer and the schedule."""
    dist = Dist(cfg.device)
    # Every core, shared among the processes of a multi-process CPU run.
    torch.set_num_threads(cfg.threads or max(1, (os.cpu_count() or 1) // (dist.world if dist.device == "cpu" else 1)))
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)

    # ---- data ---------------------------------------------------------------------------------------
    spec = spec or DataSpec.from_mapping({"max_seq_len": cfg.max_seq_len, "shape": cfg.shape or "auto",
                                          "fields": cfg.fields or {}}, "train config")
    # The spec's allowed labels, as the audit reads them: a row with another label is a schema error there
    # and is not trained on here; the model is taught to choose among all of them.
    train_table = load_table(train, "train", shape=cfg.shape, fields=cfg.fields, labels=spec.labels)
    # An eval set that mostly cannot be read in the training data's shape is refused, as in the audit.
    eval_reading = {**train_table.read_with, **({"fields": spec.eval_fields} if spec.eval_fields is not None else {})}
    eval_table = (load_table(eval, "eval", **eval_reading, max_bad_share=spec.eval_max_bad_share)
                  if eval is not None else None)
    shape = train_table.shape
    labels = (sorted(spec.labels or {ex.label for ex in train_table.examples}) if get_shape(shape).labelled
              else [])
    eval_examples = eval_sample(eval_table.examples, cfg.eval_max_rows, cfg.seed) if eval_table is not None else []
    dtype = None if cfg.dtype == "auto" else getattr(torch, cfg.dtype)
    base_model = load_base(base, dtype=dtype, device=dist.device, quantize=cfg.quantize)
    model, tokenizer = base_model.model, base_model.tokenizer
    # Settings that depend on the base's size are filled in now; the manifest says what and why.
    # num_parameters counts a 4-bit base's packed weights at their real size (numel() would halve them).
    cfg, chosen = cfg.resolved(model.num_parameters(), model.config.model_type)
    pad_id = pad_token_id(tokenizer)
    try:
        rows, refused = encode_all(train_table.examples, shape, tokenizer, cfg.max_seq_len, cfg.prompt_template,
                                   labels, cfg.system)
    except TemplateDropsContent as exc:
        raise InputError(train_table.source, exc.reason, exc.line) from None
    if not rows:
        raise TrainingError(train_table.source, f"no row has a supervised token within max_seq_len {cfg.max_seq_len}")
    eval_rows = []
    if eval_table is not None:
        try:
            eval_rows, eval_refused = encode_all(eval_examples, shape, tokenizer, cfg.max_seq_len,
                                                 cfg.prompt_template, labels, cfg.system)
        except TemplateDropsContent as exc:
            raise InputError(eval_table.source, exc.reason, exc.line) from None
        refused += eval_refused

    # ---- model --------------------------------------------------------------------------------------
    from peft import LoraConfig, get_peft_model
    from transformers import get_scheduler

    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=cfg.target_modules, task_type="CAUSAL_LM")
    if cfg.quantize:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.gradient_checkpointing)
    elif cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model = get_peft_model(model, lora)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    batches_per_rank = math.ceil(len(rows) / cfg.batch_size) // dist.world
    steps_per_epoch = math.ceil(batches_per_rank / cfg.grad_accum)
    if steps_per_epoch < 1:
        raise TrainingError(train_table.source, f"too few rows for {dist.world} processes of batch size {cfg.batch_size}")
    total_steps = min(cfg.max_steps or 10**12, steps_per_epoch * cfg.epochs)
    scheduler = get_scheduler(cfg.schedule, optimizer, num_warmup_steps=int(cfg.warmup_ratio * total_steps),
                              num_training_steps=total_steps)
    return Run(cfg=cfg, out=out, dist=dist, base_model=base_model, model=model, tokenizer=tokenizer,
               train_table=train_table, eval_table=eval_table, eval_examples=eval_examples, chosen=chosen,
               shape=shape, labels=labels, rows=rows, eval_rows=eval_rows, refused=refused, pad_id=pad_id,
               params=params, optimizer=optimizer, scheduler=scheduler, total_steps=total_steps, spec=spec)


def _stop_at_safe_points(interrupted: dict[str, bool]) -> dict[int, Any]:
    """SIGTERM and the first Ctrl-C set a flag the loop reads after each optimizer step and between
    eval batches (a checkpoint is saved there, so the run resumes exactly); a second Ctrl-C stops at
    once. Returns the handlers to restore. Outside the main thread signals cannot be caught: no-op."""
    def soft(signum, frame):
        if interrupted["flag"] and signum == signal.SIGINT:
            raise KeyboardInterrupt
        interrupted["flag"] = True

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, soft)
        except (ValueError, OSError):  # not the main thread
            pass
    return {k: v for k, v in previous.items() if v is not None}


def loop(run: Run, on_step: Callable[[dict], None] | None = None) -> None:
    """The training loop, top to bottom: batches of similar lengths, gradient accumulation, one optimizer
    step per chunk, a checkpoint every `checkpoint_every` steps and at each epoch's end; held-out loss
    (and accuracy) per epoch, early stopping, the best epoch's weights kept. SIGTERM and Ctrl-C save a
    checkpoint and stop."""
    cfg, dist, state, rows = run.cfg, run.dist, run.state, run.rows
    model, params, optimizer, scheduler = run.model, run.params, run.optimizer, run.scheduler
    release = _release_freed_memory() if cfg.trim_memory and dist.device == "cpu" else (lambda: None)
    interrupted = {"flag": False}
    previous = _stop_at_safe_points(interrupted)
    try:
        stop = False
        while state["epoch"] < cfg.epochs and not stop:
            batches = length_grouped_batches(rows, cfg.batch_size, cfg.seed, state["epoch"])
            usable = len(batches) // dist.world * dist.world  # every rank takes the same number of steps
            batches = batches[dist.rank:usable:dist.world]
            t0 = time.perf_counter()
            # A run resumed after its last step (stopped during the eval that follows) trains no further step.
            while state["batch"] < len(batches) and state["step"] < run.total_steps:
                chunk = batches[state["batch"]: state["batch"] + cfg.grad_accum]
                supervised = sum(rows[i].supervised for b in chunk for i in b)
                chunk_loss = 0.0
                for b in chunk:  # gradient accumulation: one optimizer step per chunk of batches
                    ids, labels_t, mask = (t.to(dist.device) for t in pad_batch([rows[i] for i in b], run.pad_id))
                    loss, n = masked_loss(model, ids, labels_t, mask, reduction="sum")
                    (loss.sum() / supervised).backward()
                    chunk_loss += float(loss.detach().sum())
                    state["tokens"] += n
                    state["body_tokens"] += ids.numel()
                dist.average_gradients(params)
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                release()
                state["batch"] += len(chunk)
                state["step"] += 1
                state["losses"].append({"step": state["step"], "epoch": state["epoch"],
                                        "loss": round(chunk_loss / supervised, 5),
                                        "lr": scheduler.get_last_lr()[0]})
                if on_step:
                    on_step({**state["losses"][-1], "total_steps": run.total_steps, "tokens": state["tokens"],
                             "body_tokens": state["body_tokens"]})
                if state["step"] % cfg.checkpoint_every == 0 or interrupted["flag"]:
                    state["train_seconds"] += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    run.checkpoint()
                if interrupted["flag"]:
                    raise KeyboardInterrupt
                if state["step"] >= run.total_steps:
                    stop = True
                    break
            stop = stop or state["step"] >= run.total_steps
            state["train_seconds"] += time.perf_counter() - t0
            # ---- end of epoch: held-out loss (and accuracy), early stopping, best adapter kept ---------
            record: dict[str, Any] = {"epoch": state["epoch"] + 1, "step": state["step"]}
            if run.eval_rows:
                stopping = lambda: interrupted["flag"]  # noqa: E731
                t_eval = time.perf_counter()
                if get_shape(run.shape).labelled and cfg.eval_accuracy:
                    accuracy, loss = classification_eval(model, run.tokenizer, run.eval_examples, run.shape, cfg,
                                                         run.labels, stopping)
                    record["eval_accuracy"], record["eval_loss"] = round(accuracy, 4), round(loss, 5)
                else:
                    record["eval_loss"] = round(evaluate(model, run.eval_rows, cfg.batch_size, run.pad_id, stopping), 5)
                record["eval_seconds"] = round(time.perf_counter() - t_eval, 2)
                if state["best"] is None or record["eval_loss"] < state["best"]:
                    state["best"], state["bad_epochs"], run.best_lora = record["eval_loss"], 0, _lora_state(model)
                    record["best"] = True
                else:
                    state["bad_epochs"] += 1
                    if state["bad_epochs"] >= cfg.early_stopping_patience:
                        record["early_stop"] = True
                        stop = True
            state["evals"].append(record)
            state["epoch"] += 1
            state["batch"] = 0
            run.checkpoint()
    except KeyboardInterrupt:
        run.checkpoint()
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    dist.barrier()


def finish(run: Run, started: float, verdict: str | None, audit: str | Path | None, overwrite: bool,
           documents: Callable[[Path, dict], None] | None = None) -> dict[str, Any]:
    """The best epoch's weights, the manifest, and (rank 0) the adapter written, verified and moved into
    place whole; the checkpoint is dropped once the adapter is there."""
    from peft import set_peft_model_state_dict

    if run.best_lora is not None:
        set_peft_model_state_dict(run.model, run.best_lora)
    run.model.eval()
    state, dist = run.state, run.dist
    manifest = {
        "schema": ADAPTER_SCHEMA, "harness_version": __version__, "base": run.base_model.fingerprint.to_dict(),
        "data": {"train": run.train_table.card(), "eval": run.eval_table.card() if run.eval_table else None,
                 "eval_rows_used": len(run.eval_examples),
                 "shape": run.shape, "labels": run.labels, "refused_rows": run.refused,
                 "truncated_rows": sum(r.truncated for r in run.rows),
                 # a generative task's short repeated answers: compare measures collapse onto them without --train
                 "outputs": [] if get_shape(run.shape).labelled else frequent_outputs(run.train_table.examples)},
        "data_spec": (run.spec or DataSpec()).to_dict(),
        "audit_verdict": verdict, "audit_path": str(audit) if audit else None, "config": run.cfg.to_dict(),
        "chosen": run.chosen, "device": dist.device,
        "seed": run.cfg.seed, "versions": _versions(), "losses": state["losses"], "evals": state["evals"],
        "steps": state["step"], "supervised_tokens": state["tokens"], "body_tokens": state["body_tokens"],
        "tokens_per_second": round(state["tokens"] / max(state["train_seconds"], 1e-9), 1),
        "train_seconds": round(state["train_seconds"], 2), "processes": dist.world,
        "ranks_in_sync": dist.in_sync(run.params),
    }
    if not dist.main:  # rank 0 writes and verifies the adapter
        dist.barrier()
        dist.close()
        return manifest
    try:
        _save_adapter(run.model, run.tokenizer, run.rows, run.pad_id, run.out, manifest, overwrite, documents)
        shutil.rmtree(run.partial, ignore_errors=True)
        manifest["wall_seconds"] = round(time.perf_counter() - started, 2)
        write_json_atomic(run.out / "manifest.json", manifest)
    finally:
        dist.barrier()
        dist.close()
    return manifest


def _save_adapter(model, tokenizer, rows: list[Encoded], pad_id: int, out: Path, manifest: dict,
                  overwrite: bool, documents: Callable[[Path, dict], None] | None = None) -> None:
    """Write the adapter into a temporary sibling, verify it by reloading, then move it into place."""
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)  # the chat template used in training travels with the adapter
        device = next(model.parameters()).device
        probe = [t.to(device) for t in pad_batch(rows[: min(4, len(rows))], pad_id)]
        with torch.no_grad():
            tuned = model(input_ids=probe[0], attention_mask=probe[2]).logits
            with model.disable_adapter():
                plain = model(input_ids=probe[0], attention_mask=probe[2]).logits
            # Reload the written files through peft's own loader as a second adapter on the same base
            # (no second copy of the base in memory) and compare.
            model.load_adapter(str(tmp), adapter_name="saved_check")
            model.set_adapter("saved_check")
            again = model(input_ids=probe[0], attention_mask=probe[2]).logits
            model.set_adapter("default")
            model.delete_adapter("saved_check")
        if not torch.allclose(tuned, again, atol=1e-4, rtol=1e-4):
            raise TrainingError(out, "the saved adapter does not reproduce the trained model's logits")
        delta = float((tuned - plain).abs().max())
        if delta < 1e-6:
            raise TrainingError(out, "the adapter changes nothing (logits equal the base's): nothing was learned")
        manifest["verification"] = {"reload_max_abs_diff": float((tuned - again).abs().max()),
                                    "base_max_abs_diff": delta}
        if documents is not None:
            documents(tmp, manifest)
        # The files this run wrote: what a later --overwrite may replace (harness/core/outputs.py).
        manifest["files"] = sorted({p.name for p in tmp.iterdir()} | {"manifest.json"})
        write_json_atomic(tmp / "manifest.json", manifest)
        old = None
        if out.exists() and overwrite:
            # The old adapter is moved aside, not deleted, until the new one is in place.
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        try:
            os.replace(tmp, out)
        except BaseException:
            if old is not None:
                os.replace(old, out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _versions() -> dict[str, str]:
    import peft
    import transformers

    return {"harness": __version__, "torch": torch.__version__, "transformers": transformers.__version__,
            "peft": peft.__version__}
