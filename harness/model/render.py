"""Examples as token ids with a loss mask: the model learns the assistant's tokens, end-of-turn token
included, and nothing of the prompt. Getting this wrong is silent (trl #1820; unsloth #416: EOS masked
out, so the tuned model never stops), so the mask is derived from the chat template itself and checked.

Every shape becomes chat messages first: classification rows through a prompt template, instruction
and alpaca rows as one user turn, chat rows as given (every assistant turn is supervised, but one
of `weight: 0`; tool definitions and tool calls go to the chat template). Language-modelling rows
(`text`) are no conversation: the whole text is learned, as pretraining does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from harness.inputs.data import Example
from harness.core.errors import UsageError
from harness.inputs.shapes import get_shape

DEFAULT_PROMPT = "Classify the following text into one of these categories: {labels}.\nAnswer with the category only.\n\nText: {text}"
IGNORE = -100


@dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]          # IGNORE where no loss is taken
    line: int
    truncated: bool

    @property
    def supervised(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def to_messages(ex: Example, shape: str, prompt_template: str = DEFAULT_PROMPT,
                labels: Sequence[str] = (), system: str | None = None) -> list[dict[str, str]]:
    described = get_shape(shape)
    if described.turns and ex.messages:
        msgs = list(ex.messages)
    elif described.labelled:
        prompt = prompt_template.format(text=ex.input, labels=", ".join(labels))
        msgs = [{"role": "user", "content": prompt}, {"role": "assistant", "content": ex.label}]
    else:
        msgs = [{"role": "user", "content": ex.input}, {"role": "assistant", "content": ex.output}]
    if system and not any(m["role"] == "system" for m in msgs):
        msgs = [{"role": "system", "content": system}] + msgs
    return msgs


def prompt_messages(ex: Example, shape: str, prompt_template: str = DEFAULT_PROMPT, labels: Sequence[str] = (),
                    system: str | None = None) -> list[dict[str, str]]:
    """The messages up to (not including) the final assistant turn: what the model sees at inference."""
    msgs = to_messages(ex, shape, prompt_template, labels, system)
    return msgs[:-1] if msgs and msgs[-1]["role"] == "assistant" else msgs


def template_turns(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turns as chat templates expect them: no `weight` key, tool-call arguments as objects (OpenAI
    writes them as JSON strings; Hugging Face templates render them with `tojson`)."""
    out = []
    for m in messages:
        turn = {k: v for k, v in m.items() if k != "weight"}
        if turn.get("tool_calls"):
            calls = []
            for c in turn["tool_calls"]:
                fn = dict(c.get("function") or {})
                if isinstance(fn.get("arguments"), str):
                    try:
                        fn["arguments"] = json.loads(fn["arguments"])
                    except ValueError:
                        pass
                calls.append({**c, "function": fn})
            turn["tool_calls"] = calls
        out.append(turn)
    return out


class TemplateDropsContent(UsageError):
    """The chat template left out something the row carries (tool calls, tool definitions, a turn): the
    model would learn an empty or partial turn, silently. `line` is the row's, for the caller to name
    its file."""

    def __init__(self, line: int, what: str):
        self.line = line
        self.reason = (f"the base model's chat template drops {what}: the model would be trained on a turn "
                       "without it; use a base whose chat template renders tools, or write the calls into "
                       "the assistant's content")
        super().__init__(f"line {line}: {self.reason}")


def dropped_content(messages: list[dict[str, Any]], tools: list[Any] | None, rendered: str) -> str | None:
    """What of a conversation the rendered text lacks: each tool call's function name and arguments, each
    tool definition's name, each turn's content (stripped: templates trim). None when all is there.
    Arguments are looked for value by value, as templates write JSON with their own spacing."""
    for m in messages:
        for call in m.get("tool_calls") or []:
            fn = call.get("function") or {}
            name = fn.get("name")
            if name and name not in rendered:
                return f"the tool call {name!r}"
            args = fn.get("arguments")
            values = args.values() if isinstance(args, dict) else []
            for v in values:
                if isinstance(v, (str, int, float)) and not isinstance(v, bool) and str(v) not in rendered:
                    return f"the arguments of the tool call {name!r}"
        content = m.get("content")
        if isinstance(content, str) and content.strip() and content.strip() not in rendered:
            return f"the content of a {m.get('role')!r} turn"
    for tool in tools or []:
        name = (tool.get("function") or tool).get("name") if isinstance(tool, dict) else None
        if name and name not in rendered:
            return f"the tool definition {name!r}"
    return None


def encode(messages: list[dict[str, Any]], tokenizer: Any, max_len: int, line: int = 0,
           tools: list[Any] | None = None) -> Encoded:
    """Token ids and labels for one conversation, supervising every assistant turn (but those of
    `weight: 0`) through its end-of-turn token. Character spans come from rendering the template on
    prefixes of the conversation, so any prefix-stable chat template works."""
    if not getattr(tokenizer, "chat_template", None):
        raise UsageError("the tokenizer has no chat template; give the base model one")
    learned = [m["role"] == "assistant" and m.get("weight", 1) != 0 for m in messages]
    messages = template_turns(messages)
    extra = {"tools": tools} if tools else {}
    full = tokenizer.apply_chat_template(messages, tokenize=False, **extra)
    missing = dropped_content(messages, tools, full)
    if missing:
        raise TemplateDropsContent(line, missing)
    spans = []
    for i, m in enumerate(messages):
        if not learned[i]:
            continue
        before = tokenizer.apply_chat_template(messages[:i], tokenize=False, add_generation_prompt=True, **extra) if i else ""
        upto = tokenizer.apply_chat_template(messages[: i + 1], tokenize=False, **extra)
        if not full.startswith(upto) or not upto.startswith(before):
            raise UsageError("the chat template is not prefix-stable; the loss mask cannot be derived from it")
        end = len(upto.rstrip())  # through the end-of-turn token, not the newline after it
        spans.append((len(before), end))
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    labels = [IGNORE] * len(ids)
    for k, (s, e) in enumerate(offsets):
        if e > s and any(a <= s and e <= b for a, b in spans):
            labels[k] = ids[k]
    eos = tokenizer.eos_token_id
    if spans and eos is not None and eos not in [ids[k] for k in range(len(ids)) if labels[k] != IGNORE]:
        # A template without an end-of-turn token: append EOS so the model learns to stop.
        ids, labels, offsets = ids + [eos], labels + [eos], offsets + [(len(full), len(full))]
    truncated = len(ids) > max_len
    if truncated:
        sup = [k for k, x in enumerate(labels) if x != IGNORE]
        # Keep every supervised token when they fit, cutting the start of the prompt; otherwise keep
        # the start (the answer's beginning with its context) as other trainers do.
        start = max(0, sup[-1] + 1 - max_len) if sup and sup[-1] - sup[0] < max_len else 0
        ids, labels = ids[start:start + max_len], labels[start:start + max_len]
    return Encoded(ids, labels, line, truncated)


def encode_text(text: str, tokenizer: Any, max_len: int, line: int = 0) -> Encoded:
    """A language-modelling row: every token learned, EOS appended so the model learns where texts end;
    cut at max_len from the start."""
    ids = tokenizer(text, add_special_tokens=True)["input_ids"]
    if tokenizer.eos_token_id is not None and (not ids or ids[-1] != tokenizer.eos_token_id):
        ids = ids + [tokenizer.eos_token_id]
    truncated = len(ids) > max_len
    ids = ids[:max_len]
    return Encoded(ids, list(ids), line, truncated)


def encode_example(ex: Example, shape: str, tokenizer: Any, max_len: int, prompt_template: str = DEFAULT_PROMPT,
                   labels: Sequence[str] = (), system: str | None = None) -> Encoded:
    """One row as the trainer learns it, whatever its shape."""
    if get_shape(shape).whole_text:
        return encode_text(ex.input, tokenizer, max_len, ex.line)
    return encode(to_messages(ex, shape, prompt_template, labels, system), tokenizer, max_len, ex.line, ex.tools)


def encode_all(examples: list[Example], shape: str, tokenizer: Any, max_len: int, prompt_template: str = DEFAULT_PROMPT,
               labels: Sequence[str] = (), system: str | None = None) -> tuple[list[Encoded], list[dict[str, Any]]]:
    """(encoded rows, refused rows): a row left with no supervised token after truncation is refused."""
    if not get_shape(shape).trainable:
        raise UsageError("preference data (prompt, chosen, rejected) is audited, not trained: the trainer does "
                         "supervised fine-tuning; train on the chosen answers as prompt/completion rows")
    kept, refused = [], []
    for ex in examples:
        e = encode_example(ex, shape, tokenizer, max_len, prompt_template, labels, system)
        if e.supervised == 0:
            refused.append({"split": ex.split, "line": ex.line,
                            "reason": f"no supervised token left within max_seq_len {max_len}"})
        else:
            kept.append(e)
    return kept, refused
