"""Rules for what TF Serving's Classify, Regress and Predict APIs accept (the checks live in sigtool.serving.api).

Serving validates signatures per request, not when it loads the model, so a
model that breaks them loads fine and fails every call; these rules report it.
"""

from __future__ import annotations

from sigtool.checks.registry import Severity, rule, where
from sigtool.model import CLASSIFY, PREDICT, REGRESS, format_shape, format_tags
from sigtool.serving.api import TF_SIGNATURE_DTYPES, classify_problem, predict_problem, regress_problem


def _api_signatures(info):
    """(meta graph, signature) pairs a client can call: internal entries are skipped."""
    for mg in info.meta_graphs:
        for sig in mg.signatures:
            if not sig.internal:
                yield mg, sig


def _api_failures(info, options, method: str, api: str, check):
    """The signatures whose method name is `method` and that `check` finds a problem in."""
    for mg, sig in _api_signatures(info):
        if sig.method_name == method:
            problem = check(sig, options.method_check)
            if problem:
                yield where(format_tags(mg.tags), sig.key), f"Serving's {api} API would fail: {problem}"


@rule("SRV001", Severity.ERROR)
def classify_signature_conforms(ctx):
    """A signature whose method name says classify passes Serving's Classify checks.

    Serving checks a classify signature only when a request arrives: exactly one
    input keyed "inputs", one or two outputs including "classes" or "scores".
    A model that breaks these loads fine and fails every Classify call.
    """
    yield from _api_failures(ctx.info, ctx.options, CLASSIFY, "Classify", classify_problem)


@rule("SRV002", Severity.ERROR)
def regress_signature_conforms(ctx):
    """A signature whose method name says regress passes Serving's Regress checks.

    Serving's Regress API needs exactly one input keyed "inputs" and one output
    keyed "outputs"; anything else fails per request, not at load time.
    """
    yield from _api_failures(ctx.info, ctx.options, REGRESS, "Regress", regress_problem)


@rule("SRV003", Severity.ERROR)
def method_name_known(ctx):
    """Under --method-check, every signature's method name is predict, classify or regress.

    With Serving's --enable_signature_method_name_check, Predict answers any
    other method name with an INTERNAL error (HTTP 500).
    """
    if not ctx.options.method_check:
        return
    for mg, sig in _api_signatures(ctx.info):
        problem = predict_problem(sig, True)
        if problem:
            yield where(format_tags(mg.tags), sig.key), f"Serving's Predict API would fail: {problem}"


@rule("SRV004", Severity.WARNING)
def method_name_matches_keys(ctx):
    """Under --method-check, classify- or regress-shaped signatures also say so in their method name.

    TF2 exports (tf.saved_model.save) write every method name as predict.
    Serving finds classify/regress signatures by their keys, unless the method
    name check is on: then Classify/Regress calls on them fail.
    """
    if not ctx.options.method_check:
        return
    for mg, sig in _api_signatures(ctx.info):
        if sig.method_name in (CLASSIFY, REGRESS):
            continue
        for api, method, check in (("Classify", CLASSIFY, classify_problem), ("Regress", REGRESS, regress_problem)):
            if check(sig, False) is None:
                yield (
                    where(format_tags(mg.tags), sig.key),
                    (
                        f"keys fit Serving's {api} API but method_name is {sig.method_name or '(empty)'}; "
                        f"with the method name check on, {api} calls fail: {check(sig, True)}; "
                        f"export it with method_name {method}"
                    ),
                )


@rule("SRV005", Severity.INFO)
def predict_reachable_over_rest(ctx):
    """A predict signature with no inputs works over gRPC but cannot be called over REST.

    REST request bodies carry inputs; with none to send, Serving answers
    "Failed to get input map for signature". gRPC Predict serves it.
    """
    for mg, sig in _api_signatures(ctx.info):
        if not sig.inputs and sig.method_name in (PREDICT, ""):
            yield (
                where(format_tags(mg.tags), sig.key),
                (
                    f"no inputs: gRPC Predict serves it, but REST fails with "
                    f"'Failed to get input map for signature: {sig.key}'"
                ),
            )


# --- TF's is_valid_signature dtype rules (warnings: Serving does not enforce them) -----------


@rule("TYPE001", Severity.WARNING)
def classify_regress_dtypes(ctx):
    """Classify/regress signatures use the dtypes TF's is_valid_signature requires.

    The input must be DT_STRING (serialized tf.Example), classify scores
    DT_FLOAT and classes DT_STRING, regress outputs DT_FLOAT. Serving does not
    check this up front; requests then fail inside the session or return
    results clients cannot parse.
    """
    for mg, sig in _api_signatures(ctx.info):
        if sig.method_name not in TF_SIGNATURE_DTYPES:
            continue
        for io, specs in (("inputs", sig.inputs), ("outputs", sig.outputs)):
            for t in specs:
                expected = TF_SIGNATURE_DTYPES[sig.method_name][io].get(t.key)
                if expected and t.dtype != expected:
                    yield (
                        where(format_tags(mg.tags), sig.key, io, t.key),
                        (
                            f"{t.key} is {t.dtype}; TF's is_valid_signature wants {expected} for a "
                            f"{sig.method_name.rsplit('/', 1)[1]} signature"
                        ),
                    )


# --- static versions of Serving's runtime shape checks ------------------------------------------


@rule("SHAPE001", Severity.WARNING)
def classify_regress_shapes(ctx):
    """Declared shapes fit what Serving checks at run time for classify/regress.

    Serving feeds a [batch] vector of serialized Examples, and requires classes
    and scores of rank 2 ([batch, num_classes]) and regress outputs of shape
    [batch] or [batch, 1]. A declared shape that contradicts this means the
    graph will be fed or will answer something Serving rejects.
    """
    for mg, sig in _api_signatures(ctx.info):
        if sig.method_name not in (CLASSIFY, REGRESS):
            continue
        for t in sig.inputs:
            if t.key == "inputs" and t.shape is not None and t.shape_present and len(t.shape) != 1:
                yield (
                    where(format_tags(mg.tags), sig.key, "inputs", t.key),
                    (
                        f"input shape {format_shape(t.shape)} is not rank 1; "
                        "Serving feeds a [batch] vector of serialized Examples"
                    ),
                )
        for t in sig.outputs:
            if t.shape is None or not t.shape_present:
                continue
            if sig.method_name == CLASSIFY and t.key in ("classes", "scores") and len(t.shape) != 2:
                yield (
                    where(format_tags(mg.tags), sig.key, "outputs", t.key),
                    (f"{t.key} shape {format_shape(t.shape)} is not rank 2; Serving expects [batch_size, num_classes]"),
                )
            regress_fits = len(t.shape) == 1 or (len(t.shape) == 2 and t.shape[1] in (1, -1))
            if sig.method_name == REGRESS and t.key == "outputs" and not regress_fits:
                yield (
                    where(format_tags(mg.tags), sig.key, "outputs", t.key),
                    (f"outputs shape {format_shape(t.shape)}; Serving expects [batch_size] or [batch_size, 1]"),
                )
