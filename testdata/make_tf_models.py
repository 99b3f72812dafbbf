#!/usr/bin/env python3
"""Build sigtool's TensorFlow-written test models into testdata/tf/ (needs TensorFlow + Keras).

testdata/make_testdata.py builds byte-exact models from protobuf messages; this script builds
the models only TensorFlow itself can write faithfully: TF1 SavedModelBuilder exports, TF2
object graphs, Keras exports, warmup files. TensorFlow's output is not byte-for-byte
reproducible (fingerprints, checkpoint layout), so tests/test_tf_models.py compares what
`sigtool show --all -f json` reports for a fresh build with the committed one.

    python testdata/make_tf_models.py                   # rewrite testdata/tf/ in place
    python testdata/make_tf_models.py --out DIR         # write DIR/<name>/ instead
    python testdata/make_tf_models.py --only tf1_pbtxt  # one model

Each model is a SavedModel directory named for what it exercises (MODELS below). Empty
variables/ and assets/ directories are not kept: git cannot store them, and TensorFlow
loads such models without them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")

# These import TensorFlow: after the environment is set.
from tf_models_tf1 import (
    tf1_assets_vocab_table,
    tf1_classify_regress_predict,
    tf1_composite_tensors,
    tf1_constant_output,
    tf1_denylisted_ops,
    tf1_invalid_classify,
    tf1_missing_tensor,
    tf1_multi_metagraph,
    tf1_pbtxt,
)
from tf_models_tf2 import (
    keras_functional_export,
    keras_functional_tfsave,
    keras_string_lookup,
    tf2_assets_lookup,
    tf2_auto_default_signature,
    tf2_denylisted_ops,
    tf2_dtypes,
    tf2_module_multisig,
    tf2_no_signatures,
    tf2_pbtxt_converted,
    tf2_warmup,
)

HERE = Path(__file__).resolve().parent

# Built in this order: TensorFlow numbers functions per process.
MODELS = {
    f.__name__: f
    for f in (
        tf1_constant_output,
        tf1_denylisted_ops,
        tf1_invalid_classify,
        tf1_missing_tensor,
        tf1_classify_regress_predict,
        tf1_pbtxt,
        tf1_multi_metagraph,
        tf1_composite_tensors,
        tf1_assets_vocab_table,
        tf2_auto_default_signature,
        tf2_no_signatures,
        tf2_denylisted_ops,
        tf2_warmup,
        tf2_assets_lookup,
        tf2_dtypes,
        tf2_module_multisig,
        tf2_pbtxt_converted,
        keras_functional_export,
        keras_functional_tfsave,
        keras_string_lookup,
    )
}


def drop_empty_dirs(root: Path) -> None:
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "tf", help="output directory (default testdata/tf)")
    parser.add_argument("--only", action="append", choices=sorted(MODELS), help="build only this model (repeatable)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or MODELS:
        target = args.out / name
        shutil.rmtree(target, ignore_errors=True)
        MODELS[name](target)
        drop_empty_dirs(target)
        print(f"{name}: {sum(p.stat().st_size for p in target.rglob('*') if p.is_file())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
