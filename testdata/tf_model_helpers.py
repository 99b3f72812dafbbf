"""What make_tf_models.py's models are built with: TF1 SavedModelBuilder exports, warmup records, Examples.

Warmup records are PredictionLog messages encoded by hand (a few length-delimited fields), so no
tensorflow_serving package is needed. Imported by tf_model_cases.py.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

tf1 = tf.compat.v1
SERVE = [tf1.saved_model.tag_constants.SERVING]
WARMUP = "tf_serving_warmup_requests"


def info(t):
    return tf1.saved_model.utils.build_tensor_info(t)


def sig(inputs: dict, outputs: dict, method: str = "tensorflow/serving/predict"):
    return tf1.saved_model.signature_def_utils.build_signature_def(
        {k: info(v) for k, v in inputs.items()}, {k: info(v) for k, v in outputs.items()}, method
    )


def tf1_export(path: Path, build, *, as_text=False, main_op=None, extra_graphs=()):
    """Build a TF1 graph with `build()` -> {key: SignatureDef}, export it under {serve}.

    extra_graphs: (tags, build) pairs added as further MetaGraphs of the same variables.
    """
    graph = tf.Graph()
    with graph.as_default():
        tf1.set_random_seed(0)
        signatures = build()
        extra = [(tags, make()) for tags, make in extra_graphs]
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            builder = tf1.saved_model.Builder(str(path))
            op = main_op() if main_op else None
            builder.add_meta_graph_and_variables(
                sess,
                SERVE,
                signature_def_map=signatures,
                main_op=op,
                strip_default_attrs=True,
                assets_collection=tf1.get_collection(tf1.GraphKeys.ASSET_FILEPATHS) or None,
            )
            for tags, sigs in extra:
                builder.add_meta_graph(tags, signature_def_map=sigs, strip_default_attrs=True)
            builder.save(as_text=as_text)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def model_spec(name: str, signature: str) -> bytes:
    return field(1, name.encode()) + field(3, signature.encode())  # ModelSpec.name, .signature_name


def predict_log(signature: str, inputs: dict) -> bytes:
    """PredictionLog{predict_log{request: PredictRequest{model_spec, inputs}}}."""
    request = field(1, model_spec("m", signature))
    for key, value in inputs.items():
        entry = field(1, key.encode()) + field(2, tf.make_tensor_proto(value).SerializeToString())
        request += field(2, entry)  # map<string, TensorProto> inputs = 2
    return field(6, field(1, request))


def examples_log(kind: str, signature: str, examples: list) -> bytes:
    """PredictionLog{classify_log|regress_log{request{model_spec, input{example_list}}}}."""
    example_list = b"".join(field(1, e.SerializeToString()) for e in examples)
    request = field(1, model_spec("m", signature)) + field(2, field(1, example_list))
    return field({"classify": 2, "regress": 3}[kind], field(1, request))


def write_warmup(model: Path, records: list) -> None:
    (model / "assets.extra").mkdir(exist_ok=True)
    with tf.io.TFRecordWriter(str(model / "assets.extra" / WARMUP)) as writer:
        for record in records:
            writer.write(record)


def example(**features) -> tf.train.Example:
    feats = {}
    for key, value in features.items():
        if isinstance(value, str):
            feats[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
        else:
            feats[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
    return tf.train.Example(features=tf.train.Features(feature=feats))


def parse_examples(spec: dict):
    serialized = tf1.placeholder(tf.string, [None], name="tf_example")
    return serialized, tf1.io.parse_example(serialized, spec)


def spec_(shape, dtype=tf.float32, name=None):
    return tf.TensorSpec(shape, dtype, name=name)
