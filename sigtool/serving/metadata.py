"""The body of TF Serving's GET /v1/models/NAME[/versions/N]/metadata, for the MetaGraph Serving loads.

Serving (model_servers/http_rest_api_util.cc ToJsonString) prints the response's
model_spec and its SignatureDefMap separately with protobuf's JSON printer and glues them with literal
text, which gives this exact layout:

    {
    "model_spec":{
     "name": "default",
     "signature_name": "",
     "version": "123"
    }
    ,
    "metadata": {"signature_def": {
     "signature_def": {
      "serving_default": {
       ...
    }
    }
    }

Every signature of the MetaGraph is included (TF2's __saved_model_init_op too), with its defaults; key
order within each object follows Serving's golden files (see sigtool.loader.proto_json), signatures and
map keys are sorted.
"""

from __future__ import annotations

import re
from pathlib import Path

from sigtool.errors import UsageError
from sigtool.model import SERVE_TAG, SavedModelInfo, format_tags

DEFAULT_MODEL_NAME = "default"  # Serving's --model_name default
_INT64_MAX = 2**63 - 1


def metadata_body(info: SavedModelInfo, model_name: str = DEFAULT_MODEL_NAME) -> str:
    """Exactly the body Serving answers GET /v1/models/<model_name>/metadata with, for this model."""
    from sigtool import loader
    from sigtool.loader import signature_defs

    if info.legacy:
        raise UsageError(
            f"{info.source} is a legacy SessionBundle export: current TF Serving refuses it, so it has "
            "no metadata to give; re-export it as a SavedModel"
        )
    unparsable = loader.invalid_utf8_error(info)
    if unparsable:
        raise unparsable
    index = _served_index(info)
    version = served_version(info)
    spec = signature_defs.model_spec_json(model_name, version)
    signatures = signature_defs.signature_def_map_json(info, index)
    return '{\n"model_spec":' + spec + ',\n"metadata": {"signature_def": ' + signatures + "}\n}\n"


def served_version(info: SavedModelInfo) -> int:
    """The version Serving loads the model as: its version directory's number."""
    directory = info.version if info.version is not None else Path(info.source).parent.name
    if re.fullmatch(r"\s*[+-]?\d+\s*", directory) and abs(int(directory)) <= _INT64_MAX:
        return int(directory)
    raise UsageError(
        f"{info.source} is not in a numbered version directory, so TF Serving cannot load it and there is no "
        "version for its metadata; move it to MODEL_BASE_PATH/1/ and pass MODEL_BASE_PATH (or the version directory)"
    )


def _served_index(info: SavedModelInfo) -> int:
    from sigtool.loader import signature_defs

    if not any(set(mg.tags) == {SERVE_TAG} for mg in info.meta_graphs):
        tag_sets = "; ".join(sorted({format_tags(mg.tag_set) for mg in info.meta_graphs})) or "(none)"
        raise UsageError(
            f"no MetaGraph is tagged exactly 'serve', the tag-set TF Serving loads by default "
            f"(tag-sets: {tag_sets}); re-export the model with tags ['serve']"
        )
    return signature_defs.meta_graph_index(info, (SERVE_TAG,))
