# Two commands on a fresh machine: `make demo` and `make test`. Each sets up .venv on first use.
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	# torch first, pinned: 2.13.0 is the CPU build; an unpinned torch can pull a multi-GB CUDA build.
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e ".[test,spark,meaning]"
	touch $(STAMP)

.PHONY: setup demo test bench
setup: $(STAMP)

# The whole job on the built-in example (harness demo: audit the planted defects, clean, train with
# the built-in model, compare, gate, report; ~8 minutes on 2 cores). A gate verdict of FAIL exits 1
# and is still a finished demo; only exit 2 (unusable input) or 3 (a bug) fails this target.
demo: $(STAMP)
	$(VENV)/bin/harness demo --out out/demo; test $$? -le 1

test: $(STAMP)
	$(VENV)/bin/python -m pytest

bench: $(STAMP)
	$(VENV)/bin/pip install --quiet -e ".[bench]"
	$(VENV)/bin/python bench/bench_audit.py
