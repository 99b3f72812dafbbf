"""Shared fixtures: testdata paths, a pinned terminal, the CLI runner, golden files, the corpus option.

The main suite reads only the repository's testdata/. The shared conformance corpus is a second
tier (tests/conformance, `make conformance`): its location is decided here and nowhere else, by
`--corpus PATH` or the SIGTOOL_CORPUS environment variable. Without either, tests/conformance is
not collected; asking for it (`pytest tests/conformance`) without a corpus is a usage error.
"""

from __future__ import annotations

import os
from fnmatch import fnmatch
from pathlib import Path

import pytest
from click.testing import CliRunner

from sigtool.cli import cli

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / "testdata"
GOLDEN = REPO / "tests" / "golden"
REAL = TESTDATA / "real"  # TF Serving's own test models (testdata/real/PROVENANCE.md)
GEN = TESTDATA / "tf"  # models TensorFlow writes, built by testdata/make_tf_models.py
CONFORMANCE = REPO / "tests" / "conformance"
# What testdata/ holds besides make_testdata.py's byte-exact cases: the other generators and their outputs,
# and real/ (TF Serving's models, copied; see real/PROVENANCE.md).
NOT_MAKE_TESTDATA = {
    "make_testdata.py",
    "make_tf_models.py",
    "tf",
    "real",
    "make_check_models.py",
    "make_loader_models.py",
    "make_rule_fixtures.py",
    "rules",
    "make_run_models.py",
    "run",
    "wild",
    "__pycache__",
    "make_diff_models.py",
    "diff",
    "metadata",
    "rule_fixture_cases.py",
    "rule_fixture_graphs.py",
    "tf_model_helpers.py",
    "tf_models_tf1.py",
    "tf_models_tf2.py",
}
_corpus: Path | None = None


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/* from current output; review the diff"
    )
    parser.addoption(
        "--corpus",
        metavar="PATH",
        default=None,
        help="the shared conformance corpus (default: $SIGTOOL_CORPUS); runs tests/conformance against it",
    )
    parser.addoption(
        "--fast",
        action="store_true",
        help=f"only -m '{FAST}' (make test-fast); modules that cannot match are not even imported",
    )


def _inside_conformance(arg: str) -> bool:
    path = Path(arg.split("::")[0]).resolve()
    return path == CONFORMANCE or CONFORMANCE in path.parents


def pytest_configure(config):
    global _corpus
    if config.getoption("--fast"):
        given = config.option.markexpr
        config.option.markexpr = f"({given}) and {FAST}" if given else FAST
    given = config.getoption("--corpus") or os.environ.get("SIGTOOL_CORPUS")
    if not given:
        if any(_inside_conformance(a) for a in config.args):
            raise pytest.UsageError("tests/conformance needs the corpus: pass --corpus PATH or set SIGTOOL_CORPUS")
        return
    path = Path(given).resolve()
    if not (path / "expected" / "INDEX.json").is_file():
        raise pytest.UsageError(f"--corpus {given}: no conformance corpus there (expected/INDEX.json is missing)")
    _corpus = path


# --- tiers ---------------------------------------------------------------------------------------------
# Every test is in one tier, a marker (registered in pyproject.toml) given here by its module's name:
#   unit         one function or command on the repository's own testdata; no TensorFlow unless marked tf
#   golden       whole outputs against tests/golden/, and the rule fixtures (testdata/rules/)
#   conformance  sigtool against TensorFlow and Serving themselves: asked live, or recorded (tests/conformance)
#   robustness   malformed and hostile inputs, limits, fuzzing
# A module that is not listed is a unit test. Tests that start TensorFlow (in this process or a child)
# are marked `tf` too: whole modules by TF_MODULES, single tests with @pytest.mark.tf.
# `make test-fast` runs -m "unit and not tf and not slow" (--fast), and does not even import the modules
# that this table, TF_MODULES or SLOW_MODULES put outside that set: importing them (TensorFlow, Hypothesis)
# took longer than running the rest.
TIERS = {
    "test_golden": "golden",
    "test_rules": "golden",
    "test_protos_tf": "conformance",
    "test_runner": "conformance",
    "test_run_models": "conformance",
    "test_executor": "conformance",
    "test_smcli_order": "conformance",
    "test_tf_*": "conformance",
    "test_serving_tf": "conformance",
    "test_sample_tf": "conformance",
    "test_warmup_oracle": "conformance",
    "test_hardening*": "robustness",
    "test_fuzz*": "robustness",
}
# Modules of minutes rather than seconds without TensorFlow (a storage server, hundreds of models): also `slow`.
SLOW_MODULES = ("test_remote*",)
TF_MODULES = (
    "test_protos_tf",
    "test_runner",
    "test_run_models",
    "test_executor",
    "test_smcli_order",
    "test_tf_*",
    "test_serving_tf",
    "test_sample_tf",
    "test_warmup_oracle",
    "test_hardening_malformed",
)


FAST = "unit and not tf and not slow"


def tier_of(module: str) -> str:
    return next((tier for pattern, tier in TIERS.items() if fnmatch(module, pattern)), "unit")


def outside_fast(module: str) -> bool:
    """Whether every test of this module is outside FAST, by its name alone."""
    return tier_of(module) != "unit" or any(fnmatch(module, p) for p in (*TF_MODULES, *SLOW_MODULES))


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        if path == CONFORMANCE or CONFORMANCE in path.parents:
            item.add_marker("conformance")
            continue
        item.add_marker(tier_of(path.stem))
        if any(fnmatch(path.stem, pattern) for pattern in TF_MODULES):
            item.add_marker("tf")
        if any(fnmatch(path.stem, pattern) for pattern in SLOW_MODULES):
            item.add_marker("slow")


def pytest_ignore_collect(collection_path, config):
    in_conformance = collection_path == CONFORMANCE or CONFORMANCE in collection_path.parents
    if in_conformance and (_corpus is None or config.getoption("--fast")):
        return True
    if config.getoption("--fast") and collection_path.suffix == ".py" and outside_fast(collection_path.stem):
        return True
    return None


def corpus_root() -> Path:
    """The conformance corpus; only tests/conformance calls this (it is collected only when one was given)."""
    if _corpus is None:
        raise RuntimeError("no corpus: run with --corpus PATH or SIGTOOL_CORPUS (make conformance)")
    return _corpus


@pytest.fixture(autouse=True)
def pinned_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    for var in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)


def invoke(*args: str, input: str | None = None):
    """Run the CLI in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def golden(request):
    update = request.config.getoption("--update-golden")

    def check(actual: str, rel: str) -> None:
        path = GOLDEN / rel
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual)
        assert path.exists(), f"{rel} missing; run `make golden` and review"
        assert actual == path.read_text(), f"{rel} differs; run `make golden` and review the diff"

    return check


def assert_one_error_line(result, exit_code: int) -> str:
    """A user error: the documented exit code, one 'Error: ' line on stderr, no traceback."""
    assert result.exit_code == exit_code, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]


# TensorFlow, for the modules that run models in it (skipped where it is not installed), and the models
# they loaded, closed after the module.
@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def tf_models(tf):
    """Each model loaded once: a TF1 session (graph, session) or a TF2 tf.saved_model.load object."""
    models: dict = {}
    yield models
    for value in models.values():
        if isinstance(value, tf.compat.v1.Session):
            value.close()
