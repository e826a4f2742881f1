"""The data shapes the harness reads, and their fields: the vocabulary that loading (data.py) and row
validation (schema.py) share, kept apart so neither imports the other."""

SHAPES = {
    "classification": ("text", "label"),
    "instruction": ("prompt", "completion"),
    "alpaca": ("instruction", "input", "output"),
    "chat": ("messages",),
    "preference": ("prompt", "chosen", "rejected"),  # audited (both answers), not trained: SFT only
    "text": ("text",),                               # language modelling: trained on the whole text
}
OPTIONAL_FIELDS = {"alpaca": {"input"}}
# The order shapes are tried in when a file does not say (a row may fit several: every classification
# row is also a text row); the first of the shapes most rows fit wins.
DETECT_ORDER = ("chat", "preference", "alpaca", "instruction", "classification", "text")
CHAT_ROLES = ("system", "user", "assistant", "tool", "function", "developer")
