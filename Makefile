# Two commands on a fresh machine: `make demo` and `make test`. Each sets up .venv on first use.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	# torch first, pinned: 2.13.0 is the CPU build; an unpinned torch can pull a multi-GB CUDA build.
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $(STAMP)

.PHONY: setup demo test bench
setup: $(STAMP)

# The audit of the built-in example. Its data has planted defects, so the verdict is FAIL (exit 1)
# on purpose; only exit 2 (unusable input) or 3 (a bug) fails this target.
demo: $(STAMP)
	$(VENV)/bin/harness audit examples/tickets/train.jsonl --eval examples/tickets/eval.jsonl \
		--policy examples/tickets/policy.yaml --out out/audit; test $$? -le 1

test: $(STAMP)
	$(VENV)/bin/python -m pytest

bench: $(STAMP)
	$(VENV)/bin/pip install --quiet -e ".[bench]"
	$(VENV)/bin/python bench/bench_audit.py
