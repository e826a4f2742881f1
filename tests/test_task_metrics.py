"""The generative task metrics against reference implementations and hand-computed cases, and the
kind of output a task is read as."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.inputs.output_kinds import task_output_kind
from suites import metric_modules as mm


def test_chrf_row_score_is_sacrebleu_sentence_chrf():
    from sacrebleu.metrics import CHRF

    chrf = mm.module_file("chrf")
    for p, r in [("the parcel is on its way", "your parcel is on the way"), ("", "x"), ("same", "same")]:
        assert chrf.row_score(p, r) == pytest.approx(CHRF().sentence_score(p, [r]).score / 100)
    assert chrf.row_score("same text", "same text") == pytest.approx(1.0)


def _lcs(a, b):
    t = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            t[i + 1][j + 1] = t[i][j] + 1 if x == y else max(t[i][j + 1], t[i + 1][j])
    return t[-1][-1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["we", "will", "refund", "you", "today", "soon"]), min_size=1, max_size=8),
       st.lists(st.sampled_from(["we", "will", "refund", "you", "today", "soon"]), min_size=1, max_size=8))
def test_rouge_l_is_the_lcs_f_measure(pred, ref):
    lcs = _lcs(pred, ref)
    want = 0.0 if lcs == 0 else 2 * (lcs / len(pred)) * (lcs / len(ref)) / (lcs / len(pred) + lcs / len(ref))
    assert mm.module_file("rouge_l").row_score(" ".join(pred), " ".join(ref)) == pytest.approx(want)


def test_final_answer_compares_numbers_by_value():
    fa = mm.module_file("final_answer")
    assert fa.row_correct("48/2 = 24\n#### 1,000", "so\n#### 1000")
    assert fa.row_correct("#### $5.", "#### 5") and not fa.row_correct("#### 6", "#### 5")
    assert not fa.row_correct("the answer is 5", "#### 5")  # no final line: wrong, whatever it says
    assert fa.row_correct("Answer: Paris", "Answer: paris", pattern=r"Answer:\s*(.+)$")
    assert mm.compute("final_answer", ["#### 2", "#### 3"], ["#### 2", "#### 4"]) == {"final_answer": 0.5}


def test_schema_match_wants_the_keys_and_kinds_of_the_reference():
    sm = mm.module_file("schema_match")
    ref = '{"id": "A1", "amount": 5.0, "date": "2026-01-02", "note": null}'
    assert sm.row_match('{"id": "B2", "amount": 7, "date": "2026-03-04", "note": "x"}', ref) is True
    assert sm.row_match('{"id": "B2", "amount": "7", "date": "2026-03-04", "note": null}', ref) is False
    assert sm.row_match('{"id": "B2", "amount": 7, "date": "03/04/2026", "note": null}', ref) is False
    assert sm.row_match('{"id": "B2", "amount": 7}', ref) is False and sm.row_match("not json", ref) is False
    assert sm.row_match("{}", "plain text") is None


@pytest.mark.parametrize("refs, kind", [
    (["refund", "delivery", "refund", "delivery"], "label"),
    (['{"a": 1}', '{"a": 2}', '{"a": 3}'], "json"),
    (["48/2 = 24\n#### 24", "3+4 = 7\n#### 7"], "final_answer"),
    (["Thanks for writing in, we will refund you today.", "Sorry for the wait, your parcel ships tomorrow."], "free_text"),
])
def test_output_kind(refs, kind):
    assert task_output_kind(refs) == kind
