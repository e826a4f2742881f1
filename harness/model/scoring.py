"""Scoring a model on token sequences: the masked loss the trainer minimises, and the log-likelihood of
each option after one shared prompt (its forward pass computed once, the KV cache reused per option).

The loss takes hidden states only at supervised positions before the output layer: the vocabulary
projection is the most expensive matmul of a small model, and most positions of a prompt-heavy row
carry no loss."""

from __future__ import annotations

import inspect
from contextvars import ContextVar
from typing import Any, Callable, Sequence

import torch

from harness.model.render import IGNORE, Encoded, encode

# Who hears that a batch of items was scored (harness/comparing/paired.py sets it around each scoring call): a
# progress bar counts items as they are done without changing how they are batched.
ITEMS_DONE: ContextVar[Callable[[int], None] | None] = ContextVar("items_done", default=None)


def items_done(n: int) -> None:
    hear = ITEMS_DONE.get()
    if hear is not None:
        hear(n)


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
                batch_size: int = 16, batch_tokens: int = 2048) -> list[list[float]]:
    """For each item (prefix, continuations, scored mask or None): the summed log-probability of each
    continuation after the prefix.

    Hand-written, because this is where evaluation time goes: lm-eval (and a plain forward per option)
    recompute the prompt for every option. Here the prefix common to all items (a classification
    prompt's instructions and label list) is run once and its KV cache shared; then each item is one
    packed row: its own prompt tokens followed by its continuations laid out as a prefix tree (options
    that begin alike share those tokens), every token attending to the shared prefix, the item's prompt
    and its own tree path only (a 4D mask, explicit position ids). No option is padded to the longest
    option and no cache is copied per option: on the built-in model with 10 intent labels, 64 rows score
    in 7.5 s instead of 15.4 s with the prompt's cache repeated once per option. A continuation's last token
    is never fed (nothing after it is scored); the output layer runs only where a token is predicted."""
    if not items:
        return []
    if any(not p for p, _, _ in items):
        raise ValueError("an empty prefix cannot be shared")
    device = next(model.parameters()).device
    body, head = _body_and_head(model)
    key = _cache_kwarg(body)
    common = 0
    if len(items) > 1:
        first = items[0][0]
        common = min(len(p) for p, _, _ in items) - 1  # every item keeps at least one token of its own
        for p, _, _ in items[1:]:
            while common and p[:common] != first[:common]:
                common -= 1
    shared = None
    if common > 0:
        out = body(input_ids=torch.tensor([items[0][0][:common]], device=device), use_cache=True)
        shared = getattr(out, "cache", None) or out.past_key_values
    trees = [_option_tree(rests) for _, rests, _ in items]
    size = [len(p) - common + len(trees[i][0]) for i, (p, _, _) in enumerate(items)]
    # Longest rows first, so a batch pads little (lm-eval sorts the same way); order restored below.
    order = sorted(range(len(items)), key=lambda i: -size[i])
    restored: list[list[float]] = [[] for _ in items]
    at = 0
    while at < len(order):
        b = max(1, min(batch_size, batch_tokens // max(1, size[order[at]])))
        chunk = order[at:at + b]
        at += len(chunk)
        scores = _score_packed(body, head, key, [items[i] for i in chunk], [trees[i] for i in chunk],
                               common, shared, pad_id, device)
        for i, row in zip(chunk, scores):
            restored[i] = row
        items_done(len(chunk))
    return restored


def _option_tree(rests: Sequence[list[int]]) -> tuple[list[tuple[int, int, int]], list[list[int]]]:
    """The fed tokens of an item's continuations as a prefix tree: nodes (token, parent node or -1,
    depth) in order, parents first; and per continuation, the node that predicts each of its tokens
    after the first (the first is predicted by the prompt's last token)."""
    nodes: list[tuple[int, int, int]] = []
    index: dict[tuple[int, ...], int] = {}
    paths = []
    for r in rests:
        path, parent = [], -1
        for t in range(len(r) - 1):
            node = index.get(tuple(r[:t + 1]))
            if node is None:
                node = index[tuple(r[:t + 1])] = len(nodes)
                nodes.append((r[t], parent, t))
            path.append(node)
            parent = node
        paths.append(path)
    return nodes, paths


def _score_packed(body: Any, head: Any, key: str, chunk, trees, common: int, shared: Any, pad_id: int,
                  device) -> list[list[float]]:
    """One forward for a few items, each a packed row (left-padded prompt, then its option tree)."""
    import copy

    b = len(chunk)
    own = [p[common:] for p, _, _ in chunk]
    w_own = max(len(o) for o in own)
    w_opt = max(len(nodes) for nodes, _ in trees)
    width = w_own + w_opt
    ids = torch.full((b, width), pad_id, dtype=torch.long)
    pos = torch.zeros((b, width), dtype=torch.long)
    allowed = torch.zeros((b, width, common + width), dtype=torch.bool)
    allowed[:, :, :common] = True
    for i, (o, (nodes, _)) in enumerate(zip(own, trees)):
        start = w_own - len(o)
        ids[i, start:w_own] = torch.tensor(o)
        pos[i, start:w_own] = torch.arange(common, common + len(o))
        allowed[i, start:w_own, common + start:common + w_own] = torch.ones(len(o), len(o), dtype=torch.bool).tril()
        for n, (token, parent, depth) in enumerate(nodes):
            q = w_own + n
            ids[i, q] = token
            pos[i, q] = common + len(o) + depth
            allowed[i, q, common + start:common + w_own] = True
            allowed[i, q, common + q] = True
            if parent >= 0:
                allowed[i, q] |= allowed[i, w_own + parent]
        for q in list(range(start)) + list(range(w_own + len(nodes), width)):
            allowed[i, q, common + q] = True  # padding sees itself only (no row without a key)
    dtype = next(body.parameters()).dtype
    mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)[:, None]
    cache = None
    if shared is not None:
        cache = copy.deepcopy(shared)
        cache.batch_repeat_interleave(b)
    hidden = body(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=pos.to(device),
                  use_cache=cache is not None, **({key: cache} if cache is not None else {})).last_hidden_state
    # Log-probabilities only where a continuation token is predicted: (row, position, token) triples.
    where, targets, spans = [], [], []
    for i, ((_, rests, scored), (_, paths)) in enumerate(zip(chunk, trees)):
        row = []
        for j, (r, path) in enumerate(zip(rests, paths)):
            keep = [t for t in range(len(r)) if scored is None or scored[j][t]]
            row.append((len(where), len(keep)))
            for t in keep:
                where.append((i, w_own - 1 if t == 0 else w_own + path[t - 1]))
                targets.append(r[t])
        spans.append(row)
    picked = torch.zeros(len(where))
    if where:
        flat = torch.tensor([i * width + q for i, q in where], device=device)
        h = hidden.reshape(b * width, -1)
        tgt = torch.tensor(targets, device=device)
        for s in range(0, len(where), 512):  # bounded: each position's logits are vocabulary-sized
            logits = head(h[flat[s:s + 512]]).float()
            picked[s:s + 512] = (logits.gather(1, tgt[s:s + 512, None])[:, 0] - torch.logsumexp(logits, -1)).cpu()
    return [[float(picked[a:a + n].sum()) for a, n in row] for row in spans]


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
        items_done(len(chunk))
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
        items_done(len(chunk))
    return res
