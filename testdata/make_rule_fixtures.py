#!/usr/bin/env python3
"""Build one model that triggers each `sigtool check` rule, and one that does not.

Every rule this script owns (CASES) gets testdata/rules/<RULE>/ holding:

    triggers/    a model directory or model base path on which the rule fires
    clean/       the same model with the one thing fixed (absent for a rule that fires on every model;
                 unconditional.txt then says why)
    args.txt     the check options both are checked with (may be empty), e.g. --method-check
    expect.txt   text each triggering finding list must contain, one per line ("where  message")

tests/test_rules.py reads these; testdata/rules/README.md describes the layout. Most models are
built from protobuf messages with testdata/make_testdata.py's helpers and are byte-for-byte
reproducible. A few (TF_CASES) are written by TensorFlow itself, because the point is what
tf.saved_model.save really writes (functions, checkpoint shards); those need TensorFlow here.

    python testdata/make_rule_fixtures.py                # rewrite testdata/rules/<RULE>/ for every owned rule
    python testdata/make_rule_fixtures.py --out DIR      # write DIR/<RULE>/ instead
    python testdata/make_rule_fixtures.py --no-tf        # only the protobuf-built rules (no TensorFlow needed)
    python testdata/make_rule_fixtures.py --tf-only      # only the TensorFlow-built rules

The script deletes and rewrites only the rule directories it owns (OWNED), so fixtures other
scripts or people add under testdata/rules/ are left alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # make_testdata and the helpers below, whatever the current directory
sys.path.insert(0, str(HERE.parent))  # this checkout's sigtool._proto

from rule_fixture_cases import CASES, OWNED, TF_CASES, Case

RULES_DIR = HERE / "rules"


# --- building -----------------------------------------------------------------------------------


def meta_files(case: Case) -> dict[str, bytes]:
    files = {"args.txt": (case.args + "\n").encode(), "expect.txt": "".join(e + "\n" for e in case.expect).encode()}
    if case.unconditional:
        files["unconditional.txt"] = (case.unconditional + "\n").encode()
    return files


def build() -> dict[str, bytes]:
    """Every file of the protobuf-built rules, and the option files of all: path under the rules dir -> bytes."""
    files: dict[str, bytes] = {}
    for rule_id, (_case, make) in CASES.items():
        triggers, clean = make()
        for kind, tree in (("triggers", triggers), ("clean", clean or {})):
            files.update({f"{rule_id}/{kind}/{rel}": data for rel, data in tree.items()})
    for rule_id, case in {**{r: c for r, (c, _) in CASES.items()}, **TF_CASES}.items():
        files.update({f"{rule_id}/{rel}": data for rel, data in meta_files(case).items()})
    return files


def build_tf(out: Path) -> None:
    """Write the TensorFlow-built fixtures of TF_CASES under out/<RULE>/ (models only)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    x_spec = tf.TensorSpec([None, 1], tf.float32, name="x")

    def save(module, path: Path, *, shard_bytes: int | None = None) -> None:
        options = None
        if shard_bytes:  # several variables.data-*-of-* files, as a large model has
            policy = tf.train.experimental.MaxShardSizePolicy(max_shard_size=shard_bytes)
            options = tf.saved_model.SaveOptions(experimental_sharding_callback=policy)
        with tempfile.TemporaryDirectory() as tmp:
            tf.saved_model.save(module, tmp, signatures={"serving_default": module.serve}, options=options)
            os.remove(os.path.join(tmp, "fingerprint.pb"))  # holds a random id; nothing here reads it
            shutil.copytree(tmp, path)

    class Noisy(tf.Module):
        """y reads a variable, so TF ties every output to the reads with a control edge (^NoOp)."""

        def __init__(self, frozen: bool):
            self.frozen = frozen
            self.scale = tf.Variable(0.5)

        @tf.function(input_signature=[x_spec])
        def serve(self, x):
            # frozen: the tf.function trap, numpy draws once, while tracing, and a constant is saved
            noise = tf.constant(np.random.default_rng(0).normal(), tf.float32) if self.frozen else tf.random.normal([])
            return {"y": x * self.scale + 2.0, "noise": noise}

    class Logging(tf.Module):
        """Reads a file and stamps the time on every request (unsafe), and prints (allowed by args.txt)."""

        def __init__(self, unsafe: bool):
            self.unsafe = unsafe
            self.scale = tf.Variable(0.5)

        @tf.function(input_signature=[x_spec])
        def serve(self, x):
            outputs = {"y": x * self.scale + 2.0}
            if self.unsafe:
                tf.print("request at", tf.timestamp())
                outputs["labels"] = tf.io.read_file("/srv/models/half_plus_two/labels.txt")
            else:
                tf.print("request")
            return outputs

    class Regressor(tf.Module):
        def __init__(self):
            self.w = tf.Variable([[0.5]], name="w")
            self.b = tf.Variable([2.0], name="b")

        @tf.function(input_signature=[x_spec])
        def serve(self, x):
            return {"y": tf.matmul(x, self.w) + self.b}

    class Vocabulary(tf.Module):
        """Maps words to ids with a table that TensorFlow fills from assets/vocab.txt when the model loads."""

        def __init__(self, path: str):
            init = tf.lookup.TextFileInitializer(
                path, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER
            )
            self.table = tf.lookup.StaticHashTable(init, default_value=-1)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="words")])
        def serve(self, words):
            return {"ids": self.table.lookup(words)}

    # Always all of them, in this order: TF numbers its functions per process.
    save(Noisy(frozen=True), out / "GRAPH004" / "triggers" / "1")
    save(Noisy(frozen=False), out / "GRAPH004" / "clean" / "1")
    save(Logging(unsafe=True), out / "SEC001" / "triggers" / "1")
    save(Logging(unsafe=False), out / "SEC001" / "clean" / "1")
    save(Regressor(), out / "SERVE003" / "triggers" / "1", shard_bytes=4)
    save(Regressor(), out / "SERVE003" / "clean" / "1", shard_bytes=4)
    # Copied without its first data shard.
    os.remove(out / "SERVE003" / "triggers" / "1" / "variables" / "variables.data-00000-of-00002")
    # The table's shared_name holds the vocabulary's path as given: a relative one keeps the bytes the same.
    out, cwd = out.resolve(), os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            Path("vocab.txt").write_text("apple\nbanana\ncherry\n")
            save(Vocabulary("vocab.txt"), out / "SERVE004" / "triggers" / "1")
            save(Vocabulary("vocab.txt"), out / "SERVE004" / "clean" / "1")
        finally:
            os.chdir(cwd)
    # Copied without its assets/: the table's initializer cannot read its vocabulary when the model loads.
    os.remove(out / "SERVE004" / "triggers" / "1" / "assets" / "vocab.txt")
    os.rmdir(out / "SERVE004" / "triggers" / "1" / "assets")


def write(out: Path, *, proto: bool = True, tf: bool = True) -> list[Path]:
    owned = [r for r in OWNED if (proto and r in CASES) or (tf and r in TF_CASES)]
    out.mkdir(parents=True, exist_ok=True)
    for rule_id in owned:
        target = out / rule_id
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif os.path.lexists(target):
            target.unlink()
    for rel, data in sorted(build().items()):
        if rel.split("/")[0] in owned:
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    if tf:
        build_tf(out)
    return sorted(p for r in owned for p in (out / r).rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--out", type=Path, default=RULES_DIR, help="output directory (default: testdata/rules/)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--no-tf", action="store_true", help="only the protobuf-built rules")
    which.add_argument("--tf-only", action="store_true", help="only the TensorFlow-built rules")
    args = parser.parse_args(argv)
    written = write(args.out, proto=not args.tf_only, tf=not args.no_tf)
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} files ({total} bytes) under {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
