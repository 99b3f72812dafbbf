"""Regenerate sigtool/_proto/descriptors.binpb from protos/sigtool/_proto/*.proto.

    python tools/gen_protos.py            # rewrite the committed file
    python tools/gen_protos.py --out DIR  # write DIR/sigtool/_proto/descriptors.binpb

The output is one serialized FileDescriptorSet (our files and the
google/protobuf files they import, dependencies first, no source info).
sigtool/_proto builds its message classes from it at run time, so no code
generated for one protobuf release is shipped. It uses the protoc bundled with
grpcio-tools (`python -m grpc_tools.protoc`), so the bytes depend only on that
package's version. Generated *_pb2.py modules left from older releases of this
script are removed from the output directory.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "protos"
PACKAGE = Path("sigtool") / "_proto"
DESCRIPTOR_SET = "descriptors.binpb"


def proto_files() -> list[Path]:
    """The .proto files, relative to protos/, in a stable order."""
    return sorted(p.relative_to(PROTO_ROOT) for p in (PROTO_ROOT / PACKAGE).glob("*.proto"))


def generate(out: Path) -> Path:
    """Run protoc; write OUT/sigtool/_proto/descriptors.binpb and return its path."""
    protos = proto_files()
    if not protos:
        raise SystemExit(f"no .proto files under {PROTO_ROOT / PACKAGE}")
    target = out / PACKAGE
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*_pb2.py"):
        stale.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        built = Path(tmp) / DESCRIPTOR_SET
        cmd = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"--descriptor_set_out={built}",
            "--include_imports",
            *(p.as_posix() for p in protos),
        ]
        # cwd=PROTO_ROOT keeps absolute paths of this checkout out of the output.
        subprocess.run(cmd, check=True, cwd=PROTO_ROOT)
        data = built.read_bytes()
    path = target / DESCRIPTOR_SET
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT,
        help="output root; the file lands in OUT/sigtool/_proto (default: the repository root)",
    )
    args = parser.parse_args(argv)
    print(generate(args.out.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
