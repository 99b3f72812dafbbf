"""Models in buckets and on web servers: s3://, gs:// and http(s):// paths, read through fsspec.

Imported only when a MODEL is a URL, so local commands never pay for fsspec.
Credentials, endpoints and regions come from each ecosystem's own
configuration: AWS_* environment variables, profiles and config files
(AWS_ENDPOINT_URL included) for s3://, Google's application-default
credentials for gs://. sigtool takes no flag that carries a secret.

RemoteFS answers what paths.py and files.py ask of a directory tree
(exists, is a directory, list, sizes) with few requests: a directory's
listing is fetched once and answers every question about its entries.
Every failure becomes one LoadError naming the URL and the reason.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import PurePosixPath

from sigtool.errors import LoadError
from sigtool.loader.source import RangedBuffer, Reader

SCHEMES = {"s3": "s3", "gs": "gcs", "gcs": "gcs", "http": "http", "https": "http"}
INSTALL = "pip install 'sigtool[remote]'"
_HEAD = 256 * 1024  # prefetched from each end of a model file: the top-level fields and what follows the graph
_HTTP_ATTEMPTS = 3  # s3fs and gcsfs retry on their own; fsspec's HTTP does not


def split(url: str) -> tuple[str, PurePosixPath]:
    """("s3", PurePosixPath("bucket/key")) from "s3://bucket/key/" (trailing slashes dropped)."""
    scheme, _, rest = url.partition("://")
    rest = rest.rstrip("/")
    if not rest:
        raise LoadError(f"{url}: the URL names no bucket or host")
    return scheme.lower(), PurePosixPath(rest)


_FILESYSTEMS: dict[str, object] = {}


def filesystem(url: str):
    """The fsspec filesystem for a URL's scheme (one per scheme and process), configured from the environment."""
    scheme = url.partition("://")[0].lower()
    protocol = SCHEMES[scheme]
    if protocol not in _FILESYSTEMS:
        try:
            import fsspec

            fs = fsspec.filesystem(protocol, skip_instance_cache=True, **_options(protocol))
        except ImportError:
            raise LoadError(f"{url}: reading {scheme}:// models needs the remote extra: {INSTALL}") from None
        if protocol == "s3":
            fs.retries = 3  # s3fs's own retries of throttled or dropped requests (a class attribute, 5 by default)
        _FILESYSTEMS[protocol] = fs
    return _FILESYSTEMS[protocol]


def _options(protocol: str) -> dict:
    if protocol == "s3":
        config: dict = {"connect_timeout": 10, "read_timeout": 60}
        if not (os.environ.get("AWS_MAX_ATTEMPTS") or os.environ.get("AWS_RETRY_MODE")):  # the user's own wins
            config["retries"] = {"max_attempts": 3, "mode": "standard"}
        return {"config_kwargs": config}
    if protocol == "http":
        import aiohttp

        return {"client_kwargs": {"timeout": aiohttp.ClientTimeout(total=None, connect=10, sock_read=60)}}
    return {}


def reason(error: BaseException) -> str:
    """Why a remote operation failed, in a few words, from the backend's exception."""
    status = _http_status(error)
    text = str(error)
    if status in (401, 403) or isinstance(error, PermissionError):
        return "access denied" + (f" (HTTP {status})" if status else "")
    if "bucket does not exist" in text or "NoSuchBucket" in text:
        return "no such bucket"
    if status == 404 or (isinstance(error, FileNotFoundError) and status is None and not _network(error)):
        return "no such object"
    if status:
        return f"the server answered HTTP {status}"
    network = _network(error)
    if network:
        return f"network failure after retries ({_first_line(network)})"
    return f"{type(error).__name__}: {_first_line(error)}"


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _http_status(error: BaseException) -> int | None:
    for e in _chain(error):
        status = getattr(e, "status", None)
        if isinstance(status, int) and status >= 400:
            return status
    return None


def _network(error: BaseException) -> BaseException | None:
    """The connection-level failure under error, if any (refused, unreachable, timed out, reset)."""
    for e in _chain(error):
        name = type(e).__name__
        if isinstance(e, (ConnectionError, TimeoutError)) or name in (
            "EndpointConnectionError",
            "ConnectTimeoutError",
            "ReadTimeoutError",
            "ClientConnectorError",
            "ServerDisconnectedError",
            "ClientOSError",
            "ConnectionClosedError",
            "ServerTimeoutError",
        ):
            return e
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class RemoteFS:
    """One remote tree (the MODEL the user typed is its root), with listings cached for the command."""

    def __init__(self, url: str):
        self.scheme, self.root = split(url)
        self.fs = filesystem(url)
        self.http = SCHEMES[self.scheme] == "http"
        self._listings: dict[PurePosixPath, dict[str, dict] | None] = {}  # None: not a listable directory
        self._stats: dict[PurePosixPath, dict | None] = {}

    # --- naming ---------------------------------------------------------------------------------

    def url(self, p: PurePosixPath) -> str:
        return f"{self.scheme}://{p}"

    def _key(self, p: PurePosixPath) -> str:
        return self.url(p) if self.http else str(p)

    @staticmethod
    def join(base: str, *names: str) -> str:
        return "/".join([base.rstrip("/"), *names])

    def fail(self, p: PurePosixPath, error: BaseException) -> LoadError:
        return LoadError(f"{self.url(p)}: {reason(error)}")

    # --- what paths.py and files.py ask -----------------------------------------------------------

    def lexists(self, p: PurePosixPath) -> bool:
        return self.stat(p) is not None

    def isdir(self, p: PurePosixPath) -> bool:
        entry = self.stat(p)
        return entry is not None and entry["type"] == "directory"

    def isfile(self, p: PurePosixPath) -> bool:
        entry = self.stat(p)
        return entry is not None and entry["type"] == "file"

    def size(self, p: PurePosixPath) -> int:
        entry = self.stat(p)
        if entry is None or entry.get("size") is None:
            entry = self._info(p, missing_ok=False)
            assert entry is not None  # missing_ok=False raises instead of answering None
        if entry.get("size") is None:
            raise LoadError(f"{self.url(p)}: the server does not say how large the file is")
        return int(entry["size"])

    def listdir(self, p: PurePosixPath) -> list[str]:
        listing = self._listing(p)
        if listing is None:
            raise LoadError(f"{self.url(p)}: cannot list the directory (the server gives no listing)")
        return sorted(listing)

    def stat(self, p: PurePosixPath) -> dict | None:
        """{"type": "file"|"directory", "size": int|None} or None when nothing is there."""
        if p in self._stats:
            return self._stats[p]
        parent = p.parent
        if parent != p and (parent in self._listings or self.root in parent.parents or parent == self.root):
            listing = self._listing(parent)  # below the root: one listing answers for every entry
            if listing is not None:
                return self._stats.setdefault(p, listing.get(p.name))
        return self._stats.setdefault(p, self._info(p, missing_ok=True))

    def find(self, p: PurePosixPath) -> dict[str, int]:
        """Every file under p, recursively: relative path -> size (one listing request on S3 and GCS)."""
        try:
            if self.http:
                return self._walk_http(p, "")
            found = self.fs.find(self._key(p), detail=True)
        except FileNotFoundError:
            return {}
        except Exception as e:  # noqa: BLE001 - any backend failure is one Error: line
            raise self.fail(p, e) from None
        prefix = str(p) + "/"
        return {
            name[len(prefix) :]: int(entry.get("size") or 0)
            for name, entry in found.items()
            if name.startswith(prefix) and entry.get("type") != "directory"
        }

    def _walk_http(self, p: PurePosixPath, rel: str, depth: int = 0) -> dict[str, int]:
        found: dict[str, int] = {}
        for name, entry in sorted((self._listing(p) or {}).items()):
            sub = f"{rel}/{name}" if rel else name
            if entry["type"] == "directory" and depth < 8:
                found.update(self._walk_http(p / name, sub, depth + 1))
            elif entry["type"] == "file":
                found[sub] = self.size(p / name)
        return found

    def buffer(self, p: PurePosixPath) -> RangedBuffer:
        """The file's bytes, fetched by range as the decoder touches them; its head and tail come first."""
        buf = RangedBuffer(lambda ranges: self.fetch(p, ranges), self.size(p))
        buf.prefetch([(0, _HEAD), (len(buf) - _HEAD, len(buf))])
        return buf

    def open(self, p: PurePosixPath) -> Reader:
        """A file object reading p front to back by range (for the warmup records)."""
        return Reader(RangedBuffer(lambda ranges: self.fetch(p, ranges), self.size(p)))

    def read_bytes(self, p: PurePosixPath) -> bytes:
        size = self.size(p)
        return self.fetch(p, [(0, size)])[0] if size else b""

    # --- requests ---------------------------------------------------------------------------------

    def fetch(self, p: PurePosixPath, ranges) -> list[bytes]:
        key = self._key(p)
        attempts = _HTTP_ATTEMPTS if self.http else 1
        for attempt in range(attempts):
            try:
                out = self.fs.cat_ranges(
                    [key] * len(ranges), [a for a, _ in ranges], [b for _, b in ranges], on_error="raise"
                )
                return [bytes(x) for x in out]
            except Exception as e:  # noqa: BLE001
                if attempt + 1 < attempts and _network(e) and _http_status(e) is None:
                    time.sleep(0.2 * 4**attempt)
                    continue
                raise self.fail(p, e) from None
        raise AssertionError("unreachable")

    def _info(self, p: PurePosixPath, *, missing_ok: bool) -> dict | None:
        try:
            info = self.fs.info(self._key(p))
        except Exception as e:  # noqa: BLE001
            why = reason(e)
            if missing_ok and why == "no such object":
                return None
            raise self.fail(p, e) from None
        if self.http:  # every URL answers as a file: a server's directory listing is an HTML page
            kind = "directory" if info.get("mimetype") == "text/html" else "file"
            return {"type": kind, "size": info.get("size")}
        return {"type": info.get("type", "file"), "size": info.get("size")}

    def _listing(self, p: PurePosixPath) -> dict[str, dict] | None:
        if p in self._listings:
            return self._listings[p]
        listing: dict[str, dict] | None
        try:
            here = self.stat(p) if self.http else None
            if here is not None and here["type"] != "directory":
                listing = None  # never GET a file to look for links in it
            else:
                entries = self.fs.ls(self._key(p), detail=True)
                listing = {}
                for entry in entries:
                    name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
                    if name and name not in (".", ".."):
                        kind = "directory" if entry.get("type") == "directory" else "file"
                        listing[name] = {"type": kind, "size": entry.get("size")}
                if self.http and not listing:
                    listing = None  # a page with no links: no listing, ask for entries one by one
        except FileNotFoundError as e:
            if reason(e) != "no such object":
                raise self.fail(p, e) from None
            listing = {}  # S3 and GCS: an empty prefix
        except Exception as e:  # noqa: BLE001
            raise self.fail(p, e) from None
        self._listings[p] = listing
        return listing
