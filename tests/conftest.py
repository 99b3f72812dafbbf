"""Shared fixtures: corpus paths, a pinned terminal, the CLI runner and golden files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sigtool.cli import cli

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO / "testdata"
GOLDEN = REPO / "tests" / "golden"
CORPUS = REPO.parent / "shared" / "corpus"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/* from current output; review the diff")


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


def corpus_expected() -> dict:
    return json.loads((CORPUS / "expected" / "INDEX.json").read_text())


def corpus_model_dirs() -> list[tuple[str, dict]]:
    """(path relative to the corpus, TF's facts) for every model and version directory."""
    found = []
    for path in sorted((CORPUS / "expected").glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("kind") == "model":
            found += sorted(data["dirs"].items())
    return found


def assert_one_error_line(result, exit_code: int) -> str:
    """A user error: the documented exit code, one 'Error: ' line on stderr, no traceback."""
    assert result.exit_code == exit_code, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return errors[0]
