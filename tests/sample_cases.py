"""Shared by test_sample.py and test_sample_tf.py: every signature of the repository's models, the reasons a
sample is refused, and the request body built for each.
"""

from __future__ import annotations

from functools import cache

from conftest import TESTDATA

from sigtool.loader import load
from sigtool.model import MetaGraph
from sigtool.sample import sample_request

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
MODEL_DIRS = [
    (p.relative_to(TESTDATA).as_posix(), None)
    for p in sorted(TESTDATA.glob("real/*/*")) + sorted(TESTDATA.glob("tf/*"))
    if p.is_dir() and not p.name.startswith("bad_half")
]


@cache
def loaded(rel: str):
    return load(str(TESTDATA / rel), graph=True)


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
    ("tf/tf2_module_multisig", "no_inputs"): NO_INPUTS,
    ("tf/tf1_composite_tensors", "serving_default"): NOT_DENSE,  # coo_sparse input
    ("tf/tf1_composite_tensors", "sparse_only"): NOT_DENSE,
    ("tf/tf1_composite_tensors", "ragged_in"): NOT_DENSE,  # composite_tensor (RaggedTensor) input
    ("tf/tf2_dtypes", "serving_default"): BAD_DTYPE,  # bfloat16, uint16, complex, half inputs
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
    ("tf/tf1_classify_regress_predict", k)
    for k in ("serving_default", "classify", "classify_classes_only", "classify_scores_only", "regress")
}
EXAMPLES_BODY |= {("tf/tf1_pbtxt", "regress")}


def body_for(case, **kw) -> dict:
    rel, tags, key = case
    mg = meta_graph(rel, tags)
    return sample_request(mg, mg.signature(key), **kw)
