"""sigtool.sample (`run --sample`) against the corpus: every signature's sampled body, and TensorFlow running it.

Without TensorFlow: every sampled body is one that sigtool's own Serving JSON parser accepts, and the
signatures that cannot be sampled are refused for the documented reasons. With TensorFlow (those tests skip
without it): TF runs every sampled request on every corpus signature it can run on a CPU. The tf.Example
feature specs read from the graphs: test_conformance_sample_spec.py.
"""

from __future__ import annotations

import base64
import json
import math
from functools import cache

import pytest
from corpus_facts import CORPUS, corpus_model_dirs

from sigtool.errors import UsageError
from sigtool.loader import load
from sigtool.model import PREDICT, MetaGraph, Signature, TensorSpec
from sigtool.sample import REST_DTYPES, example_spec, sample_request
from sigtool.serving.examples import build_examples
from sigtool.serving.requests import ExamplesRequest, PredictRequest, parse_request

MODEL_DIRS = [
    (rel, facts)
    for rel, facts in corpus_model_dirs()
    if facts["read_saved_model"]["ok"] or facts["format"] == "session_bundle"
]


@cache
def loaded(rel: str):
    return load(str(CORPUS / rel), graph=True)


def all_signatures() -> list[tuple[str, tuple[str, ...], str]]:
    """(model dir, tags, signature key) for every non-internal signature of every corpus model dir."""
    found = []
    for rel, _facts in MODEL_DIRS:
        for mg in loaded(rel).meta_graphs:
            found += [(rel, mg.tags, s.key) for s in mg.signatures if not s.internal]
    return found


SIGNATURES = all_signatures()


def meta_graph(rel: str, tags: tuple[str, ...]) -> MetaGraph:
    return next(mg for mg in loaded(rel).meta_graphs if mg.tags == tags)


def sig_id(case) -> str:
    rel, tags, key = case
    return f"{rel}[{','.join(tags)}]:{key}"


# Signatures that cannot be sampled, and why (a substring of the UsageError). Everything else must sample.
NO_INPUTS = "it has no inputs"
NOT_DENSE = "no Serving request can carry it"
BAD_DTYPE = "REST API cannot carry the dtype"
REFUSED = {
    ("real/saved_model_counter/00000123", "get_counter"): NO_INPUTS,
    ("real/saved_model_counter/00000123", "incr_counter"): NO_INPUTS,
    ("real/saved_model_counter/00000123", "reset_counter"): NO_INPUTS,
    ("generated/tf2_module_multisig", "no_inputs"): NO_INPUTS,
    ("generated/tf1_composite_tensors", "serving_default"): NOT_DENSE,  # coo_sparse input
    ("generated/tf1_composite_tensors", "sparse_only"): NOT_DENSE,
    ("generated/tf1_composite_tensors", "ragged_in"): NOT_DENSE,  # composite_tensor (RaggedTensor) input
    ("generated/tf2_dtypes", "serving_default"): BAD_DTYPE,  # bfloat16, uint16, complex, half inputs
}

# Signatures that get Serving's classify/regress {"examples": [...]} body: one DT_STRING input "inputs" that the
# graph parses as tf.Examples. TF1 half_plus_two (all versions/variants), TF2 half_plus_two (through the call
# into the signature function), the legacy session bundle's regression, the generated classify/regress model.
HALF_PLUS_TWO = [
    "real/saved_model_half_plus_two_2_versions/00000123",
    "real/saved_model_half_plus_two_2_versions/00000124",
    "real/saved_model_half_plus_two_cpu/00000123",
    "real/saved_model_half_plus_two_gpu/00000123",
    "real/saved_model_half_plus_two_mkl/00000123",
    "real/saved_model_half_plus_two_tf2_cpu/00000123",
    "real/saved_model_half_plus_two_cpu_with_empty_saved_model_config/00000123",
    "real/saved_model_half_plus_two_cpu_with_saved_model_config/00000123",
]
EXAMPLES_BODY = {
    (rel, key) for rel in HALF_PLUS_TWO for key in ("classify_x_to_y", "regress_x_to_y", "regress_x_to_y2")
}
EXAMPLES_BODY |= {("real/session_bundle_half_plus_two/00000123", "serving_default")}
EXAMPLES_BODY |= {
    ("generated/tf1_classify_regress_predict", k)
    for k in ("serving_default", "classify", "classify_classes_only", "classify_scores_only", "regress")
}
EXAMPLES_BODY |= {("generated/tf1_pbtxt", "regress")}


def body_for(case, **kw) -> dict:
    rel, tags, key = case
    mg = meta_graph(rel, tags)
    return sample_request(mg, mg.signature(key), **kw)


# ---------------------------------------------------------------- every corpus signature, without TF


@pytest.mark.parametrize("case", SIGNATURES, ids=sig_id)
def test_sample_is_accepted_or_refused_for_a_documented_reason(case):
    rel, tags, key = case
    sig = meta_graph(rel, tags).signature(key)
    reason = REFUSED.get((rel, key))
    if reason:
        with pytest.raises(UsageError) as err:
            body_for(case)
        message = str(err.value.message)
        assert reason in message and key in message and "\n" not in message
        return
    for batch in (1, 3):
        body = body_for(case, batch=batch)
        text = json.dumps(body)
        assert json.loads(text) == body  # plain JSON values only
        assert body["signature_name"] == key
        request = parse_request(text, sig)  # the strict check: declared shapes must hold too
        if (rel, key) in EXAMPLES_BODY:
            assert isinstance(request, ExamplesRequest) and set(body) == {"signature_name", "examples"}
            assert len(request.examples) == batch
        else:
            assert isinstance(request, PredictRequest)
            assert set(request.inputs) == {t.key for t in sig.inputs}
            if request.row_format:
                assert len(body["instances"]) == batch
                assert all(t.shape and t.shape[0] < 0 for t in sig.inputs)
            assert parse_request(text, {s.key: s for s in meta_graph(rel, tags).signatures}) == request


def test_refusals_name_the_inputs_and_dtypes():
    mg = meta_graph("generated/tf2_dtypes", ("serve",))
    with pytest.raises(UsageError) as err:
        sample_request(mg, mg.signature("serving_default"))
    message = err.value.message
    for key, dtype in (
        ("t", "DT_BFLOAT16"),
        ("t_12", "DT_UINT16"),
        ("t_2", "DT_COMPLEX128"),
        ("t_3", "DT_COMPLEX64"),
        ("t_4", "DT_HALF"),
    ):
        assert f"{key!r} ({dtype})" in message
    assert "'t_5'" not in message  # DT_FLOAT is fine
    mg = meta_graph("generated/tf1_composite_tensors", ("serve",))
    with pytest.raises(UsageError, match=r"'sp'.*coo_sparse"):
        sample_request(mg, mg.signature("sparse_only"))
    with pytest.raises(UsageError, match=r"'rt'.*composite_tensor"):
        sample_request(mg, mg.signature("ragged_in"))


def test_every_corpus_refusal_is_listed():
    refused = set()
    for case in SIGNATURES:
        try:
            body_for(case)
        except UsageError:
            refused.add((case[0], case[2]))
    assert refused == set(REFUSED)
    examples = {(c[0], c[2]) for c in SIGNATURES if (c[0], c[2]) not in refused and "examples" in body_for(c)}
    assert examples == EXAMPLES_BODY


def test_example_features_have_the_kinds_the_graph_parses():
    """Float features are JSON floats with a '.', so Serving (and sigtool) build float_list, not int64_list."""
    kinds = {"DT_FLOAT": "float_list", "DT_INT64": "int64_list", "DT_STRING": "bytes_list"}
    for rel, key in sorted(EXAMPLES_BODY):
        mg = loaded(rel).meta_graphs[0]
        sig = mg.signature(key)
        spec = example_spec(mg, sig.inputs[0])
        body = sample_request(mg, sig, batch=2, seed=5)
        request = parse_request(json.dumps(body), sig)
        for example in request.examples:
            assert set(example) == {f.key for f in spec.features}
            for f in spec.features:
                assert example[f.key].kind == kinds[f.dtype]
                if f.kind == "dense" and f.shape is not None:
                    assert len(example[f.key].values) == math.prod(max(d, 1) for d in f.shape)
        for example in body["examples"]:
            for f in spec.features:
                if f.dtype == "DT_FLOAT":
                    values = example[f.key] if isinstance(example[f.key], list) else [example[f.key]]
                    assert all(type(v) is float and "." in json.dumps(v) for v in values)


def test_batch_and_unknown_dims():
    mg = meta_graph("generated/tf2_dtypes", ("serve",))
    body = sample_request(mg, mg.signature("shapes"), batch=4)
    inputs = body["inputs"]  # fixed dims: columnar, with the declared shapes
    assert len(inputs["any_rank_str"]) == 4 and all(isinstance(v, str) for v in inputs["any_rank_str"])  # unknown rank
    assert [len(inputs["fixed_2x3"]), len(inputs["fixed_2x3"][0])] == [2, 3]  # batch does not touch fixed dims
    m = inputs["mixed_4d"]  # [-1, 1, -1, 4]: batch first, 1 for the inner unknown dim
    assert [len(m), len(m[0]), len(m[0][0]), len(m[0][0][0])] == [4, 1, 1, 4]
    assert isinstance(inputs["scalar_i32"], int) and 0 <= inputs["scalar_i32"] <= 9  # scalars stay scalars
    assert inputs["zero_len"] == []
    mg = meta_graph("generated/tf2_module_multisig", ("serve",))
    rows = sample_request(mg, mg.signature("serving_default"), batch=3)["instances"]  # [-1], [-1], [-1, 3]
    assert len(rows) == 3 and all(set(r) == {"ids", "text", "x"} and len(r["x"]) == 3 for r in rows)
    assert all(type(r["ids"]) is int and type(r["text"]) is str and type(r["x"][0]) is float for r in rows)
    rows = sample_request(mg, mg.signature("tuple_out"), batch=2)["instances"]  # [-1, -1, 3]: one instance [1, 3]
    assert len(rows) == 2 and all(len(r) == 1 and len(r[0]) == 3 for r in rows)
    unknown = sample_request(mg, mg.signature("unknown_rank"), batch=2)["inputs"]["t"]
    assert len(unknown) == 2 and all(type(v) is float for v in unknown)
    assert type(sample_request(mg, mg.signature("scalar"))["inputs"]["s"]) is float
    mg = meta_graph("real/saved_model_half_plus_two_tf2_cpu/00000123", ("serve",))
    assert len(sample_request(mg, mg.signature("serving_default"), batch=5)["inputs"]["x"]) == 1  # shape [1]


def test_unknown_rank_placeholder_assigned_to_a_scalar_variable_is_a_scalar():
    """saved_model_counter's delta has no shape, but AssignAdd adds it to a scalar variable: [1] would fail in TF."""
    mg = meta_graph("real/saved_model_counter/00000123", ("serve",))
    body = sample_request(mg, mg.signature("incr_counter_by"), batch=3)
    assert type(body["inputs"]["delta"]) is float


def test_seed_determinism():
    cases = [c for c in SIGNATURES if (c[0], c[2]) not in REFUSED]
    for case in cases:
        assert body_for(case, seed=7, batch=2) == body_for(case, seed=7, batch=2)
    differing = [c for c in cases if body_for(c, seed=1) != body_for(c, seed=2)]
    assert differing == cases  # every sampled body has a random value somewhere
    for c in cases:
        assert body_for(c, seed=1, batch=2)["signature_name"] == c[2]


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


# ---------------------------------------------------------------- TensorFlow runs the samples


FILE_OPS = {"ReadFile", "WriteFile"}


@cache
def tf_facts(rel: str) -> dict:
    return json.loads((CORPUS / "expected" / f"{rel.split('/')[1]}.json").read_text())["dirs"][rel]


def recorded_errors(case) -> list[str]:
    """The messages of TensorFlow's recorded failures on this signature (the corpus's runs)."""
    rel, tags, key = case
    facts = tf_facts(rel)
    runs = facts.get("runs_tf2_api") if meta_graph(rel, tags).has_object_graph else facts.get("runs")
    return [r["error"]["message"] for r in runs or [] if r["signature_name"] == key and "error" in r]


def tf_skip_reason(case) -> str | None:
    rel, tags, key = case
    if (rel, key) in REFUSED:
        return "not sampled (REST cannot carry it)"
    info = loaded(rel)
    if info.legacy:
        return "legacy SessionBundle: TF 2.21 cannot load it"
    mg = meta_graph(rel, tags)
    facts = tf_facts(rel)
    runs = facts.get("runs_tf2_api") if mg.has_object_graph else facts.get("runs")
    recorded = [r for r in runs or [] if r["signature_name"] == key and r.get("tag_set") == ",".join(tags)]
    if any("error" in r for r in recorded) and not any("error" not in r for r in recorded):
        return "the corpus records TF failing on it: " + recorded[0]["error"]["exception"]
    ops = {n.op for n in mg.graph.nodes} | {n.op for f in mg.graph.functions for n in f.nodes}
    if ops & FILE_OPS and not recorded:
        return "reads or writes files named by its inputs (Serving's denylist)"
    unfed = unfed_placeholders(mg, mg.signature(key))
    if unfed:
        return f"its outputs need placeholder(s) the signature does not feed: {', '.join(unfed)}"
    return None


def unfed_placeholders(mg: MetaGraph, sig: Signature) -> list[str]:
    """Placeholders (main graph) that the outputs depend on but no input feeds: TF cannot run those."""
    fed = {t.name.split(":")[0] for t in sig.inputs}
    todo, seen, found = [t.name.split(":")[0] for t in sig.outputs], set(), []
    while todo:
        name = todo.pop()
        node = mg.graph.node(name)
        if name in seen or name in fed or node is None:
            continue
        seen.add(name)
        if node.op == "Placeholder":
            found.append(name)
        todo += [ref.lstrip("^").split(":")[0] for ref in node.inputs]
    return sorted(found)


# Signatures TensorFlow is not asked to run (each for a reason): test_what_tensorflow_is_not_asked_to_run checks
# that the reason holds, and that sigtool refuses or flags each one.
TF_CASES = [pytest.param(c, id=sig_id(c)) for c in SIGNATURES if tf_skip_reason(c) is None]
NOT_RUN = [pytest.param(c, id=sig_id(c)) for c in SIGNATURES if tf_skip_reason(c) is not None]


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def tf_models(tf):
    """Each model loaded once: a TF1 session (graph, session) or a TF2 tf.saved_model.load object."""
    cache_: dict = {}
    yield cache_
    for value in cache_.values():
        if isinstance(value, tf.compat.v1.Session):
            value.close()


def np_array(tensor, tf):
    import numpy as np
    from tensorflow.core.framework import types_pb2

    dtype = tf.as_dtype(types_pb2.DataType.Value(tensor.dtype))
    values = list(tensor.values)
    if tensor.dtype == "DT_STRING":
        return np.array(values, dtype=object).reshape(tensor.shape)
    return np.array(values, dtype=dtype.as_numpy_dtype).reshape(tensor.shape)


def tf_inputs(sig: Signature, request, tf) -> dict:
    """input key -> numpy array, as Serving would feed them."""
    import numpy as np

    if isinstance(request, ExamplesRequest):
        return {sig.inputs[0].key: np.array(build_examples(request), dtype=object)}
    return {key: np_array(tensor, tf) for key, tensor in request.inputs.items()}


@pytest.mark.parametrize("case", NOT_RUN)
def test_what_tensorflow_is_not_asked_to_run(case, tf, tf_models):
    from sigtool.checks import run_checks, unsafe_ops

    rel, tags, key = case
    reason = tf_skip_reason(case)
    mg = meta_graph(rel, tags)
    if reason == "not sampled (REST cannot carry it)":
        with pytest.raises(UsageError):
            sample_request(mg, mg.signature(key))
    elif reason.startswith("legacy SessionBundle"):
        assert [f.rule for f in run_checks(loaded(rel), select={"SERVE007"})] == ["SERVE007"]
    elif reason.startswith("the corpus records TF failing"):
        if any("Cannot assign a device" in m for m in recorded_errors(case)):
            test_tensorflow_runs_the_sample(case, tf, tf_models)  # pinned to a GPU: runs here, placed softly
        else:
            with pytest.raises(Exception):  # noqa: B017 - whatever TensorFlow raised on record, it raises here too
                test_tensorflow_runs_the_sample(case, tf, tf_models)
    elif reason.startswith("reads or writes files"):
        assert {u.op for u in unsafe_ops(loaded(rel))} & FILE_OPS
    else:  # placeholders the signature does not feed: check's GRAPH005 names the signature
        assert any(f"/{key}/" in f.where for f in run_checks(loaded(rel), select={"GRAPH005"}))


@pytest.mark.parametrize("case", TF_CASES)
def test_tensorflow_runs_the_sample(case, tf, tf_models):
    rel, tags, key = case
    mg = meta_graph(rel, tags)
    sig = mg.signature(key)
    body = sample_request(mg, sig, batch=2, seed=3)
    request = parse_request(json.dumps(body), sig)
    inputs = tf_inputs(sig, request, tf)
    path = str(CORPUS / rel)
    if mg.has_object_graph:
        model = tf_models.get((rel, tags))
        if model is None:
            model = tf_models[(rel, tags)] = tf.saved_model.load(path, tags=list(tags))
        fn = model.signatures[key]
        outputs = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        assert set(outputs) == {t.key for t in sig.outputs}
        return
    session = tf_models.get((rel, tags))
    if session is None:
        session = tf.compat.v1.Session(graph=tf.Graph())
        with session.graph.as_default():
            tf.compat.v1.saved_model.loader.load(session, list(tags), path)
        tf_models[(rel, tags)] = session
    feed = {sig.input(k).name: v for k, v in inputs.items()}
    fetches = {t.key: t.name for t in sig.outputs}
    if not fetches:  # e.g. a classify signature without outputs: feed and fetch the input itself
        fetches = {"fed": sig.inputs[0].name}
    results = session.run(fetches, feed_dict=feed)
    assert set(results) == set(fetches)
    for t in sig.inputs:
        if isinstance(request, ExamplesRequest):
            assert len(inputs[t.key]) == 2
