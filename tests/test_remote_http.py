"""http(s):// models against a local HTTP server that honours Range requests; gs:// backend selection (no network)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

from conftest import assert_one_error_line, invoke
from s3_server import HTTPFileServer

from sigtool.loader import remote

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    for name in ("half_plus_two_like", "base_path", "real/saved_model_half_plus_two_cpu"):
        shutil.copytree(ROOT / "testdata" / name, site / "testdata" / name)
    shutil.copytree(ROOT / "testdata/half_plus_two_like", site / "denied/m")
    server = HTTPFileServer(site)
    yield server
    server.stop()


@pytest.fixture
def http(served, monkeypatch):
    monkeypatch.chdir(ROOT)
    remote._FILESYSTEMS.clear()
    served.handler.requests.clear()
    served.handler.sent = 0
    yield served
    remote._FILESYSTEMS.clear()


@pytest.mark.parametrize(
    "model", ["testdata/half_plus_two_like", "testdata/base_path", "testdata/real/saved_model_half_plus_two_cpu"]
)
@pytest.mark.parametrize("options", [(), ("-f", "json"), ("-f", "smcli", "--all")])
def test_show_matches_local(http, model, options):
    local = invoke("show", model, *options)
    got = invoke("show", f"{http.url}/{model}", *options)
    assert got.exit_code == local.exit_code == 0, got.stderr
    assert got.stdout.replace(f"{http.url}/", "") == local.stdout
    assert got.stderr.replace(f"{http.url}/", "") == local.stderr


def test_check_matches_local(http):
    model = "testdata/real/saved_model_half_plus_two_cpu"
    local = invoke("check", "-f", "json", model)
    got = invoke("check", "-f", "json", f"{http.url}/{model}")
    assert got.exit_code == local.exit_code
    assert got.stdout.replace(f"{http.url}/", "") == local.stdout


def test_files_are_read_by_range(http):
    result = invoke("show", f"{http.url}/testdata/base_path")
    assert result.exit_code == 0, result.stderr
    paths = [path for _, path in http.handler.requests]
    assert not any("/base_path/1/" in p or "/base_path/2/" in p for p in paths), paths


def test_missing_and_denied(http):
    line = assert_one_error_line(invoke("show", f"{http.url}/testdata/nothing/saved_model.pb"), 3)
    assert line == f"Error: {http.url}/testdata/nothing/saved_model.pb: no such object or prefix"
    line = assert_one_error_line(invoke("show", f"{http.url}/denied/m/saved_model.pb"), 3)
    assert line == f"Error: {http.url}/denied/m/saved_model.pb: access denied (HTTP 403)"


def test_gs_uses_gcsfs_with_application_default_credentials(tmp_path, monkeypatch):
    """gs:// goes through the same RemoteFS; credentials come from Google's ADC file (no request is made)."""
    pytest.importorskip("gcsfs")
    adc = tmp_path / "adc.json"
    adc.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "sigtool-test.apps.example",
                "client_secret": "not-a-secret",
                "refresh_token": "not-a-token",
            }
        )
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    remote._FILESYSTEMS.clear()
    try:
        fs = remote.RemoteFS("gs://some-bucket/models/m")
        import gcsfs

        assert isinstance(fs.fs, gcsfs.GCSFileSystem)
        assert fs.url(fs.root) == "gs://some-bucket/models/m" and str(fs.root) == "some-bucket/models/m"
        assert fs.fs.credentials.credentials.client_id == "sigtool-test.apps.example"
        assert remote.RemoteFS("gcs://b/m").fs is fs.fs
    finally:
        remote._FILESYSTEMS.clear()
