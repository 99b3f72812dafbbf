"""What TF Serving's Classify, Regress and Predict APIs require of a signature, with Serving's error texts."""

# Serving checks a signature per request, not when it loads the model: these functions return the message a
# request would fail with, or None. `check` rules report them statically; `run` refuses a request with them.

from __future__ import annotations

from sigtool.model import CLASSIFY, PREDICT, REGRESS, Signature

_KNOWN_METHODS = (PREDICT, CLASSIFY, REGRESS)
NOUNS = {CLASSIFY: "classification", REGRESS: "regression"}  # how Serving's messages name each API

# TensorFlow's Python is_valid_signature: the keys classify/regress signatures may have, and each key's dtype
TF_SIGNATURE_DTYPES = {
    CLASSIFY: {"inputs": {"inputs": "DT_STRING"}, "outputs": {"classes": "DT_STRING", "scores": "DT_FLOAT"}},
    REGRESS: {"inputs": {"inputs": "DT_STRING"}, "outputs": {"outputs": "DT_FLOAT"}},
}


NO_CLASSES_OR_SCORES = 'Expected classification signature outputs to contain at least one of "classes" or "scores".'


def _debug(sig: Signature) -> str:
    return f"<SignatureDef {sig.key}>"


def input_count_problem(sig: Signature) -> str | None:
    """Classify and Regress feed one input (C2, R2)."""
    return "Expected one input Tensor." if len(sig.inputs) != 1 else None


def input_key_problem(sig: Signature, method: str) -> str | None:
    """Classify and Regress feed the input keyed "inputs" (C4, R4); call it once input_count_problem passes."""
    return f"No {NOUNS[method]} inputs found in SignatureDef" if sig.inputs[0].key != "inputs" else None


def classify_problem(sig: Signature, method_check: bool) -> str | None:
    """Serving's PreProcessClassification, in its order (C1-C5)."""
    if method_check and sig.method_name != CLASSIFY:
        return f"Expected classification signature method_name to be {CLASSIFY}. Was: {sig.method_name}"
    if problem := input_count_problem(sig):
        return problem
    if len(sig.outputs) not in (1, 2):
        return f"Expected one or two output Tensors, found {len(sig.outputs)}"
    if problem := input_key_problem(sig, CLASSIFY):
        return f"{problem}: {_debug(sig)}"
    if not {"classes", "scores"} & {t.key for t in sig.outputs}:
        return f"{NO_CLASSES_OR_SCORES} Signature was: {_debug(sig)}"
    return None


def regress_problem(sig: Signature, method_check: bool) -> str | None:
    """Serving's PreProcessRegression (R1-R5)."""
    if method_check and sig.method_name != REGRESS:
        return f"Expected regression signature method_name to be {REGRESS}. Was: {sig.method_name}"
    if problem := input_count_problem(sig):
        return problem
    if len(sig.outputs) != 1:
        return "Expected one output Tensor."
    if problem := input_key_problem(sig, REGRESS):
        return f"{problem}: {_debug(sig)}"
    if sig.outputs[0].key != "outputs":
        return f"No regression outputs found in SignatureDef: {_debug(sig)}"
    return None


def predict_problem(sig: Signature, method_check: bool) -> str | None:
    """Serving's Predict VerifySignature (P1): only the method name, and only with the check on."""
    if method_check and sig.method_name not in _KNOWN_METHODS:
        return (
            f"Expected prediction signature method_name to be one of {{{PREDICT}, {CLASSIFY}, {REGRESS}}}. "
            f"Was: {sig.method_name}"
        )
    return None


def tf_is_valid_signature(sig: Signature) -> bool:
    """TensorFlow's Python is_valid_signature: one reference, not what Serving enforces."""
    inputs = {t.key: t.dtype for t in sig.inputs}
    outputs = {t.key: t.dtype for t in sig.outputs}
    if sig.method_name == PREDICT:
        return bool(inputs) and bool(outputs)
    wanted = TF_SIGNATURE_DTYPES.get(sig.method_name)
    if wanted is None:
        return False
    # inputs: exactly the listed keys; outputs: at least one, only listed keys; every dtype as listed
    return (
        inputs == wanted["inputs"]
        and bool(outputs)
        and all(wanted["outputs"].get(k) == dtype for k, dtype in outputs.items())
    )
