"""forgetting: did the adapter cost the base abilities it was not trained on?

Multiple-choice probe sets (suites/probes/*.jsonl, and the user's own) scored the way
lm-evaluation-harness scores them: each choice's summed log-probability after the context
(`acc`), and the same divided by the choice's length in characters (`acc_norm`). Per probe set: base
and tuned accuracy, flips right->wrong and wrong->right, an exact McNemar p-value (Holm-corrected across
probe sets), and a paired bootstrap interval of the change; the gate declares non-inferiority when the
interval's lower end stays above minus the margin (LoRA forgets less, but it does forget: Biderman et
al. 2024).
"""

from __future__ import annotations

import json
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from harness.comparing import stats
from harness.core.errors import InputError
from harness.model.scoring import pad_token_id, continuation_tokens, option_tokens, score_items
from harness.core.params import Params, param

from .base import HIGHER, Chart, Context, Suite, SuiteResult, metric, register

PROBE_DIR = Path(__file__).with_name("probes")


def read_probe_set(path: Path) -> list[dict[str, Any]]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"not JSON: {exc.msg}", number) from None
        choices, answer = rec.get("choices"), rec.get("answer")
        if not isinstance(rec.get("context"), str) or not isinstance(choices, list) or len(choices) < 2 \
                or not all(isinstance(c, str) and c for c in choices) or not isinstance(answer, int) \
                or not 0 <= answer < len(choices):
            raise InputError(path, "a probe item needs context (text), choices (two or more texts) and answer "
                                   "(the right choice's index)", number)
        items.append({**rec, "id": rec.get("id", f"{path.stem}-{number}"), "line": number})
    if not items:
        raise InputError(path, "no probe items")
    return items


def probe_sets(extra: list[str | Path] | None = None) -> dict[str, Path]:
    """Shipped probe sets plus the user's (a file, or a directory of *.jsonl), by name."""
    found = {p.stem: p for p in sorted(PROBE_DIR.glob("*.jsonl"))}
    for entry in extra or []:
        entry = Path(entry)
        if entry.is_dir():
            found.update({p.stem: p for p in sorted(entry.glob("*.jsonl"))})
        elif entry.is_file():
            found[entry.stem] = entry
        else:
            raise InputError(entry, "no such probe file or directory")
    return found


@dataclass(frozen=True)
class ForgettingParams(Params):
    format: Literal["text", "chat"] = param("text", "", "probe items as plain continuations, or as a user turn in the chat template")
    max_items: int = param(1000, ">=1", "items per probe set")
    probes: list[str] | None = param(None, "", "only these probe sets (by name); null: all shipped and given")


@register
class ForgettingSuite(Suite):
    name = "forgetting"
    order = 60
    charts = (Chart("intervals", "Probe accuracy, base (grey) vs tuned (blue, with 95% interval)", "metrics",
                    alt="probe accuracy", order=10, suffix=".accuracy"),)
    title = "Forgotten abilities"
    why = "A narrow fine-tune can quietly cost the general abilities the base was chosen for."
    version = 1
    limitations = ("Probe sets have ~110 items each: per-set intervals are about +-0.05 to +-0.09 wide; the pooled "
                   "figure is the tighter one.",)
    metrics = {"accuracy": HIGHER, "accuracy_norm": HIGHER}  # per probe set and pooled: forgetting.<probe>.accuracy, forgetting.all.accuracy
    Params = ForgettingParams

    def run(self, ctx: Context, params: ForgettingParams) -> SuiteResult:
        tok = ctx.pair.tokenizer
        pad = pad_token_id(tok)
        fmt, limit, only = params.format, params.max_items, params.probes
        sets = probe_sets(ctx.extra_probes or None)
        if only:
            sets = {k: v for k, v in sets.items() if k in set(only)}
        metrics: dict[str, Any] = {}
        info: dict[str, Any] = {"format": fmt, "probe_sets": {}}
        rows = []
        pooled: dict[str, dict[str, list]] = {v: {"base": [], "tuned": [], "chance": []} for v in ("accuracy", "accuracy_norm")}
        for name, path in sets.items():
            if name == "all":
                raise InputError(path, "a probe set may not be called 'all' (the name of the pooled figure)")
            items = read_probe_set(path)[:limit]
            if fmt == "chat":
                enc = [option_tokens(tok, [{"role": "user", "content": it["context"]}], it["choices"]) for it in items]
                keyed = [[p, r, s] for p, r, s in enc]
                compute = lambda model, its: score_items(model, its, pad)
            else:
                enc = [continuation_tokens(tok, it["context"], [" " + c for c in it["choices"]]) for it in items]
                keyed = [[p, r] for p, r in enc]
                compute = lambda model, its: score_items(model, [(p, r, None) for p, r in its], pad)
            scores = ctx.pair.both(self.key, f"mc_{fmt}", keyed, keyed, compute)
            truth = np.asarray([it["answer"] for it in items])
            lengths = [np.asarray([len(c) for c in it["choices"]], float) for it in items]
            for variant in ("accuracy", "accuracy_norm"):
                ok = {}
                for side in ("base", "tuned"):
                    pick = [int(np.argmax(np.asarray(s) / (ln if variant == "accuracy_norm" else 1.0)))
                            for s, ln in zip(scores[side], lengths)]
                    ok[side] = np.asarray(pick) == truth
                chance = [1 / len(it["choices"]) for it in items]
                metrics[f"{name}.{variant}"] = self._paired(ok["base"], ok["tuned"], chance, ctx.seed)
                for side in ("base", "tuned"):
                    pooled[variant][side] += ok[side].tolist()
                pooled[variant]["chance"] += chance
                if variant == "accuracy":
                    rows += [{"probe": name, "id": it["id"], "file": str(path), "line": it["line"],
                              "answer": it["choices"][it["answer"]]}
                             for i, it in enumerate(items) if ok["base"][i] and not ok["tuned"][i]][:10]
            info["probe_sets"][name] = {"path": str(path), "items": len(items)}
        for variant in ("accuracy", "accuracy_norm"):  # Holm across probe sets, per scoring variant
            names = [k for k in metrics if k.endswith("." + variant)]
            for k, adj in zip(names, stats.holm([metrics[k]["p"] for k in names])):
                metrics[k]["p_holm"] = adj
        if len(sets) > 1:
            # Every item of every set, pooled: about five times the items of one set, so an interval
            # narrow enough for a tight overall margin, while each set keeps its own looser one.
            for variant, data in pooled.items():
                metrics[f"all.{variant}"] = self._paired(np.asarray(data["base"]), np.asarray(data["tuned"]),
                                                         data["chance"], ctx.seed)
        return SuiteResult(metrics=metrics, info=info, rows=rows)

    @staticmethod
    def _paired(base_ok: np.ndarray, tuned_ok: np.ndarray, chance: list[float], seed: int) -> dict[str, Any]:
        m = stats.paired_mean_delta(base_ok, tuned_ok, seed=seed)
        r2w, w2r = int((base_ok & ~tuned_ok).sum()), int((~base_ok & tuned_ok).sum())
        return metric(m["base"], m["tuned"], m["delta"], m["interval"], stats.mcnemar_exact(r2w, w2r), m["n"],
                      interval_of="delta", higher_is_better=True, right_to_wrong=r2w, wrong_to_right=w2r,
                      chance=float(np.mean(chance)))
