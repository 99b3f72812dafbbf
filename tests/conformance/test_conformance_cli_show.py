"""`show -f smcli`'s narrower selections on the corpus, written from TF's recorded facts by §2.1's grammar."""

from __future__ import annotations

import pytest
from corpus_facts import CORPUS, corpus_model_dirs
from test_cli_show import assert_smcli_grammar

SAVED_MODEL_DIRS = [(rel, f) for rel, f in corpus_model_dirs() if f["read_saved_model"]["ok"]]


@pytest.mark.parametrize("rel,facts", SAVED_MODEL_DIRS, ids=[r for r, _ in SAVED_MODEL_DIRS])
def test_smcli_narrow_selections_follow_the_grammar(rel, facts):
    assert_smcli_grammar(CORPUS / rel, facts)
