"""sigtool warmup write / show without TensorFlow: TFRecord framing, the options' rules, errors, check's SERVE006.

TensorFlow's own reader and tensorflow-serving-api's protos check the same files in test_warmup_oracle.py.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

import pytest
from conftest import REAL, REPO, assert_one_error_line, invoke

from sigtool.loader import tfrecord, warmup_io

CPU = REAL / "saved_model_half_plus_two_cpu"
ROW = '{"instances": [[1.0], [2.0]]}'
CLASSIFY = '{"signature_name": "classify_x_to_y", "context": {"x": 1.0}, "examples": [{"x": 2.0}, {"y": 3.0}]}'


@pytest.fixture
def model(tmp_path):
    """A writable copy of TF Serving's half_plus_two (version directory 00000123)."""
    target = tmp_path / "m"
    shutil.copytree(CPU, target)
    return target


# --- TFRecord framing ------------------------------------------------------------------------


def test_crc32c_matches_table_and_known_value():
    data = bytes(range(256)) * 3
    assert tfrecord.crc32c(b"123456789") == 0xE3069283
    assert tfrecord.crc32c(data) == tfrecord._crc32c_python(data)


def test_frame_round_trip_and_errors():
    payloads = [b"", b"a", b"x" * 1000]
    data = b"".join(tfrecord.frame(p) for p in payloads)
    assert list(tfrecord.iter_records(io.BytesIO(data), len(data))) == payloads
    assert list(tfrecord.iter_records(io.BytesIO(data), len(data), limit=2)) == payloads[:2]

    def error(blob: bytes) -> str:
        with pytest.raises(tfrecord.RecordError) as e:
            list(tfrecord.iter_records(io.BytesIO(blob), len(blob)))
        return str(e.value)

    second = len(tfrecord.frame(payloads[0]))
    flipped = bytearray(data)
    flipped[second + 12] ^= 1  # record 2's payload
    assert error(bytes(flipped)) == f"record 2: corrupt data (CRC mismatch) at byte {second}"
    flipped = bytearray(data)
    flipped[second + 1] ^= 1  # record 2's length
    assert error(bytes(flipped)) == f"record 2: corrupt length (CRC mismatch) at byte {second}"
    assert error(data[:-3]).startswith("record 3: truncated: claims 1000 bytes")
    assert error(data + b"\0" * 5).startswith("record 4: truncated header")


# --- write -----------------------------------------------------------------------------------


def test_write_in_place_then_check_accepts_and_show_lists(model):
    result = invoke(
        "warmup",
        "write",
        model,
        "--in-place",
        "--input-json",
        ROW,
        "--input-json",
        CLASSIFY,
        "--sample",
        "--batch",
        "1",
        "--batch",
        "8",
    )
    assert result.exit_code == 0, result.stderr
    target = model / "00000123" / "assets.extra" / "tf_serving_warmup_requests"
    assert result.stdout.startswith(f"{target}: 4 records (")
    check = invoke("check", "--select", "SERVE006", model)
    assert check.exit_code == 0, check.stdout + check.stderr
    shown = invoke("warmup", "show", target)
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"{target}  4 records"
    assert lines[1].split() == ["#", "method", "signature", "batch", "inputs"]
    assert lines[2].split() == ["1", "predict", "serving_default", "2", "x", "DT_FLOAT", "(2,", "1)"]
    assert lines[3].split() == ["2", "classify", "classify_x_to_y", "2", "examples", "with", "context"]
    assert [line.split()[3] for line in lines[4:]] == ["1", "8"]
    assert invoke("warmup", "show", model).stdout == shown.stdout  # the model directory finds its file


def test_show_json(model):
    out = model / "w"
    requests = model / "bodies.jsonl"
    requests.write_text(ROW + "\n\n" + '{"signature_name": "regress_x_to_y", "examples": [{"x": 1.0}]}\n')
    assert invoke("warmup", "write", model, "-o", out, "--requests", requests, "--model-name", "hpt").exit_code == 0
    doc = json.loads(invoke("warmup", "show", out, "-f", "json").stdout)
    assert doc["schema"] == "sigtool.warmup/1" and doc["error"] is None and doc["more_than_limit"] is False
    first, second = doc["records"]
    assert first == {
        "number": 1,
        "log_type": "predict_log",
        "method": "predict",
        "model_name": "hpt",
        "signature_name": "serving_default",
        "batch_size": 2,
        "context": False,
        "inputs": [{"key": "x", "dtype": "DT_FLOAT", "shape": [2, 1]}],
    }
    assert (second["method"], second["signature_name"], second["batch_size"]) == ("regress", "regress_x_to_y", 1)


def test_flipped_byte_named_by_check_and_show(model):
    assert invoke("warmup", "write", model, "--in-place", "--input-json", ROW, "--input-json", ROW).exit_code == 0
    target = model / "00000123" / "assets.extra" / "tf_serving_warmup_requests"
    data = bytearray(target.read_bytes())
    second = len(data) // 2
    data[second + 20] ^= 0x40  # inside record 2's payload
    target.write_bytes(bytes(data))
    check = invoke("check", "--select", "SERVE006", "-f", "json", model)
    assert check.exit_code == 1
    (finding,) = [f for report in json.loads(check.stdout)["models"] for f in report["findings"]]
    assert finding["rule"] == "SERVE006" and "record 2" in finding["message"], finding
    shown = invoke("warmup", "show", target)
    error = assert_one_error_line(shown, 3)
    assert "record 2: corrupt data (CRC mismatch)" in error
    assert shown.stdout.splitlines()[0] == f"{target}  1 record"  # the good record before it is listed


def test_never_overwrites_without_overwrite(model):
    out = model / "w"
    out.write_bytes(b"keep")
    error = assert_one_error_line(invoke("warmup", "write", model, "-o", out, "--input-json", ROW), 2)
    assert error == f"Error: {out} exists; pass --overwrite to replace it"
    assert out.read_bytes() == b"keep"
    assert invoke("warmup", "write", model, "-o", out, "--input-json", ROW, "--overwrite").exit_code == 0
    assert out.read_bytes() != b"keep"


def test_limit_of_1000_records(model):
    requests = model / "bodies.jsonl"
    requests.write_text((ROW + "\n") * 1001)
    out = model / "w"
    error = assert_one_error_line(invoke("warmup", "write", model, "-o", out, "--requests", requests), 2)
    assert "1001 requests given" in error and "at most 1000" in error
    assert not out.exists()
    requests.write_text((ROW + "\n") * 1000)
    assert invoke("warmup", "write", model, "-o", out, "--requests", requests).exit_code == 0
    assert len(warmup_io.read_listing(out).records) == 1000


@pytest.mark.parametrize(
    "args,message",
    [
        ([], "give exactly one of -o FILE and --in-place"),
        (["-o", "W", "--in-place"], "give exactly one of -o FILE and --in-place"),
        (["-o", "W"], "no requests given"),
        (["-o", "W", "--batch", "2"], "--batch and --seed go with --sample"),
        (
            ["-o", "W", "--input-json", '{"instances": ["a"]}'],
            (
                "--input-json #1: Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "
                'JSON Value: "a" Type: String is not of expected type: float'
            ),
        ),
        (
            ["-o", "W", "--input-json", '{"inputs": {"y": [1.0]}}'],
            "--input-json #1: Missing named input: x in 'inputs' object.",
        ),
        (
            ["-o", "W", "--input-json", '{"signature_name": "nope", "instances": [1.0]}'],
            '--input-json #1: Serving signature name: "nope" not found in signature def',
        ),
        (
            ["-o", "W", "--input-json", '{"signature_name": "classify_x_to_y", "examples": [{"x": [1, 2.0]}]}'],
            "--input-json #1: Unexpected element type in feature: x expecting type: int64",
        ),
        (["-o", "W", "--input-json", "@missing.json"], "--input-json @missing.json: cannot read the file"),
    ],
)
def test_write_errors(model, monkeypatch, args, message):
    monkeypatch.chdir(model)
    error = assert_one_error_line(invoke("warmup", "write", ".", *args), 2)
    assert error.startswith(f"Error: {message}")
    assert not (model / "W").exists()


def test_requests_file_error_names_the_line(model):
    requests = model / "bodies.jsonl"
    requests.write_text(ROW + "\n" + '{"instances": [true]}\n')
    error = assert_one_error_line(invoke("warmup", "write", model, "-o", model / "w", "--requests", requests), 2)
    assert error.startswith(f"Error: --requests {requests} line 2: Failed to process element: 0")


def test_show_errors(tmp_path):
    missing = tmp_path / "nope"
    assert_one_error_line(invoke("warmup", "show", missing), 3)
    error = assert_one_error_line(invoke("warmup", "show", CPU), 3)
    assert "has no warmup file" in error
    garbage = tmp_path / "g"
    garbage.write_bytes(tfrecord.frame(b"\xff\xff\xff"))
    error = assert_one_error_line(invoke("warmup", "show", garbage), 3)
    assert "record 1: not a PredictionLog" in error
    short = tmp_path / "s"
    short.write_bytes(tfrecord.frame(b"")[:7])
    assert "record 1: truncated header" in assert_one_error_line(invoke("warmup", "show", short), 3)


def test_predict_record_fields():
    from sigtool._proto import prediction_log_pb2
    from sigtool.serving.values import Tensor

    data = warmup_io.predict_record(
        "m",
        "sig",
        {
            "b": Tensor("DT_STRING", (2,), (b"a", b"\xff")),
            "a": Tensor("DT_INT64", (1, 2), (1, -2)),
            "c": Tensor("DT_BOOL", (), (True,)),
        },
    )
    request = prediction_log_pb2.PredictionLog.FromString(data).predict_log.request
    assert (request.model_spec.name, request.model_spec.signature_name) == ("m", "sig")
    assert list(request.inputs["a"].int64_val) == [1, -2]
    assert [d.size for d in request.inputs["a"].tensor_shape.dim] == [1, 2]
    assert list(request.inputs["b"].string_val) == [b"a", b"\xff"]
    assert list(request.inputs["c"].bool_val) == [True] and not request.inputs["c"].tensor_shape.dim


@pytest.mark.slow
def test_no_tensorflow_imported(model):
    code = (
        "import sys; from sigtool.cli import main; sys.argv = ['sigtool', 'warmup', 'write', sys.argv[1], "
        "'--in-place', '--sample', '--batch', '2']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    )
    subprocess.run([sys.executable, "-c", code, str(model)], check=True, cwd=REPO)
