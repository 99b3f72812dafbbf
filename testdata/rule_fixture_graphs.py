"""Protobuf pieces of the rule fixtures: graphs, models and TFRecord files (make_rule_fixtures.py's helpers).

Built on testdata/make_testdata.py's helpers, so every byte is reproducible. Imported by
make_rule_fixtures.py, which puts testdata/ and the checkout on sys.path first.
"""

from __future__ import annotations

import struct

import make_testdata as mt
from make_testdata import CLASSIFY, DT, REGRESS, const, node, placeholder, serialize

from sigtool._proto import attr_value_pb2

PB = "1/saved_model.pb"  # most fixtures are model base paths holding version 1, as Serving wants

# --- graph pieces -------------------------------------------------------------------------------


def list_attr(n, key: str, *, types=(), ints=(), shapes=None):
    """Set a list attribute (make_testdata's node() sets only scalars)."""
    value = attr_value_pb2.AttrValue()
    value.list.SetInParent()
    value.list.type.extend(types)
    value.list.i.extend(ints)
    for shape in shapes or ():
        value.list.shape.add().CopyFrom(mt.shape_proto(shape))
    n.attr[key].CopyFrom(value)
    return n


def int_attr(n, key: str, value: int):
    n.attr[key].i = value
    return n


X_PARSED = "ParseExample/ParseExampleV2"  # its output 0: x, float [batch, 1]
EXAMPLES = mt.tensor_info("tf_example:0", DT.DT_STRING, (-1,))


def parse_example_nodes() -> list:
    """tf_example (a [batch] vector of serialized Examples) -> ParseExampleV2 -> dense feature x, [batch, 1]."""
    parts = ("names", "sparse_keys", "dense_keys", "ragged_keys", "dense_default")
    parse = node(X_PARSED, "ParseExampleV2", ["tf_example"] + [f"ParseExample/{p}" for p in parts])
    list_attr(parse, "Tdense", types=[DT.DT_FLOAT])
    list_attr(parse, "dense_shapes", shapes=[(1,)])
    int_attr(parse, "num_sparse", 0)
    for key in ("sparse_types", "ragged_value_types", "ragged_split_types"):
        list_attr(parse, key)
    return [
        placeholder("tf_example", DT.DT_STRING, (-1,)),
        const("ParseExample/names", DT.DT_STRING, (0,)),
        const("ParseExample/sparse_keys", DT.DT_STRING, (0,)),
        const("ParseExample/dense_keys", DT.DT_STRING, (1,), string_val=[b"x"]),
        const("ParseExample/ragged_keys", DT.DT_STRING, (0,)),
        const("ParseExample/dense_default", DT.DT_FLOAT, (1,), float_val=[0.0]),
        parse,
    ]


def regressor_nodes() -> list:
    """Examples -> x -> x * 0.5 + 2 = y, float [batch, 1]."""
    return parse_example_nodes() + [
        const("a", DT.DT_FLOAT, float_val=[0.5]),
        const("b", DT.DT_FLOAT, float_val=[2.0]),
        node("Mul", "Mul", [X_PARSED, "a"], T=DT.DT_FLOAT),
        node("Add", "Add", ["Mul", "b"], T=DT.DT_FLOAT),
        node("y", "Identity", ["Add"], T=DT.DT_FLOAT),
    ]


def classifier_nodes(*, classes: str) -> list:
    """Examples -> x -> two-class softmax `probabilities` [batch, 2] and `class_ids` int64 [batch, 1].

    classes="ids": no string classes; "names": `classes` = AsString(class_ids), string [batch, 1].
    """
    weights = const("weights", DT.DT_FLOAT, (1, 2), float_val=[-1.0, 1.0])
    nodes = parse_example_nodes() + [
        weights,
        node("logits", "MatMul", [X_PARSED, "weights"], T=DT.DT_FLOAT),
        node("probabilities", "Softmax", ["logits"], T=DT.DT_FLOAT),
        const("argmax_axis", DT.DT_INT32, int_val=[1]),
        node(
            "argmax",
            "ArgMax",
            ["probabilities", "argmax_axis"],
            T=DT.DT_FLOAT,
            Tidx=DT.DT_INT32,
            output_type=DT.DT_INT64,
        ),
        const("expand_axis", DT.DT_INT32, int_val=[-1]),
        node("class_ids", "ExpandDims", ["argmax", "expand_axis"], T=DT.DT_INT64, Tdim=DT.DT_INT32),
    ]
    if classes == "names":
        nodes.append(node("classes", "AsString", ["class_ids"], T=DT.DT_INT64))
    return nodes


def predict_model(signatures=None, nodes=None, **meta_info):
    """One {serve} MetaGraph; by default TF1 half_plus_two, serving_default x -> y (make_testdata's minimal)."""
    mg = mt.meta_graph(
        ["serve"], signatures or {"serving_default": mt.predict_x_to_y()}, nodes or mt.half_plus_two_nodes()
    )
    for key, value in meta_info.items():
        setattr(mg.meta_info_def, key, value)
    return mt.saved_model(mg)


def classify_model(*, input_key="inputs", classes="names", top_score_only=False):
    """A classify signature over Examples; top_score_only: scores is the winning probability, [batch]."""
    nodes = classifier_nodes(classes=classes)
    scores = mt.tensor_info("probabilities:0", DT.DT_FLOAT, (-1, 2))
    if top_score_only:
        nodes.append(node("top_score", "Max", ["probabilities", "argmax_axis"], T=DT.DT_FLOAT, Tidx=DT.DT_INT32))
        scores = mt.tensor_info("top_score:0", DT.DT_FLOAT, (-1,))
    outputs = {"scores": scores}
    if classes == "names":
        outputs["classes"] = mt.tensor_info("classes:0", DT.DT_STRING, (-1, 1))
    else:
        outputs["classes"] = mt.tensor_info("class_ids:0", DT.DT_INT64, (-1, 1))
    return predict_model({"serving_default": mt.signature_def(CLASSIFY, {input_key: EXAMPLES}, outputs)}, nodes)


def regress_model(*, method=REGRESS, output_key="outputs"):
    sig = mt.signature_def(method, {"inputs": EXAMPLES}, {output_key: mt.tensor_info("y:0", DT.DT_FLOAT, (-1, 1))})
    return predict_model({"serving_default": sig}, regressor_nodes())


def pb(message) -> dict[str, bytes]:
    return {PB: serialize(message)}


# --- TFRecord (warmup requests) -------------------------------------------------------------------


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> bytes:
    crc = _crc32c(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def tfrecord(records: list[bytes]) -> bytes:
    """length, masked CRC32C of the length, data, masked CRC32C of the data: one TFRecord each."""
    out = b""
    for data in records:
        length = struct.pack("<Q", len(data))
        out += length + _masked(length) + data + _masked(data)
    return out
