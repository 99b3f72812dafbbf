"""Regenerate sigtool/data/tf_ops.json: the ops each TensorFlow release registers, for check's OPS rules.

    python tools/gen_registered_ops.py --tf PYTHON [--tf PYTHON ...] [--tf-text WHEEL [--stub-symbol NAME]]
                                       [--out FILE]
    python tools/gen_registered_ops.py --dump      # this interpreter's TensorFlow, as JSON on stdout

Each --tf is the Python of a virtual environment holding one tensorflow-cpu
release (e.g. `.compat/tf-2.12.1/bin/python`, made with `python3.11 -m venv`
and `pip install tensorflow-cpu==2.12.1`). The script asks that TensorFlow,
in a child process, for every registered op (the C API's op list) and for
every registered kernel, and writes one compact file:

    {"schema": "sigtool.tf_ops/1",
     "releases": ["2.12.1", ...],          # oldest first: the column order below
     "ops": {"Abs": "kkkk", "BoostedTreesBucketize": "kkkr", ...},
     "libraries": {"tensorflow-text": {"version": "2.21.0", "ops": [...]}}}

One character per release: "k" the op is registered and has a CPU kernel,
"r" registered without a CPU kernel (only GPU/TPU kernels, or none), "-" not
registered. --tf-text takes a tensorflow-text wheel built for the newest
release; its op libraries are loaded into that release (the wheel is only
unpacked, never installed) to list the ops tf.text registers.
tests/test_checks_wild.py regenerates the column of the installed TensorFlow
with --dump and compares it with the committed file.

The committed file was written with (venvs from `make compat`, the wheel from
`pip download --no-deps tensorflow-text==2.21.0`):

    python tools/gen_registered_ops.py --tf .compat/tf-2.12.1/bin/python --tf .compat/tf-2.15.1/bin/python \
        --tf .compat/tf-2.18.1/bin/python --tf .compat/tf-2.21.0/bin/python \
        --tf-text tensorflow_text-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl --stub-symbol icudt77_dat
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sigtool" / "data" / "tf_ops.json"
SCHEMA = "sigtool.tf_ops/1"
_CPU_DEVICES = {"CPU", "DEFAULT"}  # DEFAULT kernels run on any device


def dump() -> dict:
    """{"version": ..., "ops": {op: True when it has a CPU kernel}} for the TensorFlow imported here."""
    import tensorflow as tf
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session
    from tensorflow.python.framework import kernels

    op_list = op_def_pb2.OpList()
    op_list.ParseFromString(pywrap_tf_session.TF_GetBuffer(pywrap_tf_session.TF_GetAllOpList()))
    cpu = {k.op for k in kernels.get_all_registered_kernels().kernel if k.device_type in _CPU_DEVICES}
    return {"version": tf.__version__, "ops": {op.name: op.name in cpu for op in op_list.op}}


def dump_libraries(root: str, preload: list[str]) -> dict:
    """{"ops": {op: library file}, "not_loaded": {file: error}} for the op libraries (python/**/_*.so)
    under root, loaded into this TensorFlow one by one (after the preload libraries, made global)."""
    import ctypes

    for lib in preload:
        ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    import tensorflow as tf

    found, failed, known = {}, {}, set(dump()["ops"])
    for path in sorted(Path(root).glob("*/python/**/_*.so")):
        try:
            tf.load_op_library(str(path))
        except tf.errors.NotFoundError as e:  # e.g. a library built against symbols this wheel does not export
            failed[path.name] = str(e).rpartition(": ")[2][:200]
            continue
        now = set(dump()["ops"])
        found.update((op, path.name) for op in now - known)
        known = now
    return {"ops": found, "not_loaded": failed}


def _child(python: str, *args: str) -> dict:
    proc = subprocess.run(
        [python, str(Path(__file__).resolve()), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{python} {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def _release_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:3] if p.isdigit())


def build(dumps: list[dict], text: dict | None) -> dict:
    """The committed file's content from one dump per release (any order)."""
    dumps = sorted(dumps, key=lambda d: _release_key(d["version"]))
    releases = [d["version"] for d in dumps]
    if len(set(releases)) != len(releases):
        raise SystemExit(f"the same release twice: {releases}")
    names = sorted({op for d in dumps for op in d["ops"]})
    ops = {}
    for name in names:
        ops[name] = "".join("-" if name not in d["ops"] else "k" if d["ops"][name] else "r" for d in dumps)
    data = {
        "schema": SCHEMA,
        "generated_by": "tools/gen_registered_ops.py",
        "source": "tensorflow-cpu wheels for CPython 3.11 on x86_64 Linux; k = registered with a CPU kernel, "
        "r = registered without one, - = not registered",
        "releases": releases,
        "ops": ops,
        "libraries": {},
    }
    if text is not None:
        data["libraries"]["tensorflow-text"] = {
            "version": text["version"],
            "loaded_into": releases[-1],
            "ops": sorted(op for op in text["ops"]["ops"] if op not in dumps[-1]["ops"]),
            "not_loaded": text["ops"]["not_loaded"],
        }
    return data


def write(data: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    # One op per line: a small, reviewable diff when a release is added.
    lines = ["{"]
    for key in ("schema", "generated_by", "source", "releases"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(data[key])},")
    lines.append('  "libraries": ' + json.dumps(data["libraries"], sort_keys=True) + ",")
    lines.append('  "ops": {')
    items = list(data["ops"].items())
    for i, (op, row) in enumerate(items):
        lines.append(f"    {json.dumps(op)}: {json.dumps(row)}" + ("," if i < len(items) - 1 else ""))
    lines += ["  }", "}"]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--tf", action="append", default=[], metavar="PYTHON", help="a Python with tensorflow-cpu")
    parser.add_argument("--tf-text", metavar="WHEEL", help="a tensorflow-text wheel for the newest release")
    parser.add_argument(
        "--stub-symbol",
        action="append",
        default=[],
        metavar="NAME",
        help="define NAME in a stub library (built with cc) loaded before tensorflow-text's: its ops register "
        "without the data the symbol holds (icudt77_dat: ICU data, which tensorflow-cpu does not export)",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--dump", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dump-libraries", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--preload", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.dump:
        json.dump(dump(), sys.stdout, sort_keys=True)
        return
    if args.dump_libraries:
        json.dump(dump_libraries(args.dump_libraries, args.preload), sys.stdout, sort_keys=True)
        return
    if not args.tf:
        parser.error("give at least one --tf PYTHON")
    dumps = [_child(python, "--dump") for python in args.tf]
    text = None
    if args.tf_text:
        newest = max(zip(dumps, args.tf), key=lambda d: _release_key(d[0]["version"]))[1]
        version = Path(args.tf_text).name.split("-")[1]
        with tempfile.TemporaryDirectory() as tmp:
            with zipfile.ZipFile(args.tf_text) as wheel:
                wheel.extractall(tmp)
            preload = []
            if args.stub_symbol:
                source, stub = Path(tmp, "stub.c"), str(Path(tmp, "libsigtool_stub.so"))
                source.write_text("".join(f"char {name}[65536];\n" for name in args.stub_symbol))
                subprocess.run(["cc", "-shared", "-fPIC", "-o", stub, str(source)], check=True)
                preload = ["--preload", stub]
            text = {"version": version, "ops": _child(newest, "--dump-libraries", tmp, *preload)}
    data = build(dumps, text)
    write(data, args.out)
    print(f"wrote {args.out}: {len(data['ops'])} ops, releases {', '.join(data['releases'])}", file=sys.stderr)


if __name__ == "__main__":
    main()
