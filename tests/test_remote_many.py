"""Many remote models in one command (glob patterns, --jobs) and run on a remote model (downloaded, removed after)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto")

from conftest import invoke
from s3_server import CountingProxy, MotoServer, as_user, s3_client, upload

from sigtool import loader

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = 200


@pytest.fixture(scope="module")
def s3():
    server = MotoServer()
    proxy = CountingProxy(server.port)
    try:
        fs = s3_client(server.endpoint)
        fs.mkdir("registry")
        pb = (ROOT / "testdata/half_plus_two_like/saved_model.pb").read_bytes()
        fs.pipe({f"registry/{n}/saved_model.pb": pb for n in range(1, VERSIONS + 1)})
        fs.pipe("registry/notes/README.txt", b"not a model")
        fs.mkdir("runs")
        upload(fs, ROOT / "testdata/real/saved_model_half_plus_two_cpu", "runs/half_plus_two")
        server.fs, server.proxy = fs, proxy
        yield server
    finally:
        proxy.stop()
        server.stop()


@pytest.fixture
def aws(s3, monkeypatch):
    with as_user(monkeypatch, s3.proxy.endpoint, ROOT):
        yield s3


def test_expand_models_keeps_only_models(aws):
    found = loader.expand_models(["s3://registry/*"])
    assert found == sorted(f"s3://registry/{n}" for n in range(1, VERSIONS + 1))


def test_pattern_matching_nothing_is_an_error(aws):
    result = invoke("check", "s3://registry/nothing-*")
    assert result.exit_code == 3
    assert result.stderr == "Error: s3://registry/nothing-*: the pattern matches no model or model base path\n"


@pytest.mark.parametrize("jobs", ["1", "16"])
def test_check_200_versions_with_one_pattern(aws, jobs):
    """Every version gets the local model's findings, in order, and they share one summary."""
    result = invoke("check", "-f", "json", "--jobs", jobs, "s3://registry/*")
    local = invoke("check", "-f", "json", "testdata/half_plus_two_like")
    assert result.exit_code == local.exit_code == 1, result.stderr
    reports = json.loads(result.stdout)["models"]
    (expected,) = json.loads(local.stdout)["models"]
    assert [r["path"] for r in reports] == [f"s3://registry/{n}" for n in sorted(range(1, VERSIONS + 1), key=str)]
    for r in reports:
        assert r["findings"] == [f for f in expected["findings"] if f["rule"] != "SERVE005"]  # these sit in 1/, 2/...
        assert r["source"] == r["path"] + "/saved_model.pb"
    assert result.stderr == "600 errors, 0 warnings, 400 notes in 200 models: FAILED\n"


def test_run_downloads_and_removes(aws, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    body = '{"instances": [[1.0], [2.0]]}'
    local = invoke("run", "testdata/real/saved_model_half_plus_two_cpu", "--input-json", body, "-f", "json")
    assert local.exit_code == 0, local.stderr
    got = invoke("run", "s3://runs/half_plus_two", "--input-json", body, "-f", "json")
    assert got.exit_code == 0, got.stderr
    assert got.stdout == local.stdout
    assert got.stderr.replace("s3://runs/half_plus_two", "testdata/real/saved_model_half_plus_two_cpu") == local.stderr
    assert list(tmp_path.iterdir()) == []  # the download is gone


def test_download_checks_every_file(aws, tmp_path):
    files = loader.download_model("s3://runs/half_plus_two/00000123", str(tmp_path / "m"))
    local = ROOT / "testdata/real/saved_model_half_plus_two_cpu/00000123"
    assert files == {p.relative_to(local).as_posix(): p.stat().st_size for p in local.rglob("*") if p.is_file()}
    for rel in files:
        assert (tmp_path / "m" / rel).read_bytes() == (local / rel).read_bytes()
