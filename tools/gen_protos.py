"""Regenerate sigtool/_proto/*_pb2.py from protos/sigtool/_proto/*.proto.

    python tools/gen_protos.py            # rewrite the committed files
    python tools/gen_protos.py --out DIR  # write DIR/sigtool/_proto/*_pb2.py

Uses the protoc bundled with grpcio-tools (`python -m grpc_tools.protoc`), so
the output depends only on that package's version. Stale *_pb2.py files (whose
.proto is gone) are removed from the output directory.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "protos"
PACKAGE = Path("sigtool") / "_proto"
INIT_TEXT = '"""Generated protobuf modules (tools/gen_protos.py); do not edit."""\n'


def proto_files() -> list[Path]:
    """The .proto files, relative to protos/, in a stable order."""
    return sorted(p.relative_to(PROTO_ROOT) for p in (PROTO_ROOT / PACKAGE).glob("*.proto"))


def generate(out: Path) -> list[Path]:
    """Run protoc into `out`; return the generated *_pb2.py paths."""
    protos = proto_files()
    if not protos:
        raise SystemExit(f"no .proto files under {PROTO_ROOT / PACKAGE}")
    target = out / PACKAGE
    target.mkdir(parents=True, exist_ok=True)
    expected = {target / (p.stem + "_pb2.py") for p in protos}
    for stale in set(target.glob("*_pb2.py")) - expected:
        stale.unlink()
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"--python_out={out}",
        *(p.as_posix() for p in protos),
    ]
    # cwd=PROTO_ROOT keeps absolute paths of this checkout out of the output.
    subprocess.run(cmd, check=True, cwd=PROTO_ROOT)
    init = target / "__init__.py"
    if not init.exists() or init.read_text() != INIT_TEXT:
        init.write_text(INIT_TEXT)
    return sorted(expected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT,
        help="output root; files land in OUT/sigtool/_proto (default: the repository root)",
    )
    args = parser.parse_args(argv)
    for path in generate(args.out.resolve()):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
