"""Schema match: the answer is a JSON object with the reference's key set and, key by key, a value of
the same kind (a number where the reference has a number, an ISO date where it has one; null matches
anything, since "not stated" is a value of every field). Valid JSON with the wrong keys is not what a
downstream parser can use. An offline `evaluate` module."""

import json

import datasets
import evaluate


def _object(text):
    text = str(text).strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _kind(value):
    import re

    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, dict)):
        return type(value).__name__
    return "iso date" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value).strip()) else "text"


def row_match(prediction, reference):
    """True / False when the reference is a JSON object; None when it is not (the row is not scored)."""
    ref = _object(reference)
    if ref is None:
        return None
    pred = _object(prediction)
    if pred is None or set(pred) != set(ref):
        return False
    return all(_kind(pred[k]) is None or _kind(ref[k]) is None or _kind(pred[k]) == _kind(ref[k]) for k in ref)


class SchemaMatch(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Share of predictions with the reference's JSON keys and value kinds.", citation="",
            inputs_description="",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}))

    def _compute(self, predictions, references):
        rows = [m for m in (row_match(p, r) for p, r in zip(predictions, references)) if m is not None]
        return {"schema_match": sum(rows) / len(rows) if rows else 0.0}
