"""Trainer benchmark: this trainer against TRL's SFTTrainer (the peer users compare with: completion-only
loss on prompt/completion rows, the same peft LoRA config, learning rate, schedule and sequence length)
and a plain Hugging Face baseline (transformers Trainer + peft, padding to max length, loss on all
tokens), on the same rows and model, side by side in one run. Prints supervised (answer) tokens per
second, the ratio, peak RSS, the achieved matmul FLOP/s as a share of this machine's fp32 matmul peak
measured in the same run, and each adapter's held-out loss and label accuracy after the same steps
(scored by one scorer: harness.training.trainer.evaluate and classification_accuracy).

    python bench/bench_train.py                       # built-in SmolLM2-135M, 24 steps of 8 rows
    python bench/bench_train.py --steps 30 --rows 240

Training rows: the shipped ticket example without its planted defects; held-out rows: its eval rows
that are not planted leaks. Each trainer runs in its own process (its own peak RSS).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rows(n: int) -> list[dict]:
    sys.path.insert(0, str(ROOT / "bench"))
    from acceptance_train import clean_rows

    data = clean_rows(10**6)
    return (data * (n // len(data) + 1))[:n]


def held_out(n: int) -> list[dict]:
    truth = json.loads((ROOT / "examples" / "tickets" / "truth.json").read_text())
    leaked = {leak["eval_line"] for leak in truth["leaks"]}
    lines = (ROOT / "examples" / "tickets" / "eval.jsonl").read_text().splitlines()
    return [json.loads(line) for i, line in enumerate(lines, 1) if i not in leaked][:n]


def lora_settings(args) -> dict:
    """The LoRA and optimiser settings every trainer here uses: our trainer's defaults for this base."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from harness.model.loading import resolve
    from harness.training.train_config import TrainConfig

    config = AutoConfig.from_pretrained(str(resolve(args.base)[1]))
    with torch.device("meta"):  # the parameter count without loading weights (peak RSS stays the trainer's)
        model = AutoModelForCausalLM.from_config(config)
    cfg, _ = TrainConfig().resolved(model.num_parameters(), config.model_type)
    return {"r": cfg.lora_r, "alpha": cfg.lora_alpha, "dropout": cfg.lora_dropout, "targets": cfg.target_modules,
            "lr": cfg.lr, "schedule": cfg.schedule, "warmup_ratio": cfg.warmup_ratio}


def score_held_out(model, tokenizer, args) -> dict:
    """Held-out loss and label accuracy of a trained model, the same scorer for every trainer."""
    from harness.inputs.data import load_table
    from harness.model.render import DEFAULT_PROMPT, encode_all
    from harness.model.scoring import pad_token_id
    from harness.training.train_config import TrainConfig
    from harness.training.trainer import classification_accuracy, evaluate

    labels = sorted({r["label"] for r in rows(args.rows)})
    examples = load_table(held_out(args.eval_rows), "eval").examples
    cfg = TrainConfig(max_seq_len=args.max_seq_len)
    enc, _ = encode_all(examples, "classification", tokenizer, args.max_seq_len, DEFAULT_PROMPT, labels)
    t0 = time.perf_counter()
    loss = evaluate(model, enc, 8, pad_token_id(tokenizer))
    acc = classification_accuracy(model, tokenizer, examples, "classification", cfg, labels)
    return {"eval_loss": round(loss, 4), "eval_accuracy": round(acc, 4), "eval_rows": len(examples),
            "eval_seconds": round(time.perf_counter() - t0, 1)}


def _rss_mb() -> float:
    """Peak RSS of this process so far: taken right after training, before held-out scoring loads more."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def device() -> str:
    """Where every trainer here runs: CUDA when visible (bf16, as our trainer's `dtype: auto` picks), else CPU."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def matmul_peak(seconds: float = 3.0) -> tuple[float, str]:
    """GEMM FLOP/s of this machine in the dtype the trainers compute in (the roof they all work under):
    fp32 1024^3 with torch's own threads on a CPU, bf16 8192^3 on a GPU."""
    import torch

    dev = device()
    n_dim, dtype = (8192, torch.bfloat16) if dev == "cuda" else (1024, torch.float32)
    a, b = torch.randn(n_dim, n_dim, device=dev, dtype=dtype), torch.randn(n_dim, n_dim, device=dev, dtype=dtype)
    for _ in range(3):
        a @ b
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    sync()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        n += 1
        sync()
    label = f"{str(dtype).replace('torch.', '')} {n_dim}^3 GEMM on {dev}"
    return 2 * n_dim**3 * n / (time.perf_counter() - t0), label


def model_flops(base, tokens_body: int, tokens_head: int) -> float:
    """Matmul FLOPs of forward + backward (input gradients only: the base is frozen) for a LoRA run:
    2 * params per token through the body, 2 * vocab * hidden per position through the output layer,
    times 2 for the backward pass."""
    cfg = base.config
    head = cfg.vocab_size * cfg.hidden_size
    body = sum(p.numel() for n, p in base.named_parameters() if "embed" not in n and "lm_head" not in n)
    return 2 * (2 * body * tokens_body + 2 * head * tokens_head)


def run_ours(args) -> dict:
    from harness.training.trainer import train

    out = Path(args.work) / "ours"
    t0 = time.perf_counter()
    seen_tokens = []
    lo = lora_settings(args)
    m = train(args.base, rows(args.rows), None, out=out, overwrite=True, max_steps=args.steps, epochs=100,
              batch_size=args.batch_size, max_seq_len=args.max_seq_len, lr=lo["lr"], checkpoint_every=10**6,
              gradient_checkpointing=args.gradient_checkpointing, trim_memory=args.trim_memory,
              on_step=lambda s: seen_tokens.append(s))
    wall = time.perf_counter() - t0
    train_rss = _rss_mb()
    from peft import PeftModel

    from harness.model.loading import load_base

    base = load_base(args.base, device=device())
    model = PeftModel.from_pretrained(base.model, str(out)).eval()
    return {"supervised_tokens": m["supervised_tokens"], "train_seconds": m["train_seconds"], "wall_s": wall,
            "body_tokens": m["body_tokens"], "head_tokens": m["supervised_tokens"], "lora": lo,
            "train_peak_rss_mb": train_rss, **score_held_out(model, base.tokenizer, args)}


def run_trl(args) -> dict:
    """TRL's SFTTrainer as its docs set it up for prompt/completion data: conversational rows (the same
    messages our trainer renders), loss on the completion only, dynamic padding per batch. Padding-free
    batches are left off: without flash-attention (CPU) TRL documents that they mix examples' attention."""
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from harness.inputs.data import load_table
    from harness.model.loading import load_base
    from harness.model.render import DEFAULT_PROMPT, encode_all, prompt_messages

    lo = lora_settings(args)
    base = load_base(args.base, device=device())  # bf16 weights on a GPU, as our trainer loads them
    tok = base.tokenizer
    examples = load_table(rows(args.rows), "train").examples
    labels = sorted({e.label for e in examples})
    data = Dataset.from_list([{"prompt": prompt_messages(e, "classification", DEFAULT_PROMPT, labels),
                               "completion": [{"role": "assistant", "content": e.label}]} for e in examples])
    config = SFTConfig(output_dir=str(Path(args.work) / "trl"), per_device_train_batch_size=args.batch_size,
                       max_steps=args.steps, learning_rate=lo["lr"], lr_scheduler_type=lo["schedule"],
                       warmup_steps=int(lo["warmup_ratio"] * args.steps), max_grad_norm=1.0, logging_steps=10**6, save_strategy="no",
                       report_to=[], use_cpu=device() == "cpu", bf16=device() == "cuda", dataloader_num_workers=0,
                       max_length=args.max_seq_len, completion_only_loss=True, packing=False, padding_free=False,
                       seed=0)
    peft_config = LoraConfig(r=lo["r"], lora_alpha=lo["alpha"], lora_dropout=lo["dropout"],
                             target_modules=lo["targets"], task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=base.model, args=config, train_dataset=data, processing_class=tok,
                         peft_config=peft_config)
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0
    train_rss = _rss_mb()
    # Supervised tokens: the positions TRL's own collator leaves in the loss (labels != -100), per row,
    # times the rows it saw (steps x batch; its order is unknown here, so the mean per row).
    dataset = trainer.train_dataset
    batch = trainer.data_collator([dataset[i] for i in range(len(dataset))])
    per_row = float((batch["labels"] != -100).sum()) / len(dataset)
    seen = args.steps * args.batch_size
    lengths = dataset["input_ids"]
    ours, _ = encode_all(examples, "classification", tok, args.max_seq_len, DEFAULT_PROMPT, labels)
    model = trainer.model.eval()
    return {"supervised_tokens": int(per_row * seen), "train_seconds": seconds, "wall_s": seconds,
            "body_tokens": int(sum(len(x) for x in lengths) / len(lengths) * seen),
            "head_tokens": int(sum(len(x) for x in lengths) / len(lengths) * seen), "lora": lo,
            "supervised_per_row": round(per_row, 2), "train_peak_rss_mb": train_rss,
            "ours_supervised_per_row": round(sum(e.supervised for e in ours) / len(ours), 2),
            **score_held_out(model, tok, args)}


def run_baseline(args) -> dict:
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    from harness.inputs.data import load_table
    from harness.model.loading import load_base
    from harness.model.render import encode_all, to_messages

    base = load_base(args.base, device=device())
    tok = base.tokenizer
    examples = load_table(rows(args.rows), "train").examples
    labels = sorted({e.label for e in examples})
    from harness.model.render import DEFAULT_PROMPT

    texts = [tok.apply_chat_template(to_messages(e, "classification", DEFAULT_PROMPT, labels), tokenize=False)
             for e in examples]
    enc = tok(texts, padding="max_length", truncation=True, max_length=args.max_seq_len)
    dataset = [{"input_ids": i, "attention_mask": a} for i, a in zip(enc["input_ids"], enc["attention_mask"])]
    lo = lora_settings(args)
    model = get_peft_model(base.model, LoraConfig(r=lo["r"], lora_alpha=lo["alpha"], lora_dropout=lo["dropout"],
                                                  target_modules=lo["targets"], task_type="CAUSAL_LM"))
    model.train()
    targs = TrainingArguments(output_dir=str(Path(args.work) / "baseline"), per_device_train_batch_size=args.batch_size,
                              max_steps=args.steps, learning_rate=lo["lr"], lr_scheduler_type=lo["schedule"],
                              warmup_steps=int(lo["warmup_ratio"] * args.steps), logging_steps=10**6, save_strategy="no",
                              report_to=[], use_cpu=device() == "cpu", bf16=device() == "cuda", dataloader_num_workers=0)
    trainer = Trainer(model=model, args=targs, train_dataset=dataset,
                      data_collator=DataCollatorForLanguageModeling(tok, mlm=False))
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0
    train_rss = _rss_mb()
    # Useful tokens: the same supervised (answer) tokens our trainer learns from, in the rows it saw.
    ours, _ = encode_all(examples, "classification", tok, args.max_seq_len, DEFAULT_PROMPT, labels)
    per_row = sum(e.supervised for e in ours) / len(ours)
    seen = args.steps * args.batch_size
    return {"supervised_tokens": int(per_row * seen), "train_seconds": seconds, "wall_s": seconds,
            "body_tokens": seen * args.max_seq_len, "head_tokens": seen * args.max_seq_len,
            "train_peak_rss_mb": train_rss, **score_held_out(model.eval(), tok, args)}


RUNNERS = {"ours": run_ours, "trl": run_trl, "baseline": run_baseline}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--which", choices=list(RUNNERS))
    ap.add_argument("--base", default="smollm2-135m-instruct")
    ap.add_argument("--rows", type=int, default=96)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--eval-rows", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-seq-len", type=int, default=192)
    ap.add_argument("--work", default=str(ROOT / "bench" / "results" / "train"))
    ap.add_argument("--gradient-checkpointing", action="store_true", help="our trainer with activation recomputation")
    ap.add_argument("--no-trim-memory", dest="trim_memory", action="store_false",
                    help="our trainer keeping freed memory (faster, higher peak RSS)")
    args = ap.parse_args()
    if args.which:
        out = RUNNERS[args.which](args)
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return
    from harness.model.loading import load_base

    peak, how = matmul_peak()
    counted = load_base(args.base).model  # for FLOP counting only, in this parent process
    import torch

    where = torch.cuda.get_device_name() if device() == "cuda" else platform.processor() or platform.machine()
    print(f"device: {where}; matmul peak ({how}): {peak / 1e9:.1f} GFLOP/s")
    print(f"{args.steps} steps x {args.batch_size} rows, max_seq_len {args.max_seq_len}, base {args.base}")
    res = {}
    for which in RUNNERS:
        cmd = [sys.executable, __file__, "--which", which, "--base", args.base, "--rows", str(args.rows), "--steps",
               str(args.steps), "--eval-rows", str(args.eval_rows), "--batch-size", str(args.batch_size), "--max-seq-len", str(args.max_seq_len),
               "--work", args.work] + (["--gradient-checkpointing"] if args.gradient_checkpointing else []) \
            + ([] if args.trim_memory else ["--no-trim-memory"])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(which, "failed:", (proc.stderr.strip().splitlines() or ["?"])[-1])
            continue
        res[which] = r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["tok_s"] = r["supervised_tokens"] / r["train_seconds"]
        r["flops"] = model_flops(counted, r["body_tokens"], r["head_tokens"])
        r["flops_share"] = r["flops"] / r["train_seconds"] / peak
        print(f"{which:9s} supervised tok/s {r['tok_s']:8.1f}  train {r['train_seconds']:6.1f} s  "
              f"peak RSS {r['train_peak_rss_mb']:6.0f} MB  matmul {r['flops'] / r['train_seconds'] / 1e9:5.1f} GFLOP/s "
              f"({r['flops_share']:.0%} of peak)  held-out loss {r['eval_loss']:.3f} accuracy {r['eval_accuracy']:.3f} "
              f"({r['eval_rows']} rows)")
    if "ours" in res:
        print(f"LoRA r={res['ours']['lora']['r']} alpha={res['ours']['lora']['alpha']} on {res['ours']['lora']['targets']}, "
              f"lr {res['ours']['lora']['lr']:g} {res['ours']['lora']['schedule']} (our defaults for this base), same for all")
        for other in ("trl", "baseline"):
            if other in res:
                print(f"ratio (ours / {other}, supervised tok/s): {res['ours']['tok_s'] / res[other]['tok_s']:.2f}x")


if __name__ == "__main__":
    main()
