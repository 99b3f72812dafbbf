"""User-facing errors and the exit codes sigtool documents.

No click here: the CLI turns a SigtoolError into click's error in one place (sigtool/cli).
"""

import sys
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # check: an error, or a warning under --strict
    USAGE = 2  # bad option, unknown tag-set / signature key, bad input JSON
    LOAD_FAILED = 3  # the model could not be read: missing, corrupt, unsupported
    RUNTIME_MISSING = 4  # `run` without TensorFlow installed
    RUN_FAILED = 5  # TensorFlow failed to load or execute the model


class SigtoolError(Exception):
    """An error the user can fix: shown as one 'Error: <message>' line, then exit with exit_code."""

    exit_code: int = 1

    def __init__(self, message: str):
        # One line, always: a stray newline would split the Error: line.
        self.message = " ".join(message.split())
        super().__init__(self.message)

    def format_message(self) -> str:
        return self.message

    def show(self) -> None:
        """The Error: line on stderr, for errors reported beside results (check and show of several models)."""
        print(f"Error: {self.message}", file=sys.stderr)


class UsageError(SigtoolError):
    exit_code = ExitCode.USAGE


class LoadError(SigtoolError):
    exit_code = ExitCode.LOAD_FAILED


class UnsafeModel(SigtoolError):
    exit_code = ExitCode.CHECK_FAILED  # run refuses what check would fail on (SEC001)


class TensorFlowMissing(SigtoolError):
    exit_code = ExitCode.RUNTIME_MISSING


class RunError(SigtoolError):
    exit_code = ExitCode.RUN_FAILED
