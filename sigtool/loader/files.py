"""The files beside a SavedModel that Serving needs: variables/, assets/, assets.extra/.

Warmup requests (assets.extra/tf_serving_warmup_requests) are read as
Serving reads them: an uncompressed TFRecord file (length, masked CRC32C of
the length, payload, masked CRC32C of the payload) of PredictionLog records,
at most 1000 of them.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, cast

from google.protobuf import message as pb_message

from sigtool._proto import prediction_log_pb2
from sigtool.loader.paths import Located
from sigtool.loader.tfrecord import crc32c  # noqa: F401 - google-crc32c when installed; importable from here
from sigtool.loader.tfrecord import masked_crc as _masked_crc
from sigtool.model import ModelFiles, WarmupFile, WarmupRecord

if TYPE_CHECKING:  # remote models only
    from sigtool.loader.remote import RemoteFS

WARMUP = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_WARMUP_RECORDS = 1000
MAX_LISTED = 10_000  # files listed under variables/, assets/ or assets.extra/: more than any model holds


def read(located: Located) -> ModelFiles | None:
    if located.format == "session_bundle":
        return None
    if located.fs is not None:
        return _remote(located)
    root = cast(Path, located.file).parent  # local: always a Path
    variables = _listing(root / "variables") if (root / "variables").is_dir() else None
    return ModelFiles(
        variables=variables,
        assets=_listing(root / "assets"),
        assets_extra=_listing(root / "assets.extra"),
        warmup=_warmup(root / WARMUP),
    )


def _remote(located: Located) -> ModelFiles:
    """The same, from one recursive listing of a remote model: names and sizes, never a variables data shard."""
    fs, root = located.fs, cast(PurePosixPath, located.file).parent  # remote: always a PurePosixPath
    assert fs is not None  # read() sends only remote models here
    found = sorted(fs.find(root))

    def under(prefix: str) -> tuple[str, ...]:
        return tuple(name[len(prefix) + 1 :] for name in found if name.startswith(prefix + "/"))[:MAX_LISTED]

    warmup = root / "assets.extra" / "tf_serving_warmup_requests"
    return ModelFiles(
        variables=under("variables") if fs.isdir(root / "variables") else None,
        assets=under("assets"),
        assets_extra=under("assets.extra"),
        warmup=read_warmup(warmup, fs=fs) if "assets.extra/tf_serving_warmup_requests" in found else None,
    )


def _warmup(path: Path) -> WarmupFile | None:
    try:
        return read_warmup(path) if path.is_file() else None
    except OSError as e:  # unreadable file, or a directory on the way that cannot be searched
        return WarmupFile(path=WARMUP, records=(), error=f"cannot read the file ({e.strerror or e})")


def _listing(directory: Path) -> tuple[str, ...]:
    """Relative paths of the files under directory (symlinks are not followed out of it)."""
    if not directory.is_dir():
        return ()
    found = []
    for dirpath, _dirs, names in os.walk(directory, followlinks=False):
        rel = os.path.relpath(dirpath, directory)
        found += [name if rel == "." else os.path.join(rel, name) for name in names]
        if len(found) >= MAX_LISTED:  # assets/ linked to "/" must not walk the whole disk
            break
    return tuple(sorted(found)[:MAX_LISTED])


# --- warmup records -------------------------------------------------------------------------


def read_warmup(path: PurePath, *, fs: RemoteFS | None = None) -> WarmupFile:
    """fs: the remote.RemoteFS that path is in (read by range as the records are walked); None: local."""
    records: list[WarmupRecord] = []
    error = ""
    more = False
    size = cast(Path, path).stat().st_size if fs is None else fs.size(cast(PurePosixPath, path))
    with open(path, "rb") if fs is None else fs.open(cast(PurePosixPath, path)) as f:
        offset = 0
        while offset < size:
            if len(records) > MAX_WARMUP_RECORDS:
                more = True
                break
            header = f.read(12)
            if len(header) < 12:
                error = f"record {len(records) + 1}: truncated header at byte {offset}"
                break
            (length,) = struct.unpack("<Q", header[:8])
            if _masked_crc(header[:8]) != struct.unpack("<I", header[8:])[0]:
                error = f"record {len(records) + 1}: corrupt length (CRC mismatch) at byte {offset}"
                break
            if length + 4 > size - offset - 12:
                error = f"record {len(records) + 1}: claims {length} bytes but the file ends first"
                break
            payload = f.read(length)
            (crc,) = struct.unpack("<I", f.read(4))
            if _masked_crc(payload) != crc:
                error = f"record {len(records) + 1}: corrupt data (CRC mismatch)"
                break
            try:
                log = prediction_log_pb2.PredictionLog.FromString(payload)
            except (pb_message.DecodeError, UnicodeDecodeError):  # the latter: protobuf 3.20's pure-Python parser
                error = f"record {len(records) + 1}: not a PredictionLog"
                break
            records.append(_record(len(records), log))
            offset += 12 + length + 4
    return WarmupFile(path=WARMUP, records=tuple(records), error=error, more_than_limit=more)


def _record(index: int, log) -> WarmupRecord:
    kind = log.WhichOneof("log_type") or ""
    if not kind:
        return WarmupRecord(index, "", "")
    body = getattr(log, kind)
    if kind == "multi_inference_log":
        tasks = body.request.tasks
        return WarmupRecord(index, kind, tasks[0].model_spec.signature_name if tasks else "")
    if kind == "predict_streamed_log":
        requests = body.request
        request = requests[0] if requests else None
    else:
        request = body.request
    if request is None:
        return WarmupRecord(index, kind, "")
    signature = request.model_spec.signature_name
    keys = tuple(sorted(request.inputs)) if kind in ("predict_log", "predict_streamed_log") else ()
    return WarmupRecord(index, kind, signature, keys)
