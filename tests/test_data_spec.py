"""Issue 31.2: one data spec (shape, fields, labels, max_seq_len, tokenizer, eval mapping), read once and
handed to every stage; the audit, the trainer and compare agree on max_seq_len by test."""

import json

import pytest

import harness
from conftest import check, write_jsonl
from harness.app.cli import main
from harness.comparing.comparison import compare_spec, trained_seq_len
from harness.inputs.data_spec import DataSpec, for_training, policy_settings, resolve
from harness.core.errors import UsageError
from harness.app.pipeline import PipelineConfig, data_spec
from harness.auditing.policy import load_policy
from harness.training.train_config import TrainConfig

ROWS = [{"text": t, "label": lab} for t, lab in [
    ("where is my parcel", "delivery"), ("i was charged twice", "billing"), ("the app crashes on start", "technical_issue"),
    ("please cancel my plan", "cancellation")] * 6]
LONG = [{"text": " ".join(["my parcel never came and nobody answers"] * 30), "label": "delivery"}] * 2


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from tiny_model import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))


def test_default_agrees_across_stages_with_no_settings():
    default = DataSpec()
    assert default.max_seq_len == DataSpec.max_seq_len == 256
    assert load_policy(None)["data"] == default.to_dict()                      # audit
    assert TrainConfig().max_seq_len is None                                    # train: the spec's, filled in
    assert for_training(None, TrainConfig().to_dict()) == default
    assert trained_seq_len({}) == compare_spec({}).max_seq_len == 256           # compare: an adapter recording none
    assert resolve(None, None) == default
    res = harness.audit(ROWS)
    assert res["data_spec"] == default.to_dict() and check(res, "length")["summary"]["max_seq_len"] == 256


def test_one_spec_of_96_flows_to_audit_training_and_compare(tiny, tmp_path):
    spec = DataSpec.from_mapping({"max_seq_len": 96, "tokenizer": tiny})
    rows = ROWS + LONG
    audited = harness.audit(rows, None, None, spec=spec)
    length = check(audited, "length")
    assert audited["data_spec"]["max_seq_len"] == 96 and audited["policy"]["data"]["max_seq_len"] == 96
    assert length["summary"]["max_seq_len"] == 96 and length["info"]["max_seq_len"] == 96
    assert length["info"]["counted_with"].startswith("tokenizer") and length["summary"]["truncated_rows"] == 2

    manifest = harness.train(tiny, rows, None, out=tmp_path / "adapter", spec=spec, epochs=1, lr=5e-3, batch_size=8,
                             prompt_template="{text}")
    assert manifest["data_spec"] == spec.to_dict() and manifest["config"]["max_seq_len"] == 96
    assert manifest["data"]["truncated_rows"] == 2                              # the trainer cut at 96 too
    saved = json.loads((tmp_path / "adapter" / "manifest.json").read_text())
    assert saved["data_spec"]["max_seq_len"] == 96
    assert trained_seq_len(saved) == compare_spec(saved).max_seq_len == 96      # compare encodes at 96
    # The recorded spec comes first; an older adapter's train config next.
    assert trained_seq_len({"data_spec": {"max_seq_len": 96}, "config": {"max_seq_len": 512}}) == 96
    assert trained_seq_len({"config": {"max_seq_len": 512}}) == 512


def test_a_train_config_value_goes_over_the_spec_it_is_handed():
    assert for_training(DataSpec(max_seq_len=96), {"max_seq_len": 64}).max_seq_len == 64
    assert for_training(DataSpec(max_seq_len=96, shape="chat"), {"shape": None, "fields": None}).shape == "chat"


def test_old_form_policy_keys_are_still_honoured(tmp_path):
    policy = tmp_path / "old.yaml"
    policy.write_text("shape: classification\nfields: {text: body}\nlabels: [billing, delivery]\nmax_seq_len: 48\n"
                      "eval_max_bad_share: 0.4\n")
    pol = load_policy(policy)
    assert pol["data"] == {**DataSpec().to_dict(), "shape": "classification", "fields": {"text": "body"},
                           "labels": ["billing", "delivery"], "max_seq_len": 48, "eval_max_bad_share": 0.4}
    assert not {"shape", "fields", "labels", "max_seq_len"} & set(pol)           # thresholds only at the top
    rows = [{"body": r["text"], "label": r["label"]} for r in ROWS if r["label"] in ("billing", "delivery")]
    res = harness.audit(rows, None, str(policy))
    assert res["inputs"]["train"]["good_rows"] == len(rows)   # read through the old-form field mapping
    assert check(res, "length")["summary"]["max_seq_len"] == 48 and res["data_spec"]["max_seq_len"] == 48
    # The new form says the same; one key set both ways to two values is an error, the same value is not.
    assert load_policy({"data": {"max_seq_len": 48}})["data"]["max_seq_len"] == 48
    assert load_policy({"max_seq_len": 48, "data": {"max_seq_len": 48}})["data"]["max_seq_len"] == 48
    with pytest.raises(UsageError, match="data.max_seq_len \\(64\\) and the top-level max_seq_len \\(48\\) disagree"):
        load_policy({"max_seq_len": 48, "data": {"max_seq_len": 64}})


def test_bad_spec_values_are_one_line_usage_errors():
    for values, message in [({"max_seq_len": 0}, "data.max_seq_len"), ({"max_seq_len": "long"}, "data.max_seq_len"),
                            ({"shape": "clasification"}, "did you mean 'classification'"),
                            ({"fields": {"lable": "category"}}, "lable"), ({"max_seq_lenght": 9}, "did you mean 'max_seq_len'"),
                            ({"eval_max_bad_share": 2}, "eval_max_bad_share")]:
        with pytest.raises(UsageError, match=message) as err:
            DataSpec.from_mapping(values)
        assert "\n" not in str(err.value)
    with pytest.raises(UsageError, match="data.max_seq_len"):
        policy_settings({"data": {"max_seq_len": -1}}, "p.yaml")
    assert DataSpec().override(max_seq_len=None) == DataSpec()
    with pytest.raises(UsageError):
        DataSpec().override("flags", max_seq_len=0)


@pytest.mark.parametrize("args, policy, message", [
    (["--max-seq-len", "0"], None, "max_seq_len"),
    ([], "data: {max_seq_len: 0}\n", "data.max_seq_len"),
    ([], "data: {shape: clasification}\n", "did you mean 'classification'"),
    ([], "max_seq_len: 0\n", "max_seq_len"),
    ([], "data: {max_seq_lenght: 12}\n", "did you mean 'max_seq_len'"),
])
def test_a_bad_spec_value_through_the_cli_exits_2_in_one_line(tmp_path, capsys, args, policy, message):
    train = write_jsonl(tmp_path / "t.jsonl", ROWS)
    extra = []
    if policy:
        (tmp_path / "p.yaml").write_text(policy)
        extra = ["--policy", str(tmp_path / "p.yaml")]
    code = main(["audit", str(train), "--out", str(tmp_path / "o"), *args, *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("harness: error:") and message in err and err.count("\n") == 1, err


def _pipeline(tmp_path, policy: str | None, train_config: str) -> PipelineConfig:
    write_jsonl(tmp_path / "train.jsonl", ROWS)
    (tmp_path / "base").mkdir(exist_ok=True)     # a local base directory (never loaded here)
    lines = [f"base: {tmp_path / 'base'}", "train: train.jsonl", f"train_config: {train_config}"]
    if policy is not None:
        (tmp_path / "audit.yaml").write_text(policy)
        lines.append("audit_policy: audit.yaml")
    (tmp_path / "pipeline.yaml").write_text("\n".join(lines) + "\n")
    return PipelineConfig.load(tmp_path / "pipeline.yaml")


def test_pipeline_reads_one_spec_and_refuses_two_max_seq_lens(tmp_path):
    with pytest.raises(UsageError) as err:
        _pipeline(tmp_path, "data: {max_seq_len: 512}\n", "{max_seq_len: 64}")
    text = str(err.value)
    assert "max_seq_len is 512 in audit policy" in text and "audit.yaml" in text and "pipeline.yaml" in text
    assert "\n" not in text
    with pytest.raises(UsageError, match="max_seq_len is 512 in audit policy"):   # the older form, too
        _pipeline(tmp_path, "max_seq_len: 512\n", "{max_seq_len: 64}")
    # Agreeing (or set once) is one spec, handed to every stage; the local base's tokenizer counts lengths.
    cfg = _pipeline(tmp_path, "data: {max_seq_len: 64, fields: {text: text}}\n", "{max_seq_len: 64, epochs: 1}")
    spec = data_spec(cfg)
    assert spec.max_seq_len == 64 and spec.fields == {"text": "text"} and spec.tokenizer == str(tmp_path / "base")
    assert data_spec(_pipeline(tmp_path, "max_seq_len: 96\n", "{epochs: 1}")).max_seq_len == 96
    assert data_spec(_pipeline(tmp_path, None, "{max_seq_len: 80}")).max_seq_len == 80
    assert data_spec(_pipeline(tmp_path, None, "{epochs: 1}")).max_seq_len == DataSpec.max_seq_len
