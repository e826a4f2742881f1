"""The format registry (harness/inputs/readers.py, issue 31.8): each file format is one registered reader, found
by name or suffix, read the same way by both engines; another package adds one with an entry point, and
the Spark engine refuses what it does not read in one line."""

import gzip
import json
import os
import subprocess
import sys
import textwrap

import pytest

from harness.inputs import readers
from harness.core.errors import InputError, UsageError
from harness.inputs.readers import for_file, read_records, split_suffix

ROWS = [{"text": "hello there", "label": "a"}, {"text": "refund please", "label": "b"}]


@pytest.mark.parametrize("name,expect", [("d.jsonl", (None, ".jsonl")), ("D.TSV.ZST", (".zst", ".tsv")),
                                         ("d.gz", (".gz", None)), ("d", (None, "")), ("v1.2/d.json", (None, ".json")),
                                         ("s3a://b/parts.jsonl.gz", (".gz", ".jsonl"))])
def test_suffixes_split_into_compression_and_format(name, expect):
    assert split_suffix(name) == expect


@pytest.mark.parametrize("name,fmt", [("d.jsonl", "jsonl"), ("d.ndjson.gz", "jsonl"), ("d.json", "json"),
                                      ("d.tsv.zst", "csv"), ("d.csv", "csv"), ("d.pq", "parquet"),
                                      ("d.parquet", "parquet"), ("d.txt", None), ("d", None)])
def test_a_reader_is_found_by_its_suffix(name, fmt):
    found, _, _ = for_file(name)
    assert (found.name if found else None) == fmt


def test_a_reader_is_found_by_name_and_an_unknown_name_gets_a_did_you_mean():
    assert readers.reader("parquet").binary and not readers.reader("parquet").compressible
    assert readers.file_formats() == ["jsonl", "json", "csv", "parquet"]
    with pytest.raises(UsageError, match="unknown format 'jsnl'; did you mean 'jsonl'"):
        readers.reader("jsnl")


def test_a_file_without_a_known_suffix_is_read_by_its_content(tmp_path):
    for name, text, fmt in (("a.txt", "\n".join(json.dumps(r) for r in ROWS), "jsonl"),
                            ("b.txt", json.dumps(ROWS), "json"), ("c.txt", "text,label\nhi,a\n", "csv")):
        (tmp_path / name).write_text(text)
        assert read_records(tmp_path / name)[2] == fmt
    (tmp_path / "d.json").write_text("\n".join(json.dumps(r) for r in ROWS))   # JSON Lines in a .json file
    assert read_records(tmp_path / "d.json")[2] == "jsonl"


def test_an_unknown_format_name_says_which_there_are(tmp_path):
    (tmp_path / "d.jsonl").write_text(json.dumps(ROWS[0]) + "\n")
    with pytest.raises(InputError, match="unknown format 'xml'; expected one of jsonl, json, csv, parquet"):
        read_records(tmp_path / "d.jsonl", "xml")


@pytest.fixture
def psv():
    """A reader for pipe-separated files, registered for one test as another package would register it."""

    @readers.register
    class PipeSeparated(readers.Reader):
        name, suffixes = "psv", (".psv",)

        def read_text(self, path, text, suffix):
            lines = text.splitlines()
            header = lines[0].split("|")
            return [dict(zip(header, line.split("|"))) for line in lines[1:]], list(range(2, len(lines) + 1))

    yield PipeSeparated
    readers.REGISTRY._items.pop("psv")


def test_a_registered_reader_is_read_in_process_compressed_too_and_refused_on_spark(tmp_path, psv):
    from harness.inputs.data import load_table
    from harness.auditing.spark.load import SPARK_READS, spark_reader

    (tmp_path / "d.psv").write_text("text|label\nhello there|a\nrefund please|b\n")
    (tmp_path / "d.psv.gz").write_bytes(gzip.compress((tmp_path / "d.psv").read_bytes()))
    for path in (tmp_path / "d.psv", tmp_path / "d.psv.gz"):
        t = load_table(path, "train")
        assert t.format == "psv" and [(e.input, e.label, e.line) for e in t.examples] == [("hello there", "a", 2),
                                                                                           ("refund please", "b", 3)]
    with pytest.raises(InputError) as err:
        spark_reader(str(tmp_path / "d.psv"))
    assert err.value.reason == SPARK_READS


@pytest.mark.parametrize("name,reads_as,refusal", [
    ("d.jsonl", "jsonl", None), ("parts.jsonl/", "jsonl", None), ("d.ndjson.gz", "jsonl", None),
    ("d.json", "jsonl", None), ("s3a://bucket/d.parquet", "parquet", None), ("d.pq", "parquet", None),
    ("d.json.gz", None, "the Spark engine reads .jsonl"), ("d.csv", None, "the Spark engine reads .jsonl"),
    ("d.tsv.gz", None, "the Spark engine reads .jsonl"), ("d.gz", None, "the Spark engine reads .jsonl"),
    ("d.parquet.gz", None, "Parquet compresses internally"), ("d.jsonl.zst", None, "does not read .zst"),
    ("d.parquet.zst", None, "does not read .zst")])
def test_the_spark_engine_asks_the_same_registry(name, reads_as, refusal):
    """What Spark reads each file as, or its one-line refusal, comes from the reader (no JVM needed)."""
    from harness.auditing.spark.load import spark_reader

    if refusal is None:
        assert spark_reader(name).name == reads_as
    else:
        with pytest.raises(InputError, match=refusal):
            spark_reader(name)


PLUGIN = '''
"""A throwaway reader: pipe-separated files."""
from harness.inputs.readers import Reader


class PipeSeparated(Reader):
    name, suffixes = "psv", (".psv",)

    def read_text(self, path, text, suffix):
        lines = text.splitlines()
        header = lines[0].split("|")
        return [dict(zip(header, line.split("|"))) for line in lines[1:]], list(range(2, len(lines) + 1))
'''


def test_a_reader_from_an_entry_point_reads_its_files_in_the_audit(tmp_path):
    """Installed beside the harness with an entry point in `finetune_harness.formats`, a reader's files are
    audited with no file of the harness changed; the Spark engine refuses them in one line (exit 2)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "throwaway_reader.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "throwaway_reader-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: throwaway-reader\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[finetune_harness.formats]\npsv = throwaway_reader:PipeSeparated\n")
    rows = [f"where is my parcel number {i}, due on day {i % 7}|delivery" for i in range(12)]
    rows += [f"my card was charged {i} times for one order|billing" for i in range(12)]
    (tmp_path / "train.psv").write_text("text|label\n" + "\n".join(rows) + "\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}

    def harness(*args):
        return subprocess.run([sys.executable, "-m", "harness", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)

    proc = harness("audit", "train.psv", "--out", "out", "--quiet")
    assert proc.returncode in (0, 1), proc.stderr
    card = json.loads((tmp_path / "out" / "audit.json").read_text())["inputs"]["train"]
    assert card["format"] == "psv" and card["good_rows"] == 24 and card["shape"] == "classification"
    proc = harness("audit", "train.psv", "--engine", "spark", "--out", "out2", "--quiet")
    assert proc.returncode == 2 and proc.stderr.strip().startswith("harness: error: train.psv: the Spark engine reads")


@pytest.mark.parametrize("text, line, reason", [
    ('{"prompt": "hi"}\n{"prompt": "hi"\n', 2, "not JSON"),
    ('\n["hi"]\n', 2, 'a text "prompt"'),
    ('{"id": 3}\n', 1, 'a text "prompt"'),
])
def test_a_bad_prompt_file_line_is_an_input_error_naming_it(tmp_path, text, line, reason):
    from harness.inputs.prompt_files import read_prompts

    path = tmp_path / "mine.jsonl"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_prompts(path)
    assert err.value.line == line and reason in err.value.reason and str(path) in str(err.value)


def test_prompt_files_keep_their_ids_and_lines(tmp_path):
    from harness.inputs.prompt_files import read_prompts

    path = tmp_path / "mine.jsonl"
    path.write_text('{"prompt": "a", "id": "x"}\n\n{"prompt": "b"}\n')
    assert [(p["id"], p["line"]) for p in read_prompts(path)] == [("x", 1), ("mine-3", 3)]
