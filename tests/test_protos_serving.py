"""sigtool's TensorFlow Serving and legacy-manifest messages against fact tables taken from Serving's .proto
files (tensorflow-serving-api is not needed): names, numbers, types and labels of every field.
"""

from __future__ import annotations

import pytest
from protos_facts import _SCALAR, ENUMS, MESSAGES, OUR_PREFIX, SERVING_ENUMS, SERVING_MESSAGES, facts, upstream_name

# --- TensorFlow Serving and the legacy manifest: fact tables -------------------
# (name, number, type[, "repeated" | "optional" | "oneof <name>"]), upstream
# names. Serving: tensorflow/serving tensorflow_serving/apis/*.proto and
# config/logging_config.proto. Manifest: the legacy SessionBundle's manifest.proto.

TFS = "tensorflow.serving."
UPSTREAM_FIELDS: dict[str, list[tuple]] = {
    # model.proto
    "ModelSpec": [
        ("name", 1, "string"),
        ("version", 2, "google.protobuf.Int64Value", "oneof version_choice"),
        ("version_label", 4, "string", "oneof version_choice"),
        ("signature_name", 3, "string"),
    ],
    # input.proto
    "ExampleList": [("examples", 1, "tensorflow.Example", "repeated")],
    "ExampleListWithContext": [
        ("examples", 1, "tensorflow.Example", "repeated"),
        ("context", 2, "tensorflow.Example"),
    ],
    "Input": [
        ("example_list", 1, TFS + "ExampleList", "oneof kind"),
        ("example_list_with_context", 2, TFS + "ExampleListWithContext", "oneof kind"),
    ],
    # classification.proto
    "Class": [("label", 1, "string"), ("score", 2, "float")],
    "Classifications": [("classes", 1, TFS + "Class", "repeated")],
    "ClassificationResult": [("classifications", 1, TFS + "Classifications", "repeated")],
    "ClassificationRequest": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("input", 2, TFS + "Input"),
    ],
    "ClassificationResponse": [
        ("model_spec", 2, TFS + "ModelSpec"),
        ("result", 1, TFS + "ClassificationResult"),
    ],
    # regression.proto
    "Regression": [("value", 1, "float")],
    "RegressionResult": [("regressions", 1, TFS + "Regression", "repeated")],
    "RegressionRequest": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("input", 2, TFS + "Input"),
    ],
    "RegressionResponse": [
        ("model_spec", 2, TFS + "ModelSpec"),
        ("result", 1, TFS + "RegressionResult"),
    ],
    # inference.proto
    "InferenceTask": [("model_spec", 1, TFS + "ModelSpec"), ("method_name", 2, "string")],
    "InferenceResult": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("classification_result", 2, TFS + "ClassificationResult", "oneof result"),
        ("regression_result", 3, TFS + "RegressionResult", "oneof result"),
    ],
    "MultiInferenceRequest": [
        ("tasks", 1, TFS + "InferenceTask", "repeated"),
        ("input", 2, TFS + "Input"),
    ],
    "MultiInferenceResponse": [("results", 1, TFS + "InferenceResult", "repeated")],
    # predict.proto
    "PredictRequest": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("inputs", 2, "map<string, tensorflow.TensorProto>"),
        ("output_filter", 3, "string", "repeated"),
        ("predict_streamed_options", 5, TFS + "PredictStreamedOptions"),
        ("client_id", 6, "bytes", "optional"),
        ("request_options", 7, TFS + "PredictRequest.RequestOptions", "optional"),
    ],
    "PredictRequest.RequestOptions": [
        ("client_id", 1, "bytes", "optional"),
        ("deterministic_mode", 2, TFS + "PredictRequest.RequestOptions.DeterministicMode", "optional"),
        ("return_additional_arrays_from_prefill", 3, "bool", "optional"),
        ("return_stoptokens", 4, "int64", "repeated"),
        ("return_all_stoptokens", 9, "bool", "optional"),
        ("max_cache_length", 6, "int64", "optional"),
        ("handshake", 13, TFS + "PredictRequest.RequestOptions.Handshake", "optional"),
    ],
    "PredictRequest.RequestOptions.Handshake": [("estimated_payload_bytes", 1, "int64")],
    "PredictStreamedOptions": [
        ("request_state", 1, TFS + "PredictStreamedOptions.RequestState"),
        ("split_dimensions", 2, "map<string, int32>"),
        ("return_single_response", 3, "bool"),
    ],
    "PredictResponse": [
        ("model_spec", 2, TFS + "ModelSpec"),
        ("outputs", 1, "map<string, tensorflow.TensorProto>"),
    ],
    # session_service.proto
    "SessionRunRequest": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("feed", 2, "tensorflow.NamedTensorProto", "repeated"),
        ("fetch", 3, "string", "repeated"),
        ("target", 4, "string", "repeated"),
        ("tensor_name_is_alias", 6, "bool"),
        ("options", 5, "tensorflow.RunOptions"),
    ],
    "SessionRunResponse": [
        ("model_spec", 3, TFS + "ModelSpec"),
        ("tensor", 1, "tensorflow.NamedTensorProto", "repeated"),
        ("metadata", 2, "tensorflow.RunMetadata"),
    ],
    # config/logging_config.proto
    "SamplingConfig": [("sampling_rate", 1, "double"), ("attributes", 2, "int32")],
    # logging.proto
    "LogMetadata": [
        ("model_spec", 1, TFS + "ModelSpec"),
        ("sampling_config", 2, TFS + "SamplingConfig"),
        ("saved_model_tags", 3, "string", "repeated"),
        ("timestamp_secs", 4, "int64"),
        ("dc", 5, "string"),
        ("request_origin", 6, "string"),
        ("request_criticality", 7, "string"),
        ("safe_aggregation_privacy_key", 8, "int64"),
    ],
    # prediction_log.proto
    "ClassifyLog": [
        ("request", 1, TFS + "ClassificationRequest"),
        ("response", 2, TFS + "ClassificationResponse"),
    ],
    "RegressLog": [
        ("request", 1, TFS + "RegressionRequest"),
        ("response", 2, TFS + "RegressionResponse"),
    ],
    "PredictLog": [
        ("request", 1, TFS + "PredictRequest"),
        ("response", 2, TFS + "PredictResponse"),
    ],
    "PredictStreamedLog": [
        ("request", 1, TFS + "PredictRequest", "repeated"),
        ("response", 2, TFS + "PredictResponse", "repeated"),
    ],
    "MultiInferenceLog": [
        ("request", 1, TFS + "MultiInferenceRequest"),
        ("response", 2, TFS + "MultiInferenceResponse"),
    ],
    "SessionRunLog": [
        ("request", 1, TFS + "SessionRunRequest"),
        ("response", 2, TFS + "SessionRunResponse"),
    ],
    "PredictionLog": [
        ("log_metadata", 1, TFS + "LogMetadata"),
        ("classify_log", 2, TFS + "ClassifyLog", "oneof log_type"),
        ("regress_log", 3, TFS + "RegressLog", "oneof log_type"),
        ("predict_log", 6, TFS + "PredictLog", "oneof log_type"),
        ("predict_streamed_log", 7, TFS + "PredictStreamedLog", "oneof log_type"),
        ("multi_inference_log", 4, TFS + "MultiInferenceLog", "oneof log_type"),
        ("session_run_log", 5, TFS + "SessionRunLog", "oneof log_type"),
    ],
    # manifest.proto (legacy SessionBundle)
    "Signatures": [
        ("default_signature", 1, TFS + "Signature"),
        ("named_signatures", 2, "map<string, tensorflow.serving.Signature>"),
    ],
    "TensorBinding": [("tensor_name", 1, "string")],
    "AssetFile": [("tensor_binding", 1, TFS + "TensorBinding"), ("filename", 2, "string")],
    "Signature": [
        ("regression_signature", 1, TFS + "RegressionSignature", "oneof type"),
        ("classification_signature", 2, TFS + "ClassificationSignature", "oneof type"),
        ("generic_signature", 3, TFS + "GenericSignature", "oneof type"),
    ],
    "RegressionSignature": [
        ("input", 1, TFS + "TensorBinding"),
        ("output", 2, TFS + "TensorBinding"),
    ],
    "ClassificationSignature": [
        ("input", 1, TFS + "TensorBinding"),
        ("classes", 2, TFS + "TensorBinding"),
        ("scores", 3, TFS + "TensorBinding"),
    ],
    "GenericSignature": [("map", 1, "map<string, tensorflow.serving.TensorBinding>")],
}
UPSTREAM_ENUMS: dict[str, dict[str, int]] = {
    "PredictRequest.RequestOptions.DeterministicMode": {
        "DETERMINISTIC_MODE_UNSPECIFIED": 0,
        "FIXED_DECODER_SLOT": 1,
    },
    "PredictStreamedOptions.RequestState": {"NONE": 0, "SPLIT": 1, "END_SPLIT": 2, "CANCEL": 3},
    "SamplingConfig.Attributes": {
        "ATTR_DEFAULT": 0,
        "ATTR_REQUEST_ORIGIN": 1,
        "ATTR_REQUEST_CRITICALITY": 2,
    },
}


def _table_entry(name: str, number: int, type_: str, flag: str = "") -> dict:
    scalar = type_ in _SCALAR.values() or type_.removeprefix(TFS) in UPSTREAM_ENUMS
    return {
        "name": name,
        "number": number,
        "type": type_,
        "repeated": flag == "repeated" or type_.startswith("map<"),
        "oneof": flag.removeprefix("oneof ") if flag.startswith("oneof ") else None,
        # proto3: scalars have presence only when `optional` or in a oneof.
        "presence": flag != "repeated" and not type_.startswith("map<") and (not scalar or flag != ""),
    }


def test_fact_tables_cover_every_serving_and_manifest_type():
    assert sorted(UPSTREAM_FIELDS) == SERVING_MESSAGES
    assert sorted(UPSTREAM_ENUMS) == SERVING_ENUMS


@pytest.mark.parametrize("name", sorted(UPSTREAM_FIELDS))
def test_serving_message_matches_fact_table(name):
    ours = MESSAGES[OUR_PREFIX + name]
    got = {}
    for field in ours.fields:
        fact = facts(field, upstream_name)
        del fact["packed"]  # proto3 default either way
        got[field.number] = fact
    assert got == {row[1]: _table_entry(*row) for row in UPSTREAM_FIELDS[name]}
    assert [f.number for f in ours.fields] == [row[1] for row in UPSTREAM_FIELDS[name]]


@pytest.mark.parametrize("name", sorted(UPSTREAM_ENUMS))
def test_serving_enum_matches_fact_table(name):
    assert {v.name: v.number for v in ENUMS[OUR_PREFIX + name].values} == UPSTREAM_ENUMS[name]
