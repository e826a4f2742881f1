"""Share of generated outputs that parse as a JSON object, for extraction-style tasks; an offline
`evaluate` module."""

import json

import datasets
import evaluate


def parse_object(text):
    text = str(text).strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class JsonValidity(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Share of predictions that are a JSON object.", citation="", inputs_description="",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}))

    def _compute(self, predictions, references):
        n = len(predictions)
        return {"json_validity": sum(parse_object(p) is not None for p in predictions) / n if n else 0.0}
