"""Keep a library's own logging off the user's stderr, at the file-descriptor level.

    with captured_stderr() as log:    # fd 2 goes to a temporary file; Python warnings are ignored
        ...                           # TensorFlow's C++ logs (absl, oneDNN, cpu_feature_guard) land there
        log.text()                    # what was written so far, to quote in an error
    relevant_line(text)               # the last error-looking line of a capture, log prefix stripped

TensorFlow writes some lines before its log level is read (absl's "All log messages before
absl::InitializeLog()", oneDNN notices, CPU feature lines), so environment variables cannot silence it on
every CPU; only pointing fd 2 elsewhere while it imports, loads and runs does. sys.stderr is pointed at the
same file meanwhile, for when it is not fd 2. Nested uses share the outer capture. A process that TensorFlow
itself kills (a C++ abort) while fd 2 is captured loses the captured text.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
import warnings

_lock = threading.RLock()
_depth = 0
_current: Captured | None = None
_LOG_PREFIX = re.compile(r"^[IWEF]\d{4} [\d:. ]+\s+\d+ [\w./-]+:\d+\] ")  # absl/glog: "E0000 00:00:... x.cc:12] "
_ERRORISH = re.compile(r"^[EF]\d{4} |Check failed|^\w*(Error|Exception): ")  # error/fatal log lines, Python errors
_LIMIT = 64 * 1024  # bytes of the capture kept for messages (its end)


class Captured:
    """What was written to fd 2 while it was captured."""

    def __init__(self, file):
        self._file = file

    def text(self) -> str:
        if self._file is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            _flush()
            size = os.fstat(self._file.fileno()).st_size
            self._file.seek(max(0, size - _LIMIT))
            return self._file.read().decode("utf-8", "replace")
        return ""


def current() -> Captured:
    """The capture in force (an empty one outside captured_stderr)."""
    return _current or Captured(None)


@contextlib.contextmanager
def captured_stderr():
    global _depth, _current
    with _lock:
        if _depth:
            _depth += 1
            try:
                yield _current
            finally:
                _depth -= 1
            return
        _flush()
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all: nothing to protect
            saved = None
        try:
            file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the with below
        except OSError:  # no writable temporary directory: discard instead of keep
            file = open(os.devnull, "w+b")  # noqa: SIM115
        # sys.stderr too, for when it is not fd 2 (an embedding app, click's test runner)
        stream = open(file.fileno(), "w", closefd=False, encoding="utf-8", errors="replace")  # noqa: SIM115
        with file, stream:
            if saved is not None:
                os.dup2(file.fileno(), 2)
            _depth, _current = 1, Captured(file)
            try:
                with warnings.catch_warnings(), contextlib.redirect_stderr(stream):
                    warnings.simplefilter("ignore")
                    yield _current
            finally:
                _flush()
                if saved is not None:
                    os.dup2(saved, 2)
                    os.close(saved)
                _depth, _current = 0, None


def relevant_line(text: str) -> str:
    """The last line of a capture that reads like an error, without its log prefix ("" when none)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line and _ERRORISH.search(line):
            return _LOG_PREFIX.sub("", line)
    return ""


def _flush() -> None:
    with contextlib.suppress(Exception):  # a closed or odd sys.stderr must not stop the capture
        sys.stderr.flush()
