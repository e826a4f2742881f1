"""Field-level F1 of JSON outputs against JSON references: a field counts as right when the key is
present with an equal value (strings compared whitespace/case-folded); micro-averaged over rows. An
invalid prediction scores 0 on its row. An offline `evaluate` module."""

import json

import datasets
import evaluate


def _fields(text):
    text = str(text).strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    norm = lambda v: " ".join(v.split()).casefold() if isinstance(v, str) else json.dumps(v, sort_keys=True)
    return {(k, norm(v)) for k, v in value.items()}


def row_f1(prediction, reference):
    p, r = _fields(prediction), _fields(reference)
    if r is None:
        return None
    if not p:
        return 0.0 if r else 1.0
    tp = len(p & r)
    return 2 * tp / (len(p) + len(r)) if (p or r) else 1.0


class FieldF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Mean per-row F1 of (key, value) pairs of JSON objects.", citation="",
            inputs_description="",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}))

    def _compute(self, predictions, references):
        scores = [s for s in (row_f1(p, r) for p, r in zip(predictions, references)) if s is not None]
        return {"field_f1": sum(scores) / len(scores) if scores else 0.0}
