#!/usr/bin/env python3
"""Build the loader's test models under testdata/wild/loader/ (and testdata/rules/FMT005/).

Models of the kinds found in the wild that the loader must read right:

    utf8/<field>/        a proto3 string field that is not UTF-8, one model per kind of field
                         (TF and Serving refuse such a file: "String field had bad UTF-8")
    utf8/pbtxt/          the same as utf8/tag, as text (saved_model.pbtxt, an escaped "\\377")
    utf8/legacy/         a legacy export.meta whose signature binds a tensor name that is not UTF-8
    duplicate_tag_sets/  two MetaGraphs tagged {serve} with different signatures, then {serve, gpu}
    messages/            inputs that deserve a precise error: a GraphDef as .pbtxt, a SavedModel's
                         variables.index, a directory of model directories
    rules FMT005         testdata/rules/FMT005/{triggers,clean} for tests/test_rules.py

All of these are built from protobuf messages without TensorFlow and are byte-for-byte
reproducible (tests/test_loader_messages.py checks the committed files). A string that is not
UTF-8 cannot be set through protobuf, so it is written as a marker (MARK, valid UTF-8) and the
marker's bytes are then replaced by as many invalid bytes, which keeps every length prefix right.

    tf_functions/        written by TensorFlow (--tf): a tf.Module whose functions have several
                         concrete functions and call each other, for saved_model_cli's listing order
                         (tests/test_smcli_order.py). TensorFlow's bytes differ from run to run.

    python testdata/make_loader_models.py          # rewrite the protobuf-built models
    python testdata/make_loader_models.py --tf     # also rewrite tf_functions/ (needs TensorFlow)
    python testdata/make_loader_models.py --out D  # write D/wild/loader/... and D/rules/FMT005/ instead
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # make_testdata, whatever the current directory
sys.path.insert(0, str(HERE.parent))  # this checkout's sigtool._proto

import make_testdata as mt
from google.protobuf import text_format
from make_testdata import DT, PREDICT, node, serialize, signature_def, tensor_info

from sigtool._proto import graph_pb2, struct_pb2

LOADER = Path("wild") / "loader"
RULE = Path("rules") / "FMT005"
MARK = "\u00ff\u00fe"  # b"\xc3\xbf\xc3\xbe" in UTF-8 ...
BAD = b"\xff\xfe\xff\xfe"  # ... replaced by 4 bytes that are not UTF-8
PB = "saved_model.pb"


def garble(data: bytes, expected: int = 1) -> bytes:
    raw = MARK.encode()
    assert data.count(raw) == expected, (data.count(raw), expected)
    return data.replace(raw, BAD)


def minimal():
    return mt.minimal()


def mg_of(model):
    return model.meta_graphs[0]


# --- one model per kind of string field --------------------------------------------------------


def _tag(m):
    mg_of(m).meta_info_def.tags[0] = "serve" + MARK


def _tensorflow_version(m):
    mg_of(m).meta_info_def.tensorflow_version = "2.21.0" + MARK


def _signature_key(m):
    sigs = mg_of(m).signature_def
    sigs["serving_default" + MARK].CopyFrom(sigs["serving_default"])
    del sigs["serving_default"]


def _method_name(m):
    mg_of(m).signature_def["serving_default"].method_name = PREDICT + MARK


def _input_key(m):
    inputs = mg_of(m).signature_def["serving_default"].inputs
    inputs["x" + MARK].CopyFrom(inputs["x"])
    del inputs["x"]


def _tensor_name(m):
    mg_of(m).signature_def["serving_default"].outputs["y"].name = "y" + MARK + ":0"


def _sparse_name(m):
    info = mg_of(m).signature_def["serving_default"].inputs["x"]
    info.coo_sparse.values_tensor_name = "x" + MARK + ":0"
    info.coo_sparse.indices_tensor_name = "x_indices:0"
    info.coo_sparse.dense_shape_tensor_name = "x_shape:0"


def _dim_name(m):
    mg_of(m).signature_def["serving_default"].inputs["x"].tensor_shape.dim[0].name = "batch" + MARK


def _asset_filename(m):
    asset = mg_of(m).asset_file_def.add()
    asset.tensor_info.name = "vocab:0"
    asset.filename = "vocab" + MARK + ".txt"


def _collection_key(m):
    mg_of(m).collection_def["table" + MARK].node_list.value.append("y")


def _node_name(m):
    mg_of(m).graph_def.node.append(node("unused" + MARK, "NoOp"))


def _node_device(m):
    mg_of(m).graph_def.node[0].device = "/device:CPU:0" + MARK


def _function_name(m):
    fn = mg_of(m).graph_def.library.function.add()
    fn.signature.name = "__inference_helper" + MARK + "_12"


def _saver_filename(m):
    mg_of(m).saver_def.filename_tensor_name = "save/Const" + MARK + ":0"


def _object_graph(m):
    """A TF2 object graph whose function `predict` takes an argument named with bad bytes."""
    objects = mg_of(m).object_graph_def
    root = objects.nodes.add()
    root.user_object.identifier = "_generic_user_object"
    root.children.add(node_id=1, local_name="predict")
    objects.nodes.add().function.concrete_functions.append("__inference_predict_17")
    concrete = objects.concrete_functions["__inference_predict_17"]
    spec = struct_pb2.StructuredValue()
    spec.tensor_spec_value.name = "x" + MARK
    spec.tensor_spec_value.shape.CopyFrom(mt.shape_proto((1,)))
    spec.tensor_spec_value.dtype = DT.DT_FLOAT
    args = struct_pb2.StructuredValue()
    args.tuple_value.values.append(spec)
    kwargs = struct_pb2.StructuredValue()
    kwargs.dict_value.SetInParent()
    concrete.canonicalized_input_signature.tuple_value.values.extend([args, kwargs])


# field kind -> (edit, the path sigtool reports, whether `show --all` decodes it)
UTF8_CASES = {
    "tag": (_tag, "meta_graphs[0].meta_info_def.tags[0]", True),
    "tensorflow_version": (_tensorflow_version, "meta_graphs[0].meta_info_def.tensorflow_version", True),
    "signature_key": (_signature_key, "meta_graphs[0].signature_def['serving_default\\xff\\xfe\\xff\\xfe']", True),
    "method_name": (_method_name, "meta_graphs[0].signature_def['serving_default'].method_name", True),
    "input_key": (_input_key, "meta_graphs[0].signature_def['serving_default'].inputs['x\\xff\\xfe\\xff\\xfe']", True),
    "tensor_name": (_tensor_name, "meta_graphs[0].signature_def['serving_default'].outputs['y'].name", True),
    "sparse_name": (
        _sparse_name,
        "meta_graphs[0].signature_def['serving_default'].inputs['x'].coo_sparse.values_tensor_name",
        True,
    ),
    "dim_name": (
        _dim_name,
        "meta_graphs[0].signature_def['serving_default'].inputs['x'].tensor_shape.dim[0].name",
        True,
    ),
    "asset_filename": (_asset_filename, "meta_graphs[0].asset_file_def[0].filename", True),
    "collection_key": (_collection_key, "meta_graphs[0].collection_def['table\\xff\\xfe\\xff\\xfe']", True),
    "object_graph": (
        _object_graph,
        (
            "meta_graphs[0].object_graph_def.concrete_functions['__inference_predict_17']"
            ".canonicalized_input_signature.tuple_value.values[0].tuple_value.values[0].tensor_spec_value.name"
        ),
        True,
    ),
    "node_name": (_node_name, "meta_graphs[0].graph_def.node[6].name", False),
    "node_device": (_node_device, "meta_graphs[0].graph_def.node[0].device", False),
    # show --all reads function names for its op list (not printed themselves)
    "function_name": (_function_name, "meta_graphs[0].graph_def.library.function[0].signature.name", True),
    "saver_filename": (_saver_filename, "meta_graphs[0].saver_def.filename_tensor_name", False),
}


def utf8_model(kind: str) -> bytes:
    model = minimal()
    UTF8_CASES[kind][0](model)
    return garble(serialize(model))


def utf8_pbtxt() -> bytes:
    """utf8/tag as text: protobuf's text printer escapes the bad bytes of a bytes field as octal."""
    model = minimal()
    _tag(model)
    text = text_format.MessageToString(model)
    assert text.count(MARK) == 1
    return text.replace(MARK, "".join(f"\\{b:03o}" for b in BAD)).encode()


def utf8_legacy() -> bytes:
    """A legacy export whose regression signature binds a tensor name that is not UTF-8."""
    mg = mt.legacy_export()
    from sigtool._proto import manifest_pb2

    value = mg.collection_def["serving_signatures"].any_list.value[0]
    signatures = manifest_pb2.Signatures.FromString(value.value)
    signatures.named_signatures["regress"].regression_signature.output.tensor_name = "y" + MARK + ":0"
    value.value = signatures.SerializeToString(deterministic=True)
    return garble(serialize(mg))


# --- duplicate tag-sets ---------------------------------------------------------------------------


def duplicate_tag_sets() -> bytes:
    """{serve} twice (Serving loads the first; the second is dead), and {serve, gpu}."""
    first = mt.meta_graph(["serve"], {"serving_default": mt.predict_x_to_y()}, mt.half_plus_two_nodes())
    doubled = signature_def(
        PREDICT, {"x": tensor_info("x:0", DT.DT_FLOAT, (-1, 1))}, {"y2": tensor_info("y2:0", DT.DT_FLOAT, (-1, 1))}
    )
    second = mt.meta_graph(
        ["serve"],
        {"serving_default": doubled, "second_only": doubled},
        mt.half_plus_two_nodes() + [node("y2", "AddV2", ["y", "y"], T=DT.DT_FLOAT)],
        tf_version="2.20.0",
    )
    gpu = mt.meta_graph(["gpu", "serve"], {"serving_default": mt.predict_x_to_y()}, mt.half_plus_two_nodes())
    return serialize(mt.saved_model(first, second, gpu))


# --- inputs that deserve a precise error --------------------------------------------------------------


def graph_def_pbtxt() -> bytes:
    return text_format.MessageToString(graph_pb2.GraphDef(node=mt.half_plus_two_nodes())).encode()


def build() -> dict[str, bytes]:
    """Every file this script owns (without --tf): path relative to testdata/ -> bytes."""
    files = {f"{LOADER}/utf8/{kind}/{PB}": utf8_model(kind) for kind in UTF8_CASES}
    files[f"{LOADER}/utf8/pbtxt/saved_model.pbtxt"] = utf8_pbtxt()
    files[f"{LOADER}/utf8/legacy/00000001/export.meta"] = utf8_legacy()
    files[f"{LOADER}/duplicate_tag_sets/{PB}"] = duplicate_tag_sets()
    minimal_pb = serialize(minimal())
    files[f"{LOADER}/messages/graph_def/frozen_graph.pbtxt"] = graph_def_pbtxt()
    # A SavedModel with its variables: the index is what a user may pass by mistake.
    files[f"{LOADER}/messages/with_variables/{PB}"] = minimal_pb
    files[f"{LOADER}/messages/with_variables/variables/variables.index"] = b"\x00" * 16
    files[f"{LOADER}/messages/with_variables/variables/variables.data-00000-of-00001"] = b""
    # A directory of model directories (not a model base path: the names are not version numbers).
    for name in ("resnet", "bert", "mobilenet"):
        files[f"{LOADER}/messages/models/{name}/{PB}"] = minimal_pb
    files[f"{LOADER}/messages/models/README.txt"] = b"models exported by hand\n"
    # FMT005 for tests/test_rules.py: a method name that is not UTF-8, and the same model without it.
    files[f"{RULE}/triggers/1/{PB}"] = utf8_model("method_name")
    files[f"{RULE}/clean/1/{PB}"] = minimal_pb
    files[f"{RULE}/args.txt"] = b""
    files[f"{RULE}/expect.txt"] = (
        b"TensorFlow will not parse this file: string field "
        b"meta_graphs[0].signature_def['serving_default'].method_name is not valid UTF-8\n"
    )
    return files


OWNED = (LOADER / "utf8", LOADER / "duplicate_tag_sets", LOADER / "messages", RULE)
TF_OWNED = LOADER / "tf_functions"


def write(out: Path, files: dict[str, bytes], owned) -> list[Path]:
    for rel in owned:
        if (out / rel).is_dir():
            shutil.rmtree(out / rel)
    written = []
    for rel, data in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


# --- written by TensorFlow ---------------------------------------------------------------------------


def tf_functions(target: Path) -> None:
    """A tf.Module like a small Keras model: functions with several traces, one called by the signature.

    `__call__` is traced for two input shapes and both values of `training`, `embed` twice; the
    serving signature calls a `__call__` trace, so the library holds a caller and its callee, and
    the loader's order differs from the stored names'. Small bodies and no variables keep the
    loader's numbers at two digits (see sigtool/smcli.py), so saved_model_cli's order is the derived one.
    """
    import tensorflow as tf

    class Model(tf.Module):
        @tf.function
        def __call__(self, x, training=False):
            return x * 0.5 if training else x

        @tf.function
        def embed(self, ids):
            return tf.gather(tf.eye(4), ids)

    model = Model()
    # Fixed shapes first: a (None, 4) trace would serve them all.
    for shape in ((1, 4), (None, 4)):
        for training in (True, False):
            model.__call__.get_concrete_function(tf.TensorSpec(shape, tf.float32, name="x"), training=training)
    for dtype, shape in ((tf.int64, (None, 2)), (tf.int32, (None,))):
        model.embed.get_concrete_function(tf.TensorSpec(shape, dtype, name="ids"))
    serve = model.__call__.get_concrete_function(tf.TensorSpec((None, 4), tf.float32, name="x"))
    if target.exists():
        shutil.rmtree(target)
    tf.saved_model.save(model, str(target), signatures={"serving_default": serve})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="testdata/ (default) or another directory")
    parser.add_argument("--tf", action="store_true", help="also rewrite tf_functions/ with TensorFlow")
    args = parser.parse_args(argv)
    written = write(args.out, build(), OWNED)
    print(f"wrote {len(written)} files under {args.out}", file=sys.stderr)
    if args.tf:
        tf_functions(args.out / TF_OWNED)
        print(f"wrote {args.out / TF_OWNED} with TensorFlow", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
