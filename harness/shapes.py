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


# Every name a field mapping (--field NAME=COLUMN, `fields:`) may give a column for.
CANONICAL_FIELDS = tuple(dict.fromkeys(f for names in SHAPES.values() for f in names))


def check_field_names(fields) -> None:
    """A mapping for a name no shape has (`lable=category`) would be ignored and the rows read another
    way without a word: it is a usage error, with the nearest name."""
    from .errors import UsageError
    from .hints import did_you_mean

    for name in fields or {}:
        if name not in CANONICAL_FIELDS:
            raise UsageError(f"unknown field {name!r} in the field mapping (--field, fields:)"
                             f"{did_you_mean(name, CANONICAL_FIELDS)}")
