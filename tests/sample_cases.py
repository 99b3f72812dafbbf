"""Shared by the sample tests on testdata/ (test_sample*.py) and on the corpus (tests/conformance): every signature
of a tree of models, the reasons a sample is refused, the request body built for each, and TensorFlow running it.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TESTDATA

from sigtool.loader import load
from sigtool.model import MetaGraph, Signature
from sigtool.sample import sample_request
from sigtool.serving.examples import build_examples
from sigtool.serving.requests import ExamplesRequest, parse_request

MANIFEST = {
    "tf1_classify_regress_predict": {
        "feature_spec": {
            "x": {"type": "FixedLenFeature", "dtype": "float32", "shape": [1], "default_value": None},
            "x2": {"type": "FixedLenFeature", "dtype": "float32", "shape": [1], "default_value": [0.0]},
            "color": {"type": "FixedLenFeature", "dtype": "string", "shape": [1], "default_value": ["red"]},
        }
    },
    "tf1_pbtxt": {
        "feature_spec": {"x": {"type": "FixedLenFeature", "dtype": "float32", "shape": [1], "default_value": None}}
    },
}

# Signatures that cannot be sampled, and why (a substring of the UsageError). Everything else must sample.
NO_INPUTS = "it has no inputs"
NOT_DENSE = "no Serving request can carry it"
BAD_DTYPE = "REST API cannot carry the dtype"

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

FILE_OPS = {"ReadFile", "WriteFile"}


class SampleCases:
    """The models under `root` (directories relative to it; `generated` names the folder of the TF-built
    models: testdata's "tf", the corpus's "generated") and what sampling each signature must give."""

    def __init__(self, root: Path, model_dirs: list[str], generated: str):
        self.root, self.model_dirs, self.generated = root, model_dirs, generated
        self._loaded: dict = {}
        self.signatures = [
            (rel, mg.tags, s.key)
            for rel in model_dirs
            for mg in self.loaded(rel).meta_graphs
            for s in mg.signatures
            if not s.internal
        ]
        counter = "real/saved_model_counter/00000123"
        self.refused = {
            (counter, "get_counter"): NO_INPUTS,
            (counter, "incr_counter"): NO_INPUTS,
            (counter, "reset_counter"): NO_INPUTS,
            (self.model("tf2_module_multisig"), "no_inputs"): NO_INPUTS,
            (self.model("tf1_composite_tensors"), "serving_default"): NOT_DENSE,  # coo_sparse input
            (self.model("tf1_composite_tensors"), "sparse_only"): NOT_DENSE,
            (self.model("tf1_composite_tensors"), "ragged_in"): NOT_DENSE,  # composite_tensor (RaggedTensor) input
            (self.model("tf2_dtypes"), "serving_default"): BAD_DTYPE,  # bfloat16, uint16, complex, half inputs
        }
        examples = {
            (rel, key) for rel in HALF_PLUS_TWO for key in ("classify_x_to_y", "regress_x_to_y", "regress_x_to_y2")
        }
        examples |= {("real/session_bundle_half_plus_two/00000123", "serving_default")}
        examples |= {
            (self.model("tf1_classify_regress_predict"), k)
            for k in ("serving_default", "classify", "classify_classes_only", "classify_scores_only", "regress")
        }
        self.examples_body = examples | {(self.model("tf1_pbtxt"), "regress")}

    def model(self, name: str) -> str:
        """A TF-built model's directory, relative to root."""
        return f"{self.generated}/{name}"

    def loaded(self, rel: str):
        if rel not in self._loaded:
            self._loaded[rel] = load(str(self.root / rel), graph=True)
        return self._loaded[rel]

    def meta_graph(self, rel: str, tags: tuple[str, ...]) -> MetaGraph:
        return next(mg for mg in self.loaded(rel).meta_graphs if mg.tags == tags)

    def body_for(self, case, **kw) -> dict:
        rel, tags, key = case
        mg = self.meta_graph(rel, tags)
        return sample_request(mg, mg.signature(key), **kw)


def sig_id(case) -> str:
    rel, tags, key = case
    return f"{rel}[{','.join(tags)}]:{key}"


TESTDATA_CASES = SampleCases(
    TESTDATA,
    [
        p.relative_to(TESTDATA).as_posix()
        for p in sorted(TESTDATA.glob("real/*/*")) + sorted(TESTDATA.glob("tf/*"))
        if p.is_dir() and not p.name.startswith("bad_half")
    ],
    "tf",
)
SIGNATURES, REFUSED, EXAMPLES_BODY = TESTDATA_CASES.signatures, TESTDATA_CASES.refused, TESTDATA_CASES.examples_body
loaded, meta_graph, body_for = TESTDATA_CASES.loaded, TESTDATA_CASES.meta_graph, TESTDATA_CASES.body_for


# ---------------------------------------------------------------- TensorFlow runs the samples


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


def run_sample_in_tensorflow(cases: SampleCases, case, tf, models: dict) -> None:
    """Feed the sample `run --sample` sends to the model in TensorFlow, as Serving feeds it (TF1 models in a
    session; TF2 models through tf.saved_model.load's signature); `models` caches what was loaded."""
    rel, tags, key = case
    mg = cases.meta_graph(rel, tags)
    sig = mg.signature(key)
    body = sample_request(mg, sig, batch=2, seed=3)
    request = parse_request(json.dumps(body), sig)
    inputs = tf_inputs(sig, request, tf)
    path = str(cases.root / rel)
    if mg.has_object_graph:
        model = models.get((rel, tags))
        if model is None:
            model = models[(rel, tags)] = tf.saved_model.load(path, tags=list(tags))
        outputs = model.signatures[key](**{k: tf.constant(v) for k, v in inputs.items()})
        assert set(outputs) == {t.key for t in sig.outputs}
        return
    session = models.get((rel, tags))
    if session is None:
        session = tf.compat.v1.Session(graph=tf.Graph())
        with session.graph.as_default():
            tf.compat.v1.saved_model.loader.load(session, list(tags), path)
        models[(rel, tags)] = session
    feed = {sig.input(k).name: v for k, v in inputs.items()}
    fetches = {t.key: t.name for t in sig.outputs}
    if not fetches:  # e.g. a classify signature without outputs: feed and fetch the input itself
        fetches = {"fed": sig.inputs[0].name}
    results = session.run(fetches, feed_dict=feed)
    assert set(results) == set(fetches)
    if isinstance(request, ExamplesRequest):
        assert all(len(inputs[t.key]) == 2 for t in sig.inputs)
