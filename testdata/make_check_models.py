#!/usr/bin/env python3
"""Build the models behind check's rules for models from the wild (issue 9), without TensorFlow.

Each model is built from protobuf messages (make_testdata.py's helpers) after
the real kind it stands for, and written deterministically. The bytes are
committed; tests/test_checks_wild.py checks they still match this script.

    python testdata/make_check_models.py             # rewrite the directories below
    python testdata/make_check_models.py --out DIR   # write the same tree under DIR

testdata/wild/checks/ (tests/test_checks_wild.py):

    tfma_eval           a TFMA-style eval graph (tags eval_saved_model): metric values are Const nodes
                        whose control inputs run AssignAddVariableOp updates of the inputs (directly,
                        through a NoOp group, and through an update_op that reads the updated
                        variables); features, one of them sparse, fed into ParseExampleV2 outputs.
                        GRAPH004 must stay silent; GRAPH003 gives one finding per feature.
    tfma_eval_frozen    the same with one more metric whose Const has no control input: GRAPH004 fires once.
    boosted_trees       an Estimator boosted-trees export (TF 2.4 wrote it, default attrs stripped):
                        BoostedTreesBucketize and BoostedTreesPredict, which TF 2.21 registers without a
                        CPU kernel ("No OpKernel was registered").
    removed_op          a TF2 model whose library function uses TfLiteSubgraphExecute (TF 2.18 has it,
                        TF 2.21 does not), and DecodeWebP in the main graph (new in TF 2.21).
    custom_ops          ops from tensorflow-io, tensorflow-text, tf_sentencepiece and an unknown library.
    duplicate_tags      MetaGraphs {serve}, {serve} again, {serve, gpu} and {gpu, serve}.

testdata/rules/<RULE>/ for the rules added with them (OPS001-003, SERVE009), in the layout
testdata/rules/README.md describes: triggers/ and clean/ (model base paths holding version 1),
args.txt and expect.txt.
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
from make_testdata import DT, PREDICT, const, node, placeholder, serialize, signature_def, tensor_info

from sigtool._proto import attr_value_pb2, function_pb2, meta_graph_pb2

WILD = "wild/checks"
RULES = ("OPS001", "OPS002", "OPS003", "SERVE009")
OWNED = (WILD, *(f"rules/{r}" for r in RULES))


def attr_list_type(*types: int) -> attr_value_pb2.AttrValue:
    value = attr_value_pb2.AttrValue()
    value.list.type.extend(types)
    return value


def with_attrs(n, **attrs):
    """Set AttrValues (int/list) that make_testdata's node() does not build."""
    for key, value in attrs.items():
        if isinstance(value, attr_value_pb2.AttrValue):
            n.attr[key].CopyFrom(value)
        elif isinstance(value, bool):
            n.attr[key].b = value
        elif isinstance(value, int):
            n.attr[key].i = value
        else:
            n.attr[key].s = value.encode()
    return n


def sparse_info(indices: str, values: str, shape: str, dtype: int) -> meta_graph_pb2.TensorInfo:
    info = meta_graph_pb2.TensorInfo(dtype=dtype)
    info.tensor_shape.CopyFrom(mt.shape_proto((-1, -1)))
    info.coo_sparse.indices_tensor_name = indices
    info.coo_sparse.values_tensor_name = values
    info.coo_sparse.dense_shape_tensor_name = shape
    return info


# --- TFMA eval graph ------------------------------------------------------------------------------


def tfma_eval(frozen: bool = False):
    """A TF1 eval graph as TFMA exports it: metric values are Consts run after their updates."""
    parse = "ParseExample/ParseExampleV2"
    nodes = [
        placeholder("input_example_tensor", DT.DT_STRING, (-1,)),
        const("ParseExample/names", DT.DT_STRING, (0,)),
        const("ParseExample/sparse_keys", DT.DT_STRING, (1,), string_val=[b"tags"]),
        const("ParseExample/dense_keys", DT.DT_STRING, (1,), string_val=[b"age"]),
        const("ParseExample/ragged_keys", DT.DT_STRING, (0,)),
        const("ParseExample/age_default", DT.DT_FLOAT, (1,), float_val=[0.0]),
        with_attrs(
            node(
                parse,
                "ParseExampleV2",
                [
                    "input_example_tensor",
                    "ParseExample/names",
                    "ParseExample/sparse_keys",
                    "ParseExample/dense_keys",
                    "ParseExample/ragged_keys",
                    "ParseExample/age_default",
                ],
            ),
            num_sparse=1,
            sparse_types=attr_list_type(DT.DT_STRING),
            Tdense=attr_list_type(DT.DT_FLOAT),
            ragged_value_types=attr_list_type(),
            ragged_split_types=attr_list_type(),
        ),
        node("mean_age/total", "VarHandleOp", dtype=DT.DT_FLOAT, shape=()),
        node("mean_age/count", "VarHandleOp", dtype=DT.DT_FLOAT, shape=()),
        node("example_count/count", "VarHandleOp", dtype=DT.DT_FLOAT, shape=()),
        const("mean_age/axes", DT.DT_INT32, (2,), int_val=[0, 1]),
        node("mean_age/Sum", "Sum", [f"{parse}:3", "mean_age/axes"], T=DT.DT_FLOAT),
        node("mean_age/Size", "Size", [f"{parse}:3"], T=DT.DT_FLOAT),
        with_attrs(node("mean_age/Cast", "Cast", ["mean_age/Size"], SrcT=DT.DT_INT32, DstT=DT.DT_FLOAT)),
        node("AssignAddVariableOp_3", "AssignAddVariableOp", ["mean_age/total", "mean_age/Sum"], dtype=DT.DT_FLOAT),
        node("AssignAddVariableOp_4", "AssignAddVariableOp", ["mean_age/count", "mean_age/Cast"], dtype=DT.DT_FLOAT),
        node("example_count/Size", "Size", ["input_example_tensor"], T=DT.DT_STRING),
        with_attrs(node("example_count/Cast", "Cast", ["example_count/Size"], SrcT=DT.DT_INT32, DstT=DT.DT_FLOAT)),
        node(
            "AssignAddVariableOp_5",
            "AssignAddVariableOp",
            ["example_count/count", "example_count/Cast"],
            dtype=DT.DT_FLOAT,
        ),
        node("example_count/update_op", "NoOp", ["^AssignAddVariableOp_5"]),
        # tf.compat.v1.metrics.mean's update_op: the updated variables read back after their updates.
        node("mean_age/read_total", "ReadVariableOp", ["mean_age/total", "^AssignAddVariableOp_3"], dtype=DT.DT_FLOAT),
        node("mean_age/read_count", "ReadVariableOp", ["mean_age/count", "^AssignAddVariableOp_4"], dtype=DT.DT_FLOAT),
        node("mean_age/update_op", "DivNoNan", ["mean_age/read_total", "mean_age/read_count"], T=DT.DT_FLOAT),
    ]
    metrics = {
        # The values TFMA fetches: Consts that are only run after the updates (their control inputs):
        # the AssignAddVariableOps themselves, a NoOp grouping one, or an update_op computed from them.
        "metrics/age_total/value": const("metrics/age_total/value", DT.DT_FLOAT, float_val=[0.0]),
        "metrics/example_count/value": const("metrics/example_count/value", DT.DT_FLOAT, float_val=[0.0]),
        "metrics/mean_age/value": const("metrics/mean_age/value", DT.DT_FLOAT, float_val=[0.0]),
    }
    metrics["metrics/age_total/value"].input.extend(["^AssignAddVariableOp_3", "^AssignAddVariableOp_4"])
    metrics["metrics/example_count/value"].input.extend(["^example_count/update_op"])
    metrics["metrics/mean_age/value"].input.extend(["^mean_age/update_op"])
    if frozen:  # no control input: the same value on every request
        metrics["metrics/frozen/value"] = const("metrics/frozen/value", DT.DT_FLOAT, float_val=[0.5])
    nodes += metrics.values()
    inputs = {
        "examples": tensor_info("input_example_tensor:0", DT.DT_STRING, (-1,)),
        "features/age": tensor_info(f"{parse}:3", DT.DT_FLOAT, (-1, 1)),
        "features/tags": sparse_info(f"{parse}:0", f"{parse}:1", f"{parse}:2", DT.DT_STRING),
    }
    outputs = {key: tensor_info(f"{key}:0", DT.DT_FLOAT, ()) for key in metrics}
    mg = mt.meta_graph(
        ["eval_saved_model"], {"eval": signature_def(PREDICT, inputs, outputs)}, nodes, tf_version="2.15.1"
    )
    return mt.saved_model(mg)


# --- op registry cases ----------------------------------------------------------------------------


def serving_model(extra_nodes, output: str, *, tf_version: str = mt.TF_VERSION, functions=(), stripped=False):
    """x -> ... -> output, tags serve, one serving_default signature, plus extra nodes and functions."""
    nodes = [placeholder("x", DT.DT_STRING, (-1,)), *extra_nodes]
    sig = signature_def(
        PREDICT,
        {"inputs": tensor_info("x:0", DT.DT_STRING, (-1,))},
        {"outputs": tensor_info(output, DT.DT_FLOAT, (-1, 1))},
    )
    mg = mt.meta_graph(["serve"], {"serving_default": sig}, nodes, tf_version=tf_version)
    mg.meta_info_def.stripped_default_attrs = stripped
    for fn in functions:
        mg.graph_def.library.function.add().CopyFrom(fn)
    return mt.saved_model(mg)


def plain_nodes(source: str = "x"):
    """A float from the string input: StringToNumber -> Reshape to [-1, 1]; ops every TF runs."""
    return [
        node("number", "StringToNumber", [source], out_type=DT.DT_FLOAT),
        const("shape", DT.DT_INT32, (2,), int_val=[-1, 1]),
        node("y", "Reshape", ["number", "shape"], T=DT.DT_FLOAT),
    ]


def boosted_trees(*, clean: bool = False):
    """An Estimator BoostedTreesClassifier export: bucketize, then predict with the tree ensemble."""
    if clean:
        return serving_model(plain_nodes(), "y:0", tf_version="2.4.0", stripped=True)
    nodes = plain_nodes() + [
        const("boundaries", DT.DT_FLOAT, (3,), float_val=[0.0, 1.0, 2.0]),
        with_attrs(
            node("boosted_trees/BoostedTreesBucketize", "BoostedTreesBucketize", ["number", "boundaries"]),
            num_features=1,
        ),
        with_attrs(node("boosted_trees", "BoostedTreesEnsembleResourceHandleOp"), container="", shared_name="trees"),
        with_attrs(
            node(
                "boosted_trees/BoostedTreesPredict",
                "BoostedTreesPredict",
                ["boosted_trees", "boosted_trees/BoostedTreesBucketize"],
            ),
            num_bucketized_features=1,
            logits_dimension=1,
        ),
    ]
    return serving_model(nodes, "boosted_trees/BoostedTreesPredict:0", tf_version="2.4.0", stripped=True)


def function(name: str, body_op: str):
    """A library function string -> float whose body runs body_op (and StringToNumber)."""
    fn = function_pb2.FunctionDef()
    fn.signature.name = name
    fn.signature.input_arg.add(name="s", type=DT.DT_STRING)
    fn.signature.output_arg.add(name="out", type=DT.DT_FLOAT)
    fn.node_def.add().CopyFrom(node("number", "StringToNumber", ["s"], out_type=DT.DT_FLOAT))
    fn.node_def.add().CopyFrom(node("inner", body_op, ["number:y:0"], T=DT.DT_FLOAT))
    fn.ret["out"] = "inner:output:0"
    return fn


def call(name: str, fn: str):
    n = node(name, "StatefulPartitionedCall", ["x"])
    n.attr["f"].func.name = fn
    n.attr["Tin"].CopyFrom(attr_list_type(DT.DT_STRING))
    n.attr["Tout"].CopyFrom(attr_list_type(DT.DT_FLOAT))
    return n


def removed_op(*, keep: str = "both"):
    """TF2-style: a call into a library function using TfLiteSubgraphExecute; DecodeWebP in the main graph.

    keep: "both", "removed" (only the function) or "newer" (only DecodeWebP) or "none".
    """
    body = "TfLiteSubgraphExecute" if keep in ("both", "removed") else "Identity"
    fn = function("__inference_lite_17", body)
    nodes = [
        call("StatefulPartitionedCall", "__inference_lite_17"),
        const("shape", DT.DT_INT32, (2,), int_val=[-1, 1]),
        node("y", "Reshape", ["StatefulPartitionedCall", "shape"], T=DT.DT_FLOAT),
    ]
    if keep in ("both", "newer"):
        nodes.append(node("image", "DecodeWebP", ["x"]))
    return serving_model(nodes, "y:0", functions=[fn])


def custom_ops(*, which=("io", "text", "sentencepiece", "unknown")):
    """Ops that only a library registers; which picks them (an empty tuple: none)."""
    nodes = plain_nodes()
    if "io" in which:
        nodes.append(node("audio", "IO>AudioDecodeWAV", ["x"]))
    if "text" in which:
        nodes.append(node("tokens", "WhitespaceTokenizeWithOffsets", ["x"]))
        nodes.append(node("tokens_v2", "TFText>WhitespaceTokenizeWithOffsetsV2", ["x"]))
    if "sentencepiece" in which:
        nodes.append(node("pieces", "SentencepieceEncodeSparse", ["x"]))
    if "unknown" in which:
        nodes.append(node("fancy", "Acme>FancyOp", ["x"]))
    return serving_model(nodes, "y:0")


# --- duplicate tag-sets ---------------------------------------------------------------------------


def duplicate_tags(*, duplicated: bool = True):
    """{serve}, {serve} again (with another signature), {serve, gpu} and {gpu, serve}."""
    first = mt.meta_graph(["serve"], {"serving_default": mt.predict_x_to_y()}, mt.half_plus_two_nodes())
    second = mt.meta_graph(
        ["serve"], {"serving_default": mt.predict_x_to_y(), "plus_one": mt.predict_x_to_y()}, mt.half_plus_two_nodes()
    )
    gpu = mt.meta_graph(["serve", "gpu"], {"serving_default": mt.predict_x_to_y()}, mt.half_plus_two_nodes())
    gpu_again = mt.meta_graph(["gpu", "serve"], {"serving_default": mt.predict_x_to_y()}, mt.half_plus_two_nodes())
    if not duplicated:
        second.meta_info_def.ClearField("tags")
        second.meta_info_def.tags.extend(["train"])
        return mt.saved_model(first, second, gpu)
    return mt.saved_model(first, second, gpu, gpu_again)


# --- writing --------------------------------------------------------------------------------------

# Each rule: (triggers model, clean model, expect.txt lines).
RULE_CASES = {
    "OPS001": (
        lambda: custom_ops(which=("io", "unknown")),
        lambda: custom_ops(which=()),
        [
            "op IO>AudioDecodeWAV comes from tensorflow-io: Serving needs a build with tensorflow-io",
            "op Acme>FancyOp is registered by no TensorFlow from 2.12.1 to 2.21.0",
        ],
    ),
    "OPS002": (
        lambda: custom_ops(which=("text",)),
        lambda: custom_ops(which=()),
        ["op WhitespaceTokenizeWithOffsets comes from tensorflow-text: the standard tensorflow_model_server links it"],
    ),
    "OPS003": (
        lambda: removed_op(keep="newer"),
        lambda: removed_op(keep="none"),
        ["serve  op DecodeWebP is not in TensorFlow 2.12.1: needs TF >= 2.21.0 (at image)"],
    ),
    "SERVE009": (
        duplicate_tags,
        lambda: duplicate_tags(duplicated=False),
        [
            "serve (MetaGraph 2 of 4)  same tag-set as MetaGraph 1",
            "gpu,serve (MetaGraph 4 of 4)  same tag-set as MetaGraph 3",
        ],
    ),
}


def build() -> dict[str, bytes]:
    """Every file this script owns, relative to testdata/."""
    files = {
        f"{WILD}/tfma_eval/saved_model.pb": serialize(tfma_eval()),
        f"{WILD}/tfma_eval_frozen/saved_model.pb": serialize(tfma_eval(frozen=True)),
        f"{WILD}/boosted_trees/saved_model.pb": serialize(boosted_trees()),
        f"{WILD}/removed_op/saved_model.pb": serialize(removed_op()),
        f"{WILD}/custom_ops/saved_model.pb": serialize(custom_ops()),
        f"{WILD}/duplicate_tags/saved_model.pb": serialize(duplicate_tags()),
    }
    for rule_id, (triggers, clean, expect) in RULE_CASES.items():
        files[f"rules/{rule_id}/triggers/1/saved_model.pb"] = serialize(triggers())
        files[f"rules/{rule_id}/clean/1/saved_model.pb"] = serialize(clean())
        files[f"rules/{rule_id}/args.txt"] = b""
        files[f"rules/{rule_id}/expect.txt"] = "".join(line + "\n" for line in expect).encode()
    return files


def write(out: Path) -> list[Path]:
    files = build()
    for owned in OWNED:
        target = out / owned
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
    written = []
    for rel, data in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: testdata/)")
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
