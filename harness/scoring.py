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


def _cache_kwarg(model: Any) -> str:
    return "cache" if "cache" in inspect.signature(_unwrapped(model).forward).parameters else "past_key_values"


@torch.no_grad()
def scores_after_prefix(model: Any, prefix: list[int], rests: Sequence[list[int]], pad_id: int,
                        scored: Sequence[Sequence[bool]] | None = None) -> list[float]:
    """Summed log-probability of each continuation in `rests` after the shared token prefix."""
    return score_items(model, [(prefix, rests, scored)], pad_id)[0]


def _last_logprobs_and_cache(model: Any, ids: list[int], device, cache=None) -> tuple[torch.Tensor, Any]:
    kwargs = {_cache_kwarg(model): cache} if cache is not None else {}
    out = model(input_ids=torch.tensor([ids], device=device), use_cache=True, logits_to_keep=1, **kwargs)
    return out.logits[0, -1].float().log_softmax(-1), (getattr(out, "cache", None) or out.past_key_values)


@torch.no_grad()
def score_items(model: Any, items: Sequence[tuple[list[int], Sequence[list[int]], Any]], pad_id: int,
                batch_size: int = 16, max_option_rows: int = 64) -> list[list[float]]:
    """For each item (prefix, continuations, scored mask or None): the summed log-probability of each
    continuation after the prefix.

    Hand-written, because this is where evaluation time goes: lm-eval (and a plain forward per option)
    recompute the prompt for every option. Here work is shared three ways: the prefix common to all
    items (a classification prompt's instructions and label list) is run once; each item's own prefix
    once, with only its last position through the output layer; and the continuations of `batch_size`
    items are scored together from their prefixes' KV cache. Items in a batch are left-padded, with
    explicit position ids, so each sees exactly its own tokens (one forward of a small model reads
    every weight once, ~40 ms here, so batching is what makes short items cheap)."""
    import copy

    if not items:
        return []
    if any(not p for p, _, _ in items):
        raise ValueError("an empty prefix cannot be shared")
    device = next(model.parameters()).device
    key = _cache_kwarg(model)
    common = 0
    if len(items) > 1:
        first = items[0][0]
        common = min(len(p) for p, _, _ in items) - 1  # every item keeps at least one token of its own
        for p, _, _ in items[1:]:
            while common and p[:common] != first[:common]:
                common -= 1
    shared = None
    if common > 0:
        shared = model(input_ids=torch.tensor([items[0][0][:common]], device=device), use_cache=True,
                       logits_to_keep=1)
        shared = getattr(shared, "cache", None) or shared.past_key_values
    # Longest prefixes first, so a batch pads little (lm-eval sorts the same way); order restored below.
    order = sorted(range(len(items)), key=lambda i: -len(items[i][0]))
    results: list[list[float]] = []
    for at in range(0, len(items), batch_size):
        chunk = [items[i] for i in order[at:at + batch_size]]
        b = len(chunk)
        own = [p[common:] for p, _, _ in chunk]
        width = max(len(o) for o in own)
        ids = torch.full((b, width), pad_id, dtype=torch.long, device=device)
        own_mask = torch.zeros((b, width), dtype=torch.long, device=device)
        for i, o in enumerate(own):
            ids[i, width - len(o):] = torch.tensor(o, device=device)
            own_mask[i, width - len(o):] = 1
        mask = torch.cat([torch.ones((b, common), dtype=torch.long, device=device), own_mask], dim=1)
        pos = (common + own_mask.cumsum(1) - 1).clamp_min(0)
        cache = None
        if shared is not None:
            cache = copy.deepcopy(shared)
            cache.batch_repeat_interleave(b)
        out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, logits_to_keep=1,
                    **({key: cache} if cache is not None else {}))
        last = out.logits[:, -1].float()  # (b, vocab): predicts each continuation's first token
        cache = getattr(out, "cache", None) or out.past_key_values
        k = max(len(r) for _, r, _ in chunk)
        # The prefix cache is repeated once per option; to bound memory (a 130-token prompt's cache is
        # ~6 MB on the built-in model, times 8 items times 8 labels) options are scored for a few
        # items at a time, from a selection of the batch's cache.
        group = max(1, max_option_rows * 32 // max(32, mask.shape[1]) // k)  # rows x prefix length bounded
        for g0 in range(0, b, group):
            sel = list(range(g0, min(b, g0 + group)))
            sub = cache
            if len(sel) < b:
                sub = copy.deepcopy(cache)
                sub.batch_select_indices(torch.tensor(sel, device=device))
            results += _score_options(model, key, [chunk[i] for i in sel], last[sel], mask[sel],
                                      [common + len(own[i]) for i in sel], sub, k, pad_id, device)
    restored: list[list[float]] = [[] for _ in items]
    for pos, i in enumerate(order):
        restored[i] = results[pos]
    return restored


def _score_options(model: Any, key: str, chunk, last: torch.Tensor, mask: torch.Tensor, lengths: list[int], cache: Any,
                   k: int, pad_id: int, device) -> list[list[float]]:
    """The continuations of a few items in one pass from their prefixes' cache (repeated k times)."""
    b = len(chunk)
    cont_w = max(len(c) for _, r, _ in chunk for c in r)
    cids = torch.full((b * k, cont_w), pad_id, dtype=torch.long, device=device)
    cmask = torch.zeros((b * k, cont_w), dtype=torch.long, device=device)
    for i, (_, rests, _) in enumerate(chunk):
        for j, r in enumerate(rests):
            cids[i * k + j, :len(r)] = torch.tensor(r, device=device)
            cmask[i * k + j, :len(r)] = 1
    # log p(token) = logit - logsumexp(logits), gathered per position: no vocabulary-sized copies
    # beyond the logits themselves. The first token's comes from the prefix pass; a continuation's
    # last token is never fed (nothing after it is scored), so one-token options need no pass at all.
    first = last.repeat_interleave(k, 0).gather(1, cids[:, :1]) - torch.logsumexp(last, -1).repeat_interleave(k, 0)[:, None]
    picked = first
    if cont_w > 1:
        cache.batch_repeat_interleave(k)
        fed = cont_w - 1
        cpos = torch.tensor(lengths, device=device).repeat_interleave(k)[:, None] + torch.arange(fed, device=device)[None]
        step = model(input_ids=cids[:, :fed], attention_mask=torch.cat([mask.repeat_interleave(k, 0), cmask[:, :fed]], dim=1),
                     position_ids=cpos, use_cache=True, **{key: cache})
        logits = step.logits
        rest = logits.gather(2, cids[:, 1:, None])[:, :, 0].float() - torch.logsumexp(logits.float(), -1)
        picked = torch.cat([first, rest], dim=1)
    out = []
    for i, (_, rests, scored) in enumerate(chunk):
        row = []
        for j, r in enumerate(rests):
            keep = cmask[i * k + j].bool()
            if scored is not None:
                keep = keep.clone()
                keep[:len(r)] &= torch.tensor(list(scored[j]), device=device)
            row.append(float(picked[i * k + j][keep].sum()))
        out.append(row)
    return out


def pad_token_id(tokenizer: Any) -> int:
    """The id batches are padded with: the tokenizer's pad token, else its end of sequence."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)


def option_tokens(tokenizer: Any, prompt: list[dict[str, str]], options: Sequence[str],
                  max_len: int = 4096) -> tuple[list[int], list[list[int]], list[list[bool]]]:
    """(shared prefix, continuation ids, supervised mask) for options as the assistant's answer."""
    # Encode whole, then cut the shared prompt from the left: truncating each option's encoding on its
    # own would cut options of different lengths at different places.
    encoded = [encode(prompt + [{"role": "assistant", "content": o}], tokenizer, 10**9) for o in options]
    # The option is the last assistant turn; earlier ones (few-shot examples, a chat's history) are prompt.
    starts = [max(i for i, x in enumerate(e.labels) if x != IGNORE and (i == 0 or e.labels[i - 1] == IGNORE))
              for e in encoded]
    shared = min(starts)
    prefix = encoded[0].input_ids[:shared]
    if any(e.input_ids[:shared] != prefix for e in encoded):
        raise ValueError("options do not share the prompt's tokens")
    rests = [e.input_ids[shared:] for e in encoded]
    room = max(1, max_len - max(len(r) for r in rests))
    return (prefix[-room:], rests, [[x != IGNORE for x in e.labels[shared:]] for e in encoded])


def option_logprobs(model: Any, tokenizer: Any, prompt: list[dict[str, str]], options: Sequence[str],
                    max_len: int = 4096) -> list[float]:
    """Summed log-probability of each option as the assistant's answer (through its end-of-turn
    token) after `prompt`, the chat template applied."""
    prefix, rests, sup = option_tokens(tokenizer, prompt, options, max_len)
    return scores_after_prefix(model, prefix, rests, pad_token_id(tokenizer), sup)


def continuation_tokens(tokenizer: Any, context: str, continuations: Sequence[str]) -> tuple[list[int], list[list[int]]]:
    """Plain-text multiple choice the way lm-evaluation-harness encodes it: the context's trailing
    spaces move to the continuation, the whole string is encoded, and the continuation is what follows
    the separately encoded context (so the tokens agree with lm-eval item for item)."""
    spaces = len(context) - len(context.rstrip(" "))
    context = context[:len(context) - spaces] if spaces else context
    ctx = tokenizer(context, add_special_tokens=False)["input_ids"]
    rests = []
    for c in continuations:
        c = " " * spaces + c
        whole = tokenizer(context + c, add_special_tokens=False)["input_ids"]
        rests.append(whole[len(ctx):])
    return ctx, rests


def continuation_logprobs(model: Any, tokenizer: Any, context: str, continuations: Sequence[str]) -> list[float]:
    prefix, rests = continuation_tokens(tokenizer, context, continuations)
    return scores_after_prefix(model, prefix, rests, pad_token_id(tokenizer))


@torch.no_grad()
def greedy_generate(model: Any, tokenizer: Any, prompts: Sequence[list[int]], max_new_tokens: int,
                    batch_size: int = 32, batch_tokens: int = 16384) -> list[list[int]]:
    """Greedy continuations (token ids, stopping at EOS) of token prompts, batched with left padding.
    Prompts go in length order (little padding) and in batches of up to `batch_size` rows and
    `batch_tokens` prompt tokens: decoding one token at a time is overhead-bound, so on 2 CPU cores 48
    short prompts decode 1.7x faster in batches of 32 than of 8 (16.7 s -> 9.9 s, the same tokens out)."""
    device = next(model.parameters()).device
    pad = pad_token_id(tokenizer)
    eos = tokenizer.eos_token_id
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out: dict[int, list[int]] = {}
    at = 0
    while at < len(order):
        width = len(prompts[order[min(at + batch_size, len(order)) - 1]])
        size = max(1, min(batch_size, batch_tokens // max(width, 1)))
        chunk = order[at:at + size]
        width = max(len(prompts[i]) for i in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long, device=device)
        mask = torch.zeros_like(ids)
        for row, i in enumerate(chunk):
            ids[row, width - len(prompts[i]):] = torch.tensor(prompts[i], device=device)
            mask[row, width - len(prompts[i]):] = 1
        gen = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                             num_beams=1, pad_token_id=pad, eos_token_id=eos, temperature=None, top_p=None,
                             top_k=None)
        for i, seq in zip(chunk, gen[:, width:].tolist()):
            out[i] = seq[:seq.index(eos)] if eos is not None and eos in seq else seq
        at += len(chunk)
    return [out[i] for i in range(len(prompts))]


@torch.no_grad()
def next_token_logprobs(model: Any, sequences: Sequence[list[int]], starts: Sequence[int], pad_id: int,
                        batch_size: int = 8) -> list[torch.Tensor]:
    """Log-softmax of the model's next-token distribution at each position from starts[i] - 1 to the
    end of sequence i (the positions that predict tokens starts[i]...), one [k, vocab] tensor per row."""
    device = next(model.parameters()).device
    res: list[torch.Tensor] = []
    for at in range(0, len(sequences), batch_size):
        chunk = sequences[at:at + batch_size]
        width = max(len(s) for s in chunk)
        ids = torch.full((len(chunk), width), pad_id, dtype=torch.long, device=device)
        mask = torch.zeros_like(ids)
        for i, s in enumerate(chunk):
            ids[i, :len(s)] = torch.tensor(s, device=device)
            mask[i, :len(s)] = 1
        keep = width - min(starts[at:at + len(chunk)]) + 1  # only positions that predict answer tokens
        logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits
        for i, s in enumerate(chunk):
            st = starts[at + i]
            res.append(logits[i, st - 1 - (width - keep):len(s) - 1 - (width - keep)].float().log_softmax(-1).cpu())
    return res
