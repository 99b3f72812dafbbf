"""Many MODELs in one command: glob patterns expanded, local or remote, and models read concurrently.

The work of reading a registry of models is bytes in flight, not CPU, so a
bounded pool of threads on one machine is enough: each thread waits on its
own requests (fsspec runs them on its own event loop).
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sigtool.errors import LoadError
from sigtool.loader import DEFAULT_JOBS
from sigtool.loader.paths import EXPORT_META, PB, PBTXT, is_url, model_versions

_MAGIC = ("*", "?", "[")

T = TypeVar("T")
R = TypeVar("R")


def has_magic(pattern: str) -> bool:
    return any(c in pattern for c in _MAGIC)


def expand_models(patterns: Iterable[str], jobs: int = DEFAULT_JOBS) -> list[str]:
    """Each pattern as given, or, when it has * ? [, every match that holds a model or is a model base path.

    Matches are sorted; a pattern that matches no model is an error naming it.
    Non-pattern arguments are passed through untouched (the loader reports on them).
    """
    out: list[str] = []
    for pattern in patterns:
        if not has_magic(pattern) or (not is_url(pattern) and os.path.lexists(pattern)):  # "model[1]" exists
            out.append(pattern)
            continue
        found = _remote_matches(pattern, jobs) if is_url(pattern) else _local_matches(pattern)
        if not found:
            raise LoadError(f"{pattern}: the pattern matches no model or model base path")
        out += found
    return out


def _local_matches(pattern: str) -> list[str]:
    matches = sorted(glob.glob(pattern))
    return [m for m in matches if _local_is_model(m)]


def _local_is_model(path: str) -> bool:
    if os.path.isfile(path):
        name = os.path.basename(path)
        return name in (PB, PBTXT, EXPORT_META) or name.endswith((".pb", ".pbtxt"))
    if not os.path.isdir(path):
        return False
    return any(os.path.lexists(os.path.join(path, f)) for f in (PB, PBTXT, EXPORT_META)) or bool(model_versions(path))


def _remote_matches(pattern: str, jobs: int) -> list[str]:
    from sigtool.loader import remote

    scheme, p = remote.split(pattern)
    fs = remote.filesystem(pattern)
    key = pattern if remote.SCHEMES[scheme] == "http" else str(p)
    try:
        entries = fs.glob(key, detail=True)
    except Exception as e:  # noqa: BLE001 - one Error: line naming the pattern and the reason
        raise LoadError(f"{pattern}: {remote.reason(e)}") from None
    files, directories = [], []
    for name, entry in sorted(entries.items()):
        url = name.rstrip("/") if "://" in name else f"{scheme}://{name.rstrip('/')}"
        if entry.get("type") == "directory":
            directories.append(url)
        elif url.endswith((f"/{PB}", f"/{PBTXT}", f"/{EXPORT_META}")):
            files.append(url)
    held = run_all(_remote_holds_model, directories, jobs)
    errors = [e for _, _, e in held if e is not None]
    if errors:
        raise errors[0]
    return sorted(files + [url for url, yes, _ in held if yes])


def _remote_holds_model(url: str) -> bool:
    """Whether a remote directory holds a model file or numbered version directories (one listing)."""
    from sigtool.loader import remote

    fs = remote.RemoteFS(url)
    names = fs.listdir(fs.root)
    return any(n in (PB, PBTXT, EXPORT_META) for n in names) or any(re.fullmatch(r"\d+", n) for n in names)


def run_all(
    fn: Callable[[T], R], items: Sequence[T], jobs: int = DEFAULT_JOBS
) -> list[tuple[T, R | None, Exception | None]]:
    """fn over items with at most `jobs` running at once; (item, result, error) in the items' order.

    Errors (any Exception) are returned, not raised, so one unreadable model
    never stops the others; the caller reports each in order.
    """

    def one(item: T):
        try:
            return item, fn(item), None
        except Exception as e:  # noqa: BLE001 - handed back to the caller, in order
            return item, None, e

    if jobs <= 1 or len(items) <= 1:
        return [one(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(jobs, len(items))) as pool:
        return list(pool.map(one, items))
