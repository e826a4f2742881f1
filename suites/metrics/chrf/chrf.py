"""chrF (Popović 2015): character n-gram F-score between an answer and its reference, from sacrebleu.
Rewards answers that say the same thing in nearly the same words without demanding an exact match, so
a reply-style fine-tune can show progress that exact match never sees. An offline `evaluate` module;
`row_score` is sentence-level chrF on a 0-1 scale (the task suite pairs it row by row)."""

import datasets
import evaluate
from sacrebleu.metrics import CHRF

_CHRF = CHRF()


def row_score(prediction, reference):
    return _CHRF.sentence_score(str(prediction), [str(reference)]).score / 100.0


class Chrf(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Corpus chrF (sacrebleu), 0-100.", citation="Popović, 2015", inputs_description="",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}))

    def _compute(self, predictions, references):
        return {"chrf": CHRF().corpus_score([str(p) for p in predictions], [[str(r) for r in references]]).score}
