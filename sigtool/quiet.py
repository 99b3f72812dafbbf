"""Keep a library's own logging off the user's stderr, at the file-descriptor level.

    with captured_stderr() as log:    # fd 2 goes to a temporary file; Python warnings are ignored
        ...                           # TensorFlow's C++ logs (absl, oneDNN, cpu_feature_guard) land there
        log.text()                    # what was written so far, to quote in an error
    relevant_line(text)               # the last error-looking line of a capture, log prefix stripped

TensorFlow writes some lines before its log level is read (absl's "All log messages before
absl::InitializeLog()", oneDNN notices, CPU feature lines), so environment variables cannot silence it on
every CPU; only pointing fd 2 elsewhere while it imports, loads and runs does. sys.stderr is pointed at the
same file meanwhile, for when it is not fd 2. Nested uses share the outer capture.

A process that TensorFlow itself ends (a C++ CHECK failure or LOG(FATAL) aborts it) cannot report anything.
So on POSIX a small watcher process is started with the first capture: it holds the real stderr, the
capture file and a pipe from this process. When the pipe closes while a capture is on, this process died
inside TensorFlow, and the watcher prints one `Error:` line quoting the captured fatal line.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import warnings

_lock = threading.RLock()
_depth = 0
_current: Captured | None = None
_file = None  # this process's capture file, reused (truncated) by every capture
_watcher: int | None = None  # write end of the pipe to the watcher process
_watcher_process: subprocess.Popen | None = None  # kept, so that it is never garbage-collected while running
_LOG_PREFIX = re.compile(r"^[IWEF]\d{4} [\d:. ]+\s+\d+ [\w./-]+:\d+\] ")  # absl/glog: "E0000 00:00:... x.cc:12] "
_ERRORISH = re.compile(r"^[EF]\d{4} |Check failed|^\w*(Error|Exception): ")  # error/fatal log lines, Python errors
_LIMIT = 64 * 1024  # bytes of the capture kept for messages (its end)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_WATCH = "import sys; sys.path.insert(0, sys.argv[1]); from sigtool.quiet import _watch; _watch(int(sys.argv[2]))"


class Captured:
    """What was written to fd 2 while it was captured."""

    def __init__(self, file):
        self._file = file

    def text(self) -> str:
        if self._file is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            _flush()
            return _tail(self._file.fileno())
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
        file = _capture_file()
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all: nothing to protect
            saved = None
        _signal(b"1")
        stream = open(file.fileno(), "w", closefd=False, encoding="utf-8", errors="replace")  # noqa: SIM115
        with stream:
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
                _signal(b"0")


def relevant_line(text: str) -> str:
    """The last line of a capture that reads like an error, without its log prefix ("" when none)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line and _ERRORISH.search(line):
            return _LOG_PREFIX.sub("", line)
    return ""


# ---------------------------------------------------------------- internals


def _capture_file():
    """The process's capture file, emptied; a fresh one each time if the watcher cannot be used."""
    global _file
    if _file is None:
        try:
            _file = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the life of the process
        except OSError:  # no writable temporary directory: discard instead of keep
            _file = open(os.devnull, "w+b")  # noqa: SIM115
        _start_watcher(_file.fileno())
    with contextlib.suppress(OSError):
        os.ftruncate(_file.fileno(), 0)
        _file.seek(0)
    return _file


def _start_watcher(fd: int) -> None:
    global _watcher, _watcher_process
    if os.name != "posix" or not sys.executable:
        return
    read, write = os.pipe()
    try:
        _watcher_process = subprocess.Popen(
            [sys.executable, "-E", "-S", "-c", _WATCH, _ROOT, str(fd)],
            stdin=read,
            stdout=subprocess.DEVNULL,
            pass_fds=(fd,),
            close_fds=True,
        )
        _watcher = write
    except OSError:
        os.close(write)
    finally:
        os.close(read)


def _signal(state: bytes) -> None:
    """Tell the watcher whether a capture is on (b"1") or off (b"0")."""
    if _watcher is not None:
        with contextlib.suppress(OSError):
            os.write(_watcher, state)


def _watch(fd: int) -> None:
    """The watcher process: wait for the parent's pipe to close; if it closed mid-capture, say why it died."""
    state = b"0"
    with contextlib.suppress(OSError, KeyboardInterrupt):
        while chunk := os.read(0, 256):
            state = chunk[-1:]
    if state == b"1":
        line = relevant_line(_tail(fd))
        what = (
            f"TensorFlow ended the process: {line}"
            if line
            else ("the process ended inside TensorFlow without a message (killed, or out of memory)")
        )
        os.write(2, f"Error: {' '.join(what.split())}\n".encode("utf-8", "replace"))


def _tail(fd: int) -> str:
    size = os.fstat(fd).st_size
    start = max(0, size - _LIMIT)
    return os.pread(fd, size - start, start).decode("utf-8", "replace")


def _flush() -> None:
    with contextlib.suppress(Exception):  # a closed or odd sys.stderr must not stop the capture
        sys.stderr.flush()
