"""`sigtool diff`: which clients a new model version breaks, before it is deployed.

    changes        Change, Severity, the table of stable codes (KINDS), summary_line
    engine         compare(old, new, tags) -> [Change]: the served MetaGraph's signatures, ops, TF version
    features       the tf.Example features string inputs are parsed with (from the graphs)
    metadata_json  a saved TF Serving GetModelMetadata response as a SavedModelInfo
    render         table, JSON (sigtool.diff/1), GitHub workflow commands, JUnit XML

Never imports TensorFlow; sigtool.commands.diff loads the models and calls these.
"""

from sigtool.diff.changes import KINDS, Change, Severity, failed, summary_line
from sigtool.diff.engine import compare, compared_signatures

__all__ = ["KINDS", "Change", "Severity", "compare", "compared_signatures", "failed", "summary_line"]
