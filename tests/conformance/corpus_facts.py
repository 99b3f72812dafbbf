"""The shared corpus and TensorFlow's recorded facts about it (its location comes from tests/conftest.py)."""

from __future__ import annotations

import json

from conftest import corpus_root

CORPUS = corpus_root()
REAL = CORPUS / "real"
GEN = CORPUS / "generated"
BAD = CORPUS / "bad"


def corpus_expected() -> dict:
    return json.loads((CORPUS / "expected" / "INDEX.json").read_text())


def corpus_model_dirs() -> list[tuple[str, dict]]:
    """(path relative to the corpus, TF's facts) for every model and version directory."""
    found = []
    for path in sorted((CORPUS / "expected").glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("kind") == "model":
            found += sorted(data["dirs"].items())
    return found


def facts_of(name: str) -> dict:
    """expected/<name>.json: a model's facts, or bad_<name> for a malformed input."""
    return json.loads((CORPUS / "expected" / f"{name}.json").read_text())


def manifest() -> dict:
    return json.loads((GEN / "MANIFEST.json").read_text())
