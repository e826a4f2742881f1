"""Hostile and malformed input through the real command line (issue 16's red-team list): every case in
tests/hostile/<name>/ is copied to a temporary folder and run as `python -m harness ARGS` there. Its
case.json gives the args, the exit code, a substring of the one-line message, and paths that must not
appear. Every case: no traceback, one line on stderr, and every input file byte for byte unchanged
and still there. Adding a case is adding a folder."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CASES = sorted(p for p in (Path(__file__).parent / "hostile").iterdir() if (p / "case.json").is_file())


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and p.name != "case.json"}


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_hostile_case(case_dir, tmp_path):
    case = json.loads((case_dir / "case.json").read_text())
    work = tmp_path / case_dir.name
    shutil.copytree(case_dir, work)
    before = _digests(work)
    proc = subprocess.run([sys.executable, "-m", "harness", *case["args"]], cwd=work, capture_output=True,
                          text=True, timeout=600)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr + proc.stdout, err
    assert proc.returncode == case["exit"], f"exit {proc.returncode}: {err or proc.stdout[-500:]}"
    if case["exit"] == 2:
        lines = [x for x in err.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("harness: error: "), err
        assert case["message"] in lines[0], lines[0]
    after = _digests(work)
    assert {k: after.get(k) for k in before} == before, "an input was modified or deleted"
    for name in case.get("absent", []):
        assert not (work / name).exists(), f"{name} exists"
    for text in case.get("output_lacks", []):
        assert text not in proc.stdout + proc.stderr, f"{text!r} printed"
    for file, texts in case.get("files_lack", []):
        content = (work / file).read_text(encoding="utf-8")
        for text in texts:
            assert text not in content, f"{text!r} in {file}"
    for file, keys, expected in case.get("json_equals", []):
        value = json.loads((work / file).read_text())
        for key in keys:
            value = value[key]
        assert value == expected, f"{file} {keys}: {value!r} != {expected!r}"


# ---- fuzzing the command: random bytes, random JSON values, random Unicode -------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)
# Rows that are mostly well-formed (so the checks run) with hostile values mixed in.
rows = st.lists(st.one_of(st.fixed_dictionaries({"text": st.text(min_size=1), "label": st.sampled_from(["a", "b", "c"])}),
                          st.fixed_dictionaries({"text": json_values, "label": json_values}), json_values),
                min_size=1, max_size=15)


def _audit_exit(data: bytes, suffix: str = ".jsonl", args: tuple[str, ...] = ()) -> tuple[int, str]:
    import contextlib
    import io
    import tempfile

    from harness.app.cli import main

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"train{suffix}"
        path.write_bytes(data)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["audit", str(path), "--out", str(Path(d) / "out"), "--quiet", *args])
        assert path.read_bytes() == data
        return code, err.getvalue()


def _jsonl(values) -> bytes:
    """Rows as JSONL bytes, lone surrogates kept (hostile text the reader must refuse in one line)."""
    return "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values).encode("utf-8", "surrogatepass")


def _never_internal(code: int, err: str) -> None:
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err, err


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([".jsonl", ".json", ".csv", ".tsv", ".parquet", ".jsonl.gz",
                                                 ".jsonl.zst", ".csv.gz", ".tsv.zst", ".parquet.gz"]))
def test_random_bytes_never_crash_the_command(data, suffix):
    _never_internal(*_audit_exit(data, suffix))


@FUZZ
@given(rows)
def test_random_json_rows_never_crash_the_command(values):
    data = _jsonl(values)
    _never_internal(*_audit_exit(data))


@FUZZ
@given(st.lists(st.text(min_size=1), min_size=1, max_size=15))
def test_random_unicode_texts_never_crash_the_command(texts):
    data = "".join(json.dumps({"text": t, "label": "ab"[i % 2]}) + "\n" for i, t in enumerate(texts))
    _never_internal(*_audit_exit(data.encode("utf-8")))


def _compress(data: bytes, how: str) -> bytes:
    import gzip

    import zstandard

    return gzip.compress(data) if how == "gz" else zstandard.ZstdCompressor().compress(data)


@FUZZ
@given(rows, st.sampled_from(["gz", "zst"]), st.floats(0, 1))
def test_compressed_rows_cut_anywhere_never_crash_the_command(values, how, keep):
    """Issue 30.4/30.5: compressed input, whole or cut off at any byte: rows, or one line saying why."""
    data = _jsonl(values)
    packed = _compress(data, how)
    cut = packed[: int(len(packed) * keep)]
    code, err = _audit_exit(cut, f".jsonl.{how}")
    _never_internal(code, err)
    if keep < 1 and len(cut) < len(packed):
        assert code == 2, err  # a cut-off stream is never read as if whole


names = st.text(min_size=1, max_size=12)
tool_calls = st.lists(st.fixed_dictionaries({"id": names, "type": st.just("function"), "function": st.one_of(
    st.fixed_dictionaries({"name": names, "arguments": st.one_of(json_values, json_values.map(json.dumps))}),
    json_values)}), min_size=0, max_size=2)
tool_rows = st.lists(st.fixed_dictionaries({
    "messages": st.tuples(st.text(min_size=1), tool_calls, json_values).map(lambda t: [
        {"role": "user", "content": t[0]},
        {"role": "assistant", "content": None if t[1] else "ok", **({"tool_calls": t[1]} if t[1] else {})},
        {"role": "tool", "tool_call_id": "c", "content": json.dumps(t[2])},
        {"role": "assistant", "content": "done"}]),
    "tools": st.one_of(st.just([]), st.lists(st.fixed_dictionaries({"type": st.just("function"), "function": st.fixed_dictionaries(
        {"name": names, "parameters": json_values})}), max_size=2), json_values)}), min_size=1, max_size=8)


@FUZZ
@given(tool_rows)
def test_random_tool_call_rows_never_crash_the_command(values):
    data = _jsonl(values)
    _never_internal(*_audit_exit(data))


@FUZZ
@given(st.lists(st.tuples(st.one_of(st.sampled_from(["text", "label", "prompt", "completion", "messages", "input",
                                                      "output", "lable", "txt"]), names),
                          st.one_of(st.sampled_from(["text", "label", "body", "category"]), names)),
                min_size=1, max_size=3))
def test_random_field_mappings_never_crash_the_command(mapping):
    """Issue 30.9: a mapping names a canonical field (a usage error with did-you-mean otherwise) and a
    column; whatever is given, exit 0, 1 or 2 and the input untouched."""
    data = "".join(json.dumps({"body": f"where is parcel {i}", "category": "ab"[i % 2], "text": "x", "label": "a"}) + "\n"
                   for i in range(8)).encode()
    args = tuple(a for name, col in mapping for a in ("--field", f"{name}={col}"))
    _never_internal(*_audit_exit(data, args=args))
