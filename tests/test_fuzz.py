"""Fuzz the reader, check and the run input validation with mutated real models.

Seeds are the saved_model.pb / .pbtxt / export.meta files of testdata/ (make_testdata.py's cases,
TF Serving's models in real/, TensorFlow-written ones in tf/), read in place. Each example mutates one seed
(bit flips, byte overwrites, truncation, splices between two seeds, inflated
length prefixes, repeated or dropped fields, changed tags, wire types and values,
deep nesting, garbage; for text files also changed values, lines and braces), writes it to a temporary
directory and runs what `show`, `show --all` and `check` run, straight through the library:

    every input gives a result, or a SigtoolError whose message is one line;
    any other exception is a bug. Each input must also finish within
    TIME_LIMIT seconds and grow the peak RSS by less than MEMORY_LIMIT.

parse_request (what `sigtool run` checks before importing TensorFlow) is fuzzed
the same way with mutated and generated JSON bodies against testdata's
signatures.

SIGTOOL_FUZZ_EXAMPLES sets the examples per test (the suite's default is
small; `make fuzz` runs 20000). With CI set, the run is derandomized so that
CI is reproducible. No example database is written (database=None), and
Hypothesis' own caches go to the system's temporary directory, not into the repository.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import pytest
from conftest import GEN, REAL, TESTDATA
from fuzz_inputs import (
    EXAMPLES,
    FUZZ_SETTINGS,
    SEED_FILES,
    locations,
    mutated_model,
    raw,
    replace_in,
    seed_bytes,
    seeds_of,
    structural,
)
from fuzz_run import assert_clean_error, bounded_runs, exercise
from hypothesis import given, note, settings
from hypothesis import strategies as st
from tf_oracle import RUNS

from sigtool.errors import SigtoolError
from sigtool.loader import load
from sigtool.serving.examples import build_examples
from sigtool.serving.requests import ExamplesRequest, PredictRequest, parse_request


def test_there_are_seeds():
    kinds = {k for k, _ in SEED_FILES}
    assert kinds == {"saved_model.pb", "saved_model.pbtxt", "export.meta"}, kinds
    assert len(seeds_of("saved_model.pb")) >= 20


@pytest.fixture
def bounded():
    """A context manager that fails an input running over TIME_LIMIT or growing memory by over MEMORY_LIMIT."""
    yield from bounded_runs()


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """One directory per file kind; each example overwrites the file in it."""
    root = tmp_path_factory.mktemp("fuzz")
    dirs = {}
    for kind in ("saved_model.pb", "saved_model.pbtxt", "export.meta"):
        d = root / kind.replace(".", "_")
        d.mkdir()
        dirs[kind] = d
    return dirs


def write_and_exercise(model_dirs, bounded, kind: str, data: bytes, steps: list[str], report=note) -> None:
    report("; ".join(steps))
    if len(data) <= 4096:
        report(f"input (base64): {base64.b64encode(data).decode()}")
    model_dir = model_dirs[kind]
    (model_dir / kind).write_bytes(data)
    with bounded(" / ".join(steps)):
        for line in exercise(model_dir):
            report(line)


@FUZZ_SETTINGS
@given(case=mutated_model(kinds=("saved_model.pb",)))
def test_fuzz_saved_model_pb(case, model_dirs, bounded):
    write_and_exercise(model_dirs, bounded, *case)


@FUZZ_SETTINGS
@given(case=mutated_model(kinds=("saved_model.pbtxt",)))
def test_fuzz_saved_model_pbtxt(case, model_dirs, bounded):
    write_and_exercise(model_dirs, bounded, *case)


@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 3, 10))
@given(case=mutated_model(kinds=("export.meta",)))
def test_fuzz_legacy_export_meta(case, model_dirs, bounded):
    write_and_exercise(model_dirs, bounded, *case)


# --- warmup requests (assets.extra/tf_serving_warmup_requests, read by check) ------------------------

WARMUP = Path("assets.extra") / "tf_serving_warmup_requests"
WARMUP_SEEDS = sorted(p for p in GEN.glob(f"*/{WARMUP}"))


def tfrecords(data: bytes) -> list[bytes]:
    records, pos = [], 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack("<Q", data[pos : pos + 8])
        records.append(data[pos + 12 : pos + 12 + length])
        pos += 12 + length + 4
    return records


def tfrecord_file(records: list[bytes]) -> bytes:
    from sigtool.loader.files import _masked_crc

    out = b""
    for r in records:
        header = struct.pack("<Q", len(r))
        out += header + struct.pack("<I", _masked_crc(header)) + r + struct.pack("<I", _masked_crc(r))
    return out


@st.composite
def mutated_warmup(draw) -> tuple[bytes, list[str]]:
    path = draw(st.sampled_from(WARMUP_SEEDS))
    data = path.read_bytes()
    steps = [f"seed {path}"]
    if draw(st.booleans()):  # mutate the records, keep the framing valid so that the payloads are parsed
        records = tfrecords(data)
        i = draw(st.integers(0, len(records) - 1))
        mutated, what = draw(st.one_of(structural(records[i]), raw(records[i], "saved_model.pb")))
        records[i] = mutated
        times = draw(st.sampled_from([1, 1, 1, 1, 1, 1, 2, 400]))  # 400: past Serving's 1000 records, sometimes
        records = records * times
        steps.append(f"record {i}: {what}, {len(records)} records")
        data = tfrecord_file(records)
    else:
        data, what = draw(raw(data, "saved_model.pb"))
        steps.append(what)
    return data, steps


@pytest.fixture(scope="module")
def warmup_dir(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("warmup")
    (model_dir / "saved_model.pb").write_bytes((GEN / "tf2_warmup" / "saved_model.pb").read_bytes())
    (model_dir / WARMUP).parent.mkdir()
    return model_dir


@settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 3, 10))
@given(case=mutated_warmup())
def test_fuzz_warmup_requests(case, warmup_dir, bounded):
    data, steps = case
    (warmup_dir / WARMUP).write_bytes(data)
    note("; ".join(steps))
    with bounded(" / ".join(steps)):
        for line in exercise(warmup_dir):
            note(line)


# --- run's input validation: parse_request with mutated and generated bodies ------------------------


def _testdata_signatures() -> list[tuple[str, dict]]:
    """(model, {key: Signature}) for every MetaGraph of every readable model under testdata/."""
    found = []
    dirs = sorted({p.parent for name in ("saved_model.pb", "saved_model.pbtxt") for p in TESTDATA.rglob(name)})
    for path in dirs:
        if "bad" in path.relative_to(TESTDATA).parts:
            continue
        try:
            info = load(str(path))
        except SigtoolError:
            continue
        for mg in info.meta_graphs:
            found.append((path.relative_to(TESTDATA).as_posix(), {s.key: s for s in mg.signatures}))
    return found


# Request inputs of assorted shapes and dtypes (columnar), besides tf_oracle's sample runs.
SAMPLE_INPUTS = [
    ("serving_default", {"ids": [7, 41], "text": ["h\u00e9llo", ""], "x": [[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]}),
    ("string_in", {"text": ["abc", "Z\u00fcrich", {"b64": "/wByYXc="}]}),
    ("int64_in", {"pairs": [[3, 4], [1099511627776, 2]]}),
    ("unknown_rank", {"t": 3.5}),
    ("nested_tuple", {"one_arg": [1.0, 2.0], "one_arg_1": [10.0, 20.0]}),
    ("dict_arg", {"d": [0.5, 1.5], "d_1": [1, 2]}),
    ("no_inputs", {}),
    (
        "serving_default",
        {
            "t": [0.5, -2.0],
            "t_1": [True, False],
            "t_2": {"imag": [-1.0, 2.0], "real": [1.5, 0.0]},
            "t_11": ["a", {"b64": "AP8="}],
            "t_14": [0, 18446744073709551615],
        },
    ),
    ("serving_default", {"features": [[0.1, 0.2, 0.3, 0.4]], "aux": [[1.0, 0.0]]}),
    ("ragged_in", {"rt": {"components": [[1, 2, 3], [0, 2, 2, 3]]}}),
]


def _sample_bodies() -> list[str]:
    bodies = []
    for key, inputs in [(key, inputs) for _, key, inputs in RUNS] + SAMPLE_INPUTS:
        body = {"signature_name": key, "inputs": inputs}
        bodies.append(json.dumps(body))
        if isinstance(inputs, dict) and inputs:
            first = next(iter(inputs.values()))
            if isinstance(first, list):  # the same as row format, when the batch sizes agree
                rows = [
                    dict(zip(inputs, values))
                    for values in zip(*[v if isinstance(v, list) else [v] for v in inputs.values()])
                ]
                bodies.append(json.dumps({"signature_name": key, "instances": rows}))
    bodies += [
        '{"instances": [1.0, 2.0, 5.0]}',
        '{"inputs": {"x": [[1.0], [2.0]]}}',
        '{"examples": [{"x": 1.0, "x2": [4.0, 5.0], "color": "red", "b": {"b64": "AAE="}}], "context": {"c": 1}}',
        '{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]}',
    ]
    return bodies


SIGNATURES = _testdata_signatures()
SAMPLE_BODIES = _sample_bodies()
JSON_KEYS = sorted(
    {"instances", "inputs", "signature_name", "examples", "context", "b64", "x", "x2", "y", "inputs_1", "text", "ids"}
    | {t.key for _, sigs in SIGNATURES for s in sigs.values() for t in s.inputs}
)
SIGNATURE_NAMES = sorted({key for _, sigs in SIGNATURES for key in sigs} | {"", "nope"})

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.sampled_from('ab\u00e9\\"/\x00 =+\ud800'), max_size=8).map("".join),
    st.sampled_from(SIGNATURE_NAMES),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.sampled_from(JSON_KEYS), children, max_size=4),
        st.builds(
            lambda s: {"b64": s}, st.one_of(st.lists(st.sampled_from("AQw=+/_-!"), max_size=12).map("".join), children)
        ),
    ),
    max_leaves=40,
)
JSON_SPECIALS = [
    "NaN",
    "Infinity",
    "-Inf",
    "1e400",
    "-0",
    "123456789012345678901234567890",
    '"\\ud800"',
    '"\\u00"',
    "[" * 70 + "]" * 70,
    "[" * 5000,
    "{" * 3000,
    "{}",
    "[]",
    "null",
    '"x"',
    "00",
    "1.",
    "\xff",
]


@st.composite
def request_body(draw) -> tuple[str | bytes, str]:
    how = draw(st.sampled_from(["generated", "document", "mutated", "bytes", "special"]))
    if how == "generated":
        body = json.dumps(draw(json_values))
    elif how == "document":  # an object with the keys Serving looks at
        doc = draw(
            st.dictionaries(
                st.sampled_from(["instances", "inputs", "signature_name", "examples", "context"]),
                json_values,
                min_size=1,
                max_size=3,
            )
        )
        body = json.dumps(doc, allow_nan=True)
    elif how == "special":
        sample = draw(st.sampled_from(SAMPLE_BODIES))
        special = draw(st.sampled_from(JSON_SPECIALS))
        digits = [i for i, c in enumerate(sample) if c.isdigit() or c in '[{"']
        pos = draw(st.sampled_from(digits)) if digits else 0
        body = sample[:pos] + special + sample[pos + 1 :]
    else:
        sample = draw(st.sampled_from(SAMPLE_BODIES)).encode()
        mutated, _ = draw(raw(sample, "saved_model.pb"))
        body = mutated if how == "bytes" else mutated.decode("utf-8", "replace")
    return body, how


@settings(FUZZ_SETTINGS, max_examples=EXAMPLES * 2)
@given(body=request_body(), which=st.integers(0, len(SIGNATURES) - 1), data=st.data())
def test_fuzz_request_validation(body, which, data, bounded):
    body, how = body
    model, signatures = SIGNATURES[which]
    if data.draw(st.booleans(), label="one signature") and signatures:
        signature = signatures[data.draw(st.sampled_from(sorted(signatures)), label="key")]
    else:
        signature = signatures
    method = data.draw(st.sampled_from([None, "predict", "classify", "regress"]), label="method")
    check_shapes = data.draw(st.booleans(), label="check_shapes")
    note(f"{how} body for {model}: {body!r}"[:2000])
    with bounded(f"parse_request on {model}"):
        try:
            request = parse_request(body, signature, method=method, check_shapes=check_shapes)
        except SigtoolError as e:
            assert_clean_error(e)
            return
        if isinstance(request, ExamplesRequest):
            assert all(isinstance(b, bytes) for b in build_examples(request))
        else:
            assert isinstance(request, PredictRequest)


def test_seeds_themselves_pass(model_dirs, bounded):
    """Every unmutated seed goes through the same path (a baseline for the fuzz tests)."""
    for index, (kind, path) in enumerate(SEED_FILES):
        write_and_exercise(model_dirs, bounded, kind, seed_bytes(index), [f"seed {path}"], report=lambda _: None)


def test_structural_mutation_helpers_keep_the_wire_format():
    """The mutators fix the enclosing length prefixes: a duplicated field still parses as protobuf."""
    from sigtool._proto import saved_model_pb2

    buf = (REAL / "saved_model_half_plus_two_cpu" / "00000123" / "saved_model.pb").read_bytes()
    locs = locations(buf)
    assert len(locs) > 100
    deepest = max(locs, key=lambda loc: len(loc.chain))
    doubled = replace_in(buf, deepest, deepest.end, deepest.end, buf[deepest.start : deepest.end])
    saved_model_pb2.SavedModel.FromString(doubled)  # still well formed
    assert len(doubled) > len(buf)
