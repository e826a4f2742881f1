"""Final-answer accuracy: the answer after a marker (GSM8K's `#### 72` by default) equals the
reference's, numbers compared by value ("1,000" = "1000.0", "$5" = "5"). A worked solution may be
phrased any way; what must be right is the final answer. An offline `evaluate` module; the pattern is a
regular expression whose first group is the answer (`suites.task.params.final_answer_pattern`)."""

import re

import datasets
import evaluate

DEFAULT_PATTERN = r"####\s*(.+?)\s*$"


def extract(text, pattern=DEFAULT_PATTERN):
    """The final answer in `text` (the last match of `pattern`), normalised; None when there is none."""
    found = re.findall(pattern, str(text), flags=re.M)
    if not found:
        return None
    answer = found[-1] if isinstance(found[-1], str) else found[-1][0]
    answer = answer.strip().rstrip(".").strip()
    number = answer.replace(",", "").replace("$", "").replace("€", "").replace("£", "").strip()
    try:
        return repr(float(number))
    except ValueError:
        return " ".join(answer.lower().split())


def row_correct(prediction, reference, pattern=DEFAULT_PATTERN):
    want = extract(reference, pattern)
    return want is not None and extract(prediction, pattern) == want


class FinalAnswer(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Share of predictions whose final answer equals the reference's.", citation="",
            inputs_description="",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}))

    def _compute(self, predictions, references, pattern=DEFAULT_PATTERN):
        n = len(predictions)
        return {"final_answer": sum(row_correct(p, r, pattern) for p, r in zip(predictions, references)) / n if n else 0.0}
