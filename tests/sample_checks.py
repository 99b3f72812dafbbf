"""The sample tests that run the same on testdata/ (test_sample.py) and on the corpus (tests/conformance): a module
imports them with a `cases` fixture (a sample_cases.SampleCases) and parametrizes `signature_case` over its
signatures (see parametrize_signatures).
"""

from __future__ import annotations

import json
import math

import pytest
from sample_cases import sig_id

from sigtool.errors import UsageError
from sigtool.sample import example_spec, sample_request
from sigtool.serving.requests import ExamplesRequest, PredictRequest, parse_request

SHARED_TESTS = (
    "test_sample_is_accepted_or_refused_for_a_documented_reason",
    "test_refusals_name_the_inputs_and_dtypes",
    "test_every_corpus_refusal_is_listed",
    "test_example_features_have_the_kinds_the_graph_parses",
    "test_batch_and_unknown_dims",
    "test_unknown_rank_placeholder_assigned_to_a_scalar_variable_is_a_scalar",
    "test_seed_determinism",
)


def parametrize_signatures(metafunc, cases) -> None:
    """For a module's pytest_generate_tests: every signature of `cases` as `signature_case`."""
    if "signature_case" in metafunc.fixturenames:
        metafunc.parametrize("signature_case", cases.signatures, ids=sig_id)


def test_sample_is_accepted_or_refused_for_a_documented_reason(cases, signature_case):
    case = signature_case
    rel, tags, key = case
    sig = cases.meta_graph(rel, tags).signature(key)
    reason = cases.refused.get((rel, key))
    if reason:
        with pytest.raises(UsageError) as err:
            cases.body_for(case)
        message = str(err.value.message)
        assert reason in message and key in message and "\n" not in message
        return
    for batch in (1, 3):
        body = cases.body_for(case, batch=batch)
        text = json.dumps(body)
        assert json.loads(text) == body  # plain JSON values only
        assert body["signature_name"] == key
        request = parse_request(text, sig)  # the strict check: declared shapes must hold too
        if (rel, key) in cases.examples_body:
            assert isinstance(request, ExamplesRequest) and set(body) == {"signature_name", "examples"}
            assert len(request.examples) == batch
        else:
            assert isinstance(request, PredictRequest)
            assert set(request.inputs) == {t.key for t in sig.inputs}
            if request.row_format:
                assert len(body["instances"]) == batch
                assert all(t.shape and t.shape[0] < 0 for t in sig.inputs)
            assert parse_request(text, {s.key: s for s in cases.meta_graph(rel, tags).signatures}) == request


def test_refusals_name_the_inputs_and_dtypes(cases):
    mg = cases.meta_graph(cases.model("tf2_dtypes"), ("serve",))
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
    mg = cases.meta_graph(cases.model("tf1_composite_tensors"), ("serve",))
    with pytest.raises(UsageError, match=r"'sp'.*coo_sparse"):
        sample_request(mg, mg.signature("sparse_only"))
    with pytest.raises(UsageError, match=r"'rt'.*composite_tensor"):
        sample_request(mg, mg.signature("ragged_in"))


def test_every_corpus_refusal_is_listed(cases):
    refused = set()
    for case in cases.signatures:
        try:
            cases.body_for(case)
        except UsageError:
            refused.add((case[0], case[2]))
    assert refused == set(cases.refused)
    examples = {
        (c[0], c[2]) for c in cases.signatures if (c[0], c[2]) not in refused and "examples" in cases.body_for(c)
    }
    assert examples == cases.examples_body


def test_example_features_have_the_kinds_the_graph_parses(cases):
    """Float features are JSON floats with a '.', so Serving (and sigtool) build float_list, not int64_list."""
    kinds = {"DT_FLOAT": "float_list", "DT_INT64": "int64_list", "DT_STRING": "bytes_list"}
    for rel, key in sorted(cases.examples_body):
        mg = cases.loaded(rel).meta_graphs[0]
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


def test_batch_and_unknown_dims(cases):
    mg = cases.meta_graph(cases.model("tf2_dtypes"), ("serve",))
    body = sample_request(mg, mg.signature("shapes"), batch=4)
    inputs = body["inputs"]  # fixed dims: columnar, with the declared shapes
    assert len(inputs["any_rank_str"]) == 4 and all(isinstance(v, str) for v in inputs["any_rank_str"])  # unknown rank
    assert [len(inputs["fixed_2x3"]), len(inputs["fixed_2x3"][0])] == [2, 3]  # batch does not touch fixed dims
    m = inputs["mixed_4d"]  # [-1, 1, -1, 4]: batch first, 1 for the inner unknown dim
    assert [len(m), len(m[0]), len(m[0][0]), len(m[0][0][0])] == [4, 1, 1, 4]
    assert isinstance(inputs["scalar_i32"], int) and 0 <= inputs["scalar_i32"] <= 9  # scalars stay scalars
    assert inputs["zero_len"] == []
    mg = cases.meta_graph(cases.model("tf2_module_multisig"), ("serve",))
    rows = sample_request(mg, mg.signature("serving_default"), batch=3)["instances"]  # [-1], [-1], [-1, 3]
    assert len(rows) == 3 and all(set(r) == {"ids", "text", "x"} and len(r["x"]) == 3 for r in rows)
    assert all(type(r["ids"]) is int and type(r["text"]) is str and type(r["x"][0]) is float for r in rows)
    rows = sample_request(mg, mg.signature("tuple_out"), batch=2)["instances"]  # [-1, -1, 3]: one instance [1, 3]
    assert len(rows) == 2 and all(len(r) == 1 and len(r[0]) == 3 for r in rows)
    unknown = sample_request(mg, mg.signature("unknown_rank"), batch=2)["inputs"]["t"]
    assert len(unknown) == 2 and all(type(v) is float for v in unknown)
    assert type(sample_request(mg, mg.signature("scalar"))["inputs"]["s"]) is float
    mg = cases.meta_graph("real/saved_model_half_plus_two_tf2_cpu/00000123", ("serve",))
    assert len(sample_request(mg, mg.signature("serving_default"), batch=5)["inputs"]["x"]) == 1  # shape [1]


def test_unknown_rank_placeholder_assigned_to_a_scalar_variable_is_a_scalar(cases):
    """saved_model_counter's delta has no shape, but AssignAdd adds it to a scalar variable: [1] would fail in TF."""
    mg = cases.meta_graph("real/saved_model_counter/00000123", ("serve",))
    body = sample_request(mg, mg.signature("incr_counter_by"), batch=3)
    assert type(body["inputs"]["delta"]) is float


def test_seed_determinism(cases):
    sampled = [c for c in cases.signatures if (c[0], c[2]) not in cases.refused]
    for case in sampled:
        assert cases.body_for(case, seed=7, batch=2) == cases.body_for(case, seed=7, batch=2)
    differing = [c for c in sampled if cases.body_for(c, seed=1) != cases.body_for(c, seed=2)]
    assert differing == sampled  # every sampled body has a random value somewhere
    for c in sampled:
        assert cases.body_for(c, seed=1, batch=2)["signature_name"] == c[2]
