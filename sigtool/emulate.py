"""TF Serving's Predict, Classify and Regress APIs, emulated over runner.execute.

The request comes parsed and checked (sigtool.serving.requests); this module picks the
API, checks the signature as Serving does for classify/regress, builds the
feeds, runs the model, and writes the body Serving would answer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sigtool import runner
from sigtool.errors import UsageError
from sigtool.model import CLASSIFY, REGRESS, MetaGraph, SavedModelInfo, Signature
from sigtool.serving.api import classify_problem, regress_problem
from sigtool.serving.examples import build_examples
from sigtool.serving.requests import ExamplesRequest, PredictRequest
from sigtool.serving.responses import format_classify_response, format_predict_response, format_regress_response
from sigtool.serving.values import Tensor


@dataclass(frozen=True)
class Result:
    outputs: dict[str, Tensor]  # every output of the signature, by key
    body: str  # exactly TF Serving's REST response body


def serve(
    info: SavedModelInfo,
    mg: MetaGraph,
    sig: Signature,
    request,
    *,
    method: str | None,
    device: str | None,
    executor: str = "session",
    warn=None,
) -> Result:
    """Run the request as Serving would; executor and warn go to runner.execute."""
    model_dir = os.path.dirname(info.source) or "."
    run = {"executor": executor, "device": device, "warn": warn}
    if isinstance(request, PredictRequest):
        outputs = runner.execute(model_dir, mg.tags, sig, request.inputs, **run)
        return Result(outputs, format_predict_response(outputs, request.row_format))
    assert isinstance(request, ExamplesRequest)
    api = method if method in ("classify", "regress") else examples_api(sig)
    check_examples_api(sig, api)
    examples = build_examples(request)
    feeds = {sig.inputs[0].key: Tensor("DT_STRING", (len(examples),), tuple(examples))}
    outputs = runner.execute(model_dir, mg.tags, sig, feeds, **run)
    if api == "classify":
        body = format_classify_response(outputs.get("classes"), outputs.get("scores"), len(examples))
    else:
        body = format_regress_response(outputs["outputs"], len(examples))
    return Result(outputs, body)


def check_examples_api(sig: Signature, api: str) -> None:
    """Serving's Classify/Regress checks on the signature, as a UsageError (api: "classify" or "regress")."""
    problem = (classify_problem if api == "classify" else regress_problem)(sig, False)
    if problem:
        raise UsageError(f"{problem} (signature {sig.key} cannot serve the {api.capitalize()} API)")


def examples_api(sig: Signature) -> str:
    """Which API an {"examples": ...} body calls: the method name says, else the keys (as Serving finds TF2 ones)."""
    if sig.method_name == CLASSIFY:
        return "classify"
    if sig.method_name == REGRESS:
        return "regress"
    if classify_problem(sig, False) is None:
        return "classify"
    if regress_problem(sig, False) is None:
        return "regress"
    raise UsageError(
        f'an "examples" body calls Classify or Regress, but signature {sig.key} fits neither '
        "(one input 'inputs'; outputs 'classes'/'scores' or 'outputs'); send \"instances\" or \"inputs\" instead"
    )
