"""Where a command may write: nothing the user gave is modified or lost. An output never lands on an
input; `--overwrite` replaces only a directory the harness wrote itself (recognised by its manifest and
holding nothing else), never one that holds an input; and an output location that cannot be written is
refused before the work starts, not after an hour of it."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from harness.core.errors import InputError

# What the trainer writes into an adapter directory (peft, the tokenizer, the harness's own documents).
# An adapter written by this version lists its files in the manifest; this set covers older ones.
ADAPTER_FILES = frozenset({
    "manifest.json", "adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "README.md",
    "report.html", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
    "merges.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json", "tokenizer.model",
    "generation_config.json",
})
ADAPTER_SCHEMA_PREFIX = "harness.adapter/"


def _resolved(path: str | os.PathLike) -> Path:
    return Path(path).expanduser().resolve()


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def input_paths(*paths: object) -> list[Path]:
    """The local files among the arguments (strings or paths, or lists of them like --probes; in-memory
    rows and None are skipped)."""
    flat = [q for p in paths for q in (p if isinstance(p, (list, tuple)) else [p])]
    return [_resolved(p) for p in flat if isinstance(p, (str, os.PathLike)) and Path(p).exists()]


def input_files(*paths: object) -> list[Path]:
    """input_paths, and the files directly inside an input directory (a saved Hugging Face dataset, a
    folder of probe sets, an adapter): an output may land on none of them."""
    found = input_paths(*paths)
    return found + [f for d in found if d.is_dir() for f in sorted(d.iterdir()) if f.is_file()]


Output = str | os.PathLike | tuple[str, str | os.PathLike]  # a path, or (what it is, path)


def _identities(path: Path) -> set[object]:
    """Where a path resolves to and, for an existing file, its device and inode: a hard link or a
    case-insensitive file system names one file two ways."""
    keys: set[object] = {path}
    try:
        st = path.stat()
        keys.add((st.st_dev, st.st_ino))
    except OSError:
        pass
    return keys


def refuse_inputs_as_outputs(outputs: Iterable[Output], inputs: Iterable[Path]) -> None:
    """Every file a command writes, checked together before any work: an output that is one of the inputs
    (`report X/audit.json --out X/audit.json`), or the same file as another output (`audit --junit
    OUT/audit.json`, `--junit F --issues F`: one would replace the other), is refused. An output is a
    path or a (what, path) pair, `what` naming it in the message."""
    ins: set[object] = set().union(*(_identities(_resolved(p)) for p in inputs))
    written: dict[object, str] = {}
    for item in outputs:
        what, out = item if isinstance(item, tuple) else (None, item)
        keys = _identities(_resolved(out))
        if keys & ins:
            raise InputError(out, f"{what} would overwrite an input; choose another file" if what else
                                  "the output would overwrite an input; choose another --out")
        other = next((written[k] for k in keys if k in written), None)
        if other:
            raise InputError(out, f"{what or 'an output'} and {other} name the same file; give each output its own file")
        written.update(dict.fromkeys(keys, what or str(out)))


def writable_dir(out: str | os.PathLike, files: Iterable[str] = (), inputs: Iterable[Path] = ()) -> Path:
    """Check, before any work, that OUT is (or can be made) a writable directory and that none of the
    files the command writes into it is an input. Creates OUT."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise InputError(out, "--out must be a directory, and this is an existing file")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".harness-write-check-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(out, f"cannot write here ({exc.strerror or exc})") from None
    refuse_inputs_as_outputs([path / f for f in files], inputs)
    return path


def writable_file(out: str | os.PathLike, inputs: Iterable[Path] = ()) -> Path:
    """The same for one output file: not a directory, not an input, its folder writable."""
    path = Path(out)
    if path.is_dir():
        raise InputError(out, "--out is a directory; give a file name")
    refuse_inputs_as_outputs([path], inputs)
    writable_dir(path.parent if str(path.parent) else ".")
    return path


def replaceable_adapter(out: str | os.PathLike, inputs: Iterable[Path]) -> None:
    """`train --overwrite`: OUT may be replaced only when it is an adapter the harness wrote (its
    manifest says so) holding nothing but the harness's files, and no input lies inside it."""
    path = _resolved(out)
    if not path.exists():
        return
    if not path.is_dir():
        raise InputError(out, "--out must be a directory, and this is an existing file")
    for p in inputs:
        if _inside(_resolved(p), path):
            raise InputError(out, f"--overwrite would delete the input {p}; choose another --out")
    manifest = path / "manifest.json"
    try:
        import json

        data = json.loads(manifest.read_text(encoding="utf-8"))
        schema = data.get("schema", "") if isinstance(data, dict) else ""
    except (OSError, ValueError):
        data, schema = None, ""
    if not isinstance(schema, str) or not schema.startswith(ADAPTER_SCHEMA_PREFIX):
        raise InputError(out, "--overwrite replaces only an adapter directory the harness wrote (no harness "
                              "manifest.json here); choose another --out")
    listed = data.get("files") if isinstance(data.get("files"), list) else None
    known = set(listed) | {"manifest.json"} if listed is not None else ADAPTER_FILES
    strangers = sorted(p.name for p in path.iterdir() if p.name not in known)
    if strangers:
        shown = ", ".join(strangers[:3]) + (f" and {len(strangers) - 3} more" if len(strangers) > 3 else "")
        raise InputError(out, f"--overwrite refused: the directory holds files the harness did not write ({shown})")


@contextmanager
def output_lock(out: str | os.PathLike):
    """One run at a time per output directory: two runs into one --out would mix their files. An
    advisory lock on the directory itself (no lock file is left behind); the second run is refused."""
    import fcntl

    path = writable_dir(out)
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(out, "another harness run is writing into this directory; wait for it or "
                                  "choose another --out") from None
        yield path
    finally:
        os.close(fd)   # closing the descriptor releases the lock
