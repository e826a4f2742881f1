"""The data shapes the harness reads, and their fields: the vocabulary that loading (data.py) and row
validation (schema.py) share, kept apart so neither imports the other."""

SHAPES = {
    "classification": ("text", "label"),
    "instruction": ("prompt", "completion"),
    "alpaca": ("instruction", "input", "output"),
    "chat": ("messages",),
}
OPTIONAL_FIELDS = {"alpaca": {"input"}}
CHAT_ROLES = ("system", "user", "assistant", "tool", "function", "developer")
