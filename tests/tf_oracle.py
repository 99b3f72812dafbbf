"""TensorFlow as the live oracle: what TF itself says about a model, asked at test time.

`tf_facts(paths, runs=...)` runs this file as a script in one subprocess (TF's import, logs and state
stay out of the test process) and returns, per model directory, facts in the layout of the shared
corpus's expected/*.json: meta graphs with tags, versions, ops used, asset files, every SignatureDef
with its TensorInfos and TF's is_valid_signature, which MetaGraph TF picks for each tag set, the text
of `saved_model_cli show --all`, and the outputs of sample runs made the way `saved_model_cli run`
makes them (a TF1 session, feeds and fetches by TensorInfo name).

The comparison helpers below turn those facts and sigtool's `show -f json` into the same shape; the
conformance tier uses them on the corpus's recorded facts.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTDATA = HERE.parent / "testdata"

# The models TF is asked about: TF Serving's SavedModels (testdata/real) and TF-written ones (testdata/tf).
MODELS = sorted(
    [p for p in (TESTDATA / "real").glob("*/*") if (p / "saved_model.pb").is_file()]
    + [p for p in (TESTDATA / "tf").iterdir() if p.is_dir()]
)

# Sample runs (path relative to testdata, signature, columnar inputs), made by TF in a session.
RUNS = [
    ("tf/tf1_constant_output", "serving_default", {"x": [[9.0, 9.0], [3.0, 4.0]]}),
    ("tf/tf1_multi_metagraph", "plus_three", {"x": [[2.0]]}),
    ("tf/tf1_pbtxt", "serving_default", {"x": [[1.0], [2.0]]}),
    ("tf/tf1_assets_vocab_table", "serving_default", {"words": ["cherry", "nope", "durian"]}),
    ("real/saved_model_half_plus_two_cpu/00000123", "serving_default", {"x": [[1.0], [2.0], [5.0]]}),
    ("real/saved_model_half_plus_two_2_versions/00000124", "serving_default", {"x": [[4.0]]}),
    ("real/matrix_half_plus_two/1", "serving_default", {"x": [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]}),
    ("real/saved_model_half_plus_two_mkl/00000123", "serving_default", {"x": [[1.0], [2.0]]}),
] + [
    ("tf/tf1_missing_tensor", key, {"x": [[1.0]]})
    for key in ("valid", "serving_default", "missing_input", "bad_output_index", "name_without_index")
]

_cache: dict = {}


def oracle() -> dict:
    """TF's facts for MODELS with RUNS, keyed by path relative to testdata/; asked once per test process."""
    if not _cache:
        runs = {}
        for rel, key, inputs in RUNS:
            runs.setdefault(str(TESTDATA / rel), []).append(
                {"tag_set": "serve", "signature_name": key, "inputs": inputs}
            )
        facts = tf_facts(MODELS, runs=runs)
        _cache.update({Path(path).relative_to(TESTDATA).as_posix(): f for path, f in facts.items()})
    return _cache


# --- comparison helpers (TF facts vs sigtool's show JSON) ---------------------------------------


def tf_tensor(info: dict) -> dict:
    out = {
        "encoding": info["encoding"] or "",
        "name": info["name"] or "",
        "dtype": info["dtype"],
        "shape": info["shape"],
        "shape_present": info["tensor_shape_present"],
        "dim_names": info.get("dim_names") or [],
    }
    if info.get("coo_sparse"):
        c = info["coo_sparse"]
        out["sparse"] = [c["values_tensor_name"], c["indices_tensor_name"], c["dense_shape_tensor_name"]]
    if info.get("composite_tensor"):
        c = info["composite_tensor"]
        out["composite"] = [
            c["type_spec_class"],
            c["type_spec_class_name"],
            c["num_flat_components"],
            [tf_tensor(comp) for comp in c["components"]],
        ]
    return out


def our_tensor(t: dict) -> dict:
    out = {k: t[k] for k in ("encoding", "name", "dtype", "shape", "shape_present", "dim_names")}
    if t["sparse"]:
        out["sparse"] = [t["sparse"]["values"], t["sparse"]["indices"], t["sparse"]["dense_shape"]]
    if t["composite"]:
        c = t["composite"]
        out["composite"] = [
            c["type_spec_class"],
            c["type_spec_class_name"],
            c["num_flat_components"],
            [our_tensor(comp) for comp in c["components"]],
        ]
    return out


def tf_meta_graphs(facts: dict) -> list:
    return [
        {
            "tags": sorted(mg["tags"]),
            "signatures": {
                key: {
                    "method_name": sig["method_name"],
                    "inputs": {k: tf_tensor(v) for k, v in sig["inputs"].items()},
                    "outputs": {k: tf_tensor(v) for k, v in sig["outputs"].items()},
                }
                for key, sig in mg["signature_defs"].items()
            },
        }
        for mg in facts["meta_graphs"]
    ]


def our_meta_graphs(shown: dict) -> list:
    return [
        {
            "tags": sorted(mg["tags"]),
            "signatures": {
                sig["key"]: {
                    "method_name": sig["method_name"],
                    "inputs": {t["key"]: our_tensor(t) for t in sig["inputs"]},
                    "outputs": {t["key"]: our_tensor(t) for t in sig["outputs"]},
                }
                for sig in mg["signatures"]
            },
        }
        for mg in shown["meta_graphs"]
    ]


def normalize_smcli(text: str) -> str:
    """Compare op sets and dict-valued arguments as sets (their order follows the hash seed); drop the backspaces."""
    text = text.replace(", \b\b", "").replace("\b\b", "")
    lines = []
    for line in text.split("\n"):
        m = re.fullmatch(r"(The MetaGraph with tag set .* contains the following ops: )\{(.*)\}", line)
        if m:
            line = m.group(1) + "{" + ", ".join(sorted(m.group(2).split(", "))) + "}"
        m = re.fullmatch(r"(\s+Value: )\{(.*)\}", line)
        if m:
            line = m.group(1) + "{" + ", ".join(sorted(re.split(r", (?=')", m.group(2)))) + "}"
        lines.append(line)
    return "\n".join(lines)


# --- asking TensorFlow (in a subprocess) -------------------------------------------------------


def tf_facts(paths, runs: dict | None = None, smcli: bool = True) -> dict:
    """{path: facts} for each SavedModel directory, from TensorFlow itself (one subprocess for all).

    runs: {path: [{"tag_set": "serve", "signature_name": key, "inputs": {key: nested list}}]}; each run's
    outputs (dtype, shape, flat values) or its error come back under facts["runs"].
    """
    request = {"paths": [str(p) for p in paths], "runs": {str(k): v for k, v in (runs or {}).items()}, "smcli": smcli}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run(
        [sys.executable, str(Path(__file__)), json.dumps(request)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def tf_reads(paths) -> dict:
    """{path: what TF's own reader (loader_impl.parse_saved_model) makes of it}: ok, meta graph tags and
    signature keys, or the exception it raised."""
    request = {"paths": [], "runs": {}, "smcli": False, "reads": [str(p) for p in paths]}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run(
        [sys.executable, str(Path(__file__)), json.dumps(request)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])["reads"]


def _read(path: str) -> dict:
    from tensorflow.python.saved_model import loader_impl

    try:
        saved_model = loader_impl.parse_saved_model(path)
    except Exception as error:  # noqa: BLE001 - the oracle: what TF's reader refused, and how
        return {"ok": False, "exception": type(error).__name__}
    return {
        "ok": True,
        "meta_graphs": [[list(mg.meta_info_def.tags), sorted(mg.signature_def)] for mg in saved_model.meta_graphs],
    }


def _tensor_info(ti, dtypes) -> dict:
    encoding = ti.WhichOneof("encoding")
    shape = ti.tensor_shape
    out = {
        "encoding": encoding,
        "name": ti.name if encoding == "name" else None,
        "dtype": dtypes.DataType.Name(ti.dtype),
        "shape": None if shape.unknown_rank else [d.size for d in shape.dim],
        "tensor_shape_present": ti.HasField("tensor_shape"),
    }
    if any(d.name for d in shape.dim):
        out["dim_names"] = [d.name for d in shape.dim]
    if encoding == "coo_sparse":
        c = ti.coo_sparse
        out["coo_sparse"] = {
            "values_tensor_name": c.values_tensor_name,
            "indices_tensor_name": c.indices_tensor_name,
            "dense_shape_tensor_name": c.dense_shape_tensor_name,
        }
    if encoding == "composite_tensor":
        from tensorflow.core.protobuf import struct_pb2

        spec = ti.composite_tensor.type_spec
        out["composite_tensor"] = {
            "type_spec_class": struct_pb2.TypeSpecProto.TypeSpecClass.Name(spec.type_spec_class),
            "type_spec_class_name": spec.type_spec_class_name,
            "num_flat_components": spec.num_flat_components,
            "components": [_tensor_info(c, dtypes) for c in ti.composite_tensor.components],
        }
    return out


def _facts(path: str, smcli: bool) -> dict:
    from tensorflow.core.framework import types_pb2
    from tensorflow.python.framework import meta_graph
    from tensorflow.python.saved_model import loader_impl, signature_def_utils

    saved_model = loader_impl.parse_saved_model(path)
    meta_graphs = []
    for mg in saved_model.meta_graphs:
        ops = meta_graph.ops_used_by_graph_def(mg.graph_def)  # graph nodes + the functions they reach
        meta_graphs.append(
            {
                "tags": list(mg.meta_info_def.tags),
                "tensorflow_version": mg.meta_info_def.tensorflow_version,
                "stripped_default_attrs": mg.meta_info_def.stripped_default_attrs,
                "has_object_graph_def": mg.HasField("object_graph_def"),
                "ops_used": sorted(ops),
                "asset_file_def": [
                    {"tensor_name": a.tensor_info.name, "filename": a.filename} for a in mg.asset_file_def
                ],
                "signature_defs": {
                    key: {
                        "method_name": s.method_name,
                        "inputs": {k: _tensor_info(v, types_pb2) for k, v in s.inputs.items()},
                        "outputs": {k: _tensor_info(v, types_pb2) for k, v in s.outputs.items()},
                        "is_valid_signature": bool(signature_def_utils.is_valid_signature(s)),
                    }
                    for key, s in mg.signature_def.items()
                },
            }
        )
    picks = {}
    reader = loader_impl.SavedModelLoader(path)
    for mg in saved_model.meta_graphs:
        chosen = reader.get_meta_graph_def_from_tags(list(mg.meta_info_def.tags))
        picks[",".join(mg.meta_info_def.tags)] = list(saved_model.meta_graphs).index(chosen)
    facts = {
        "saved_model_schema_version": saved_model.saved_model_schema_version,
        "meta_graphs": meta_graphs,
        "get_meta_graph_def_index_by_tag_set": picks,
    }
    if smcli:
        from tensorflow.python.tools import saved_model_cli

        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            saved_model_cli._show_all(path)
        facts["smcli_show_all"] = text.getvalue()
    return facts


def _run(path: str, run: dict) -> dict:
    """One run as saved_model_cli run makes it: a TF1 session, feeds and fetches by TensorInfo name."""
    import numpy as np
    import tensorflow as tf
    from tensorflow.core.framework import types_pb2

    graph = tf.Graph()
    with tf.compat.v1.Session(graph=graph) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, run["tag_set"].split(","), path)
        sig = meta.signature_def[run["signature_name"]]
        feeds = {}
        for key, value in run["inputs"].items():
            ti = sig.inputs[key]
            dtype = tf.dtypes.as_dtype(ti.dtype).as_numpy_dtype
            feeds[ti.name] = np.array([v.encode() for v in value] if dtype is np.object_ else value, dtype=dtype)
        keys = sorted(sig.outputs)
        try:
            values = sess.run([sig.outputs[k].name for k in keys], feed_dict=feeds)
        except Exception as error:  # noqa: BLE001 - the oracle: what TF refused, and why
            return {"error": {"exception": type(error).__name__, "message": str(error).splitlines()[0]}}
    outputs = {}
    for key, value in zip(keys, values):
        if value is None:  # a name without ":N" fetches the operation, which has no value
            outputs[key] = {"operation_fetched": True}
            continue
        array = np.asarray(value)
        flat = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in array.reshape(-1).tolist()]
        dtype = (
            "DT_STRING"
            if array.dtype.kind in "OSU"
            else types_pb2.DataType.Name(tf.dtypes.as_dtype(array.dtype).as_datatype_enum)
        )
        outputs[key] = {"dtype": dtype, "shape": list(array.shape), "flat": flat}
    return {"outputs": outputs}


def _main(request: dict) -> dict:
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    out = {}
    for path in request["paths"]:
        facts = _facts(path, request["smcli"])
        facts["runs"] = [dict(run, **_run(path, run)) for run in request["runs"].get(path, [])]
        out[path] = facts
    if request.get("reads"):
        out["reads"] = {path: _read(path) for path in request["reads"]}
    return out


if __name__ == "__main__":
    result = _main(json.loads(sys.argv[1]))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
