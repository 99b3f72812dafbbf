"""Resolve what the user typed to the one file to read.

Accepted: a SavedModel directory (saved_model.pb, else saved_model.pbtxt), a
TF Serving model base path (numbered version directories: the highest is used,
as Serving does, unless a version is asked for), the .pb/.pbtxt file itself,
and a legacy SessionBundle export (export.meta). Each may also be an s3://,
gs:// or http(s):// URL: the same questions are then asked of a RemoteFS
(sigtool/loader/remote.py, imported only then) instead of the local disk.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from sigtool.errors import LoadError, UsageError

if TYPE_CHECKING:  # remote.py is imported only for URLs
    from sigtool.loader.remote import RemoteFS

PB, PBTXT, CPB, EXPORT_META = "saved_model.pb", "saved_model.pbtxt", "saved_model.cpb", "export.meta"
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Located:
    """Which file to read, and what the path resolution found on the way."""

    file: PurePath  # a Path, or a PurePosixPath inside fs when the model is remote
    display: str  # the file's path as the user would write it (relative stays relative)
    format: str  # "saved_model_pb", "saved_model_pbtxt" or "session_bundle"
    version: str | None = None
    other_versions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    fs: RemoteFS | None = None  # None: the local disk; else the remote.RemoteFS that file is in


class _LocalFS:
    """The local disk, asked what paths.py asks a RemoteFS."""

    lexists = staticmethod(os.path.lexists)
    isdir = staticmethod(os.path.isdir)  # not Path.is_dir(): it raises where a link's target cannot be reached
    listdir = staticmethod(os.listdir)
    join = staticmethod(os.path.join)


LOCAL = _LocalFS()


def is_url(path: str) -> bool:
    """Whether MODEL is an s3://, gs:// (gcs://) or http(s):// URL (decided without importing anything)."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.lower() in ("s3", "gs", "gcs", "http", "https")


def _tree(path: str):
    """(filesystem, path object) for what the user typed."""
    if not is_url(path):
        return LOCAL, Path(path)
    from sigtool.loader import remote  # only for URLs: local start-up never imports fsspec

    fs = remote.RemoteFS(path)
    return fs, fs.root


def locate(path: str, version: str | None = None) -> Located:
    fs, p = _tree(path)
    if not fs.lexists(p):
        raise LoadError(f"{path}: no such file or directory" if fs is LOCAL else f"{path}: no such object or prefix")
    if not fs.isdir(p):
        if version is not None:
            raise UsageError(
                f"--version needs a model base path (a directory of numbered versions), not the file {path}"
            )
        return _with_fs(_locate_file(p, path), fs)
    found = _locate_in_dir(fs, p, path)
    if found is not None:
        if version is not None:
            raise UsageError(f"--version needs a model base path; {path} is itself a SavedModel directory")
        return _with_fs(found, fs)
    versions = _version_dirs(fs, p)
    if versions:
        return _with_fs(_locate_version(fs, p, path, versions, version), fs)
    raise LoadError(f"{path}: {_why_not_a_model(fs, p)}")


def _with_fs(located: Located, fs) -> Located:
    if fs is LOCAL:
        return located
    return Located(
        located.file, located.display, located.format, located.version, located.other_versions, located.notes, fs
    )


def _locate_file(p: PurePath, path: str) -> Located:
    name = p.name
    if name == PBTXT or name.endswith(".pbtxt"):
        return Located(p, path, "saved_model_pbtxt")
    if name == EXPORT_META:
        return Located(p, path, "session_bundle", notes=(_legacy_note(),))
    if name == CPB or name.endswith(".cpb"):
        raise LoadError(_cpb_message(path))
    if name.endswith(".tflite"):
        raise LoadError(f"{path} is a TensorFlow Lite model, not a SavedModel; inspect it with a TFLite tool")
    if name.endswith((".keras", ".h5", ".hdf5")):
        raise LoadError(f"{path} is a Keras model file, not a SavedModel; export one with model.export(DIR)")
    part = _saved_model_part(p, path)
    if part:
        raise LoadError(part)
    return Located(p, path, "saved_model_pb")


def _saved_model_part(p: PurePath, path: str) -> str | None:
    """What a file inside a SavedModel is, when the user named it instead of the model."""
    name = p.name
    in_variables = p.parent.name == "variables"
    if name == "variables.index" or (in_variables and name.endswith(".index")):
        what = "the variables index of a SavedModel (its checkpoint's table of contents)"
    elif re.fullmatch(r"variables\.data-\d+-of-\d+", name) or (in_variables and ".data-" in name):
        what = "a variables data shard of a SavedModel (checkpoint values)"
    elif name in ("fingerprint.pb", "keras_metadata.pb"):
        what = f"the {name} of a SavedModel (metadata, no signatures)"
    else:
        return None
    levels = 2 if in_variables else 1
    model_dir = (
        os.path.dirname(path.rstrip(os.sep)) if levels == 1 else os.path.dirname(os.path.dirname(path.rstrip(os.sep)))
    )
    return f"{path} is {what}, not the model; pass the SavedModel directory instead: {model_dir or '.'}"


def _locate_in_dir(fs, p: PurePath, path: str) -> Located | None:
    def entry(name: str) -> bool:
        return fs.lexists(p / name)

    join = fs.join
    if entry(PB):
        notes: tuple[str, ...] = ()
        if entry(PBTXT):
            notes = (f"{path} holds both {PB} and {PBTXT}: reading {PB}, as TensorFlow does",)
        if entry(EXPORT_META):
            notes += (f"{path} also holds a legacy {EXPORT_META}, which TF Serving refuses before reading {PB}",)
        return Located(p / PB, join(path, PB), "saved_model_pb", notes=notes)
    if entry(PBTXT):
        return Located(p / PBTXT, join(path, PBTXT), "saved_model_pbtxt")
    if entry(EXPORT_META):
        return Located(p / EXPORT_META, join(path, EXPORT_META), "session_bundle", notes=(_legacy_note(),))
    if entry(CPB):
        raise LoadError(_cpb_message(join(path, CPB)))
    return None


def model_versions(path: str) -> list[str]:
    """The version directories of a model base path, lowest first; [] for anything else."""
    fs, p = _tree(path)
    if not fs.isdir(p) or _locate_in_dir(fs, p, path) is not None:
        return []
    versions = _version_dirs(fs, p)
    return [versions[v] for v in sorted(versions)]


def _version_dirs(fs, p: PurePath) -> dict[int, str]:
    """Children whose names TF Serving parses as version numbers, keyed by number."""
    versions: dict[int, str] = {}
    try:
        names = sorted(fs.listdir(p))
    except OSError as e:
        raise LoadError(f"{p}: cannot list the directory ({e.strerror})") from None
    for name in names:
        if re.fullmatch(r"\s*[+-]?\d+\s*", name) and abs(int(name)) <= _INT64_MAX:
            versions.setdefault(int(name), name)
    return versions


def _locate_version(fs, p: PurePath, path: str, versions: dict[int, str], wanted: str | None) -> Located:
    if wanted is None:
        number = max(versions)
    else:
        digits = wanted.strip().lstrip("+-").lstrip("0")  # int() refuses over 4300 digits; no version has 20
        if not re.fullmatch(r"\s*[+-]?\d+\s*", wanted) or len(digits) > 19 or int(wanted) not in versions:
            valid = ", ".join(versions[v] for v in sorted(versions))
            raise UsageError(f"version {wanted} not found under {path}; versions: {valid}")
        number = int(wanted)
    chosen = versions[number]
    others = tuple(versions[v] for v in sorted(versions) if v != number)
    sub = p / chosen
    display = fs.join(path, chosen)
    found = _locate_in_dir(fs, sub, display) if fs.isdir(sub) else None
    if found is None:
        reason = _why_not_a_model(fs, sub) if fs.isdir(sub) else "is not a directory"
        raise LoadError(f"{display} (version {number} of model base path {path}): {reason}")
    how = "requested" if wanted is not None else "the highest, as TF Serving loads by default"
    note = f"{path} is a model base path: using version {chosen} ({how})"
    if others:
        note += f"; other versions: {', '.join(others)}"
    return Located(found.file, found.display, found.format, chosen, others, (note,) + found.notes)


def _why_not_a_model(fs, p: PurePath) -> str:
    try:
        names = set(fs.listdir(p))
    except OSError as e:
        return f"cannot list the directory ({e.strerror})"
    if not names:
        return f"the directory is empty; expected {PB} (a SavedModel) or numbered version directories"
    if "model.tflite" in names:
        return "holds model.tflite, a TensorFlow Lite model, not a SavedModel"
    if "variables" in names or "keras_metadata.pb" in names or "fingerprint.pb" in names:
        return f"has SavedModel pieces ({', '.join(sorted(names))}) but no {PB} or {PBTXT}; the export is incomplete"
    models = _model_subdirectories(fs, p, names)
    if models:
        shown = ", ".join(models[:_LISTED]) + (f" and {len(models) - _LISTED} more" if len(models) > _LISTED else "")
        return (
            f"no {PB} here, but its subdirectories hold models: {shown}; "
            f"pass one of them, e.g. {_example(fs, p, models[0])}"
        )
    return f"no {PB}, {PBTXT} or numbered version directories here; is this the model directory?"


_LISTED = 10  # subdirectories named in an error
_SCANNED = 10_000  # entries looked at, so a huge directory cannot stall the error


def _example(fs, p: PurePath, name: str) -> str:
    return os.path.join(str(p), name) if fs is LOCAL else fs.url(p / name)


def _model_subdirectories(fs, p: PurePath, names: set[str]) -> list[str]:
    """Children that are SavedModel directories or model base paths (sorted)."""
    found = []
    for name in sorted(names)[:_SCANNED]:
        sub = p / name
        if not fs.isdir(sub):
            continue
        try:
            if any(fs.lexists(sub / f) for f in (PB, PBTXT, EXPORT_META)) or _version_dirs(fs, sub):
                found.append(name)
        except LoadError:  # an unreadable child is not a model we can name
            continue
    return found


def _legacy_note() -> str:
    return (
        "legacy SessionBundle export (export.meta): this format is deprecated and current TF Serving "
        "refuses it; signatures are shown converted to SignatureDefs as TensorFlow's bundle shim did"
    )


def _cpb_message(path: str) -> str:
    return (
        f"{path} is a chunked SavedModel (saved_model.cpb, the proto-splitter format); no open-source reader "
        "for it exists (TensorFlow 2.21's own readers ignore it); re-export the model without "
        "experimental_image_format to get a saved_model.pb"
    )
