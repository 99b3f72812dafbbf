"""testdata/make_tf_models.py still builds what testdata/tf/ holds, and testdata/real/ is what PROVENANCE.md says.

TensorFlow's output is not byte-for-byte reproducible (fingerprints, checkpoint layout), so a fresh build is
compared with the committed models through `sigtool show --all -f json`: formats, tags, versions, signatures,
TensorInfos, ops, functions, asset files. Deselect with `-m "not slow"` (it builds every model: ~15 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import GEN, REAL, TESTDATA, invoke

SCRIPT = TESTDATA / "make_tf_models.py"


def shown(path) -> dict:
    result = invoke("show", path, "--all", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("path", "source"):
        data.pop(key, None)
    return data


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    out = tmp_path_factory.mktemp("tf_models")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.slow
def test_the_generator_builds_every_committed_model_and_no_other(fresh):
    assert sorted(p.name for p in fresh.iterdir()) == sorted(p.name for p in GEN.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in GEN.iterdir()))
def test_committed_model_is_what_the_generator_builds(name, fresh):
    assert shown(fresh / name) == shown(GEN / name), f"run `python testdata/make_tf_models.py --only {name}` and commit"
    files = sorted(p.relative_to(fresh / name).as_posix() for p in (fresh / name).rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(GEN / name).as_posix() for p in (GEN / name).rglob("*") if p.is_file())


def test_tf_models_stay_small():
    sizes = {p.name: sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) for p in GEN.iterdir()}
    assert max(sizes.values()) < 100_000 and sum(sizes.values()) < 1_000_000, sizes


def test_real_models_are_listed_in_the_provenance_note():
    note = (REAL / "PROVENANCE.md").read_text()
    assert "Apache License 2.0" in note and "tensorflow/serving" in note
    names = sorted(p.name for p in REAL.iterdir() if p.is_dir())
    assert len(names) >= 10
    for name in names:
        assert f"| `{name}/` | `tensorflow_serving/" in note, name
