"""TF Serving's REST request bodies -> PredictRequest / ExamplesRequest, checked as Serving checks them."""

# Kept from Serving: extra keys in a columnar "inputs" object are ignored; DT_FLOAT takes any number, rounding to
# float32 (1e300 -> inf); DT_INT8/INT16/UINT8 take any int32 and wrap as TF's cast does; in a tf.Example's
# features the last of duplicate keys wins.
# Departures, on purpose: with check_shapes=True a tensor whose rank or fixed dimensions contradict the declared
# shape is refused (Serving ignores TensorInfo shapes, so half_plus_two's x [-1,1] accepts [1.0, 2.0] there);
# json_io refuses bodies over 64 MiB or nested deeper than 64 levels.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sigtool.model import CLASSIFY, DEFAULT_SIGNATURE, REGRESS, Signature, TensorSpec
from sigtool.serving import api
from sigtool.serving.errors import RequestRejected, StatusError
from sigtool.serving.examples import parse_features
from sigtool.serving.json_io import JsonObject, load, show
from sigtool.serving.json_tensor import converter, dense_shape, fill, finish, is_b64, plain_tensor
from sigtool.serving.values import Feature, Tensor, shape_str


@dataclass(frozen=True)
class PredictRequest:
    signature_name: str | None  # as the body gave it
    row_format: bool  # "instances" (answer with "predictions") vs "inputs" (answer with "outputs")
    inputs: dict[str, Tensor]


@dataclass(frozen=True)
class ExamplesRequest:
    signature_name: str | None
    examples: tuple[dict[str, Feature], ...]
    context: dict[str, Feature] | None  # None: Input.example_list; else example_list_with_context


_RAGGED_HINT = "every instance must have the same shape: tensors are not ragged"


class _Column:
    """The instances seen so far for one input (Serving's size_map / shape_map / TensorProto)."""

    def __init__(self, spec: TensorSpec):
        self.spec, self.conv = spec, converter(spec.dtype)
        self.values: list = []
        self.shape: list[int] | None = None
        self.size = 0

    def add_instance(self, value) -> None:
        shape = dense_shape(value)
        start = len(self.values)
        fill(value, shape, self.spec.dtype, self.conv, self.values)
        size = len(self.values) - start
        if self.shape is None:
            self.shape, self.size = shape, size
        elif size != self.size:
            raise StatusError(f"Expecting tensor size: {self.size} but got: {size}", hint=_RAGGED_HINT)
        elif shape != self.shape:
            raise StatusError(f"Expecting shape {shape_str(self.shape)} but got: {shape_str(shape)}", hint=_RAGGED_HINT)

    def add_all(self, instances: list) -> bool:
        """All instances at once when they form one well-formed tensor (the same result, faster)."""
        shape = dense_shape(instances)
        values = plain_tensor(instances, shape, self.spec.dtype)
        if values is None:
            return False
        self.values, self.shape, self.size = values, shape[1:], len(values) // len(instances)
        return True

    def tensor(self, batch: int | None) -> Tensor:
        shape = tuple(self.shape or ()) if batch is None else (batch, *(self.shape or ()))
        return Tensor(self.spec.dtype, shape, finish(self.spec.dtype, self.values))


def _reject(bad: StatusError, prefix: str = "") -> RequestRejected:
    text = f"{prefix}{bad.status()}" if prefix else bad.message
    return RequestRejected(text, bad.hint or "fix the request")


def _row_inputs(instances: list, specs: dict[str, TensorSpec]) -> dict[str, Tensor]:
    names = ",".join(sorted(specs))
    first = instances[0]
    named = isinstance(first, dict) and not is_b64(first)
    if not named and len(specs) > 1:
        raise RequestRejected(
            "instances is a plain list, but expecting list of objects as multiple input tensors required as per "
            "tensorinfo_map",
            f"write each instance as an object with the keys {names}",
        )
    columns = {k: _Column(spec) for k, spec in specs.items()}
    if not named and next(iter(columns.values())).add_all(instances):
        return {k: c.tensor(len(instances)) for k, c in columns.items()}
    for i, item in enumerate(instances):
        is_object = isinstance(item, dict) and not is_b64(item)
        if named:
            if not is_object:
                raise RequestRejected(
                    f"Expecting object but got list at item {i} of input list",
                    f"write every instance as an object with the keys {names}",
                )
            for key, value in item.items():
                column = columns.get(key)
                if column is None:
                    raise RequestRejected(
                        f"Failed to process element: {i} key: {key} of 'instances' list. Error: INVALID_ARGUMENT: "
                        f"JSON object: does not have named input: {key}",
                        f"the signature's inputs are: {names}",
                    )
                try:
                    column.add_instance(value)
                except StatusError as bad:
                    prefix = f"Failed to process element: {i} key: {key} of 'instances' list. Error: "
                    raise _reject(bad, prefix) from None
            if item.keys() != specs.keys():
                raise RequestRejected(
                    f"Failed to process element: {i} of 'instances' list. JSON object: {show(item)} keys must be "
                    f"equal to: {names}",
                    f"every instance needs exactly the keys {names}",
                )
        else:
            if is_object:
                raise RequestRejected(
                    f"Expecting value/list but got object at item {i} of input list",
                    "write every instance as a value or list, like the first one",
                )
            try:
                next(iter(columns.values())).add_instance(item)
            except StatusError as bad:
                raise _reject(bad, f"Failed to process element: {i} of 'instances' list. Error: ") from None
    return {k: c.tensor(len(instances)) for k, c in columns.items()}


def _columnar_inputs(value, specs: dict[str, TensorSpec]) -> dict[str, Tensor]:
    names = ",".join(sorted(specs))
    if not isinstance(value, dict) or is_b64(value):
        if len(specs) > 1:
            raise RequestRejected(
                "inputs is a plain value/list, but expecting an object as multiple input tensors required as per "
                "tensorinfo_map",
                f'write "inputs" as an object with the keys {names}',
            )
        picked = {next(iter(specs)): value}
    else:
        picked = {}
        for key in specs:  # extra keys are ignored, as Serving does
            if key not in value:
                raise RequestRejected(
                    f"Missing named input: {key} in 'inputs' object.", f'"inputs" needs the keys {names}'
                )
            picked[key] = value[key]
    tensors = {}
    for key, v in picked.items():
        column = _Column(specs[key])
        try:
            column.add_instance(v)
        except StatusError as bad:
            raise _reject(bad) from None
        tensors[key] = column.tensor(None)
    return tensors


def shape_mismatch(key: str, spec: TensorSpec, tensor: Tensor, row_format: bool) -> tuple[str, str] | None:
    """(what is wrong, what to do) when a tensor contradicts the declared shape's rank or fixed dims."""
    declared = spec.shape
    if declared is None or not spec.shape_present:
        return None
    if len(declared) == len(tensor.shape) and all(d < 0 or d == a for d, a in zip(declared, tensor.shape)):
        return None
    if row_format and declared:
        want = f"each instance of {key!r} must have shape {shape_str(declared[1:])}"
    else:
        want = f"send {key!r} with shape {shape_str(declared)}"
    return f"input {key!r} has shape {shape_str(tensor.shape)} but the signature declares {shape_str(declared)}", want


def shape_mismatches(request: PredictRequest, signature: Signature) -> list[str]:
    """One line per input whose shape contradicts the signature (TF Serving itself does not check this)."""
    specs = {t.key: t for t in signature.inputs}
    found = (shape_mismatch(k, specs[k], t, request.row_format) for k, t in request.inputs.items() if k in specs)
    return [f"{what} ({want}, where -1 is any size)" for what, want in (m for m in found if m)]


def _check_declared_shape(key: str, spec: TensorSpec, tensor: Tensor, row_format: bool) -> None:
    mismatch = shape_mismatch(key, spec, tensor, row_format)
    if mismatch:
        what, want = mismatch
        raise RequestRejected(
            None,
            f"{want}, where -1 is any size; TF Serving itself does not check declared shapes, so turning "
            "check_shapes off sends it as Serving would, and the model may then fail",
            what,
        )


def _predict(doc: JsonObject, sig: Signature, name: str | None, check_shapes: bool) -> PredictRequest:
    if not sig.inputs:
        raise RequestRejected(
            f"Failed to get input map for signature: {name or 'DEFAULT'}",
            f"signature {sig.key!r} has no inputs; TF Serving's REST API cannot call it, gRPC can",
        )
    specs = {t.key: t for t in sig.inputs}
    for t in sig.inputs:
        if t.encoding not in ("name", ""):
            raise RequestRejected(
                None,
                "the REST JSON API feeds only dense tensors; use gRPC for this signature",
                f"input {t.key!r} is a {t.encoding} tensor",
            )
    has_instances, has_inputs = "instances" in doc, "inputs" in doc
    if has_instances and has_inputs:
        raise RequestRejected(
            f"JSON Value: {show(doc)} Not formatted correctly expecting only one of 'inputs' or "
            "'instances' keys to exist ",
            'send either "instances" (row format) or "inputs" (columnar format), not both',
        )
    if has_instances:
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise RequestRejected(
                f"JSON Value: {show(doc)} Expecting 'instances' to be an list/array",
                '"instances" must be a list with one entry per instance',
            )
        if not instances:
            raise RequestRejected(
                f"JSON Value: {show(doc)} No values in 'instances' array", 'give "instances" at least one instance'
            )
        inputs = _row_inputs(instances, specs)
    elif has_inputs:
        inputs = _columnar_inputs(doc["inputs"], specs)
    else:
        raise RequestRejected(
            "Missing 'inputs' or 'instances' key",
            'send {"instances": [...]} or {"inputs": ...}; classify and regress take {"examples": [...]}',
        )
    if check_shapes:
        for key, tensor in inputs.items():
            _check_declared_shape(key, specs[key], tensor, has_instances)
    return PredictRequest(name, has_instances, inputs)


def _examples(doc: JsonObject, signature, name: str | None, method: str) -> ExamplesRequest:
    """method: "classify", "regress", or "" when guessed from the body (the signature's method_name decides)."""
    try:
        context = parse_features(doc["context"]) if "context" in doc else None
        if "examples" not in doc:
            raise StatusError(
                f"JSON Value: {show(doc)} When method is classify, key 'examples' is expected and was not found",
                hint='send {"examples": [{...}, ...]}',
            )
        examples = doc["examples"]
        if not isinstance(examples, list):
            raise StatusError(
                f"JSON Value: {show(doc)} Expecting 'examples' value to be an list/array",
                hint='"examples" must be a list of objects',
            )
        if not examples:
            raise StatusError(
                f"JSON Value: {show(doc)} 'examples' value is an empty array",
                hint='give "examples" at least one example',
            )
        parsed = tuple(parse_features(e) for e in examples)
    except StatusError as bad:
        raise _reject(bad) from None
    sig = _pick_signature(signature, name, method or "classify")  # Serving looks it up after reading the examples
    regress = method == "regress" or (not method and sig.method_name == REGRESS)
    what = api.NOUNS[REGRESS if regress else CLASSIFY]
    if problem := api.input_count_problem(sig):
        raise RequestRejected(
            problem,
            f'{what} needs a signature with exactly one input, "inputs", of serialized '
            f"tf.Examples; {sig.key!r} has {len(sig.inputs)}",
        )
    if problem := api.input_key_problem(sig, REGRESS if regress else CLASSIFY):
        raise RequestRejected(
            problem,
            f'{what} needs the input key "inputs"; {sig.key!r} has '
            f'{sig.inputs[0].key!r}; call it with "instances" or "inputs" instead',
        )
    return ExamplesRequest(name, parsed, context)


def parse_request(
    body: str | bytes,
    signature: Signature | Mapping[str, Signature],
    *,
    method: str | None = None,
    check_shapes: bool = True,
) -> PredictRequest | ExamplesRequest:
    """Parse and check a REST request body as TF Serving would, or raise RequestRejected.

    `signature` is the Signature to run, or a mapping key -> Signature from which the body's "signature_name"
    (default "serving_default") picks one. `method` is the REST verb ("predict", "classify", "regress"); None
    guesses it from the body ("examples" without "instances"/"inputs" means classify/regress).
    """
    if method not in (None, "predict", "classify", "regress"):
        raise ValueError(f"method must be predict, classify or regress, not {method!r}")
    try:
        return _parse(load(body), signature, method, check_shapes)
    except MemoryError:
        raise RequestRejected(None, "send a smaller request", "request is too large to hold in memory") from None


def _parse(doc: JsonObject, signature, method: str | None, check_shapes: bool) -> PredictRequest | ExamplesRequest:
    name = doc.get("signature_name")
    if "signature_name" in doc and not isinstance(name, str):
        raise RequestRejected(
            f"JSON Value: {show(doc)} not formatted correctly. 'signature_name' key must be a string value.",
            'give "signature_name" as a string, e.g. "serving_default"',
        )
    if method is None and "examples" in doc and "instances" not in doc and "inputs" not in doc:
        method = ""  # classify or regress: the signature's method_name tells which
    if method in (None, "predict"):
        return _predict(doc, _pick_signature(signature, name, "predict"), name, check_shapes)
    return _examples(doc, signature, name, method)


def _pick_signature(signature, name: str | None, method: str) -> Signature:
    wanted = name or DEFAULT_SIGNATURE
    if isinstance(signature, Signature):
        if name and name != signature.key:
            raise RequestRejected(
                None,
                f'remove "signature_name" from the request or run signature {name!r}',
                f"the request names signature {name!r} but {signature.key!r} was selected",
            )
        return signature
    if wanted in signature:
        return signature[wanted]
    keys = ", ".join(sorted(k for k in signature if not k.startswith("__"))) or "(none)"
    message = (
        f'Serving signature name: "{wanted}" not found in signature def'
        if method == "predict"
        else f"No signature was found with the name: {wanted}"
    )
    raise RequestRejected(message, f'set "signature_name" to one of: {keys}')
