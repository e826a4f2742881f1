"""The LoRA trainer on a tiny local model: loss mask, refusals, verified atomic output, resume."""

import json
import subprocess
import sys

import pytest
import torch

from harness.core.errors import InputError
from harness.model.render import IGNORE, encode
from harness import train
from harness.training.trainer import TrainingError
from tiny_model import build_tiny_model

ROWS = [{"text": t, "label": lab} for t, lab in [
    ("where is my parcel", "delivery"), ("i was charged twice", "billing"), ("the app crashes on start", "technical_issue"),
    ("please cancel my plan", "cancellation")] * 6]
EVAL = ROWS[:4]
FAST = dict(epochs=2, lr=5e-3, batch_size=8, max_seq_len=96, prompt_template="{text}")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))


@pytest.fixture(scope="module")
def tok(tiny):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny)


def test_loss_mask_is_the_answer_and_its_end_of_turn(tok):
    msgs = [{"role": "user", "content": "where is my parcel"}, {"role": "assistant", "content": "delivery"},
            {"role": "user", "content": "thanks"}, {"role": "assistant", "content": "billing"}]
    e = encode(msgs, tok, 512)
    supervised = [tok.decode([i]) for i, lab in zip(e.input_ids, e.labels) if lab != IGNORE]
    assert "".join(supervised) == "delivery<|im_end|>billing<|im_end|>"  # both assistant turns, EOS included
    assert e.labels[-1] == IGNORE  # the newline after the last end-of-turn is not taught


def test_truncation_keeps_the_answer(tok):
    msgs = [{"role": "user", "content": "where is my parcel " * 20}, {"role": "assistant", "content": "delivery"}]
    e = encode(msgs, tok, 16)
    assert len(e.input_ids) == 16 and e.truncated
    assert "".join(tok.decode([i]) for i, lab in zip(e.input_ids, e.labels) if lab != IGNORE) == "delivery<|im_end|>"


def test_training_writes_a_verified_adapter(tiny, tmp_path):
    from peft import PeftModel

    from harness.model.loading import load_base

    out = tmp_path / "adapter"
    train(tiny, ROWS, EVAL, out=out, **FAST)
    names = {p.name for p in out.iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", "manifest.json", "README.md",
            "chat_template.jinja"} <= names
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["schema"] == "harness.adapter/1" and manifest["base"]["source"] == "directory"
    assert manifest["data"]["train"]["good_rows"] == len(ROWS) and manifest["steps"] == 2 * 3
    assert [e["epoch"] for e in manifest["evals"]] == [1, 2] and "eval_accuracy" in manifest["evals"][0]
    assert manifest["losses"][-1]["loss"] < manifest["losses"][0]["loss"]
    assert manifest["verification"]["base_max_abs_diff"] > 1e-6
    assert "loss curves" in (out / "report.html").read_text()  # the run's own report, from the manifest
    # Plain PEFT loads it.
    model = PeftModel.from_pretrained(load_base(tiny).model, str(out))
    assert any("lora_B" in n and p.abs().sum() > 0 for n, p in model.named_parameters())
    assert not list(tmp_path.glob(".adapter.tmp-*")) and not (tmp_path / "adapter.partial").exists()


def test_chat_rows_train_too(tiny, tmp_path):
    chat = [{"messages": [{"role": "user", "content": r["text"]}, {"role": "assistant", "content": r["label"]}]}
            for r in ROWS]
    m = train(tiny, chat, None, out=tmp_path / "a", **{**FAST, "epochs": 1})
    assert m["data"]["shape"] == "chat" and m["steps"] == 3


def test_the_data_specs_labels_are_the_ones_trained_and_recorded(tiny, tmp_path):
    """A row whose label the spec does not allow is a schema error in the audit and is not trained on;
    the labels the model chooses among (and compare reads from the manifest) are the spec's."""
    from harness.inputs.data_spec import DataSpec

    rows = ROWS + [{"text": "is my parcel lost", "label": "misc"}]
    allowed = ["billing", "cancellation", "delivery", "refund", "technical_issue"]
    m = train(tiny, rows, None, out=tmp_path / "a", spec=DataSpec.from_mapping({"labels": allowed}, "test"),
              **{**FAST, "epochs": 1})
    assert m["data"]["labels"] == allowed
    assert m["data"]["train"]["good_rows"] == len(ROWS) and m["data_spec"]["labels"] == allowed


def test_rows_with_nothing_to_learn_are_refused_and_listed(tiny, tok, tmp_path):
    lengths = {lab: len(tok(lab + "<|im_end|>", add_special_tokens=False)["input_ids"]) for lab in {r["label"] for r in ROWS}}
    m = train(tiny, ROWS, None, out=tmp_path / "a", **{**FAST, "max_seq_len": 2, "epochs": 1})
    too_long = [i + 1 for i, r in enumerate(ROWS) if lengths[r["label"]] > 2]
    assert too_long and [r["line"] for r in m["data"]["refused_rows"]] == too_long
    assert m["data"]["refused_rows"][0]["reason"] == "no supervised token left within max_seq_len 2"
    with pytest.raises(TrainingError, match="no row has a supervised token"):
        train(tiny, ROWS, None, out=tmp_path / "b", **{**FAST, "max_seq_len": 1})


def test_existing_output_and_failed_audit_are_refused(tiny, tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(InputError, match="use --overwrite"):
        train(tiny, ROWS, None, out=tmp_path / "taken", **FAST)
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps({"verdict": "fail"}))
    with pytest.raises(InputError, match="--allow-failed-audit"):
        train(tiny, ROWS, None, out=tmp_path / "b", audit=audit, **FAST)
    m = train(tiny, ROWS, None, out=tmp_path / "b", audit=audit, allow_failed_audit=True, **{**FAST, "epochs": 1})
    assert m["audit_verdict"] == "fail"
    # --overwrite replaces an adapter the harness wrote (and only the files it lists) ...
    again = train(tiny, ROWS, None, out=tmp_path / "b", overwrite=True, **{**FAST, "epochs": 1})
    assert again["audit_verdict"] is None and "manifest.json" in again["files"]
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == again["files"]
    assert not list(tmp_path.glob(".b.old-*")) and not list(tmp_path.glob(".b.tmp-*"))
    # ... and refuses one that holds anything else, keeping it as it was.
    (tmp_path / "b" / "my_notes.txt").write_text("mine")
    with pytest.raises(InputError, match="did not write"):
        train(tiny, ROWS, None, out=tmp_path / "b", overwrite=True, **{**FAST, "epochs": 1})
    assert (tmp_path / "b" / "my_notes.txt").read_text() == "mine"


def test_a_no_op_adapter_is_an_error(tiny, tmp_path):
    with pytest.raises(TrainingError, match="changes nothing"):
        train(tiny, ROWS, None, out=tmp_path / "a", **{**FAST, "lr": 1e-12, "max_steps": 1})
    assert not (tmp_path / "a").exists()


def test_resume_after_interruption_gives_the_same_adapter(tiny, tmp_path):
    from safetensors.torch import load_file

    train(tiny, ROWS, EVAL, out=tmp_path / "straight", **{**FAST, "checkpoint_every": 1})

    def stop_at_4(s):
        if s["step"] == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny, ROWS, EVAL, out=tmp_path / "resumed", on_step=stop_at_4, **{**FAST, "checkpoint_every": 1})
    assert (tmp_path / "resumed.partial" / "checkpoint.pt").is_file() and not (tmp_path / "resumed").exists()
    m = train(tiny, ROWS, EVAL, out=tmp_path / "resumed", **{**FAST, "checkpoint_every": 1})
    assert m["steps"] == 6 and [x["step"] for x in m["losses"]] == list(range(1, 7))
    a = load_file(tmp_path / "straight" / "adapter_model.safetensors")
    b = load_file(tmp_path / "resumed" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_cli_train_and_its_errors(tiny, tmp_path):
    from conftest import write_jsonl

    data = write_jsonl(tmp_path / "t.jsonl", ROWS)
    proc = subprocess.run([sys.executable, "-m", "harness", "train", "--base", tiny, "--train", str(data), "--out",
                           str(tmp_path / "ad"), "--epochs", "1", "--lr", "0.005", "--max-seq-len", "96"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "ad" / "adapter_model.safetensors").is_file()
    bad = subprocess.run([sys.executable, "-m", "harness", "train", "--base", "smollm2-135m", "--train", str(data),
                          "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert bad.returncode == 2 and "did you mean 'smollm2-135m-instruct'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_process_ddp_on_cpu(tiny, tmp_path, launcher):
    """torchrun or accelerate launch with 2 processes (gloo): same command, no code change; rank 0 alone
    writes one adapter and speaks. (accelerate's --cpu mode runs one process without MPI; its
    --multi_gpu mode is torchrun underneath and falls back to gloo on a CPU machine.)"""
    import socket

    from conftest import write_jsonl

    data = write_jsonl(tmp_path / "t.jsonl", ROWS)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launch = {"torchrun": ["-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
                           "--master_addr=127.0.0.1"],
              "accelerate": ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes=2",
                             "--num_machines=1", "--mixed_precision=no", "--dynamo_backend=no",
                             f"--main_process_port={port}"]}[launcher]
    proc = subprocess.run([sys.executable, *launch, "-m", "harness", "train", "--base", tiny, "--train", str(data),
                           "--out", str(tmp_path / "ddp"), "--epochs", "2", "--lr", "0.005", "--batch-size", "4",
                           "--max-seq-len", "96"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads((tmp_path / "ddp" / "manifest.json").read_text())
    assert manifest["processes"] == 2 and manifest["ranks_in_sync"] is True  # gradients were averaged
    assert manifest["steps"] == 2 * (len(ROWS) // 4 // 2)  # each rank takes half the batches
    assert manifest["verification"]["base_max_abs_diff"] > 1e-6
    assert proc.stdout.count("Adapter:") == 1


def test_early_stopping_keeps_the_best_epoch(tiny, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    import harness.training.trainer as trainer

    same = {**FAST, "schedule": "constant"}  # the first epoch is then the same in both runs
    train(tiny, ROWS, EVAL, out=tmp_path / "one", **{**same, "epochs": 1})
    losses = iter([1.0, 2.0, 3.0, 4.0])
    monkeypatch.setattr(trainer, "evaluate", lambda *a, **k: next(losses))
    # classification rows: the loss comes with the accuracy from one scoring pass
    monkeypatch.setattr(trainer, "classification_eval", lambda *a, **k: (0.5, next(losses)))
    m = train(tiny, ROWS, EVAL, out=tmp_path / "stopped", **{**same, "epochs": 5, "early_stopping_patience": 1})
    assert [e.get("best", False) for e in m["evals"]] == [True, False] and m["evals"][-1]["early_stop"]
    a = load_file(tmp_path / "one" / "adapter_model.safetensors")
    b = load_file(tmp_path / "stopped" / "adapter_model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)  # the epoch-1 adapter was kept, not the last one


def test_out_of_memory_is_one_line_exit_2(monkeypatch, capsys):
    import harness.training.trainer as trainer
    from harness.app.cli import main

    def oom(*a, **k):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(trainer, "train", oom)
    assert main(["train", "--base", "x", "--train", "y", "--out", "z"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "out of memory" in err[0]


def test_builtin_model_trains_end_to_end(tmp_path):
    """A few steps of the real SmolLM2-135M-Instruct (CI runs this): the mask, the loss, the verified
    adapter and its manifest on the real chat template."""
    m = train("smollm2-135m-instruct", ROWS[:16], None, out=tmp_path / "real",
              **{**FAST, "max_steps": 2, "batch_size": 8, "lr": 1e-3, "prompt_template": "Ticket: {text}\nCategory?"})
    assert m["steps"] == 2 and m["base"]["source"] == "builtin"
    assert m["verification"]["reload_max_abs_diff"] < 1e-4 < m["verification"]["base_max_abs_diff"]
    assert (tmp_path / "real" / "chat_template.jinja").read_text().count("im_start") >= 1


def test_train_config_errors_name_key_file_and_line(tmp_path):
    from harness.core.errors import UsageError
    from harness.training.train_config import TrainConfig

    bad = tmp_path / "train.yaml"
    bad.write_text("epochs: 2\nlr: [\n")
    with pytest.raises(InputError, match=r"train.yaml:3: broken YAML"):
        TrainConfig.load(bad)
    bad.write_text("epoch: 2\n")
    with pytest.raises(UsageError, match="did you mean 'epochs'"):
        TrainConfig.load(bad)
    with pytest.raises(UsageError, match="lr: must be < 1, got 5"):
        TrainConfig.load(None, {"lr": 5})
    assert TrainConfig.load(None, {"epochs": 4, "lr": None}).epochs == 4  # unset flags keep the file's value


def test_train_config_values_are_checked_by_type_and_range_before_a_model_loads():
    from transformers import SchedulerType

    from harness.core.errors import UsageError
    from harness.training.train_config import SCHEDULES, TrainConfig

    assert set(SCHEDULES) == {s.value for s in SchedulerType}
    for bad, match in [({"schedule": "bogus"}, "schedule: expected one of linear"),
                       ({"schedule": "cosin"}, "did you mean 'cosine'"),
                       ({"target_modules": "q_proj"}, "target_modules: expected a list"),
                       ({"max_steps": -1}, "max_steps: must be >= 1"),
                       ({"lr": "fast"}, "lr: expected a finite number, got 'fast'"),
                       ({"lr": float("nan")}, "lr: expected a finite number"),
                       ({"epochs": True}, "epochs: expected an integer")]:
        with pytest.raises(UsageError, match=match):
            TrainConfig.load(None, bad)


def test_batched_eval_accuracy_agrees_with_scoring_row_by_row(tiny):
    """The per-epoch accuracy goes through compare's batched prefix-sharing scorer; it must pick the same
    label as scoring each row on its own (issue 17: one row at a time took most of an epoch)."""
    import numpy as np

    from harness.inputs.data import load_table
    from harness.model.loading import load_base
    from harness.model.render import prompt_messages
    from harness.model.scoring import option_logprobs
    from harness.training.train_config import TrainConfig
    from harness.training.trainer import classification_accuracy

    base = load_base(tiny)
    cfg = TrainConfig.load(None, {"prompt_template": "Label: {labels}\n{text}", "max_seq_len": 96})
    examples = load_table(ROWS, "eval").examples
    labels = sorted({r["label"] for r in ROWS})
    one_by_one = [labels[int(np.argmax(option_logprobs(base.model, base.tokenizer,
                                                       prompt_messages(ex, "classification", cfg.prompt_template,
                                                                       labels, cfg.system), labels, 384)))]
                  for ex in examples]
    expected = sum(p == ex.label for p, ex in zip(one_by_one, examples)) / len(examples)
    assert classification_accuracy(base.model, base.tokenizer, examples, "classification", cfg, labels, chunk=5) == expected
    # The per-epoch loss comes from the same pass (the gold label's score): it equals the plain masked loss.
    from harness.model.render import encode_all
    from harness.model.scoring import pad_token_id
    from harness.training.trainer import classification_eval, evaluate

    encoded, _ = encode_all(examples, "classification", base.tokenizer, 96, cfg.prompt_template, labels)
    accuracy, loss = classification_eval(base.model, base.tokenizer, examples, "classification", cfg, labels)
    assert accuracy == expected
    assert loss == pytest.approx(evaluate(base.model, encoded, 8, pad_token_id(base.tokenizer)), rel=1e-4)
    with pytest.raises(KeyboardInterrupt):
        classification_accuracy(base.model, base.tokenizer, examples, "classification", cfg, labels,
                                should_stop=lambda: True)


def test_size_dependent_defaults_are_chosen_and_recorded_and_eval_is_capped(tiny, tmp_path):
    """lr left unset is filled in by the base's size, and the manifest says what and why; the per-epoch
    eval runs on at most eval_max_rows rows drawn with the seed."""
    from harness.training.train_config import lr_rule

    assert lr_rule(135_000_000)[0] > lr_rule(7_000_000_000)[0] > lr_rule(70_000_000_000)[0]
    m = train(tiny, ROWS, EVAL * 10, out=tmp_path / "a", **{**FAST, "lr": None, "max_steps": 1, "eval_max_rows": 8})
    assert m["config"]["lr"] == m["chosen"]["lr"]["value"] == 2e-3 and "parameters" in m["chosen"]["lr"]["why"]
    assert m["config"]["target_modules"] == m["chosen"]["target_modules"]["value"]
    assert m["data"]["eval_rows_used"] == 8 and m["device"] == "cpu"
    m = train(tiny, ROWS, EVAL, out=tmp_path / "b", **{**FAST, "max_steps": 1, "eval_accuracy": False})
    assert "lr" not in m["chosen"] and m["config"]["lr"] == FAST["lr"]
    assert "eval_accuracy" not in m["evals"][0] and "eval_loss" in m["evals"][0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
@pytest.mark.parametrize("flags, message", [(["--device", "cuda"], "device cuda: no CUDA device is visible"),
                                            (["--quantize", "4bit"], "4-bit loading needs a CUDA device")])
def test_a_device_or_quantisation_that_is_not_there_is_one_line_exit_2(tiny, tmp_path, flags, message):
    from conftest import write_jsonl

    data = write_jsonl(tmp_path / "t.jsonl", ROWS)
    proc = subprocess.run([sys.executable, "-m", "harness", "train", "--base", tiny, "--train", str(data), "--out",
                           str(tmp_path / "ad"), *flags], capture_output=True, text=True)
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "ad").exists()


def test_sigterm_during_evaluation_stops_within_seconds_and_the_run_resumes(tiny, tmp_path):
    """A real SIGTERM to a training process while it evaluates (one step, then a long eval): it stops
    within seconds with exit 130 and a checkpoint, no adapter; the same command then finishes the run."""
    import os
    import signal
    import time

    from conftest import write_jsonl

    data = write_jsonl(tmp_path / "t.jsonl", ROWS)
    ev = write_jsonl(tmp_path / "e.jsonl", ROWS * 60)  # 1,440 rows: long enough to be caught evaluating
    config = tmp_path / "train.yaml"
    config.write_text("checkpoint_every: 1\n")  # a checkpoint after the one step says the eval has begun
    out = tmp_path / "ad"
    cmd = [sys.executable, "-m", "harness", "train", "--base", tiny, "--train", str(data), "--eval", str(ev), "--out",
           str(out), "--config", str(config), "--max-steps", "1", "--lr", "0.005", "--max-seq-len", "96",
           "--eval-max-rows", "5000"]
    log = open(tmp_path / "stderr.txt", "w+")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, text=True)
    ckpt = tmp_path / "ad.partial" / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ckpt.exists(), (tmp_path / "stderr.txt").read_text()[-2000:]
    time.sleep(1.0)  # the step's checkpoint is written; the loop is now evaluating 19,200 rows
    assert proc.poll() is None, "the eval finished before the signal: make it longer"
    sent = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    rc = proc.wait(timeout=60)
    assert rc == 130 and time.monotonic() - sent < 10, (rc, (tmp_path / "stderr.txt").read_text()[-2000:])
    assert ckpt.exists() and not out.exists()
    write_jsonl(ev, ROWS[:4])  # the resumed run's eval is short (the eval file is not part of the checkpoint)
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["steps"] == 1 and len(m["evals"]) == 1 and not ckpt.exists()
