"""Atomic output: a file appears whole or not at all, so an interrupted run never leaves half a result."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _umask_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def write_files_atomic(directory: str | os.PathLike, files: dict[str, str]) -> list[Path]:
    """Files that belong together (audit.json and the report made from it): every one is written and
    synced to a temporary file first, then all are renamed into place with Ctrl-C and SIGTERM held back,
    so an interrupt never leaves a new audit.json beside the old report of another input."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return write_set_atomic({directory / name: text.encode("utf-8") for name, text in files.items()})


def write_set_atomic(files: dict[Path, bytes]) -> list[Path]:
    """write_files_atomic for bytes and paths in any folder. Each file is staged beside its final path
    (a rename within one file system), and they are renamed in the order given while Ctrl-C and SIGTERM
    are held back, so an interrupt lands before the first rename or after the last; put the file that
    commits the set (the one readers look for) last."""
    import signal

    staged: list[tuple[str, Path]] = []
    try:
        for final, data in files.items():
            final = Path(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
            staged.append((tmp, final))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            _umask_mode(tmp)
        held = {signal.SIGINT, signal.SIGTERM}
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            for tmp, final in staged:
                os.replace(tmp, final)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise
    return [final for _, final in staged]


def _umask_mode(path: str) -> None:
    """mkstemp creates files 0600; an output gets the mode any new file would get (0666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def json_text(data: Any) -> str:
    """How every JSON document the harness writes is laid out."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    return write_text_atomic(path, json_text(data))


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_yaml_mapping(path: str | os.PathLike, what: str) -> dict[str, Any]:
    """A YAML file that must hold a mapping (a policy, a train config); one-line errors with the line."""
    import yaml

    from harness.core.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"no such {what} file")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise InputError(path, f"a {what} file over {MAX_CONFIG_BYTES // 1024} KiB is not a config")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(path, f"broken YAML: {getattr(exc, 'problem', exc)}", mark.line + 1 if mark else None) from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8") from None
    if not isinstance(data, dict):
        raise InputError(path, f"a {what} must be a mapping of keys to values")
    if expanded_size(data, MAX_CONFIG_VALUES) > MAX_CONFIG_VALUES:
        # YAML aliases share one object, so a 600-byte file can stand for billions of values ("billion
        # laughs"); everything downstream (merging, writing audit.json) would expand them.
        raise InputError(path, f"the {what} expands to more than {MAX_CONFIG_VALUES:,} values (YAML aliases "
                               "nested as a bomb?)")
    return data


MAX_CONFIG_BYTES = 1 << 20
MAX_CONFIG_VALUES = 100_000


def expanded_size(data: Any, limit: int) -> int:
    """How many values `data` holds once shared (aliased) parts are counted each time they are used;
    stops counting past `limit`."""
    count, stack = 0, [data]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return count
