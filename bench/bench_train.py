"""Trainer benchmark: this trainer against a plain Hugging Face baseline (transformers Trainer + peft,
padding to max length, loss on all tokens) on the same rows, the same model and LoRA settings, side by
side in one run. Prints supervised (useful) tokens per second of each, the ratio, peak RSS, and the
achieved matmul FLOP/s as a share of this machine's fp32 matmul peak measured in the same run.

    python bench/bench_train.py                       # built-in SmolLM2-135M, 12 steps of 8 rows
    python bench/bench_train.py --steps 30 --rows 240

Each trainer runs in its own process (its own peak RSS).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rows(n: int) -> list[dict]:
    data = [json.loads(line) for line in open(ROOT / "examples" / "tickets" / "eval.jsonl", encoding="utf-8")]
    return (data * (n // len(data) + 1))[:n]


def matmul_peak(seconds: float = 3.0) -> float:
    """fp32 GEMM FLOP/s of this machine with torch's own threads (the roof both trainers work under)."""
    import torch

    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        n += 1
    return 2 * 1024**3 * n / (time.perf_counter() - t0)


def model_flops(base, tokens_body: int, tokens_head: int) -> float:
    """Matmul FLOPs of forward + backward (input gradients only: the base is frozen) for a LoRA run:
    2 * params per token through the body, 2 * vocab * hidden per position through the output layer,
    times 2 for the backward pass."""
    cfg = base.config
    head = cfg.vocab_size * cfg.hidden_size
    body = sum(p.numel() for n, p in base.named_parameters() if "embed" not in n and "lm_head" not in n)
    return 2 * (2 * body * tokens_body + 2 * head * tokens_head)


def run_ours(args) -> dict:
    from harness.trainer import train

    out = Path(args.work) / "ours"
    t0 = time.perf_counter()
    seen_tokens = []
    m = train(args.base, rows(args.rows), None, out=out, overwrite=True, max_steps=args.steps, epochs=100,
              batch_size=args.batch_size, max_seq_len=args.max_seq_len, lr=1e-4, checkpoint_every=10**6,
              gradient_checkpointing=args.gradient_checkpointing, trim_memory=args.trim_memory,
              on_step=lambda s: seen_tokens.append(s))
    wall = time.perf_counter() - t0
    return {"supervised_tokens": m["supervised_tokens"], "train_seconds": m["train_seconds"], "wall_s": wall,
            "body_tokens": m["body_tokens"], "head_tokens": m["supervised_tokens"]}


def run_baseline(args) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

    from harness.data import load_table
    from harness.models import load_base
    from harness.render import encode_all, to_messages

    base = load_base(args.base)
    tok = base.tokenizer
    examples = load_table(rows(args.rows), "train").examples
    labels = sorted({e.label for e in examples})
    from harness.render import DEFAULT_PROMPT

    texts = [tok.apply_chat_template(to_messages(e, "classification", DEFAULT_PROMPT, labels), tokenize=False)
             for e in examples]
    enc = tok(texts, padding="max_length", truncation=True, max_length=args.max_seq_len)
    dataset = [{"input_ids": i, "attention_mask": a} for i, a in zip(enc["input_ids"], enc["attention_mask"])]
    model = get_peft_model(base.model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05,
                                                  target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    model.train()
    targs = TrainingArguments(output_dir=str(Path(args.work) / "baseline"), per_device_train_batch_size=args.batch_size,
                              max_steps=args.steps, learning_rate=1e-4, logging_steps=10**6, save_strategy="no",
                              report_to=[], use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0)
    trainer = Trainer(model=model, args=targs, train_dataset=dataset,
                      data_collator=DataCollatorForLanguageModeling(tok, mlm=False))
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0
    # Useful tokens: the same supervised (answer) tokens our trainer learns from, in the rows it saw.
    ours, _ = encode_all(examples, "classification", tok, args.max_seq_len, DEFAULT_PROMPT, labels)
    per_row = sum(e.supervised for e in ours) / len(ours)
    seen = args.steps * args.batch_size
    return {"supervised_tokens": int(per_row * seen), "train_seconds": seconds, "wall_s": seconds,
            "body_tokens": seen * args.max_seq_len, "head_tokens": seen * args.max_seq_len}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--which", choices=["ours", "baseline"])
    ap.add_argument("--base", default="smollm2-135m-instruct")
    ap.add_argument("--rows", type=int, default=96)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-seq-len", type=int, default=192)
    ap.add_argument("--work", default=str(ROOT / "bench" / "results" / "train"))
    ap.add_argument("--gradient-checkpointing", action="store_true", help="our trainer with activation recomputation")
    ap.add_argument("--no-trim-memory", dest="trim_memory", action="store_false",
                    help="our trainer keeping freed memory (faster, higher peak RSS)")
    args = ap.parse_args()
    if args.which:
        out = {"ours": run_ours, "baseline": run_baseline}[args.which](args)
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return
    from harness.models import load_base

    peak = matmul_peak()
    counted = load_base(args.base).model  # for FLOP counting only, in this parent process
    print(f"fp32 matmul peak (1024^3 GEMM, torch threads): {peak / 1e9:.1f} GFLOP/s")
    print(f"{args.steps} steps x {args.batch_size} rows, max_seq_len {args.max_seq_len}, base {args.base}")
    res = {}
    for which in ("ours", "baseline"):
        cmd = [sys.executable, __file__, "--which", which, "--base", args.base, "--rows", str(args.rows), "--steps",
               str(args.steps), "--batch-size", str(args.batch_size), "--max-seq-len", str(args.max_seq_len),
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
              f"peak RSS {r['peak_rss_mb']:6.0f} MB  matmul {r['flops'] / r['train_seconds'] / 1e9:5.1f} GFLOP/s "
              f"({r['flops_share']:.0%} of peak)")
    if len(res) == 2:
        print(f"ratio (ours / baseline, supervised tok/s): {res['ours']['tok_s'] / res['baseline']['tok_s']:.2f}x")


if __name__ == "__main__":
    main()
