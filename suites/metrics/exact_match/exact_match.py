"""Exact match of generated text after whitespace and case normalisation, as an offline `evaluate`
module."""

import datasets
import evaluate


def normalize_answer(s):
    return " ".join(str(s).split()).casefold()


class ExactMatch(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Share of predictions equal to the reference (whitespace and case folded).",
            citation="", inputs_description="",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}))

    def _compute(self, predictions, references):
        n = len(references)
        return {"exact_match": sum(normalize_answer(p) == normalize_answer(r) for p, r in zip(predictions, references)) / n if n else 0.0}
