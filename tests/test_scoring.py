"""Scoring primitives on a tiny model: batched, prefix-sharing scores equal plain one-item forwards."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.model.scoring import continuation_tokens, score_items
from tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    model = AutoModelForCausalLM.from_pretrained(path)
    model.eval()
    return model, AutoTokenizer.from_pretrained(path)


def plain_scores(model, prefix, rests, scored=None):
    """The definition: one full forward per continuation, no cache, no batching."""
    out = []
    for j, r in enumerate(rests):
        ids = torch.tensor([prefix + r])
        with torch.no_grad():
            logp = model(input_ids=ids).logits[0].log_softmax(-1)
        terms = [float(logp[len(prefix) - 1 + k, t]) for k, t in enumerate(r)
                 if scored is None or scored[j][k]]
        out.append(sum(terms))
    return out


ids = st.lists(st.integers(4, 300), min_size=1, max_size=12)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(ids, st.lists(ids, min_size=1, max_size=4)), min_size=1, max_size=5), ids,
       st.integers(1, 3), st.integers(1, 9))
def test_batched_prefix_sharing_equals_plain_forwards(tiny, items, common, batch, option_rows):
    model, _ = tiny
    items = [(common + p, rests, None) for p, rests in items]  # a shared head, as classification prompts have
    got = score_items(model, items, pad_id=3, batch_size=batch, batch_tokens=option_rows * 8)
    for (prefix, rests, _), row in zip(items, got):
        assert row == pytest.approx(plain_scores(model, prefix, rests), abs=1e-4)


def test_scored_mask_counts_only_marked_tokens(tiny):
    model, _ = tiny
    items = [([5, 6, 7], [[8, 9, 10], [11, 12]], [[True, True, False], [True, False]])]
    got = score_items(model, items, pad_id=3)[0]
    assert got == pytest.approx(plain_scores(model, [5, 6, 7], [[8, 9, 10], [11, 12]], items[0][2]), abs=1e-5)


def test_continuations_are_encoded_the_lm_eval_way(tiny):
    _, tok = tiny
    prefix, rests = continuation_tokens(tok, "Question: where is my parcel?\nAnswer: ", ["Paris", "delivery"])
    assert tok.decode(prefix) == "Question: where is my parcel?\nAnswer:"  # the trailing space moves on
    assert [tok.decode(r) for r in rests] == [" Paris", " delivery"]


def test_next_token_logprobs_equal_a_plain_forward(tiny):
    from harness.model.scoring import next_token_logprobs

    model, _ = tiny
    seqs, starts = [[5, 6, 7, 8, 9], [10, 11, 12], [13, 14, 15, 16, 17, 18, 19]], [3, 1, 5]
    got = next_token_logprobs(model, seqs, starts, pad_id=3, batch_size=2)
    for s, start, g in zip(seqs, starts, got):
        with torch.no_grad():
            ref = model(input_ids=torch.tensor([s])).logits[0].log_softmax(-1)
        assert g.shape[0] == len(s) - start
        assert torch.allclose(g, ref[start - 1:len(s) - 1], atol=1e-5)


def test_long_prompts_are_cut_once_for_every_option(tiny):
    """A prompt longer than max_len loses its start once, the same for every option (an option's own
    truncation would cut options of different lengths at different places)."""
    from harness.model.scoring import option_tokens

    _, tok = tiny
    prompt = [{"role": "user", "content": "where is my parcel " * 80}]
    prefix, rests, sup = option_tokens(tok, prompt, ["billing", "technical_issue"], max_len=64)
    assert len(prefix) + max(len(r) for r in rests) <= 64 and len(prefix) > 10
    assert all(any(s) for s in sup)


def test_options_that_begin_alike_share_tree_nodes_and_score_as_plain_forwards(tiny):
    """Continuations with common leading tokens are fed once (a prefix tree); each still sees only its
    own path, so its score equals a plain forward's."""
    from harness.model.scoring import _option_tree

    model, _ = tiny
    rests = [[8, 9, 10], [8, 9, 11, 12], [8, 13], [8], [14, 9, 10]]
    nodes, paths = _option_tree(rests)
    assert len(nodes) == 5  # 8, 8-9, 8-9-11, 14, 14-9: a last token is never fed
    assert paths[0] == paths[1][:2] and paths[2] == paths[0][:1] and paths[3] == []
    items = [([5, 6, 7], rests, None), ([5, 6, 20, 21], rests[:3], [[True, False, True], [True, True, True, False], [False, True]])]
    got = score_items(model, items, pad_id=3)
    assert got[0] == pytest.approx(plain_scores(model, [5, 6, 7], rests), abs=1e-4)
    assert got[1] == pytest.approx(plain_scores(model, [5, 6, 20, 21], rests[:3], items[1][2]), abs=1e-4)
