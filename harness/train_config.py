"""The trainer's configuration: one flat dataclass (nanoGPT style), read from YAML, overridable by flags,
saved with every checkpoint and in the adapter's manifest."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .config_schema import check_tree
from .errors import UsageError
from .hints import did_you_mean
from .io import read_yaml_mapping
from .render import DEFAULT_PROMPT

# LoRA targets per architecture when the config names none (PEFT's own defaults for these families).
DEFAULT_TARGETS = {"llama": ["q_proj", "v_proj"], "mistral": ["q_proj", "v_proj"], "qwen2": ["q_proj", "v_proj"],
                   "gemma": ["q_proj", "v_proj"], "phi3": ["qkv_proj"], "gpt2": ["c_attn"]}


# transformers' scheduler names (SchedulerType; tests/test_trainer.py keeps this list equal to it).
SCHEDULES = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
             "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "cosine_warmup_with_min_lr",
             "warmup_stable_decay", "greedy")

# Type and range of every key (harness/config_schema.py), checked before a model loads.
RULES = {
    "lora_r": "int >=1", "lora_alpha": "int >=1", "lora_dropout": "float >=0 <1",
    "target_modules": "null|list[str]", "lr": "float >0 <1", "schedule": "enum " + "|".join(SCHEDULES),
    "warmup_ratio": "float 0..1", "weight_decay": "float >=0", "epochs": "int >=1", "max_steps": "null|int >=1",
    "batch_size": "int >=1", "grad_accum": "int >=1", "max_seq_len": "int >=1", "seed": "int >=0",
    "early_stopping_patience": "int >=0", "checkpoint_every": "int >=1", "prompt_template": "str",
    "system": "null|str", "threads": "null|int >=1", "gradient_checkpointing": "bool", "trim_memory": "bool",
}


@dataclass
class TrainConfig:
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: list[str] | None = None
    lr: float = 2e-4
    schedule: str = "cosine"          # any transformers scheduler name: linear, cosine, constant_with_warmup, ...
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    epochs: int = 3
    max_steps: int | None = None       # stop after this many optimizer steps (overrides epochs when reached)
    batch_size: int = 8
    grad_accum: int = 1
    max_seq_len: int = 256
    seed: int = 0
    early_stopping_patience: int = 2   # epochs without a better eval loss before stopping
    checkpoint_every: int = 50         # optimizer steps between resumable checkpoints
    prompt_template: str = DEFAULT_PROMPT
    system: str | None = None
    threads: int | None = None         # torch threads; default: every core
    gradient_checkpointing: bool = False  # recompute activations in backward: less memory, ~35% more compute
    trim_memory: bool = True           # CPU: return freed activation memory to the OS every step (~0.5 GB less
                                       # peak RSS on the built-in model, ~10-15% slower: pages are faulted in again)

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

    def targets_for(self, model_type: str) -> list[str]:
        if self.target_modules:
            return list(self.target_modules)
        return DEFAULT_TARGETS.get(model_type, ["q_proj", "v_proj"])
