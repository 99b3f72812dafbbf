"""One function per command: a frozen request in, a result out.

The CLI maps options onto a request, calls the command once and prints what it returns.
Diagnostics for stderr ("Note: ...", "Warning: ...") go to a `say` callable as they happen,
so they keep their order relative to a failure that follows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from sigtool.errors import UsageError

Say = Callable[[str], None]  # receives one whole stderr line, e.g. "Note: ..."


def silent(_line: str) -> None:
    """A `say` for library callers that want no diagnostics."""


def parse_tag_set(value: str | None) -> tuple[str, ...] | None:
    """--tag-set serve,gpu -> ("serve", "gpu"), as typed; None when not given."""
    if value is None:
        return None
    return tuple(t for t in (part.strip() for part in value.split(",")) if t)


def read_text(value: str, option: str) -> str:
    """The text a file option names: FILE or @FILE, or - for stdin. At most 64 MiB + 1 byte is read, so a
    caller (or the JSON parser, which refuses bodies over 64 MiB) can tell that it is too long."""
    from sigtool.serving.json_io import MAX_BODY_BYTES

    if value == "-":
        return sys.stdin.read()
    try:
        with open(value.removeprefix("@"), "rb") as f:
            return f.read(MAX_BODY_BYTES + 1).decode("utf-8", "replace")
    except OSError as e:
        raise UsageError(f"{option} {value}: cannot read the file ({e.strerror})") from None


def read_body(value: str, option: str = "--input-json") -> str:
    """A request body option: inline JSON, @file.json, or - for stdin."""
    return read_text(value, option) if value == "-" or value.startswith("@") else value
