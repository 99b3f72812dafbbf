"""Run one signature of a SavedModel with TensorFlow: the only module that imports it, and only inside functions.

    execute(model_dir, tags, signature, feeds, *, executor="session", device=None, warn=None)
                                       -> {output key: Tensor}
    save_npy(path, tensor)             one output as .npy (never pickled)
    load_array(path, name) -> Tensor   one input from .npy or .npz[name] (pickles refused)
    clear_cache()                      forget the models loaded so far

Two executors:

* "session" (the default, for every model, TF2 included): what TF Serving and saved_model_cli run do. A
  tf.compat.v1 Session loads the MetaGraph with the TF1 loader (restores variables through the SaverDef,
  runs the init op / main op, feeds the assets) and the signature is fed and fetched by its TensorInfo
  names through the callable API (`Session._make_callable_from_options`). Like Serving's C++ Session::Run,
  that does not check a fed value's shape against the placeholder's declared shape (Session.run and
  Session.make_callable do), so [2] feeds into x:0 declared [-1,1]. A name without ":" means output 0.
* "function": tf.saved_model.load(...).signatures[key](**tensors), the TF2 Python path; it revives the
  object graph, so it fails on objects it cannot rebuild (e.g. an old Keras optimizer: "'_UserObject' object
  has no attribute 'add_slot'") that a session never looks at.

The one case the session cannot run is a TF2 model whose signature reads variables the SaverDef does not
restore (Keras 3 models written by tf.saved_model.save hand the saver other variable handles than the
functions): the run fails with "Could not find variable", and Serving fails the same way. execute() then
runs it through "function" and says so through warn().

Placement: soft placement is always on, so a graph pinned to /gpu:0 runs on the CPU where no GPU is
visible; device="cpu" hides GPUs (session: device_count GPU 0; function: GPUs made invisible before
TensorFlow initialises, else ops placed under tf.device("/CPU:0")).

Feeds are cast to the TensorSpec's dtype (as TF's Session.run casts a fed numpy value), unless the fed
Tensor's dtype is of another kind (text vs numbers): then it goes in as it is and TensorFlow reports the
mismatch, as Serving's session would. coo_sparse inputs are fed from a dense Tensor (its non-zero
entries); composite_tensor inputs/outputs and sparse outputs are refused with a RunError.

TensorFlow's own stderr (C++ logs, Python warnings) is captured while it imports, loads and runs
(sigtool.quiet); a failure quotes the relevant captured line when TensorFlow's exception lacks it.

Loaded models stay cached per (model_dir, tags, executor, device) for the life of the process (closed at
exit): state kept in variables (counters) persists from one call to the next, as in a server.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
from collections.abc import Callable, Mapping

from sigtool import quiet
from sigtool.arrays import first_line as _first_line
from sigtool.arrays import import_numpy as _import_numpy
from sigtool.arrays import load_array, save_npy  # noqa: F401 - part of this module's API
from sigtool.errors import RunError, TensorFlowMissing, UsageError
from sigtool.loader.dtypes import DATA_TYPES, dtype_name
from sigtool.model import Signature, TensorSpec
from sigtool.serving.values import Tensor

EXECUTORS = ("session", "function")
_INSTALL_TF = "`sigtool run` needs TensorFlow: pip install 'sigtool[run]' (or tensorflow-cpu)"
_DTYPE_NUMBERS = {name: number for number, name in DATA_TYPES.items()}
_TEXT = "DT_STRING"
_UNRUNNABLE = {"DT_RESOURCE", "DT_VARIANT", "DT_INVALID"}  # values a caller cannot feed or read
_DEVICES = (None, "cpu")
_MESSAGE_LIMIT = 300
_UNRESTORED = re.compile(r"Could not find variable|uninitialized value|Resource .* does not exist")

_cache: dict[tuple, _Loaded] = {}
_cache_lock = threading.Lock()


# ---------------------------------------------------------------- public API


def tensorflow_version() -> str | None:
    """The version of the TensorFlow this process imported, None before any import (never imports it)."""
    import sys

    tf = sys.modules.get("tensorflow")
    return getattr(tf, "__version__", None)


def execute(
    model_dir: str,
    tags: tuple[str, ...],
    signature: Signature,
    feeds: Mapping[str, Tensor],
    *,
    executor: str = "session",
    device: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Tensor]:
    """Run one signature: feeds keyed by the signature's input keys; returns every output keyed by output key.

    Raises UsageError for feeds that do not fit the signature (checked before TensorFlow is imported),
    TensorFlowMissing without TensorFlow, and RunError when TensorFlow cannot load or run the model.
    warn(message) hears of a fallback from the session to the function executor (called after TensorFlow's
    stderr is given back).
    """
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor {executor!r}; use session or function")
    if device not in _DEVICES:
        raise UsageError(f"unknown device {device!r}; use cpu, or none to let TensorFlow pick")
    _check_signature(signature)
    _check_feeds(signature, feeds)
    fallback = None
    with quiet.captured_stderr():
        tf = _import_tensorflow()
        if executor == "session":
            model = _loaded(tf, model_dir, tuple(tags), "session", device)
            try:
                with model.lock:  # one call at a time per session; simple and safe for a serving loop
                    return model.run(tf, signature, feeds)
            except _Unrestored as e:
                fallback = e
        try:
            model = _loaded(tf, model_dir, tuple(tags), "function", device)
            with model.lock:
                outputs = model.run(tf, signature, feeds)
        except RunError as e:
            if fallback is None:
                raise
            raise RunError(
                f"running signature {signature.key} in a session failed: {fallback.tf_message} (the "
                "SavedModel's saver does not restore the variables it reads; TF Serving fails too), and "
                f"tf.saved_model.load could not run it either: {e.format_message()}"
            ) from None
    if fallback is not None and warn is not None:
        warn(fallback.message)
    return outputs


def clear_cache() -> None:
    """Close and forget every loaded model (the next execute loads it afresh, with fresh variables)."""
    with _cache_lock, quiet.captured_stderr():
        for model in _cache.values():
            model.close()
        _cache.clear()


atexit.register(clear_cache)  # before TensorFlow is torn down: a late callable prints "Exception ignored"


# ---------------------------------------------------------------- checks before TensorFlow


def _check_signature(signature: Signature) -> None:
    for io, specs in (("input", signature.inputs), ("output", signature.outputs)):
        for spec in specs:
            if spec.encoding == "name" or (io == "input" and spec.encoding == "coo_sparse"):
                continue
            what = spec.encoding or "no"
            raise RunError(
                f"signature {signature.key}: {io} {spec.key!r} has {what} encoding, which `sigtool run` "
                "does not support yet; run a signature whose inputs and outputs are plain tensors"
            )


def _check_feeds(signature: Signature, feeds: Mapping[str, Tensor]) -> None:
    expected = {t.key for t in signature.inputs}
    unknown, missing = sorted(set(feeds) - expected), sorted(expected - set(feeds))
    if unknown or missing:
        problems = ([f"unknown input(s) {', '.join(unknown)}"] if unknown else []) + (
            [f"missing {', '.join(missing)}"] if missing else []
        )
        raise UsageError(
            f"signature {signature.key}: {'; '.join(problems)}; expected: "
            f"{', '.join(sorted(expected)) or '(no inputs)'}"
        )


# ---------------------------------------------------------------- TensorFlow, imported lazily


def _import_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # C++ INFO/WARNING lines; ERROR lines stay for messages
    try:
        import tensorflow as tf
    except ImportError:
        raise TensorFlowMissing(_INSTALL_TF) from None
    except Exception as e:  # noqa: BLE001 - a broken install (protobuf, numpy ABI): one line, not a traceback
        raise _run_error("importing TensorFlow", e, "reinstall TensorFlow, or check the versions it needs") from None
    _silence(tf)
    return tf


def _silence(tf) -> None:
    import logging

    tf.get_logger().setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass
    try:  # "load (from ...loader_impl) is deprecated" and friends
        from tensorflow.python.util import deprecation

        deprecation._PRINT_DEPRECATION_WARNINGS = False
    except ImportError:
        pass


# ---------------------------------------------------------------- loading (cached)


def _loaded(tf, model_dir: str, tags: tuple[str, ...], executor: str, device: str | None) -> _Loaded:
    key = (os.path.realpath(model_dir), tuple(sorted(set(tags))), executor, device)
    with _cache_lock:
        model = _cache.get(key)
        if model is None:
            model = (_FunctionModel if executor == "function" else _SessionModel)(tf, model_dir, tags, device)
            _cache[key] = model
    return model


class _Loaded:
    def __init__(self):
        self.lock = threading.Lock()

    def run(self, tf, signature: Signature, feeds: Mapping[str, Tensor]) -> dict[str, Tensor]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _Unrestored(Exception):
    """The session ran, but the signature reads variables the SaverDef never restored (TF2 object graphs only)."""

    def __init__(self, signature: str, tf_message: str):
        self.tf_message = tf_message
        self.message = (
            f"signature {signature} reads variables that the SavedModel's saver does not restore, so "
            "TF Serving's session fails on it too; ran it through tf.saved_model.load (--executor function) "
            "instead. Keras 3 models written by tf.saved_model.save do this; model.export() writes one Serving can run"
        )
        super().__init__(self.message)


class _SessionModel(_Loaded):
    """A tf.compat.v1 Session holding the MetaGraph; signatures run through callables (no Python shape checks)."""

    def __init__(self, tf, model_dir: str, tags: tuple[str, ...], device: str | None):
        super().__init__()
        config = tf.compat.v1.ConfigProto(allow_soft_placement=True)
        if device == "cpu":
            config.device_count["GPU"] = 0
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph, config=config)
        self.callables: dict[tuple, object] = {}
        try:
            with self.graph.as_default():
                meta_graph_def = tf.compat.v1.saved_model.loader.load(self.session, list(tags), model_dir)
            self.object_graph = meta_graph_def.HasField("object_graph_def")
        except Exception as e:  # noqa: BLE001 - any TF failure is a model problem, never a traceback
            self.session.close()
            raise _run_error(
                f"loading {model_dir} (tags {','.join(tags) or '(none)'}) in a session",
                e,
                _load_hint(e, function=False),
            ) from None

    def run(self, tf, signature: Signature, feeds: Mapping[str, Tensor]) -> dict[str, Tensor]:
        np = _import_numpy()
        names: list[str] = []
        values: list = []  # numpy arrays
        for spec in signature.inputs:
            array = _feed_array(np, tf, spec, feeds[spec.key])
            if spec.encoding == "coo_sparse":
                assert spec.sparse is not None  # a coo_sparse TensorInfo names its three tensors
                present = array != (b"" if array.dtype == object else 0)  # the dense value's non-zero entries
                indices = np.argwhere(present).astype(np.int64).reshape(-1, array.ndim)
                parts = {
                    spec.sparse.indices: indices,
                    spec.sparse.values: array[present],
                    spec.sparse.dense_shape: np.array(array.shape, dtype=np.int64),
                }
                names += parts
                values += parts.values()
            else:
                names.append(spec.name)
                values.append(array)
        fetches = list(dict.fromkeys(_tensor_name(t.name) for t in signature.outputs))
        try:
            call = self._callable(tuple(names), tuple(fetches))
            results = dict(zip(fetches, call(*values)))
        except Exception as e:  # noqa: BLE001
            if self.object_graph and _UNRESTORED.search(str(e)):
                raise _Unrestored(signature.key, _tf_message(e)) from None
            raise _run_error(
                f"running signature {signature.key} in a session", e, _run_hint(e, function=False)
            ) from None
        return {
            t.key: _tensor_from_result(np, tf, signature, t.key, results[_tensor_name(t.name)])
            for t in signature.outputs
        }

    def _callable(self, feeds: tuple[str, ...], fetches: tuple[str, ...]):
        call = self.callables.get((feeds, fetches))
        if call is None:
            from tensorflow.core.protobuf import config_pb2

            options = config_pb2.CallableOptions(feed=feeds, fetch=fetches)
            call = self.session._make_callable_from_options(options)
            self.callables[(feeds, fetches)] = call
        return call

    def close(self) -> None:
        self.callables.clear()  # each releases its handle in the session, so before closing it
        self.session.close()


class _FunctionModel(_Loaded):
    """tf.saved_model.load's object; signatures called as concrete functions."""

    def __init__(self, tf, model_dir: str, tags: tuple[str, ...], device: str | None):
        super().__init__()
        self.device = None
        if device == "cpu":
            try:
                tf.config.set_visible_devices([], "GPU")
            except (RuntimeError, ValueError):  # TF is initialised already: pin placement instead
                self.device = "/CPU:0"
        try:
            with self._placement(tf):
                self.obj = tf.saved_model.load(model_dir, tags=list(tags))
        except Exception as e:  # noqa: BLE001
            raise _run_error(
                f"loading {model_dir} (tags {','.join(tags) or '(none)'}) with tf.saved_model.load",
                e,
                _load_hint(e, function=True),
            ) from None

    def _placement(self, tf):
        import contextlib

        return tf.device(self.device) if self.device else contextlib.nullcontext()

    def run(self, tf, signature: Signature, feeds: Mapping[str, Tensor]) -> dict[str, Tensor]:
        np = _import_numpy()
        functions = self.obj.signatures
        if signature.key not in functions:
            known = ", ".join(sorted(functions.keys())) or "(none)"
            raise RunError(
                f"signature {signature.key} is in the MetaGraphDef but not among the TF2 object's "
                f"signatures ({known}); run it with the session executor (drop --executor function)"
            )
        try:
            with self._placement(tf):
                kwargs = {}
                for spec in signature.inputs:
                    array = _feed_array(np, tf, spec, feeds[spec.key])
                    if spec.encoding == "coo_sparse":
                        kwargs[spec.key] = tf.sparse.from_dense(tf.constant(array))
                    else:
                        kwargs[spec.key] = tf.constant(array)
                results = functions[signature.key](**kwargs)
        except Exception as e:  # noqa: BLE001
            raise _run_error(
                f"running signature {signature.key} through tf.saved_model.load", e, _run_hint(e, function=True)
            ) from None
        if not isinstance(results, Mapping):
            results = {signature.outputs[0].key: results} if len(signature.outputs) == 1 else {}
        outputs = {}
        for spec in signature.outputs:
            if spec.key not in results:
                raise RunError(
                    f"signature {signature.key} returned no output {spec.key!r} (it returned: "
                    f"{', '.join(sorted(results)) or 'nothing'}); the SavedModel's signature and "
                    "function disagree"
                )
            value = results[spec.key]
            if not isinstance(value, tf.Tensor):
                raise RunError(
                    f"signature {signature.key}: output {spec.key!r} is a {type(value).__name__}, which "
                    "`sigtool run` does not support yet; run a signature with plain tensor outputs"
                )
            outputs[spec.key] = _tensor_from_result(np, tf, signature, spec.key, value.numpy(), value.dtype)
        return outputs


# ---------------------------------------------------------------- conversions


def _tensor_name(name: str) -> str:
    """A TensorInfo name as C++ parses it: "y" is "y:0"."""
    return name if re.search(r":\d+$", name) else f"{name}:0"


def _base(dtype: str) -> str:
    return dtype.removesuffix("_REF")


def _feed_array(np, tf, spec: TensorSpec, tensor: Tensor):
    """The numpy value fed for one input: the Tensor's values, cast to the spec's dtype when that makes sense."""
    given = _base(tensor.dtype)
    wanted = _base(spec.dtype)
    if wanted in _UNRUNNABLE or wanted not in _DTYPE_NUMBERS or (wanted == _TEXT) != (given == _TEXT):
        wanted = given  # unknown, or text vs numbers: feed as given and let TensorFlow judge
    if given in _UNRUNNABLE or given not in _DTYPE_NUMBERS:
        raise UsageError(f"input {spec.key!r}: cannot feed a {tensor.dtype} value; give {spec.dtype} values")
    try:
        if given == _TEXT:
            values = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in tensor.values]
            array = np.empty(len(values), dtype=object)
            array[:] = values
            return array.reshape(tensor.shape)
        source = tf.dtypes.as_dtype(_DTYPE_NUMBERS[given]).as_numpy_dtype
        target = tf.dtypes.as_dtype(_DTYPE_NUMBERS[wanted]).as_numpy_dtype
        array = np.array(tensor.values, dtype=source).reshape(tensor.shape)
        return array if source == target else array.astype(target)
    except (TypeError, ValueError, OverflowError) as e:
        raise UsageError(
            f"input {spec.key!r}: cannot make {wanted} values of shape {list(tensor.shape)}: {_first_line(str(e))}"
        ) from None


def _tensor_from_result(np, tf, signature: Signature, key: str, array, tf_dtype=None) -> Tensor:
    array = np.asarray(array)
    tf_dtype = (tf_dtype or tf.as_dtype(array.dtype)).base_dtype
    dtype = dtype_name(tf_dtype.as_datatype_enum)
    if dtype in _UNRUNNABLE:
        raise RunError(
            f"signature {signature.key}: output {key!r} is a {dtype} tensor, which has no values to "
            "show; run a signature whose outputs are data tensors"
        )
    shape = tuple(int(d) for d in array.shape)
    flat = array.reshape(-1)
    if dtype == _TEXT:
        values = tuple(v if isinstance(v, bytes) else str(v).encode("utf-8") for v in flat.tolist())
    elif dtype == "DT_BFLOAT16":
        values = tuple(flat.astype(np.float32).tolist())
    else:
        values = tuple(flat.tolist())
    return Tensor(dtype, shape, values)


# ---------------------------------------------------------------- errors


_NOISE = re.compile(
    r"^(Graph execution error:|Detected at node |Node: |\[\[|Original error:|Restoring from checkpoint failed\.|"
    r"Original stack trace|File \"|Traceback|Function call stack:)"
)


def _tf_message(e: BaseException) -> str:
    """TensorFlow's most telling line, trimmed: boilerplate ("Graph execution error:", node lines) skipped."""
    text = getattr(e, "message", None) or str(e) or type(e).__name__
    if isinstance(e, KeyError) and e.args:
        text = str(e.args[0])
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    useful = [line for line in lines if not _NOISE.match(line)]
    line = (useful or lines or [type(e).__name__])[0]
    line = re.sub(r"\s+", " ", line)
    if len(line) > _MESSAGE_LIMIT:
        line = line[: _MESSAGE_LIMIT - 3].rstrip() + "..."
    return f"{type(e).__name__}: {line}"


def _run_error(what: str, e: BaseException, hint: str) -> RunError:
    """One line: what failed, TensorFlow's exception, and its captured log line when that says more."""
    message = _tf_message(e)
    logged = quiet.relevant_line(quiet.current().text())
    if logged and logged not in message:
        logged = logged if len(logged) <= _MESSAGE_LIMIT else logged[: _MESSAGE_LIMIT - 3].rstrip() + "..."
        message += f"; TensorFlow logged: {logged}"
    return RunError(f"{what} failed: {message} ({hint})")


def _load_hint(e: BaseException, *, function: bool) -> str:
    text = str(e)
    if "assign a device" in text or "was explicitly assigned" in text:
        return "the model pins ops to a device TensorFlow cannot see here; run it on a machine that has that device"
    if "does not exist" in text or ("not found" in text.lower() and "SavedModel" in text):
        return "check that the directory holds a complete SavedModel (saved_model.pb and variables/)"
    if "MetaGraphDef associated with tags" in text or ("tags" in text and "could not be found" in text):
        return "pick a tag-set the model has (sigtool show lists them)"
    if function:
        return "the session executor may still run it, as TF Serving does: drop --executor function"
    return "check the model with sigtool check; if TensorFlow needs a GPU it lacks, try --device cpu"


def _run_hint(e: BaseException, *, function: bool) -> str:
    text = str(e)
    if re.search(r"not registered|No OpKernel was registered", text):
        return "this TensorFlow cannot run an op of the graph; sigtool check names such ops (OPS001)"
    if "assign a device" in text or "was explicitly assigned" in text:
        return "the graph pins ops to a device TensorFlow cannot see here; try --device cpu"
    if _UNRESTORED.search(text):
        return "the model's variables were not restored; check its variables/ directory (sigtool check)"
    if re.search(r"does not exist|not found in the Graph|cannot be interpreted as a Tensor|does not have output", text):
        return "the signature names a tensor the graph does not have; re-export the model (sigtool check shows it)"
    if re.search(r"type mismatch|expects arg|to be a .* tensor|dtype", text, re.IGNORECASE):
        return "feed values of the dtype the graph expects (sigtool show lists the signature's dtypes)"
    if re.search(r"shape|incompatible", text, re.IGNORECASE):
        return "feed values of the shapes the model expects (sigtool show lists the signature's shapes)"
    return "check the inputs against the signature (sigtool show), or run sigtool check on the model"
