"""Scoring a model on token sequences: the masked loss the trainer minimises, and the log-likelihood of
each option after one shared prompt (its forward pass computed once, the KV cache reused per option).

The loss takes hidden states only at supervised positions before the output layer: the vocabulary
projection is the most expensive matmul of a small model, and most positions of a prompt-heavy row
carry no loss."""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import torch

from .render import IGNORE, Encoded, encode


def pad_batch(rows: Sequence[Encoded], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Dynamic padding to the longest row of the batch (right padding)."""
    width = max(len(r.input_ids) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r.input_ids)
        ids[i, :n] = torch.tensor(r.input_ids)
        labels[i, :n] = torch.tensor(r.labels)
        mask[i, :n] = 1
    return ids, labels, mask


def _unwrapped(model: Any) -> Any:
    """The transformers model under a peft wrapper (the adapter layers stay inside it)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _body_and_head(model: Any):
    inner = _unwrapped(model)
    return inner.get_decoder(), inner.get_output_embeddings()


def masked_loss(model: Any, ids: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor,
                reduction: str = "mean") -> tuple[torch.Tensor, int]:
    """Cross-entropy of next-token predictions at supervised positions only. Returns (loss, tokens);
    reduction 'sum' gives per-row sums (a vector), 'mean' one scalar over every supervised token."""
    body, head = _body_and_head(model)
    hidden = body(input_ids=ids, attention_mask=mask).last_hidden_state
    target = labels[:, 1:]
    keep = target != IGNORE
    h = hidden[:, :-1][keep]
    logits = head(h).float()
    tok_loss = torch.nn.functional.cross_entropy(logits, target[keep], reduction="none")
    n = int(keep.sum())
    if reduction == "sum":
        rows = keep.nonzero()[:, 0]
        return torch.zeros(ids.shape[0], device=tok_loss.device).index_add_(0, rows, tok_loss), n
    return tok_loss.sum() / max(n, 1), n


@torch.no_grad()
def option_logprobs(model: Any, tokenizer: Any, prompt: list[dict[str, str]], options: Sequence[str],
                    max_len: int = 4096) -> list[float]:
    """Summed log-probability of each option as the assistant's answer (through its end-of-turn
    token) after `prompt`. The shared prefix is run once; its KV cache is repeated for the options,
    which are scored together in one short batched pass (right-padded: causal attention keeps the
    padding from touching real positions)."""
    encoded = [encode(prompt + [{"role": "assistant", "content": o}], tokenizer, max_len) for o in options]
    starts = [next(i for i, x in enumerate(e.labels) if x != IGNORE) for e in encoded]
    shared = min(starts)
    prefix = encoded[0].input_ids[:shared]
    if any(e.input_ids[:shared] != prefix for e in encoded):
        raise ValueError("options do not share the prompt's tokens")
    device = next(model.parameters()).device
    key = "cache" if "cache" in inspect.signature(_unwrapped(model).forward).parameters else "past_key_values"
    out = model(input_ids=torch.tensor([prefix], device=device), use_cache=True)
    cache = getattr(out, "cache", None) or out.past_key_values
    last = out.logits[0, -1].float().log_softmax(-1)
    rests = [e.input_ids[shared:] for e in encoded]
    sups = [[x != IGNORE for x in e.labels[shared:]] for e in encoded]
    width = max(len(r) for r in rests)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.full((len(rests), width), pad, dtype=torch.long, device=device)
    mask = torch.zeros((len(rests), shared + width), dtype=torch.long, device=device)
    mask[:, :shared] = 1
    for i, r in enumerate(rests):
        ids[i, :len(r)] = torch.tensor(r, device=device)
        mask[i, shared:shared + len(r)] = 1
    cache.batch_repeat_interleave(len(rests))
    step = model(input_ids=ids, attention_mask=mask, use_cache=True, **{key: cache})
    logp = torch.cat([last[None, None].expand(len(rests), 1, -1), step.logits[:, :-1].float().log_softmax(-1)], dim=1)
    scores = []
    for i, (r, sup) in enumerate(zip(rests, sups)):
        picked = logp[i, torch.arange(len(r), device=device), torch.tensor(r, device=device)]
        scores.append(float(picked[torch.tensor(sup, device=device)].sum()))
    return scores
