"""User-facing errors and the exit codes sigtool documents."""

from enum import IntEnum

import click


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # check: an error, or a warning under --strict
    USAGE = 2  # bad option, unknown tag-set / signature key, bad input JSON
    LOAD_FAILED = 3  # the model could not be read: missing, corrupt, unsupported
    RUNTIME_MISSING = 4  # `run` without TensorFlow installed
    RUN_FAILED = 5  # TensorFlow failed to load or execute the model


class SigtoolError(click.ClickException):
    """An error the user can fix: click prints 'Error: <message>' and exits with exit_code."""

    exit_code = 1

    def __init__(self, message: str):
        # One line, always: a stray newline would split the Error: line.
        super().__init__(" ".join(message.split()))


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
