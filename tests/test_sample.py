"""sigtool.sample (`run --sample`) on every model under testdata/real and testdata/tf.

Without TensorFlow: every sampled body is one that sigtool's own Serving JSON parser accepts, the signatures
that cannot be sampled are refused for the documented reasons, and the tf.Example feature specs read from the
graphs are the ones the models were built with (testdata/make_tf_models.py; TF Serving's half_plus_two).
With TensorFlow (test_sample_tf.py): TF runs every sampled request on every signature it can run on a CPU,
and fails on the ones it cannot. tests/conformance/test_conformance_sample.py does the same on the corpus.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest
from conftest import TESTDATA
from sample_cases import MANIFEST, TESTDATA_CASES, loaded
from sample_checks import *  # noqa: F403 - the shared sample tests, collected here on testdata's models
from sample_checks import parametrize_signatures

from sigtool.errors import UsageError
from sigtool.loader import load
from sigtool.model import PREDICT, REGRESS, Arg, Attr, FunctionGraph, Graph, MetaGraph, Node, Signature, TensorSpec
from sigtool.sample import REST_DTYPES, example_spec, sample_request
from sigtool.serving.requests import parse_request


def test_bytes_suffix_gets_b64_and_unsupported_dtypes_are_refused():
    def one(key, dtype, shape=(-1,)):
        return Signature("s", PREDICT, (TensorSpec(key, dtype, shape, True, "name", f"{key}:0"),), ())

    mg = MetaGraph(tags=("serve",), signatures=())
    row = sample_request(mg, one("image_bytes", "DT_STRING"), batch=2)["instances"]
    assert all(set(v) == {"b64"} and base64.b64decode(v["b64"]).isascii() for v in row)
    assert all(isinstance(v, str) for v in sample_request(mg, one("text", "DT_STRING"))["instances"])
    values = {d: sample_request(mg, one("v", d), seed=3, batch=20)["instances"] for d in sorted(REST_DTYPES)}
    assert all(type(v) is float and v == round(v, 2) for v in values["DT_DOUBLE"])
    assert all(type(v) is int and 0 <= v <= 9 for v in values["DT_UINT64"] + values["DT_INT8"])
    assert {type(v) for v in values["DT_BOOL"]} == {bool}
    for dtype in (
        "DT_HALF",
        "DT_BFLOAT16",
        "DT_UINT16",
        "DT_COMPLEX64",
        "DT_QINT8",
        "DT_RESOURCE",
        "DT_VARIANT",
        "DT_INVALID",
    ):
        with pytest.raises(UsageError, match=f"'v' \\({dtype}\\)"):
            sample_request(mg, one("v", dtype))
    with pytest.raises(UsageError, match="at least 1"):
        sample_request(mg, one("v", "DT_FLOAT"), batch=0)


# ---------------------------------------------------------------- every signature (sample_checks.py)


@pytest.fixture(scope="module")
def cases():
    return TESTDATA_CASES


def pytest_generate_tests(metafunc):
    parametrize_signatures(metafunc, TESTDATA_CASES)


# ---------------------------------------------------------------- the feature spec read from the graph


def example_features(serialized: bytes) -> dict[str, str]:
    """feature key -> kind of a serialized tf.Example (a tiny wire reader: the facts come from TF's runs)."""

    def fields(buf: bytes):
        i = 0
        while i < len(buf):
            tag, i = varint(buf, i)
            assert tag & 7 == 2
            size, i = varint(buf, i)
            yield tag >> 3, buf[i : i + size]
            i += size

    def varint(buf: bytes, i: int):
        shift = value = 0
        while True:
            b = buf[i]
            value |= (b & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if b < 0x80:
                return value, i

    out = {}
    for _, features in fields(serialized):
        for _, entry in fields(features):
            parts = dict(fields(entry))
            number = next(n for n, _ in fields(parts[2])) if parts.get(2) else 0
            out[parts[1].decode()] = {1: "DT_STRING", 2: "DT_FLOAT", 3: "DT_INT64"}.get(number, "")
    return out


def recorded_example_features(rel: str, key: str) -> dict[str, str]:
    """The features of the Examples TF Serving's half_plus_two tests send (x, and x2 for the *_x2_* signatures)."""
    return {"x": "DT_FLOAT", "x2": "DT_FLOAT"}


@pytest.mark.parametrize(
    "rel", ["real/saved_model_half_plus_two_cpu/00000123", "real/saved_model_half_plus_two_tf2_cpu/00000123"]
)
@pytest.mark.parametrize("key", ["classify_x_to_y", "regress_x_to_y", "regress_x_to_y2"])
def test_half_plus_two_example_spec(rel, key):
    mg = loaded(rel).meta_graphs[0]
    spec = example_spec(mg, mg.signature(key).inputs[0])
    assert spec is not None
    recorded = recorded_example_features(rel, key)
    assert recorded == {"x": "DT_FLOAT", "x2": "DT_FLOAT"}
    assert {f.key: f.dtype for f in spec.features} == recorded
    x, x2 = spec.feature("x"), spec.feature("x2")
    assert (x.kind, x.shape, x.required) == ("dense", (1,), True)  # tf.io.FixedLenFeature([1], tf.float32)
    assert (x2.kind, x2.shape, x2.default, x2.required) == ("dense", (1,), (0.0,), False)  # default_value=[0.0]
    if mg.has_object_graph:  # TF2: found inside the function the signature's StatefulPartitionedCall runs
        assert spec.op == "ParseExampleV2" and "/" in spec.node and spec.node.startswith("__inference_")
        assert not loaded(rel).meta_graphs[0].graph.node(spec.node.split("/", 1)[1])
    else:
        assert spec.op == "ParseExample" and mg.graph.node(spec.node).op == "ParseExample"


MANIFEST_DTYPES = {"float32": "DT_FLOAT", "int64": "DT_INT64", "string": "DT_STRING"}


@pytest.mark.parametrize(
    "model,keys",
    [
        (
            "tf1_classify_regress_predict",
            [
                "serving_default",
                "classify",
                "classify_classes_only",
                "classify_scores_only",
                "regress",
                "predict_examples",
            ],
        ),
        ("tf1_pbtxt", ["regress"]),
    ],
)
def test_generated_example_spec_matches_manifest(model, keys):
    wanted = MANIFEST[model]["feature_spec"]
    mg = loaded(f"tf/{model}").meta_graphs[0]
    for key in keys:
        spec = example_spec(mg, mg.signature(key).inputs[0])
        assert spec is not None and spec.op == "ParseExampleV2", key
        assert sorted(f.key for f in spec.features) == sorted(wanted)
        for f in spec.features:
            facts = wanted[f.key]
            assert facts["type"] == "FixedLenFeature" and f.kind == "dense"
            assert f.dtype == MANIFEST_DTYPES[facts["dtype"]]
            assert list(f.shape) == facts["shape"]
            assert f.required == (facts["default_value"] is None)
            if facts["default_value"] is not None:
                assert list(f.default) == facts["default_value"]


def test_no_spec_where_nothing_parses_examples():
    mg = loaded("tf/tf1_invalid_classify").meta_graphs[0]
    for key in ("classify_valid", "classify_wrong_input_key", "classify_two_inputs"):
        sig = mg.signature(key)
        assert all(example_spec(mg, t) is None for t in sig.inputs)
        body = sample_request(mg, sig)
        assert "instances" in body  # a predict body with plain words
    mg = loaded("tf/tf2_assets_lookup").meta_graphs[0]
    assert example_spec(mg, mg.signature("serving_default").inputs[0]) is None
    info = load(str(TESTDATA / "real/saved_model_half_plus_two_cpu/00000123"))  # no graph read: nothing to follow
    mg = info.meta_graphs[0]
    assert example_spec(mg, mg.signature("classify_x_to_y").inputs[0]) is None
    assert sample_request(mg, mg.signature("classify_x_to_y"))["inputs"]["inputs"][0] in sample_words()


def sample_words() -> set[str]:
    mg = MetaGraph(("serve",), ())
    sig = Signature("s", PREDICT, (TensorSpec("w", "DT_STRING", (-1,), True, "name", "w:0"),), ())
    return {w for seed in range(5) for w in sample_request(mg, sig, batch=50, seed=seed)["instances"]}


def test_predict_signature_fed_examples_gets_serialized_examples():
    """predict_examples: key "examples", not "inputs", so a predict body whose strings are serialized Examples."""
    mg = loaded("tf/tf1_classify_regress_predict").meta_graphs[0]
    body = sample_request(mg, mg.signature("predict_examples"), batch=3, seed=2)
    assert set(body) == {"signature_name", "instances"} and len(body["instances"]) == 3
    wanted = {
        k: MANIFEST_DTYPES[v["dtype"]] for k, v in MANIFEST["tf1_classify_regress_predict"]["feature_spec"].items()
    }
    for value in body["instances"]:
        assert example_features(base64.b64decode(value["b64"])) == wanted


# ---------------------------------------------------------------- synthetic graphs: sparse, ragged, calls


def const(name: str, dtype: str, values: tuple) -> Node:
    return Node(name, "Const", (), attrs=(("dtype", Attr("type", dtype)), ("value", Attr("tensor", values, dtype))))


def test_spec_through_nested_calls_with_sparse_and_ragged_features():
    parse = Node(
        "pe",
        "ParseExampleV2",
        ("id:output:0", "names:output:0", "sk:output:0", "dk:output:0", "rk:output:0", "d0:output:0", "d1:output:0"),
        attrs=(
            ("Tdense", Attr("list_type", ("DT_INT64", "DT_STRING"))),
            ("dense_shapes", Attr("list_shape", ((), (2, 3)))),
            ("num_sparse", Attr("int", 1)),
            ("ragged_split_types", Attr("list_type", ("DT_INT64",))),
            ("ragged_value_types", Attr("list_type", ("DT_FLOAT",))),
            ("sparse_types", Attr("list_type", ("DT_FLOAT",))),
        ),
    )
    inner = FunctionGraph(
        "inner",
        (Arg("ser", "DT_STRING"),),
        (),
        (
            const("names", "DT_STRING", ()),
            const("sk", "DT_STRING", ("tags",)),
            const("dk", "DT_STRING", ("age", "words")),
            const("rk", "DT_STRING", ("scores",)),
            const("d0", "DT_INT64", ()),
            const("d1", "DT_STRING", ("a",) * 6),
            Node("id", "Identity", ("ser",)),
            parse,
        ),
        (),
    )
    outer = FunctionGraph(
        "outer",
        (Arg("resource", "DT_RESOURCE"), Arg("s", "DT_STRING")),
        (),
        (
            Node("r", "Reshape", ("s", "shape:output:0")),
            Node("call", "PartitionedCall", ("r:output:0",), attrs=(("f", Attr("func", "inner")),)),
        ),
        (),
    )
    graph = Graph(
        (
            Node("inputs", "Placeholder", (), attrs=(("dtype", Attr("type", "DT_STRING")),)),
            Node("v", "VarHandleOp"),
            Node("call", "StatefulPartitionedCall", ("v", "inputs"), attrs=(("f", Attr("func", "outer")),)),
        ),
        (inner, outer),
    )
    tensor = TensorSpec("inputs", "DT_STRING", (-1,), True, "name", "inputs:0")
    mg = MetaGraph(("serve",), (Signature("reg", REGRESS, (tensor,), ()),), graph=graph, has_object_graph=True)
    spec = example_spec(mg, tensor)
    assert spec.node == "inner/pe" and spec.op == "ParseExampleV2"
    assert [(f.key, f.kind, f.dtype, f.shape, f.required) for f in spec.features] == [
        ("age", "dense", "DT_INT64", (), True),
        ("words", "dense", "DT_STRING", (2, 3), False),
        ("tags", "sparse", "DT_FLOAT", None, None),
        ("scores", "ragged", "DT_FLOAT", None, None),
    ]
    body = sample_request(mg, mg.signatures[0], batch=4, seed=1)
    assert len(body["examples"]) == 4
    for example in body["examples"]:
        assert type(example["age"]) is int  # shape []: a scalar int64
        assert len(example["words"]) == 6 and all(type(w) is str for w in example["words"])
        assert 1 <= len(example["tags"]) <= 2 and all(type(v) is float for v in example["tags"])
        assert all(type(v) is float for v in example["scores"])
    request = parse_request(json.dumps(body), mg.signatures[0])
    assert {k: f.kind for k, f in request.examples[0].items()} == {
        "age": "int64_list",
        "words": "bytes_list",
        "tags": "float_list",
        "scores": "float_list",
    }


def test_parse_example_v1_and_single_example_and_bounds():
    v1 = Node(
        "pe",
        "ParseExample",
        ("ser", "names", "sk0", "dk0", "dk1", "def0", "def1"),
        attrs=(
            ("Ndense", Attr("int", 2)),
            ("Nsparse", Attr("int", 1)),
            ("Tdense", Attr("list_type", ("DT_FLOAT", "DT_INT64"))),
            ("dense_shapes", Attr("list_shape", ((1,), (-1, 2)))),
            ("sparse_types", Attr("list_type", ("DT_STRING",))),
        ),
    )
    graph = Graph(
        (
            Node("ser", "Placeholder"),
            const("names", "DT_STRING", ()),
            const("sk0", "DT_STRING", ("s",)),
            const("dk0", "DT_STRING", ("f",)),
            const("dk1", "DT_STRING", ("seq",)),
            const("def0", "DT_FLOAT", (1.5,)),
            const("def1", "DT_INT64", ()),
            v1,
        ),
        (),
    )
    tensor = TensorSpec("inputs", "DT_STRING", None, True, "name", "ser:0")
    mg = MetaGraph(("serve",), (), graph=graph)
    spec = example_spec(mg, tensor)
    assert [(f.key, f.kind, f.dtype, f.shape, f.default) for f in spec.features] == [
        ("f", "dense", "DT_FLOAT", (1,), (1.5,)),
        ("seq", "dense", "DT_INT64", (-1, 2), ()),
        ("s", "sparse", "DT_STRING", None, None),
    ]
    example = sample_request(mg, Signature("c", PREDICT, (tensor,), ()))["examples"][0]
    assert len(example["seq"]) == 2 and all(type(v) is int for v in example["seq"])  # variable length: 1 row

    single = Node(
        "pe",
        "ParseSingleExample",
        ("ser", "def0"),
        attrs=(
            ("Tdense", Attr("list_type", ("DT_FLOAT",))),
            ("dense_keys", Attr("list_str", ("f",))),
            ("dense_shapes", Attr("list_shape", ((),))),
            ("num_sparse", Attr("int", 0)),
            ("sparse_keys", Attr("list_", ())),
            ("sparse_types", Attr("list_", ())),
        ),
    )
    graph = Graph((Node("ser", "Placeholder"), const("def0", "DT_FLOAT", ()), single), ())
    spec = example_spec(MetaGraph(("serve",), (), graph=graph), tensor)
    assert [(f.key, f.shape, f.required) for f in spec.features] == [("f", (), True)]

    # a key that is not a readable constant: no spec, and the fallback is a predict body of plain strings
    graph = Graph((Node("ser", "Placeholder"), Node("names", "Placeholder"), Node("sk0", "Placeholder"), v1), ())
    mg = MetaGraph(("serve",), (), graph=graph)
    assert example_spec(mg, tensor) is None
    assert isinstance(sample_request(mg, Signature("c", PREDICT, (tensor,), ()))["inputs"]["inputs"][0], str)

    # a cycle of calls ends (bounded walk) without a spec
    loop = FunctionGraph(
        "loop",
        (Arg("a", "DT_STRING"),),
        (),
        (Node("c", "PartitionedCall", ("a",), attrs=(("f", Attr("func", "loop")),)),),
        (),
    )
    graph = Graph(
        (Node("ser", "Placeholder"), Node("c", "PartitionedCall", ("ser",), attrs=(("f", Attr("func", "loop")),))),
        (loop,),
    )
    assert example_spec(MetaGraph(("serve",), (), graph=graph), tensor) is None


def test_sample_module_imports_no_tensorflow_numpy_or_protobuf():
    code = (
        "import sys, sigtool.sample\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'numpy', 'google', 'keras')]\n"
        "assert not bad, bad\nprint('clean')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "clean"
