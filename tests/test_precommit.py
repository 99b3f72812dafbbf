"""The pre-commit hooks (.pre-commit-hooks.yaml), run by the real pre-commit on a temporary git repository.

pre-commit builds sigtool into an environment of its own from a clone of this repository's HEAD (committed
hooks and code; a work tree's uncommitted changes are not what a user's pre-commit would see), with pip's
configured index: no other network access is needed. Slow (the first environment build takes ~20-40 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, TESTDATA

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed")]
GIT = ["git", "-c", "user.email=test@example.com", "-c", "user.name=test", "-c", "commit.gpgsign=false"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("pre_commit_home")
    return {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory) -> Path:
    clone = tmp_path_factory.mktemp("hooks") / "sigtool"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, capture_output=True)
    return clone


def models_repo(root: Path, **models: str) -> Path:
    """A git repository holding models/NAME/1/ copied from testdata/ paths, committed."""
    root.mkdir()
    git(root, "init", "-q")
    for name, source in models.items():
        shutil.copytree(TESTDATA / source, root / "models" / name / "1")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "models")
    return root


def pre_commit(cwd: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PRE_COMMIT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )


def test_sigtool_check_hook(tmp_path, env, hooks_repo):
    repo = models_repo(tmp_path / "clean", good="diff/identical/old")
    result = pre_commit(repo, env, "try-repo", str(hooks_repo), "sigtool-check", "--all-files", "--verbose")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sigtool check" in result.stdout and "Passed" in result.stdout
    assert "models/good/1/saved_model.pb" in result.stdout

    # a classify signature that Serving's Classify API refuses: SRV001, an error, fails the commit
    shutil.copytree(TESTDATA / "diff" / "classify_fails" / "new", repo / "models" / "bad" / "1")
    git(repo, "add", ".")
    result = pre_commit(repo, env, "try-repo", str(hooks_repo), "sigtool-check", "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout and "SRV001" in result.stdout


def test_sigtool_diff_hook_from_a_config(tmp_path, env, hooks_repo):
    """The README's .pre-commit-config.yaml entry: sigtool-diff on a model base path given as args."""
    repo = models_repo(tmp_path / "versions", m="diff/input_dtype/old")
    rev = git(hooks_repo, "rev-parse", "HEAD").strip()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks_repo}\n    rev: {rev}\n    hooks:\n      - id: sigtool-check\n"
        "      - id: sigtool-diff\n        args: [models/m]\n"
    )
    shutil.copytree(TESTDATA / "diff" / "input_dtype" / "new", repo / "models" / "m" / "2")
    git(repo, "add", ".")
    result = pre_commit(repo, env, "run", "sigtool-diff", "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "DIFF007" in result.stdout and "comparing version 1 with version 2" in result.stdout
