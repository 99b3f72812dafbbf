"""sigtool's tf.Example bytes against TensorFlow's own: field numbers, the bytes of the same Examples, the
context merged as Serving merges it, and a TensorFlow model classifying our examples end to end.
These need TensorFlow (they skip without it).
"""

from __future__ import annotations

import json

import pytest
from serving_cases import CLASSIFY_SIG, EX1, EX2

from sigtool.serving.examples import build_examples, encode_example
from sigtool.serving.requests import parse_request
from sigtool.serving.responses import format_classify_response
from sigtool.serving.values import Feature, Tensor


def test_field_numbers_match_tensorflow():
    tf_example = pytest.importorskip("tensorflow.core.example.example_pb2")
    tf_feature = pytest.importorskip("tensorflow.core.example.feature_pb2")

    def fields(message):
        return {f.name: (f.number, f.type, f.is_packed) for f in message.DESCRIPTOR.fields}

    assert fields(tf_example.Example) == {"features": (1, 11, False)}
    assert fields(tf_feature.Features) == {"feature": (1, 11, False)}
    entry = tf_feature.Features.DESCRIPTOR.fields_by_name["feature"].message_type
    assert entry.GetOptions().map_entry and {f.name: f.number for f in entry.fields} == {"key": 1, "value": 2}
    assert fields(tf_feature.Feature) == {
        "bytes_list": (1, 11, False),
        "float_list": (2, 11, False),
        "int64_list": (3, 11, False),
    }
    assert {f.name for f in tf_feature.Feature.DESCRIPTOR.oneofs_by_name["kind"].fields} == {
        "bytes_list",
        "float_list",
        "int64_list",
    }
    assert fields(tf_feature.BytesList) == {"value": (1, 12, False)}  # bytes, not packed
    assert fields(tf_feature.FloatList) == {"value": (1, 2, True)}  # float, packed
    assert fields(tf_feature.Int64List) == {"value": (1, 3, True)}  # int64, packed


def tf_example_of(features: dict[str, Feature]):
    example_pb2 = pytest.importorskip("tensorflow.core.example.example_pb2")
    ex = example_pb2.Example()
    if features:
        ex.features.SetInParent()
    for name, f in features.items():
        feature = ex.features.feature[name]
        if f.kind:
            getattr(feature, f.kind).SetInParent()
            getattr(feature, f.kind).value.extend(f.values)
    return ex


def assert_same_example(got: bytes, expected) -> None:
    """Byte for byte, unless a key is a prefix of another: TF's Python protobuf (upb) then sorts the longer key
    first, where the C++ deterministic order (and sigtool's) is plain byte order; compare parsed messages then."""
    keys = [k.encode() for k in expected.features.feature]
    if not any(a != b and b.startswith(a) for a in keys for b in keys):
        assert got == expected.SerializeToString(deterministic=True)
    assert type(expected).FromString(got) == expected


@pytest.mark.parametrize(
    "body",
    [
        EX1,
        EX2,
        '{"examples": [{}, {"e": [], "u": "\\u00e9\\ud83d\\ude00", "n": -1}]}',
        '{"examples": [{"x": [1e-45, 3.4028234663852886e38, -0.0], "": 0, "xy": "p"}]}',
    ],
)
def test_examples_bytes_equal_tensorflows(body):
    pytest.importorskip("tensorflow")
    req = parse_request(body, {"serving_default": CLASSIFY_SIG, "custom_signture": CLASSIFY_SIG})
    for ex, got in zip(req.examples, build_examples(req)):
        if req.context is not None:
            ctx = encode_example(req.context)
            assert_same_example(ctx, tf_example_of(req.context))
            assert got.startswith(ctx)
            got = got[len(ctx) :]
        assert_same_example(got, tf_example_of(ex))


def test_examples_bytes_equal_tensorflows_for_random_features():
    pytest.importorskip("tensorflow")
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    floats = st.floats(width=32, allow_nan=False)
    feature = st.one_of(
        st.builds(lambda v: Feature("bytes_list", tuple(v)), st.lists(st.binary(max_size=5), max_size=3)),
        st.builds(lambda v: Feature("float_list", tuple(v)), st.lists(floats, max_size=3)),
        st.builds(lambda v: Feature("int64_list", tuple(v)), st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3)),
        st.just(Feature("")),
    )

    @hypothesis.settings(max_examples=200, deadline=None)
    @hypothesis.given(st.dictionaries(st.text(max_size=4), feature, max_size=4))
    def check(features):
        assert_same_example(encode_example(features), tf_example_of(features))

    check()


def test_tensorflow_parses_context_plus_example_as_serving_merges_them():
    tf = pytest.importorskip("tensorflow")
    example_pb2 = pytest.importorskip("tensorflow.core.example.example_pb2")
    req = parse_request('{"context": {"q": "pizza", "shared": 1}, "examples": [{"x": 2.5, "shared": 7}]}', CLASSIFY_SIG)
    [blob] = build_examples(req)
    ex = example_pb2.Example.FromString(blob)
    assert ex.features.feature["q"].bytes_list.value == [b"pizza"]
    assert ex.features.feature["shared"].int64_list.value == [7]  # the example wins
    parsed = tf.io.parse_single_example(
        blob,
        {
            "x": tf.io.FixedLenFeature([], tf.float32),
            "q": tf.io.FixedLenFeature([], tf.string),
            "shared": tf.io.FixedLenFeature([], tf.int64),
        },
    )
    assert (float(parsed["x"]), bytes(parsed["q"].numpy()), int(parsed["shared"])) == (2.5, b"pizza", 7)


def test_a_tensorflow_model_classifies_our_examples():
    # end to end on a model TensorFlow wrote: JSON examples -> tf.Example bytes -> TF -> classify body
    tf = pytest.importorskip("tensorflow")
    from conftest import GEN

    req = parse_request(
        '{"examples": [{"color": "green", "x": 1.0, "x2": 4.0}, {"x": 3.0}, {"color": "blue", "x": -2.0}]}',
        CLASSIFY_SIG,
    )
    blobs = build_examples(req)

    def example(**features):  # the same Examples, built by TensorFlow
        feats = {
            k: tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode()]))
            if isinstance(v, str)
            else tf.train.Feature(float_list=tf.train.FloatList(value=[v]))
            for k, v in features.items()
        }
        return tf.train.Example(features=tf.train.Features(feature=feats))

    theirs = [example(color="green", x=1.0, x2=4.0), example(x=3.0), example(color="blue", x=-2.0)]
    assert [tf.train.Example.FromString(b) for b in blobs] == theirs

    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], str(GEN / "tf1_classify_regress_predict"))
        sd = meta.signature_def["serving_default"]
        out = sess.run({k: sd.outputs[k].name for k in ("classes", "scores")}, {sd.inputs["inputs"].name: blobs})
        again = sess.run(sd.outputs["scores"].name, {sd.inputs["inputs"].name: [e.SerializeToString() for e in theirs]})
    assert again.tolist() == out["scores"].tolist()
    classes = Tensor("DT_STRING", out["classes"].shape, tuple(out["classes"].flatten().tolist()))
    scores = Tensor("DT_FLOAT", out["scores"].shape, tuple(out["scores"].flatten().tolist()))
    body = format_classify_response(classes, scores, len(blobs))
    assert body.startswith('{\n    "results": [[["red", ') and body.endswith("]]\n    ]\n}")
    for got, labels, values in zip(json.loads(body)["results"], out["classes"].tolist(), out["scores"].tolist()):
        assert [label for label, _ in got] == [label.decode() for label in labels]
        assert [score for _, score in got] == pytest.approx(values, rel=1e-6)
