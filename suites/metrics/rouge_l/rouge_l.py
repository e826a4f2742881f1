"""ROUGE-L F-measure: the longest common subsequence of words between an answer and its reference,
from Google's rouge-score package (the implementation the summarisation literature reports). An
offline `evaluate` module; `row_score` is one row's F-measure (0-1)."""

import datasets
import evaluate
from rouge_score import rouge_scorer

_SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def row_score(prediction, reference):
    return _SCORER.score(str(reference), str(prediction))["rougeL"].fmeasure


class RougeL(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Mean ROUGE-L F-measure (rouge-score).", citation="Lin, 2004", inputs_description="",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}))

    def _compute(self, predictions, references):
        scores = [row_score(p, r) for p, r in zip(predictions, references)]
        return {"rouge_l": sum(scores) / len(scores) if scores else 0.0}
