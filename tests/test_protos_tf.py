"""sigtool's .proto schema against TensorFlow's own descriptors, and the files under testdata/ parsed with our
classes: nothing may be unknown, and TensorFlow must read our re-serialization as it reads the original.
Our private pool and TensorFlow's default pool coexist in either import order. Needs TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet
from protos_facts import (
    _LOAD_OURS,
    BYTES_FOR_MESSAGE,
    ENUMS,
    KEY_ENUMS,
    KEY_MESSAGES,
    MESSAGES,
    MODULE_NAMES,
    OUR_FILES,
    OUR_PREFIX,
    PARTIAL_OK,
    TESTDATA,
    TF_ENUMS,
    TF_MESSAGES,
    _run_python,
    _same,
    _tf_message,
    facts,
    load_tf_pool,
    upstream_name,
)

import sigtool._proto


@pytest.fixture(scope="module")
def tf_pool():
    return load_tf_pool()


def test_our_schema_is_in_its_own_package():
    assert OUR_FILES, "no .proto files under protos/sigtool/_proto"
    for file in OUR_FILES:
        assert file.package == "sigtool.tf", file.name
        assert file.name == f"sigtool/_proto/{Path(file.name).name}"
        assert file.pool is sigtool._proto.pool()


@pytest.mark.parametrize("name", TF_MESSAGES)
def test_tf_message_is_wire_compatible(name, tf_pool):
    ours = MESSAGES[OUR_PREFIX + name]
    theirs = _tf_message(tf_pool, ours)
    assert Path(theirs.file.name).name == Path(ours.file.name).name, "declared in another file than TF's"
    their_fields = {f.number: facts(f, _same) for f in theirs.fields}
    for field in ours.fields:
        assert facts(field, upstream_name) == their_fields.get(field.number), field.full_name
    if name not in PARTIAL_OK:
        missing = sorted(set(their_fields) - {f.number for f in ours.fields})
        assert not missing, [their_fields[n]["name"] for n in missing]
    # Same declaration order: JSON and text output list fields as TF does.
    declared = [f.number for f in ours.fields]
    assert declared == [f.number for f in theirs.fields if f.number in declared]


@pytest.mark.parametrize("name", TF_ENUMS)
def test_tf_enum_is_wire_compatible(name, tf_pool):
    ours = ENUMS[OUR_PREFIX + name]
    theirs = tf_pool.FindEnumTypeByName(upstream_name(ours))
    their_values = {v.name: v.number for v in theirs.values}
    our_values = {v.name: v.number for v in ours.values}
    assert {k: their_values.get(k) for k in our_values} == our_values
    if name not in PARTIAL_OK:
        assert our_values == their_values


def test_key_messages_are_declared_whole():
    for name in KEY_MESSAGES:
        assert name in TF_MESSAGES and name not in PARTIAL_OK, name
    for name in KEY_ENUMS:
        assert name in TF_ENUMS and name not in PARTIAL_OK, name


def test_bytes_stand_ins_replace_tf_messages(tf_pool):
    for field_name, upstream in BYTES_FOR_MESSAGE.items():
        message_name, _, field = field_name.rpartition(".")
        ours = MESSAGES[message_name].fields_by_name[field]
        assert ours.type == FieldDescriptor.TYPE_BYTES and not ours.is_repeated
        tf_pool.FindMessageTypeByName(upstream)  # a message, hence length-delimited too


@pytest.mark.parametrize("tf_first", [True, False], ids=["tf-first", "ours-first"])
def test_our_classes_and_tensorflows_coexist(tf_first):
    """Our private pool never touches the default pool TensorFlow fills, in either order."""
    pytest.importorskip("tensorflow")
    tf = "import tensorflow\nfrom tensorflow.core.protobuf import saved_model_pb2 as theirs\n"
    ours = _LOAD_OURS.format(names=MODULE_NAMES) + "from sigtool._proto import saved_model_pb2 as ours\n"
    code = (
        (tf + ours if tf_first else ours + tf) + "from google.protobuf import descriptor_pool\n"
        "default = descriptor_pool.Default()\n"
        "assert ours.SavedModel.DESCRIPTOR.full_name == 'sigtool.tf.SavedModel'\n"
        "assert theirs.SavedModel.DESCRIPTOR.full_name == 'tensorflow.SavedModel'\n"
        "assert theirs.SavedModel.DESCRIPTOR.file.pool is default\n"
        "try:\n"
        "    default.FindMessageTypeByName('sigtool.tf.SavedModel')\n"
        "except KeyError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('our schema leaked into the default pool')\n"
        "data = ours.SavedModel(saved_model_schema_version=1).SerializeToString()\n"
        "assert theirs.SavedModel.FromString(data).saved_model_schema_version == 1\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr[-3000:]


# --- the files under testdata/ -------------------------------------------------------


def unknown_field_paths(message: Message, path: str = "") -> list[str]:
    """Paths of every (sub)message that holds fields our schema does not know."""
    found = [path or "<root>"] if len(UnknownFieldSet(message)) else []
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        where = f"{path}.{field.name}"
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
                for key, item in value.items():
                    found += unknown_field_paths(item, f"{where}[{key!r}]")
        elif field.is_repeated:
            for index, item in enumerate(value):
                found += unknown_field_paths(item, f"{where}[{index}]")
        else:
            found += unknown_field_paths(value, where)
    return found


def _testdata(pattern: str) -> list[Path]:
    return sorted(p for p in TESTDATA.glob(pattern) if p.is_file() and "bad" not in p.relative_to(TESTDATA).parts)


def _ids(paths: list[Path]) -> list[str]:
    return [p.relative_to(TESTDATA).as_posix() for p in paths]


SAVED_MODELS = _testdata("**/saved_model.pb")
PBTXT_MODELS = _testdata("**/saved_model.pbtxt")
LEGACY_EXPORTS = _testdata("**/export.meta")


def test_testdata_has_every_kind_of_file():
    names = set(_ids(SAVED_MODELS + PBTXT_MODELS + LEGACY_EXPORTS))
    for expected in (
        "half_plus_two_like/saved_model.pb",
        "shapes_dtypes/saved_model.pb",
        "pbtxt/saved_model.pbtxt",
        "legacy_bundle/00000001/export.meta",
    ):
        assert expected in names


def _parse_like_tf(ours_class, tf_class, raw: bytes):
    """Our parse of `raw`, or None where TensorFlow's class refuses it too (bad UTF-8, say)."""
    try:
        tf_class.FromString(raw)
    except DecodeError:
        with pytest.raises(DecodeError):
            ours_class.FromString(raw)
        return None
    return ours_class.FromString(raw)


def _assert_tf_reads_ours_as_original(ours: Message, original: bytes, tf_class) -> None:
    ours_bytes = ours.SerializeToString(deterministic=True)
    expected = tf_class.FromString(original)
    assert tf_class.FromString(ours_bytes) == expected
    assert expected.SerializeToString(deterministic=True) == ours_bytes


@pytest.mark.parametrize("path", SAVED_MODELS, ids=_ids(SAVED_MODELS))
def test_saved_model_round_trips_through_tf(path, tf_pool):
    from tensorflow.core.protobuf import saved_model_pb2 as tf_saved_model_pb2

    from sigtool._proto import saved_model_pb2

    raw = path.read_bytes()
    ours = _parse_like_tf(saved_model_pb2.SavedModel, tf_saved_model_pb2.SavedModel, raw)
    if ours is None:
        return  # refused by both (a deliberately broken fixture)
    assert unknown_field_paths(ours) == []
    _assert_tf_reads_ours_as_original(ours, raw, tf_saved_model_pb2.SavedModel)


@pytest.mark.parametrize("path", PBTXT_MODELS, ids=_ids(PBTXT_MODELS))
def test_text_format_model_reads_as_in_tf(path, tf_pool):
    from tensorflow.core.protobuf import saved_model_pb2 as tf_saved_model_pb2

    from sigtool._proto import saved_model_pb2

    text = path.read_bytes()
    try:
        theirs = text_format.Parse(text, tf_saved_model_pb2.SavedModel())
    except text_format.ParseError:
        with pytest.raises(text_format.ParseError):
            text_format.Parse(text, saved_model_pb2.SavedModel())
        return
    ours = text_format.Parse(text, saved_model_pb2.SavedModel())  # same field names as TF
    _assert_tf_reads_ours_as_original(ours, theirs.SerializeToString(), tf_saved_model_pb2.SavedModel)


# Any payloads of legacy exports, by the type URL's message name.
def _any_classes() -> dict[str, type]:
    from sigtool._proto import graph_pb2, manifest_pb2

    return {
        "tensorflow.serving.Signatures": manifest_pb2.Signatures,
        "tensorflow.serving.AssetFile": manifest_pb2.AssetFile,
        "tensorflow.GraphDef": graph_pb2.GraphDef,
    }


@pytest.mark.parametrize("path", LEGACY_EXPORTS, ids=_ids(LEGACY_EXPORTS))
def test_legacy_export_and_manifest_payloads(path, tf_pool):
    from tensorflow.core.protobuf import meta_graph_pb2 as tf_meta_graph_pb2

    from sigtool._proto import meta_graph_pb2

    raw = path.read_bytes()
    ours = _parse_like_tf(meta_graph_pb2.MetaGraphDef, tf_meta_graph_pb2.MetaGraphDef, raw)
    assert ours is not None
    assert unknown_field_paths(ours) == []
    _assert_tf_reads_ours_as_original(ours, raw, tf_meta_graph_pb2.MetaGraphDef)

    # The Any payloads are opaque to TensorFlow: each must parse whole, or fail
    # only on bad UTF-8 in a string field (a proto3 rule, not a schema gap).
    theirs = tf_meta_graph_pb2.MetaGraphDef.FromString(raw)
    classes = _any_classes()
    for key, collection in ours.collection_def.items():
        if collection.WhichOneof("kind") != "any_list":
            continue
        for index, item in enumerate(collection.any_list.value):
            their_item = theirs.collection_def[key].any_list.value[index]
            assert (item.type_url, item.value) == (their_item.type_url, their_item.value)
            try:
                payload = classes[item.type_url.rpartition("/")[2]].FromString(item.value)
            except DecodeError as e:
                assert "UTF-8" in str(e), (key, item.type_url, e)
                continue
            assert unknown_field_paths(payload) == [], (key, item.type_url)
            assert payload.ByteSize() == len(item.value), (key, item.type_url)


def test_prediction_log_carries_tf_tensors(tf_pool):
    """A warmup record (PredictionLog > PredictLog > PredictRequest.inputs) holds TF's TensorProto bytes whole."""
    import tensorflow as tf
    from tensorflow.core.framework import tensor_pb2 as tf_tensor_pb2

    from sigtool._proto import prediction_log_pb2

    tensors = {
        "x": tf.make_tensor_proto([[1.5, -2.0]], dtype=tf.float32),
        "s": tf.make_tensor_proto([b"a", b"\xff"], dtype=tf.string),
    }
    log = prediction_log_pb2.PredictionLog()
    request = log.predict_log.request
    request.model_spec.name = "m"
    request.model_spec.signature_name = "serving_default"
    for key, tensor in tensors.items():
        request.inputs[key].MergeFromString(tensor.SerializeToString())
    read = prediction_log_pb2.PredictionLog.FromString(log.SerializeToString())
    assert read.WhichOneof("log_type") == "predict_log"
    assert unknown_field_paths(read) == []
    for key, tensor in tensors.items():
        assert tf_tensor_pb2.TensorProto.FromString(read.predict_log.request.inputs[key].SerializeToString()) == tensor
    assert tf.make_ndarray(tensors["x"]).tolist() == [[1.5, -2.0]]
