#!/usr/bin/env python3
"""Build sigtool's test SavedModels from protobuf messages, without TensorFlow.

This script is the source of truth for testdata/: every case below is built
from sigtool's own protobuf classes (sigtool._proto) and written with
SerializeToString(deterministic=True), so the bytes are the same on every run.
The bytes are committed only so that tests need no generator at run time;
tests/test_testdata.py checks that they still match this script.

    python testdata/make_testdata.py              # rewrite testdata/ in place
    python testdata/make_testdata.py --out DIR    # write the same tree elsewhere

Each case is a directory named for what it exercises. The script owns those
directories (OWNED): it deletes and rewrites them, and leaves anything else in
the output directory alone, so running it twice changes nothing.

    minimal              TF1 graph x -> Mul -> Add -> y, one predict signature
    half_plus_two_like   predict + classify + regress, __saved_model_init_op, a TF2 function
    multi_tag            three MetaGraphs: {serve}, {serve, gpu}, {train}
    shapes_dtypes        unknown rank, scalar, unknown/zero/named dims, unset shape,
                         coo_sparse input, RaggedTensor output, assorted dtypes
    pbtxt                the minimal model as saved_model.pbtxt only
    base_path            model base path: versions 1, 2, 10 and a non-numeric tmp_export
    legacy_bundle        legacy SessionBundle (00000001/export.meta) with serving_signatures
    big_constant         the minimal model plus a ~1 MB Const, for the fast path
    bad/truncated        minimal saved_model.pb cut in the middle
    bad/wrong_wire_type  SavedModel whose meta_graphs field (2) is a varint
    bad/text_in_pb       saved_model.pb holding a line of text (a symlink checked out as a file)
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's sigtool._proto, whatever the current directory

from google.protobuf import text_format

from sigtool._proto import (
    attr_value_pb2,
    graph_pb2,
    manifest_pb2,
    meta_graph_pb2,
    node_def_pb2,
    saved_model_pb2,
    struct_pb2,
    tensor_pb2,
    tensor_shape_pb2,
    types_pb2,
)

DT = types_pb2  # DT.DT_FLOAT, ...
PREDICT = "tensorflow/serving/predict"
CLASSIFY = "tensorflow/serving/classify"
REGRESS = "tensorflow/serving/regress"
TF_VERSION = "2.21.0"
UNKNOWN_RANK = object()  # shape marker: TensorShapeProto(unknown_rank=True)
BIG_CONSTANT_BYTES = 1_000_000  # keep the committed file at about 1 MB

# Top-level names this script writes (and deletes first) in the output directory.
OWNED = (
    "minimal",
    "half_plus_two_like",
    "multi_tag",
    "shapes_dtypes",
    "pbtxt",
    "base_path",
    "legacy_bundle",
    "big_constant",
    "bad",
)


# --- small builders -------------------------------------------------------------------


def shape_proto(shape) -> tensor_shape_pb2.TensorShapeProto:
    """(-1, 1) -> dims; a (size, name) pair names a dim; UNKNOWN_RANK -> unknown_rank."""
    if shape is UNKNOWN_RANK:
        return tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
    proto = tensor_shape_pb2.TensorShapeProto()
    for d in shape:
        size, name = d if isinstance(d, tuple) else (d, "")
        proto.dim.add(size=size, name=name)
    return proto


def tensor_info(name: str, dtype: int, shape=None) -> meta_graph_pb2.TensorInfo:
    """shape None leaves tensor_shape unset (TF reads that as a scalar)."""
    info = meta_graph_pb2.TensorInfo(name=name, dtype=dtype)
    if shape is not None:
        info.tensor_shape.CopyFrom(shape_proto(shape))
    return info


def signature_def(method: str, inputs: dict, outputs: dict) -> meta_graph_pb2.SignatureDef:
    sig = meta_graph_pb2.SignatureDef(method_name=method)
    for key, info in inputs.items():
        sig.inputs[key].CopyFrom(info)
    for key, info in outputs.items():
        sig.outputs[key].CopyFrom(info)
    return sig


def init_op_signature() -> meta_graph_pb2.SignatureDef:
    """The __saved_model_init_op entry every TF2 SavedModel has."""
    return signature_def("", {}, {"__saved_model_init_op": tensor_info("NoOp", DT.DT_INVALID, UNKNOWN_RANK)})


def node(name: str, op: str, inputs=(), **attrs) -> node_def_pb2.NodeDef:
    """attrs: dtype=/T= DataType numbers, shape= shapes, value= TensorProto."""
    proto = node_def_pb2.NodeDef(name=name, op=op, input=list(inputs))
    for key, value in attrs.items():
        attr = attr_value_pb2.AttrValue()
        if isinstance(value, tensor_pb2.TensorProto):
            attr.tensor.CopyFrom(value)
        elif key == "shape":
            attr.shape.CopyFrom(shape_proto(value))
        else:
            attr.type = value
        proto.attr[key].CopyFrom(attr)
    return proto


def placeholder(name: str, dtype: int, shape) -> node_def_pb2.NodeDef:
    return node(name, "Placeholder", dtype=dtype, shape=shape)


def const(name: str, dtype: int, shape=(), **values) -> node_def_pb2.NodeDef:
    value = tensor_pb2.TensorProto(dtype=dtype, tensor_shape=shape_proto(shape), **values)
    return node(name, "Const", dtype=dtype, value=value)


def graph(*nodes: node_def_pb2.NodeDef) -> graph_pb2.GraphDef:
    g = graph_pb2.GraphDef(node=list(nodes))
    g.versions.producer = 1882
    return g


def half_plus_two_nodes() -> list[node_def_pb2.NodeDef]:
    """x -> Mul(0.5) -> Add(2.0) -> Identity y, as TF1's half_plus_two builds it."""
    return [
        placeholder("x", DT.DT_FLOAT, (-1, 1)),
        const("a", DT.DT_FLOAT, float_val=[0.5]),
        const("b", DT.DT_FLOAT, float_val=[2.0]),
        node("Mul", "Mul", ["x", "a"], T=DT.DT_FLOAT),
        node("Add", "Add", ["Mul", "b"], T=DT.DT_FLOAT),
        node("y", "Identity", ["Add"], T=DT.DT_FLOAT),
    ]


def meta_graph(tags, signatures: dict, nodes, *, tf_version: str = TF_VERSION) -> meta_graph_pb2.MetaGraphDef:
    mg = meta_graph_pb2.MetaGraphDef()
    mg.meta_info_def.meta_graph_version = "v2.21.0"
    mg.meta_info_def.tags.extend(tags)
    mg.meta_info_def.tensorflow_version = tf_version
    mg.graph_def.CopyFrom(graph(*nodes))
    for key, sig in signatures.items():
        mg.signature_def[key].CopyFrom(sig)
    return mg


def saved_model(*meta_graphs: meta_graph_pb2.MetaGraphDef) -> saved_model_pb2.SavedModel:
    return saved_model_pb2.SavedModel(saved_model_schema_version=1, meta_graphs=list(meta_graphs))


def predict_x_to_y() -> meta_graph_pb2.SignatureDef:
    return signature_def(
        PREDICT, {"x": tensor_info("x:0", DT.DT_FLOAT, (-1, 1))}, {"y": tensor_info("y:0", DT.DT_FLOAT, (-1, 1))}
    )


# --- cases ------------------------------------------------------------------------------


def minimal(tf_version: str = TF_VERSION, extra_nodes=()) -> saved_model_pb2.SavedModel:
    nodes = half_plus_two_nodes() + list(extra_nodes)
    return saved_model(meta_graph(["serve"], {"serving_default": predict_x_to_y()}, nodes, tf_version=tf_version))


def half_plus_two_like() -> saved_model_pb2.SavedModel:
    example = tensor_info("tf_example:0", DT.DT_STRING, UNKNOWN_RANK)
    signatures = {
        "serving_default": predict_x_to_y(),
        "predict_y_and_classes": signature_def(
            PREDICT,
            {"x": tensor_info("x:0", DT.DT_FLOAT, (-1, 1))},
            {"y": tensor_info("y:0", DT.DT_FLOAT, (-1, 1)), "classes": tensor_info("classes:0", DT.DT_STRING, (-1, 1))},
        ),
        "classify_x_to_y": signature_def(
            CLASSIFY,
            {"inputs": example},
            {
                "classes": tensor_info("classes:0", DT.DT_STRING, (-1, 1)),
                "scores": tensor_info("y:0", DT.DT_FLOAT, (-1, 1)),
            },
        ),
        "regress_x_to_y": signature_def(
            REGRESS, {"inputs": example}, {"outputs": tensor_info("y:0", DT.DT_FLOAT, (-1, 1))}
        ),
        "__saved_model_init_op": init_op_signature(),
    }
    nodes = [
        placeholder("tf_example", DT.DT_STRING, UNKNOWN_RANK),
        *half_plus_two_nodes(),
        node("classes", "AsString", ["y"], T=DT.DT_FLOAT),
        node("NoOp", "NoOp"),
    ]
    mg = meta_graph(["serve"], signatures, nodes)
    mg.meta_info_def.stripped_default_attrs = True

    # A tiny TF2 object graph: root.predict, a tf.function with one concrete function.
    objects = mg.object_graph_def
    root = objects.nodes.add()
    root.user_object.identifier = "_generic_user_object"
    root.children.add(node_id=1, local_name="predict")
    fn = objects.nodes.add()
    fn.function.concrete_functions.append("__inference_predict_17")
    concrete = objects.concrete_functions["__inference_predict_17"]
    spec = struct_pb2.StructuredValue()
    spec.tensor_spec_value.name = "x"
    spec.tensor_spec_value.shape.CopyFrom(shape_proto((1,)))
    spec.tensor_spec_value.dtype = DT.DT_FLOAT
    args = struct_pb2.StructuredValue()
    args.tuple_value.values.append(spec)
    kwargs = struct_pb2.StructuredValue()
    kwargs.dict_value.SetInParent()
    concrete.canonicalized_input_signature.tuple_value.values.extend([args, kwargs])
    out = struct_pb2.StructuredValue()
    out.tensor_spec_value.name = "output_0"
    out.tensor_spec_value.shape.CopyFrom(shape_proto((1,)))
    out.tensor_spec_value.dtype = DT.DT_FLOAT
    concrete.output_signature.CopyFrom(out)
    return saved_model(mg)


def multi_tag() -> saved_model_pb2.SavedModel:
    plus_three = signature_def(
        PREDICT,
        {"x": tensor_info("x:0", DT.DT_FLOAT, (-1, 1))},
        {"y": tensor_info("plus_three:0", DT.DT_FLOAT, (-1, 1))},
    )
    three = [const("three", DT.DT_FLOAT, float_val=[3.0]), node("plus_three", "AddV2", ["x", "three"], T=DT.DT_FLOAT)]
    serve = meta_graph(
        ["serve"], {"serving_default": predict_x_to_y(), "plus_three": plus_three}, half_plus_two_nodes() + three
    )
    gpu_only = signature_def(
        PREDICT, {"x": tensor_info("x:0", DT.DT_FLOAT, (-1, 1))}, {"y": tensor_info("y:0", DT.DT_FLOAT, (-1, 1))}
    )
    gpu_nodes = half_plus_two_nodes()
    for n in gpu_nodes:
        n.device = "/device:GPU:0"
    gpu = meta_graph(["serve", "gpu"], {"serving_default": predict_x_to_y(), "gpu_only": gpu_only}, gpu_nodes)
    loss = signature_def(
        PREDICT,
        {"x": tensor_info("x:0", DT.DT_FLOAT, (-1, 1)), "label": tensor_info("label:0", DT.DT_FLOAT, (-1, 1))},
        {"loss": tensor_info("loss:0", DT.DT_FLOAT, ())},
    )
    train_nodes = half_plus_two_nodes() + [
        placeholder("label", DT.DT_FLOAT, (-1, 1)),
        node("diff", "Sub", ["y", "label"], T=DT.DT_FLOAT),
        node("sq", "Square", ["diff"], T=DT.DT_FLOAT),
        const("axes", DT.DT_INT32, (2,), int_val=[0, 1]),
        node("loss", "Mean", ["sq", "axes"], T=DT.DT_FLOAT),
    ]
    train = meta_graph(["train"], {"train_loss": loss}, train_nodes)
    return saved_model(serve, gpu, train)


LONG_NAME = "inputs/with/a/rather/long/name_scope/that/no/terminal/width/may/cut/placeholder:0"


def shapes_dtypes() -> saved_model_pb2.SavedModel:
    sparse = meta_graph_pb2.TensorInfo(dtype=DT.DT_INT64, tensor_shape=shape_proto((-1, 4)))
    sparse.coo_sparse.values_tensor_name = "sparse/values:0"
    sparse.coo_sparse.indices_tensor_name = "sparse/indices:0"
    sparse.coo_sparse.dense_shape_tensor_name = "sparse/shape:0"

    ragged = meta_graph_pb2.TensorInfo(dtype=DT.DT_INVALID)
    ragged.composite_tensor.type_spec.type_spec_class = struct_pb2.TypeSpecProto.RAGGED_TENSOR_SPEC
    ragged.composite_tensor.type_spec.type_spec_class_name = "RaggedTensorSpec"
    ragged.composite_tensor.type_spec.num_flat_components = 2
    state = (
        ragged.composite_tensor.type_spec.type_state.tuple_value.values
    )  # (shape, dtype, ragged_rank, row_splits_dtype, flat_values_spec)
    state.add().tensor_shape_value.CopyFrom(shape_proto((-1, -1)))
    state.add().tensor_dtype_value = DT.DT_FLOAT
    state.add().int64_value = 1
    state.add().tensor_dtype_value = DT.DT_INT64
    state.add().none_value.SetInParent()
    ragged.composite_tensor.components.extend(
        [
            tensor_info("ragged/flat_values:0", DT.DT_FLOAT, (-1,)),
            tensor_info("ragged/row_splits:0", DT.DT_INT64, (-1,)),
        ]
    )

    inputs = {
        "unknown_rank": tensor_info("unknown_rank:0", DT.DT_STRING, UNKNOWN_RANK),
        "scalar": tensor_info("scalar:0", DT.DT_INT64, ()),
        "unknown_dims": tensor_info("unknown_dims:0", DT.DT_HALF, (-1, -1, 3)),
        "zero_dim": tensor_info("zero_dim:0", DT.DT_BOOL, (-1, 0)),
        "named_dims": tensor_info("named_dims:0", DT.DT_UINT8, ((-1, "batch"), (28, "height"), (28, "width"), 3)),
        "unset_shape": tensor_info("unset_shape:0", DT.DT_FLOAT),
        "vector": tensor_info("vector:0", DT.DT_BFLOAT16, (5,)),
        "long_name": tensor_info(LONG_NAME, DT.DT_COMPLEX64, (-1,)),
        "sparse": sparse,
    }
    outputs = {
        "ragged": ragged,
        "count": tensor_info("count:0", DT.DT_INT32, ()),
        "ok": tensor_info("ok:0", DT.DT_BOOL, (-1,)),
    }
    sig = signature_def(PREDICT, inputs, outputs)
    nodes = [
        placeholder("unknown_rank", DT.DT_STRING, UNKNOWN_RANK),
        placeholder("scalar", DT.DT_INT64, ()),
        placeholder("unknown_dims", DT.DT_HALF, (-1, -1, 3)),
        placeholder("zero_dim", DT.DT_BOOL, (-1, 0)),
        placeholder("named_dims", DT.DT_UINT8, (-1, 28, 28, 3)),
        placeholder("unset_shape", DT.DT_FLOAT, UNKNOWN_RANK),
        placeholder("vector", DT.DT_BFLOAT16, (5,)),
        placeholder(LONG_NAME.removesuffix(":0"), DT.DT_COMPLEX64, (-1,)),
        placeholder("sparse/indices", DT.DT_INT64, (-1, 2)),
        placeholder("sparse/values", DT.DT_INT64, (-1,)),
        placeholder("sparse/shape", DT.DT_INT64, (2,)),
        placeholder("ragged/flat_values", DT.DT_FLOAT, (-1,)),
        placeholder("ragged/row_splits", DT.DT_INT64, (-1,)),
        node("count", "Size", ["unknown_rank"], T=DT.DT_STRING, out_type=DT.DT_INT32),
        node("ok", "IsFinite", ["ragged/flat_values"], T=DT.DT_FLOAT),
    ]
    return saved_model(meta_graph(["serve"], {"serving_default": sig}, nodes))


def legacy_export() -> meta_graph_pb2.MetaGraphDef:
    """A legacy SessionBundle export.meta: signatures live in the serving_signatures collection."""
    mg = meta_graph_pb2.MetaGraphDef()
    mg.meta_info_def.meta_graph_version = "v0.12.0"
    mg.meta_info_def.tensorflow_version = "0.12.head"
    nodes = [
        placeholder("tf_example", DT.DT_STRING, UNKNOWN_RANK),
        *half_plus_two_nodes(),
        const("classes", DT.DT_STRING, string_val=[b"half_plus_two"]),
    ]
    mg.graph_def.CopyFrom(graph(*nodes))

    signatures = manifest_pb2.Signatures()
    classify = signatures.default_signature.classification_signature
    classify.input.tensor_name = "tf_example:0"
    classify.classes.tensor_name = "classes:0"
    classify.scores.tensor_name = "y:0"
    signatures.named_signatures["inputs"].generic_signature.map["x"].tensor_name = "x:0"
    signatures.named_signatures["outputs"].generic_signature.map["y"].tensor_name = "y:0"
    regress = signatures.named_signatures["regress"].regression_signature
    regress.input.tensor_name = "tf_example:0"
    regress.output.tensor_name = "y:0"
    # add(), not append(any_pb2.Any(...)): our Any lives in sigtool._proto's private pool.
    mg.collection_def["serving_signatures"].any_list.value.add(
        type_url="type.googleapis.com/tensorflow.serving.Signatures",
        value=signatures.SerializeToString(deterministic=True),
    )
    return mg


# --- writing ----------------------------------------------------------------------------


def serialize(message) -> bytes:
    return message.SerializeToString(deterministic=True)


def build() -> dict[str, bytes]:
    """Every file this script owns: path relative to the output directory -> bytes."""
    minimal_pb = serialize(minimal())
    big = tensor_pb2.TensorProto(
        dtype=DT.DT_FLOAT,
        tensor_shape=shape_proto((BIG_CONSTANT_BYTES // 4,)),
        tensor_content=bytes(range(256)) * (BIG_CONSTANT_BYTES // 256) + bytes(range(BIG_CONSTANT_BYTES % 256)),
    )
    files = {
        "minimal/saved_model.pb": minimal_pb,
        "half_plus_two_like/saved_model.pb": serialize(half_plus_two_like()),
        "multi_tag/saved_model.pb": serialize(multi_tag()),
        "shapes_dtypes/saved_model.pb": serialize(shapes_dtypes()),
        "pbtxt/saved_model.pbtxt": text_format.MessageToString(minimal()).encode(),
        # Version N records TF "2.N.0", so a test can tell which version was read.
        "base_path/1/saved_model.pb": serialize(minimal("2.1.0")),
        "base_path/2/saved_model.pb": serialize(minimal("2.2.0")),
        "base_path/10/saved_model.pb": serialize(minimal("2.10.0")),
        "base_path/tmp_export/saved_model.pb": serialize(minimal("0.0.0-tmp_export-must-be-ignored")),
        "legacy_bundle/00000001/export.meta": serialize(legacy_export()),
        "big_constant/saved_model.pb": serialize(
            minimal(extra_nodes=[node("big", "Const", dtype=DT.DT_FLOAT, value=big)])
        ),
        "bad/truncated/saved_model.pb": minimal_pb[: len(minimal_pb) // 2],
        # saved_model_schema_version = 1, then field 2 (meta_graphs) with wire type 0 (varint).
        "bad/wrong_wire_type/saved_model.pb": bytes([1 << 3 | 0, 1, 2 << 3 | 0, 1]),
        # What git checks out for a symbolic link when core.symlinks is false.
        "bad/text_in_pb/saved_model.pb": b"../../minimal/saved_model.pb",
    }
    assert all(rel.split("/")[0] in OWNED for rel in files)
    return files


def write(out: Path) -> list[Path]:
    files = build()
    out.mkdir(parents=True, exist_ok=True)
    for name in OWNED:
        target = out / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
    written = []
    for rel, data in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--out", type=Path, default=HERE, help="output directory (default: testdata/ beside this script)"
    )
    args = parser.parse_args(argv)
    written = write(args.out)
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} files ({total} bytes) under {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
