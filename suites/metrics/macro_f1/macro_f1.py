"""Macro-averaged F1 over the classes that occur in references or predictions (scikit-learn's
definition), as an offline `evaluate` module."""

import datasets
import evaluate


class MacroF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Unweighted mean of per-class F1.", citation="", inputs_description="",
            features=datasets.Features({"predictions": datasets.Value("int64"),
                                        "references": datasets.Value("int64")}))

    def _compute(self, predictions, references):
        from sklearn.metrics import f1_score

        if not references:
            return {"macro_f1": 0.0}
        return {"macro_f1": float(f1_score(references, predictions, average="macro", zero_division=0))}
