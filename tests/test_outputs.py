"""Outputs never land on inputs; --overwrite replaces only what the harness wrote (harness/core/outputs.py)."""

import json

import pytest

from harness.core.errors import InputError
from harness.core.outputs import input_paths, refuse_inputs_as_outputs, replaceable_adapter, writable_dir, writable_file


def _adapter(d, files=None, schema="harness.adapter/1"):
    d.mkdir()
    (d / "adapter_model.safetensors").write_bytes(b"x")
    manifest = {"schema": schema}
    if files is not None:
        manifest["files"] = files
    (d / "manifest.json").write_text(json.dumps(manifest))
    return d


def test_an_adapter_the_harness_wrote_may_be_replaced(tmp_path):
    replaceable_adapter(_adapter(tmp_path / "a"), [])
    replaceable_adapter(_adapter(tmp_path / "b", ["adapter_model.safetensors", "manifest.json"]), [])
    replaceable_adapter(tmp_path / "missing", [])


def test_a_folder_without_the_harness_manifest_or_with_other_files_is_refused(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(InputError, match="no harness manifest.json"):
        replaceable_adapter(plain, [])
    with pytest.raises(InputError, match="no harness manifest.json"):
        replaceable_adapter(_adapter(tmp_path / "other", schema="something/1"), [])
    listed = _adapter(tmp_path / "listed", ["adapter_model.safetensors", "manifest.json"])
    (listed / "README.md").write_text("not listed by this adapter's manifest")
    with pytest.raises(InputError, match=r"did not write \(README.md\)"):
        replaceable_adapter(listed, [])


def test_overwrite_never_deletes_an_input(tmp_path):
    d = _adapter(tmp_path / "a")
    data = d / "sub" / "train.jsonl"
    data.parent.mkdir()
    data.write_text("{}\n")
    with pytest.raises(InputError, match="would delete the input"):
        replaceable_adapter(d, input_paths(str(data), None, [{"text": "in memory"}]))


def test_outputs_over_inputs_and_files_as_directories_are_refused(tmp_path):
    f = tmp_path / "audit.json"
    f.write_text("{}")
    with pytest.raises(InputError, match="overwrite an input"):
        writable_file(tmp_path / "." / "audit.json", input_paths(str(f)))
    with pytest.raises(InputError, match="must be a directory"):
        writable_dir(f)
    with pytest.raises(InputError, match="overwrite an input"):
        writable_dir(tmp_path, ("audit.json",), input_paths(f))
    with pytest.raises(InputError, match="is a directory"):
        writable_file(tmp_path)
    refuse_inputs_as_outputs([tmp_path / "other.html"], [f])
    assert writable_dir(tmp_path / "new" / "deeper").is_dir()


def test_a_second_run_into_the_same_output_directory_is_refused(tmp_path):
    import subprocess
    import sys

    from harness.core.outputs import output_lock

    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"text": f"row {i} text", "label": "ab"[i % 2]}) + "\n" for i in range(20)))
    with output_lock(tmp_path / "out"):
        proc = subprocess.run([sys.executable, "-m", "harness", "audit", str(train), "--out", str(tmp_path / "out")],
                              capture_output=True, text=True)
    assert proc.returncode == 2 and "another harness run is writing into this directory" in proc.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_sigterm_ends_an_audit_like_ctrl_c(tmp_path):
    """Issue 16.10: SIGTERM ended an audit with status 143, no message and a stray .tmp."""
    import signal
    import subprocess
    import sys
    import time

    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"text": f"ticket {i} about order {i * 7919 % 100003} and more words {i % 97}",
                                         "label": "abc"[i % 3]}) + "\n" for i in range(100000)))
    proc = subprocess.Popen([sys.executable, "-m", "harness", "audit", str(train), "--out", str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Signalled mid-audit, not at a fixed time from the start: the run makes --out once its handlers are
    # set, and this audit takes ~15 s from there on 2 cores (a fixed 6 s from the start could land after
    # the audit on a faster or busier machine).
    deadline = time.monotonic() + 60
    while not (tmp_path / "out").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_outputs_get_the_mode_the_umask_allows(tmp_path):
    import os

    from harness.core.io import write_files_atomic, write_text_atomic

    old = os.umask(0o022)
    try:
        a = write_text_atomic(tmp_path / "a.txt", "x")
        b, = write_files_atomic(tmp_path, {"b.txt": "y"})
    finally:
        os.umask(old)
    assert a.stat().st_mode & 0o777 == 0o644 and b.stat().st_mode & 0o777 == 0o644
