"""Rows as the fine-tuning ecosystem writes them, read as the harness's shapes (harness/inputs/shapes.py).

ShareGPT (`conversations: [{from, value}]`, axolotl and LLaMA-Factory), TRL's conversational
prompt-completion (`prompt` and `completion` as lists of messages) and conversational preference rows,
and OpenAI chat with tools (`tool_calls`, `tool` turns, `tools`, per-message `weight`) are recognised
from their fields and turned into chat or preference rows before validation, so a row that is wrong
in its own format gets the same line-accurate schema error as any other. A row's fields are read,
never written: each converted record is a new dict. Each format is one registered RowFormat (its
fields, the shape it reads as, its conversion); detection asks them in turn.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from harness.core.registry import Registry

# ShareGPT speakers -> chat roles (the names axolotl, LLaMA-Factory and FastChat write). A speaker not
# listed stays as written, and validation names it as an unknown role.
SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant",
                  "bard": "assistant", "bing": "assistant", "model": "assistant", "system": "system", "tool": "tool",
                  "observation": "tool", "function": "tool", "function_call": "assistant"}
# The keys of a chat turn the harness keeps (OpenAI's fine-tuning format); others are dropped from the turn.
TURN_KEYS = ("role", "content", "tool_calls", "tool_call_id", "name", "weight")


def is_turn_list(value: Any, keys: tuple[str, str] = ("role", "content")) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(m, dict) and keys[0] in m for m in value)


class RowFormat:
    """One ecosystem format: which harness shape its rows read as, how a row is told to be in it, and how
    rows are converted. Another package adds one under the entry point group `finetune_harness.row_formats`."""

    name = ""                   # Table.written_as
    option: str | None = None   # the --shape value that names it (None: detected only)
    reads_as = "chat"           # the harness shape (harness/inputs/shapes.py) its rows become
    order = 1000                # a row that fits several formats votes for the first

    def fits(self, rec: Mapping[str, Any], fields: Mapping[str, str]) -> bool:
        raise NotImplementedError

    def convert(self, records: list[Any], fields: Mapping[str, str]) -> tuple[list[Any], dict[str, str]]:
        """(records in the harness shape, the field mapping to read them with)."""
        raise NotImplementedError


REGISTRY = Registry("row format", None, "finetune_harness.row_formats")
register = REGISTRY.register


@register
class ShareGpt(RowFormat):
    """`conversations: [{from, value}]` (axolotl, LLaMA-Factory, FastChat), under another column with
    --field messages=COLUMN; a `system` column becomes the system turn."""

    name, option, order = "sharegpt", "sharegpt", 10

    def fits(self, rec, fields):
        return is_turn_list(rec.get(fields.get("messages") or "conversations"), ("from", "value"))

    def convert(self, records, fields):
        key = fields.get("messages") or "conversations"
        return [_sharegpt(r, key) for r in records], {k: v for k, v in fields.items() if k != "messages"}


@register
class TrlPreference(RowFormat):
    """TRL's conversational preference rows (`chosen`/`rejected` as turns, with or without `prompt`)."""

    name, reads_as, order = "trl_preference", "preference", 20

    def fits(self, rec, fields):
        return "chosen" in rec and "rejected" in rec and (is_turn_list(rec.get("chosen"))
                                                          or is_turn_list(rec.get("prompt")))

    def convert(self, records, fields):
        return [_preference(r) for r in records], {}


@register
class TrlConversational(RowFormat):
    """TRL's conversational prompt-completion: `prompt` and `completion` as lists of messages."""

    name, option, order = "trl_conversational", "conversational", 30

    def fits(self, rec, fields):
        p, c = fields.get("prompt", "prompt"), fields.get("completion", "completion")
        return is_turn_list(rec.get(p)) and is_turn_list(rec.get(c))

    def convert(self, records, fields):
        p, c = fields.get("prompt", "prompt"), fields.get("completion", "completion")
        return [_prompt_completion(r, p, c) for r in records], {}


def row_format(name: str) -> RowFormat:
    return REGISTRY.instance(name)


def row_formats() -> list[RowFormat]:
    return REGISTRY.instances()


def options() -> dict[str, RowFormat]:
    """The --shape values that name a row format, and the format each names."""
    return {f.option: f for f in row_formats() if f.option}


def source_format(records: list[Any], fields: Mapping[str, str]) -> str | None:
    """The ecosystem format most of the first rows are written in, or None (the harness's own shapes)."""
    sample = [r for r in records[:200] if isinstance(r, dict)]
    if not sample:
        return None
    formats = row_formats()
    votes = {f.name: 0 for f in formats}
    for r in sample:
        voted = next((f for f in formats if f.fits(r, fields)), None)
        if voted is not None:
            votes[voted.name] += 1
    best = max(votes, key=votes.get)
    return best if votes[best] * 2 > len(sample) else None


def convert(records: list[Any], fmt: str | None, fields: Mapping[str, str]) -> tuple[list[Any], dict[str, str]]:
    """(records in a harness shape, the field mapping to read them with). Rows that are not objects or
    not in the format pass through unchanged, for validation to report."""
    if fmt is None:
        return records, dict(fields)
    return row_format(fmt).convert(records, fields)


def _sharegpt(rec: Any, key: str) -> Any:
    conv = rec.get(key) if isinstance(rec, dict) else None
    if not is_turn_list(conv, ("from", "value")):
        return rec
    turns = [{"role": SHAREGPT_ROLES.get(str(t.get("from")).lower(), str(t.get("from"))), "content": t.get("value")}
             for t in conv]
    system = rec.get("system")
    if isinstance(system, str) and system.strip() and not any(t["role"] == "system" for t in turns):
        turns = [{"role": "system", "content": system}] + turns
    out = {k: v for k, v in rec.items() if k not in (key, "system")}
    out["messages"] = turns
    return out


def _prompt_completion(rec: Any, p: str, c: str) -> Any:
    if not (isinstance(rec, dict) and is_turn_list(rec.get(p)) and is_turn_list(rec.get(c))):
        return rec
    out = {k: v for k, v in rec.items() if k not in (p, c)}
    out["messages"] = list(rec[p]) + list(rec[c])
    return out


def _preference(rec: Any) -> Any:
    """TRL conversational preference rows (explicit or implicit prompt) as plain prompt/chosen/rejected
    texts: the audit reads texts; the turns of the prompt joined, the answers' assistant turns joined."""
    if not isinstance(rec, dict):
        return rec
    prompt, chosen, rejected = rec.get("prompt"), rec.get("chosen"), rec.get("rejected")
    if prompt is None and is_turn_list(chosen) and is_turn_list(rejected):  # implicit prompt: the shared turns
        shared = 0
        while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared] == rejected[shared]:
            shared += 1
        prompt, chosen, rejected = chosen[:shared], chosen[shared:], rejected[shared:]
    out = {k: v for k, v in rec.items() if k not in ("prompt", "chosen", "rejected")}
    out["prompt"] = _joined(prompt, ("system", "user", "tool", "assistant"))
    out["chosen"] = _joined(chosen, ("assistant",))
    out["rejected"] = _joined(rejected, ("assistant",))
    return out


def _joined(value: Any, roles: tuple[str, ...]) -> Any:
    if not is_turn_list(value):
        return value
    parts = [m.get("content") for m in value if m.get("role") in roles and isinstance(m.get("content"), str)]
    return "\n".join(parts) if parts else None


def turn_text(turn: Mapping[str, Any]) -> str:
    """What a chat turn says: its content, or for a tool call its function name and arguments (the
    text a model learns to write, audited for personal data and counted for length)."""
    content = turn.get("content")
    if isinstance(content, str) and content:
        return content
    calls = turn.get("tool_calls") or []
    return "\n".join(json.dumps({"name": (c.get("function") or {}).get("name"),
                                 "arguments": (c.get("function") or {}).get("arguments")}, ensure_ascii=False)
                     for c in calls if isinstance(c, dict))


def kept_turn(turn: Mapping[str, Any]) -> dict[str, Any]:
    """A turn with the keys the trainer's chat template may use; content None (a tool call) as ''."""
    out = {k: turn[k] for k in TURN_KEYS if k in turn}
    if out.get("content") is None:
        out["content"] = ""
    return out
