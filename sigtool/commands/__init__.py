"""One function per command: a frozen request in, a result out.

The CLI maps options onto a request, calls the command once and prints what it returns.
Diagnostics for stderr ("Note: ...", "Warning: ...") go to a `say` callable as they happen,
so they keep their order relative to a failure that follows.
"""

from __future__ import annotations

from collections.abc import Callable

Say = Callable[[str], None]  # receives one whole stderr line, e.g. "Note: ..."


def silent(_line: str) -> None:
    """A `say` for library callers that want no diagnostics."""


def parse_tag_set(value: str | None) -> tuple[str, ...] | None:
    """--tag-set serve,gpu -> ("serve", "gpu"), as typed; None when not given."""
    if value is None:
        return None
    return tuple(t for t in (part.strip() for part in value.split(",")) if t)
