"""The trainer's configuration: one flat dataclass (nanoGPT style), read from YAML, overridable by flags,
saved with every checkpoint and in the adapter's manifest."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.core.config_schema import check_tree
from harness.core.errors import UsageError
from harness.core.hints import did_you_mean
from harness.core.io import read_yaml_mapping
from harness.model.render import DEFAULT_PROMPT

# LoRA targets per architecture when the config names none: every attention projection. On the built-in
# model (Llama-style), 2 epochs of 300 ticket rows at lr 2e-3 reached held-out accuracy 0.95 on q/k/v/o
# against 0.89 on PEFT's default q/v, for 12% more time (bench/RESULTS_defaults.md).
ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]
DEFAULT_TARGETS = {"llama": ATTENTION, "mistral": ATTENTION, "qwen2": ATTENTION, "gemma": ATTENTION,
                   "phi3": ["qkv_proj", "o_proj"], "gpt2": ["c_attn", "attn.c_proj"]}


def lr_rule(n_params: int) -> tuple[float, str]:
    """The LoRA learning rate for a base of this size. Small bases need a larger rate: on the built-in
    135M model, 2 epochs of 300 rows reached held-out accuracy 0.89 (tickets) and 0.955 (CLINC150, 10
    intents) at 2e-3, 0.80 and 0.94 at 1e-3, while 2e-4 (common for 7B-class models) underfits
    (bench/RESULTS_defaults.md); for 7B-65B bases the QLoRA paper (Dettmers et al. 2023) used 2e-4 up
    to 13B and 1e-4 above."""
    size = f"{n_params / 1e9:.2f}B" if n_params >= 1e9 else f"{n_params / 1e6:.0f}M"
    if n_params < 1_000_000_000:
        return 2e-3, f"base has {size} parameters (< 1B): 2e-3, measured in bench/RESULTS_defaults.md"
    if n_params <= 15_000_000_000:
        return 2e-4, f"base has {size} parameters (1B-15B): 2e-4, as QLoRA used for 7B-13B"
    return 1e-4, f"base has {size} parameters (> 15B): 1e-4, as QLoRA used for 33B-65B"


# transformers' scheduler names (SchedulerType; tests/test_trainer.py keeps this list equal to it).
SCHEDULES = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
             "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "cosine_warmup_with_min_lr",
             "warmup_stable_decay", "greedy")

# Type and range of every key (harness/core/config_schema.py), checked before a model loads.
RULES = {
    "lora_r": "int >=1", "lora_alpha": "int >=1", "lora_dropout": "float >=0 <1",
    "target_modules": "null|list[str]", "lr": "null|float >0 <1", "schedule": "enum " + "|".join(SCHEDULES),
    "warmup_ratio": "float 0..1", "weight_decay": "float >=0", "epochs": "int >=1", "max_steps": "null|int >=1",
    "batch_size": "int >=1", "grad_accum": "int >=1", "max_seq_len": "null|int >=1", "seed": "int >=0",
    "early_stopping_patience": "int >=0", "checkpoint_every": "int >=1", "prompt_template": "str",
    "system": "null|str", "threads": "null|int >=1", "gradient_checkpointing": "bool", "trim_memory": "bool",
    "device": "enum auto|cpu|cuda|mps", "dtype": "enum auto|float32|bfloat16|float16", "quantize": "null|enum 4bit",
    "eval_max_rows": "null|int >=1", "eval_accuracy": "bool", "shape": "null|str", "fields": "null|map",
    "fields.*": "str",
}


@dataclass
class TrainConfig:
    lora_r: int = 16                   # r 16 / alpha 32, 2 epochs: bench/RESULTS_defaults.md (the sweep of issue 17)
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] | None = None
    lr: float | None = None            # None: by the base's size (lr_rule below; the manifest says what and why)
    schedule: str = "cosine"          # any transformers scheduler name: linear, cosine, constant_with_warmup, ...
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    epochs: int = 2
    max_steps: int | None = None       # stop after this many optimizer steps (overrides epochs when reached)
    batch_size: int = 8
    grad_accum: int = 1
    max_seq_len: int | None = None     # None: the data spec's (harness/inputs/data_spec.py; 256 unless set); training
                                       # fills in the value it used, so a saved config always names it
    seed: int = 0
    early_stopping_patience: int = 2   # epochs without a better eval loss before stopping
    checkpoint_every: int = 50         # optimizer steps between resumable checkpoints
    prompt_template: str = DEFAULT_PROMPT
    system: str | None = None
    threads: int | None = None         # torch threads; default: every core
    gradient_checkpointing: bool = False  # recompute activations in backward: less memory, ~35% more compute
    trim_memory: bool = True           # CPU: return freed activation memory to the OS every step (~0.5 GB less
                                       # peak RSS on the built-in model, ~10-15% slower: pages are faulted in again)
    device: str = "auto"               # auto: CUDA if visible, else Apple MPS, else CPU
    dtype: str = "auto"                # auto: bfloat16 on a GPU that has it, else float32 (bf16 is far slower on CPUs)
    quantize: str | None = None        # "4bit": load the base in NF4 (QLoRA; CUDA + bitsandbytes, the [gpu] extra)
    eval_max_rows: int | None = 200    # per-epoch eval on at most this many eval rows, drawn with the seed
    eval_accuracy: bool = True         # classification: label accuracy per epoch besides the eval loss
    shape: str | None = None           # how to read the data, as the audit does (`--shape`; None: detected)
    fields: dict[str, str] | None = None  # canonical field -> your column, as the audit's `--field text=body`

    @classmethod
    def load(cls, path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> "TrainConfig":
        data: dict[str, Any] = dict(read_yaml_mapping(path, "train config")) if path else {}
        data.update({k: v for k, v in (overrides or {}).items() if v is not None})
        names = {f.name: f for f in dataclasses.fields(cls)}
        for key in data:
            if key not in names:
                raise UsageError(f"unknown train config key {key!r}{did_you_mean(key, names)}")
        check_tree(data, None, RULES, str(path) if path else "train config")
        cfg = cls(**data)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        check_tree(self.to_dict(), None, RULES, "train config")
        if "{text}" not in self.prompt_template:
            raise UsageError("train config: prompt_template must contain {text}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def resolved(self, n_params: int, model_type: str) -> tuple["TrainConfig", dict[str, dict[str, Any]]]:
        """This config with the size-dependent defaults filled in for a base of `n_params` parameters,
        and what was chosen and why (kept in the manifest)."""
        chosen: dict[str, dict[str, Any]] = {}
        lr = self.lr
        if lr is None:
            lr, why = lr_rule(n_params)
            chosen["lr"] = {"value": lr, "why": why}
        targets = self.target_modules
        if not targets:
            targets = DEFAULT_TARGETS.get(model_type, ATTENTION)
            chosen["target_modules"] = {"value": targets, "why": f"every attention projection of a {model_type} model "
                                                                  "(measured in bench/RESULTS_defaults.md)"}
        return dataclasses.replace(self, lr=lr, target_modules=list(targets)), chosen
