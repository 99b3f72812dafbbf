"""The errors of the REST codec: requests Serving rejects, outputs it cannot write, and its inner status."""

from __future__ import annotations

from sigtool.errors import RunError, UsageError


class RequestRejected(UsageError):
    """A request TF Serving would answer with HTTP 400 (or one sigtool refuses by its own checks).

    One line: Serving's message (or sigtool's own), then what to do in parentheses. `serving_message` holds
    Serving's text alone, for format_error() (None for sigtool's own checks).
    """

    def __init__(self, serving_message: str | None, hint: str, own_message: str | None = None):
        self.serving_message = serving_message
        super().__init__(f"{(own_message or serving_message or '').rstrip()} ({hint})")


class ResponseRejected(RunError):
    """Outputs TF Serving could not turn into a JSON response."""

    def __init__(self, serving_message: str, hint: str):
        self.serving_message = serving_message
        super().__init__(f"{serving_message.rstrip()} ({hint})")


class StatusError(Exception):
    """An inner Serving status: code ("INVALID_ARGUMENT" / "UNIMPLEMENTED") and message, plus sigtool's hint."""

    def __init__(self, message: str, code: str = "INVALID_ARGUMENT", hint: str = ""):
        super().__init__(message)
        self.message, self.code, self.hint = message, code, hint

    def status(self) -> str:  # absl Status::ToString(), as Serving embeds it
        return f"{self.code}: {self.message}"
