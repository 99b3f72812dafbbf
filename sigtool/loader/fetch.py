"""A remote model copied to a temporary directory, for the one command that needs files: run (TensorFlow).

Only the SavedModel directory the loader chose is copied (one version of a
base path). Every file listed is fetched, its size compared with the
listing's, and the directory removed when the command ends, whatever
happens. A progress bar goes to stderr when stderr is a terminal.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import PurePosixPath

from sigtool.errors import LoadError
from sigtool.model import SavedModelInfo

_JOBS = 8
_CHUNK = 8 * 1024 * 1024


@contextmanager
def local_copy(info: SavedModelInfo, progress: bool | None = None) -> Iterator[SavedModelInfo]:
    """info itself for a local model; for a remote one, info with `source` in a downloaded copy (removed after).

    progress: show a bar on stderr; None: only when stderr is a terminal.
    """
    from sigtool.loader.paths import is_url

    if not is_url(info.source):
        yield info
        return
    model_url, _, name = info.source.rpartition("/")
    with tempfile.TemporaryDirectory(prefix="sigtool-") as tmp:
        local_dir = os.path.join(tmp, "model")
        download_model(model_url, local_dir, progress=sys.stderr.isatty() if progress is None else progress)
        yield replace(info, source=os.path.join(local_dir, name))


def download_model(url: str, dest: str, *, progress: bool = False) -> dict[str, int]:
    """Copy every file under the remote directory `url` into `dest`; relative path -> size. Raises LoadError.

    The copy is complete when every listed file is there with the listed size.
    """
    from sigtool.loader import remote

    fs = remote.RemoteFS(url)
    files = fs.find(fs.root)
    if not files:
        raise LoadError(f"{url}: no files to download (no such prefix, or an empty one)")
    total = sum(files.values())
    bar = _Progress(url, total) if progress else None
    try:
        with ThreadPoolExecutor(max_workers=_JOBS) as pool:
            for rel in sorted(files):
                os.makedirs(os.path.dirname(os.path.join(dest, rel)) or dest, exist_ok=True)
            futures = [
                pool.submit(_copy, fs, fs.root / rel, os.path.join(dest, rel), size, bar)
                for rel, size in sorted(files.items())
            ]
            for f in futures:
                f.result()
    finally:
        if bar:
            bar.close()
    for rel, size in files.items():
        got = os.path.getsize(os.path.join(dest, rel))
        if got != size:
            raise LoadError(f"{url}/{rel}: the download is incomplete ({got} of {size} bytes)")
    return files


def _copy(fs, p: PurePosixPath, target: str, size: int, bar) -> None:
    with open(target, "wb") as out:
        for start in range(0, size, _CHUNK):
            end = min(start + _CHUNK, size)
            (data,) = fs.fetch(p, [(start, end)])
            out.write(data)
            if bar:
                bar.advance(len(data))


class _Progress:
    """rich's progress bar on stderr, advanced from the download threads."""

    def __init__(self, url: str, total: int):
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task(f"downloading {url}", total=total)
        self._progress.start()

    def advance(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def close(self) -> None:
        self._progress.stop()
