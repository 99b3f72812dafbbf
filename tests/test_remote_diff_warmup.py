"""diff and warmup on s3:// models (moto's server mode on 127.0.0.1): the local results, byte for byte except
the path; a remote model is never written into."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto")

from conftest import assert_one_error_line, invoke
from s3_server import MotoServer, as_user, s3_client, upload

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "diffs"
PAIRS = ["identical", "input_dtype", "feature_removed", "tensor_names"]  # testdata/diff/<pair>/{old,new}
WARMUP_MODEL = "testdata/real/saved_model_half_plus_two_cpu"


@pytest.fixture(scope="module")
def s3():
    server = MotoServer()
    try:
        fs = s3_client(server.endpoint)
        fs.mkdir(BUCKET)
        for pair in PAIRS:
            upload(fs, ROOT / "testdata" / "diff" / pair, f"{BUCKET}/testdata/diff/{pair}")
        upload(fs, ROOT / WARMUP_MODEL, f"{BUCKET}/{WARMUP_MODEL}")
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws(s3, monkeypatch):
    with as_user(monkeypatch, s3.endpoint, ROOT):
        yield s3


def _same(local, remote_result, prefix: str) -> None:
    assert remote_result.exit_code == local.exit_code, remote_result.stderr
    assert remote_result.stdout.replace(prefix, "") == local.stdout
    assert remote_result.stderr.replace(prefix, "") == local.stderr


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("fmt", ["table", "json", "github", "junit"])
def test_diff_of_remote_models_matches_local(aws, pair, fmt):
    old, new = f"testdata/diff/{pair}/old", f"testdata/diff/{pair}/new"
    local = invoke("diff", old, new, "-f", fmt)
    prefix = f"s3://{BUCKET}/"
    _same(local, invoke("diff", prefix + old, prefix + new, "-f", fmt), prefix)


def test_diff_of_a_remote_model_against_a_local_one(aws):
    old, new = "testdata/diff/input_dtype/old", "testdata/diff/input_dtype/new"
    local = invoke("diff", old, new, "-f", "json")
    mixed = invoke("diff", f"s3://{BUCKET}/{old}", new, "-f", "json")
    assert mixed.exit_code == local.exit_code == 1
    assert mixed.stdout.replace(f"s3://{BUCKET}/", "") == local.stdout


def test_warmup_from_a_remote_model_equals_the_local_file(aws, tmp_path):
    body = '{"instances": [[1.0], [2.0]]}'
    local = invoke("warmup", "write", WARMUP_MODEL, "-o", str(tmp_path / "local"), "--input-json", body)
    assert local.exit_code == 0, local.stderr
    remote_run = invoke(
        "warmup", "write", f"s3://{BUCKET}/{WARMUP_MODEL}", "-o", str(tmp_path / "remote"), "--input-json", body
    )
    assert remote_run.exit_code == 0, remote_run.stderr
    assert (tmp_path / "remote").read_bytes() == (tmp_path / "local").read_bytes()


def test_warmup_in_place_refuses_a_remote_model_and_writes_nothing(aws, tmp_path):
    before = sorted(p for p in tmp_path.rglob("*"))
    message = assert_one_error_line(
        invoke("warmup", "write", f"s3://{BUCKET}/{WARMUP_MODEL}", "--in-place", "--sample"), 2
    )
    assert "--in-place" in message and "-o FILE" in message
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert not (ROOT / "s3:").exists()
