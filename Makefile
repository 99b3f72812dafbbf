# Everything runs from a local virtual environment (.venv) that the targets
# below create; a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TESTS  ?=

.PHONY: demo dev test golden testdata protos bench fuzz lint clean

# Runtime only (click, rich, protobuf): what `show` and `check` need.
$(BIN)/sigtool: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --config-settings editable_mode=compat -e .
	touch $@

# Tests need TensorFlow (the oracle, and `run`), pytest, hypothesis, protoc.
$(VENV)/.test-deps: $(BIN)/sigtool
	$(BIN)/python -m pip install --quiet --config-settings editable_mode=compat -e '.[run,test]'
	touch $@

demo: $(BIN)/sigtool
	$(BIN)/sigtool show testdata/half_plus_two_like

dev: $(VENV)/.test-deps

test: $(VENV)/.test-deps
	$(BIN)/python -m pytest $(if $(TESTS),-k '$(TESTS)') -q

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

clean:
	rm -rf $(VENV) .bench .pytest_cache .hypothesis
