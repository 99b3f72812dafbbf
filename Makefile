# Everything runs from a local virtual environment (.venv) that the targets
# below create; a fresh machine needs only Python 3.9+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TESTS  ?=
CORPUS ?= ../shared/corpus

.PHONY: demo dev test test-fast conformance golden testdata protos bench fuzz lint compat dist clean

# Runtime only (click, rich, protobuf): what `show` and `check` need.
# editable_mode=compat stays on purpose: for this flat layout setuptools'
# newer modes install an import-hook finder that every `sigtool show` pays for
# at start-up; compat writes a plain path entry instead. Only contributors'
# editable installs use it: wheels and pipx installs never do.
EDITABLE := --config-settings editable_mode=compat
$(BIN)/sigtool: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(EDITABLE) -e .
	touch $@

# Tests need TensorFlow (the oracle, and `run`), pytest, hypothesis, protoc.
# tensorflow-serving-api (the warmup tests' oracle) goes in with --no-deps: it pins a tensorflow that would
# replace tensorflow-cpu.
$(VENV)/.test-deps: $(BIN)/sigtool constraints-test.txt
	$(BIN)/python -m pip install --quiet -c constraints-test.txt $(EDITABLE) -e '.[run,test,remote]'
	$(BIN)/python -m pip install --quiet --no-deps tensorflow-serving-api==2.21.0
	touch $@

demo: $(BIN)/sigtool
	$(BIN)/sigtool show testdata/half_plus_two_like

dev: $(VENV)/.test-deps

# The whole suite on the repository's own testdata/; never reads ../shared.
test: $(VENV)/.test-deps
	$(BIN)/python -m pytest $(if $(TESTS),-k '$(TESTS)') -q

# The unit tier without TensorFlow: seconds (tiers and --fast: tests/conftest.py; Hypothesis's plugin unused).
test-fast: $(VENV)/.test-deps
	$(BIN)/python -m pytest --fast -p no:hypothesispytest $(if $(TESTS),-k '$(TESTS)') -q

# The independent second tier: TensorFlow's recorded facts about the shared corpus.
conformance: $(VENV)/.test-deps
	$(BIN)/python -m pytest tests/conformance --corpus '$(CORPUS)' -q

golden: $(VENV)/.test-deps
	$(BIN)/python -m pytest tests/test_golden.py --update-golden -q

testdata: $(BIN)/sigtool
	$(BIN)/python testdata/make_testdata.py

protos: $(VENV)/.test-deps
	$(BIN)/python tools/gen_protos.py

bench: $(VENV)/.test-deps
	$(BIN)/python bench/bench.py

fuzz: $(VENV)/.test-deps
	SIGTOOL_FUZZ_EXAMPLES=20000 $(BIN)/python -m pytest tests/test_fuzz.py -q

# Formatting, the declared rule set and types (all in pyproject.toml); zero findings.
LINT_PATHS := sigtool tests tools bench testdata
lint: $(VENV)/.test-deps
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy sigtool

# sigtool beside TensorFlow 2.12, 2.15, 2.18 and 2.21, each in its own venv (slow; not in `make test`).
compat:
	$(PYTHON) tools/compat.py

# sdist + wheel, checked with twine, installed with pipx.
dist: $(VENV)/.test-deps
	$(PYTHON) tools/dist_check.py

clean:
	rm -rf $(VENV) .bench .compat dist build .pytest_cache .hypothesis
