"""A remote file as a buffer the wire decoder indexes like a memory-mapped file: buf[i], buf[a:b], len(buf).

Bytes are fetched in aligned blocks on first touch and kept for the rest of
the command, so a walk that reads a field header, skips a gigabyte of graph
constants and reads the next header costs two small requests, not a
download. Blocks missing from one read are fetched as one request per
contiguous run (coalesced); reads that keep running forward (check walking
every node) fetch ahead in growing steps, so a long sequential walk needs
few requests. The cache is bounded: the oldest blocks are dropped first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from threading import Lock

BLOCK = 256 * 1024
_MAX_AHEAD = 64  # blocks (16 MiB) fetched at once by a long forward walk
_CACHE_LIMIT = 256 * 1024 * 1024

# fetch(ranges) -> the bytes of each (start, end) range, in order; may run the requests concurrently.
Fetch = Callable[[Sequence[tuple[int, int]]], Sequence[bytes]]


class RangedBuffer:
    """Read-only bytes of one remote object of known size, fetched by range on demand."""

    def __init__(self, fetch: Fetch, size: int, *, block: int = BLOCK, cache_limit: int = _CACHE_LIMIT):
        self._fetch = fetch
        self._size = size
        self._block = block
        self._limit = max(cache_limit // block, 2)
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._ahead = 1
        self._last_end = -1  # the block after the last fetched run, to spot a forward walk
        self._lock = Lock()
        self.requests = 0  # ranges fetched, for tests and the bench
        self.fetched = 0  # bytes fetched

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[int]:  # what bytes(buffer) walks: the same as Python's fallback via __getitem__
        return (self[i] for i in range(self._size))

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self._size)
            if step != 1:
                raise ValueError("RangedBuffer slices take no step")
            return self._read(start, stop) if stop > start else b""
        index = key + self._size if key < 0 else key
        if not 0 <= index < self._size:
            raise IndexError("RangedBuffer index out of range")
        block = self._blocks.get(index // self._block)
        if block is None:
            return self._read(index, index + 1)[0]
        return block[index % self._block]

    def prefetch(self, ranges: Sequence[tuple[int, int]]) -> None:
        """Fetch these byte ranges now, in one round of concurrent requests (e.g. the head and tail of a file)."""
        with self._lock:
            runs = []
            for start, end in ranges:
                runs += self._missing_runs(max(start, 0) // self._block, (min(end, self._size) - 1) // self._block)
            self._load(sorted(set(runs)))

    def _read(self, start: int, stop: int) -> bytes:
        first, last = start // self._block, (stop - 1) // self._block
        with self._lock:
            runs = self._missing_runs(first, last)
            have = {n: self._blocks[n] for n in range(first, last + 1) if n in self._blocks}  # safe from eviction
            if runs:
                if len(runs) == 1 and runs[0][0] == self._last_end:  # walking forward: read further ahead
                    self._ahead = min(self._ahead * 2, _MAX_AHEAD)
                else:
                    self._ahead = 1
                a, b = runs[-1]
                runs[-1] = (a, self._extend(b, self._ahead - 1))
                got = self._load(runs)
            else:
                got = {}
            parts = []
            for n in range(first, last + 1):
                block = have[n] if n in have else got[n]
                if n in self._blocks:
                    self._blocks.move_to_end(n)
                lo = start - n * self._block if n == first else 0
                hi = stop - n * self._block if n == last else len(block)
                parts.append(block[lo:hi])
            return parts[0] if len(parts) == 1 else b"".join(parts)

    def _extend(self, last: int, more: int) -> int:
        """The last block of a run grown by up to `more` blocks that are neither cached nor past the end."""
        final = (self._size - 1) // self._block
        while more > 0 and last < final and last + 1 not in self._blocks:
            last, more = last + 1, more - 1
        return last

    def _missing_runs(self, first: int, last: int) -> list[tuple[int, int]]:
        runs: list[tuple[int, int]] = []
        for n in range(first, last + 1):
            if n in self._blocks:
                continue
            if runs and runs[-1][1] == n - 1:
                runs[-1] = (runs[-1][0], n)
            else:
                runs.append((n, n))
        return runs

    def _load(self, runs: list[tuple[int, int]]) -> dict[int, bytes]:
        """Fetch each run of blocks (one request each, together) and cache them; the blocks fetched, by number."""
        if not runs:
            return {}
        ranges = [(a * self._block, min((b + 1) * self._block, self._size)) for a, b in runs]
        datas = self._fetch(ranges)
        got: dict[int, bytes] = {}
        for (a, b), (lo, hi), data in zip(runs, ranges, datas):
            if len(data) != hi - lo:
                raise OSError(f"asked for bytes {lo}-{hi - 1} and got {len(data)} bytes instead of {hi - lo}")
            self.requests += 1
            self.fetched += len(data)
            for n in range(a, b + 1):
                got[n] = data[(n - a) * self._block : (n - a + 1) * self._block]
                self._blocks[n] = got[n]
                self._blocks.move_to_end(n)
            self._last_end = b + 1
        while len(self._blocks) > self._limit:
            self._blocks.popitem(last=False)
        return got


class Reader:
    """A read-only file object over a RangedBuffer, for code that reads a file front to back."""

    def __init__(self, buf: RangedBuffer):
        self._buf, self._pos = buf, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._buf) if n is None or n < 0 else min(self._pos + n, len(self._buf))
        data = self._buf[self._pos : end] if end > self._pos else b""
        self._pos = max(self._pos, end)
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None
