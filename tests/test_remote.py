"""s3:// models against a real S3 API (moto's server mode on 127.0.0.1, started here and stopped after):
the same output as the local model byte for byte except the path, few bytes fetched, one Error: line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto")

from conftest import assert_one_error_line, invoke
from s3_server import CountingProxy, MotoServer, as_user, cli_env, s3_client, upload

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "models"
# A cross-section of testdata/: TF1 and TF2, text, legacy, base paths, variables, assets, several MetaGraphs.
MODELS = [
    "testdata/half_plus_two_like",
    "testdata/base_path",
    "testdata/pbtxt",
    "testdata/multi_tag",
    "testdata/legacy_bundle",
    "testdata/tf/tf2_assets_lookup",
    "testdata/tf/keras_functional_export",
    "testdata/real/saved_model_half_plus_two_cpu",
    "testdata/real/saved_model_counter",
]


@pytest.fixture(scope="module")
def s3():
    server = MotoServer()
    proxy = CountingProxy(server.port)
    try:
        fs = s3_client(server.endpoint)
        fs.mkdir(BUCKET)
        for name in MODELS:
            upload(fs, ROOT / name, f"{BUCKET}/{name}")
        server.fs, server.proxy = fs, proxy
        yield server
    finally:
        proxy.stop()
        server.stop()


@pytest.fixture
def aws(s3, monkeypatch):
    with as_user(monkeypatch, s3.proxy.endpoint, ROOT):
        s3.proxy.reset()
        yield s3


def sigtool(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sigtool", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def same_except_path(local, remote_result, url_prefix: str) -> None:
    assert remote_result.exit_code == local.exit_code, remote_result.stderr
    assert remote_result.stdout.replace(url_prefix, "") == local.stdout
    assert remote_result.stderr.replace(url_prefix, "") == local.stderr


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("options", [(), ("-f", "json"), ("-f", "smcli"), ("-f", "smcli", "--all"), ("--all",)])
def test_show_matches_local(aws, model, options):
    local = invoke("show", model, *options)
    assert local.exit_code == 0, local.stderr
    same_except_path(local, invoke("show", f"s3://{BUCKET}/{model}", *options), f"s3://{BUCKET}/")


@pytest.mark.parametrize("model", MODELS)
def test_check_json_matches_local(aws, model):
    local = invoke("check", "-f", "json", model)
    same_except_path(local, invoke("check", "-f", "json", f"s3://{BUCKET}/{model}"), f"s3://{BUCKET}/")


def test_saved_model_pb_object(aws):
    """MODEL may name the saved_model.pb object itself."""
    model = "testdata/half_plus_two_like/saved_model.pb"
    same_except_path(invoke("show", model), invoke("show", f"s3://{BUCKET}/{model}"), f"s3://{BUCKET}/")


def test_check_never_reads_variable_data(aws):
    result = invoke("check", f"s3://{BUCKET}/testdata/real/saved_model_half_plus_two_cpu")
    assert result.exit_code == 0, result.stderr
    gets = [path for method, path in aws.proxy.requests if method == "GET" and "list-type" not in path]
    assert gets and all(path.endswith("/saved_model.pb") for path in gets), gets


def test_base_path_reads_only_the_newest_version(aws):
    result = invoke("show", f"s3://{BUCKET}/testdata/base_path")
    assert result.exit_code == 0, result.stderr
    touched = [path for _, path in aws.proxy.requests]
    assert any("/base_path/10/saved_model.pb" in path for path in touched), touched
    assert not any(f"base_path{sep}{v}{sep}" in path for path in touched for v in (1, 2) for sep in ("/", "%2F")), (
        touched
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"s3://{BUCKET}/no/such/model", "no such object or prefix"),
        (f"s3://{BUCKET}/testdata/half_plus_two_like/no_such.pb", "no such object or prefix"),
        ("s3://no-such-bucket-here/model", "no such bucket"),
    ],
)
def test_missing_is_one_error_line(aws, url, reason):
    for command in ("show", "check"):
        line = assert_one_error_line(invoke(command, url), 3)
        assert line == f"Error: {url}: {reason}"


def test_access_denied_by_bucket_policy(aws):
    """moto enforces bucket policies: a Deny on GetObject is S3's real AccessDenied."""
    import json

    import boto3

    aws.fs.mkdir("locked")
    upload(aws.fs, ROOT / "testdata/half_plus_two_like", "locked/m")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::locked/*"]}
        ],
    }
    client = boto3.client(
        "s3",
        endpoint_url=aws.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.put_bucket_policy(Bucket="locked", Policy=json.dumps(policy))
    line = assert_one_error_line(invoke("show", "s3://locked/m"), 3)
    assert line == "Error: s3://locked/m/saved_model.pb: access denied"


def test_not_a_saved_model(aws):
    aws.fs.pipe(f"{BUCKET}/junk/saved_model.pb", b"this is not protobuf\n")
    line = assert_one_error_line(invoke("show", f"s3://{BUCKET}/junk"), 3)
    assert line.startswith(f"Error: s3://{BUCKET}/junk/saved_model.pb is not a valid SavedModel")


def test_network_failure_is_one_error_line(s3):
    from s3_server import free_port

    env = cli_env(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    result = sigtool("show", f"s3://{BUCKET}/testdata/half_plus_two_like", env=env)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(
        f"Error: s3://{BUCKET}/testdata/half_plus_two_like: network failure after retries ("
    )
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_missing_extra_names_the_install(s3):
    """Without fsspec, a URL is one Error: line naming the pip install; local models are not affected."""
    code = "import sys; sys.modules['fsspec'] = None; from sigtool.cli import main; main()"
    for url in (f"s3://{BUCKET}/m", "gs://bucket/m", "https://example.invalid/m"):
        result = subprocess.run(
            [sys.executable, "-c", code, "show", url],
            cwd=ROOT,
            env=cli_env(s3.endpoint),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 3, result.stderr
        scheme = url.partition(":")[0]
        assert result.stderr == (
            f"Error: {url}: reading {scheme}:// models needs the remote extra: pip install 'sigtool[remote]'\n"
        )
    local = subprocess.run(
        [sys.executable, "-c", code, "show", "testdata/half_plus_two_like"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert local.returncode == 0, local.stderr


def test_local_show_never_imports_fsspec():
    code = (
        "import sys; from sigtool.cli import main\n"
        "sys.argv = ['sigtool', 'show', 'testdata/half_plus_two_like']\n"
        "try: main()\n"
        "except SystemExit: pass\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('fsspec', 's3fs', 'gcsfs', 'aiohttp')]\n"
        "assert 'sigtool.loader.remote' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def big_model(path: Path, constant_bytes: int) -> None:
    """A SavedModel whose graph holds one Const of constant_bytes (built with sigtool's own message classes)."""
    from sigtool._proto import meta_graph_pb2, saved_model_pb2, types_pb2

    model = saved_model_pb2.SavedModel(saved_model_schema_version=1)
    mg = model.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    mg.meta_info_def.tensorflow_version = "2.21.0"
    graph = mg.graph_def
    graph.node.add(name="x", op="Placeholder").attr["dtype"].type = types_pb2.DT_FLOAT
    big = graph.node.add(name="big", op="Const")
    big.attr["dtype"].type = types_pb2.DT_FLOAT
    tensor = big.attr["value"].tensor
    tensor.dtype = types_pb2.DT_FLOAT
    tensor.tensor_shape.dim.add(size=constant_bytes // 4)
    tensor.tensor_content = bytes(constant_bytes)
    graph.node.add(name="y", op="AddV2", input=["x", "big"]).attr["T"].type = types_pb2.DT_FLOAT
    sig = mg.signature_def["serving_default"]
    sig.method_name = "tensorflow/serving/predict"
    sig.inputs["x"].CopyFrom(meta_graph_pb2.TensorInfo(name="x:0", dtype=types_pb2.DT_FLOAT))
    sig.outputs["y"].CopyFrom(meta_graph_pb2.TensorInfo(name="y:0", dtype=types_pb2.DT_FLOAT))
    path.mkdir(parents=True, exist_ok=True)
    (path / "saved_model.pb").write_bytes(model.SerializeToString())


def test_show_of_a_200_mb_model_transfers_under_2_mb(aws, tmp_path):
    local = tmp_path / "big" / "1"
    big_model(local, 200 * 1024 * 1024)
    assert os.path.getsize(local / "saved_model.pb") > 200 * 1024 * 1024
    upload(aws.fs, local, f"{BUCKET}/big/1")
    os.unlink(local / "saved_model.pb")
    for options in ((), ("--all",), ("-f", "json")):
        aws.proxy.reset()
        result = invoke("show", f"s3://{BUCKET}/big", *options)
        assert result.exit_code == 0, result.stderr
        assert "serving_default" in result.stdout
        assert aws.proxy.sent <= 2 * 1024 * 1024, (options, aws.proxy.sent, aws.proxy.requests)
    aws.fs.rm(f"{BUCKET}/big", recursive=True)
