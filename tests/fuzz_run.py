"""Running sigtool on one fuzzed input, bounded in time and memory (tests/test_fuzz.py): every input gives a
result or a one-line SigtoolError; anything else is a bug.
"""

from __future__ import annotations

import io
import json
import signal
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

from fuzz_inputs import MEMORY_LIMIT, TIME_LIMIT

from sigtool import render
from sigtool.checks import CheckOptions, Report, failed, run_checks
from sigtool.errors import SigtoolError
from sigtool.loader import load

# --- running sigtool on one input, bounded --------------------------------------------------------


class TooSlow(BaseException):
    """Raised by the per-input timer; a BaseException, so that no `except Exception` in sigtool swallows it."""


def _alarm(signum, frame):
    raise TooSlow(f"an input took longer than {TIME_LIMIT} s")


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux: /proc/self/clear_refs); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_kib() -> tuple[int, int]:
    """(current, peak) resident set size in KiB."""
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if line.startswith(("VmRSS", "VmHWM")))
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def bounded_runs():
    """For the fixture `bounded` (test_fuzz.py): a context manager that fails an input running over TIME_LIMIT
    or growing memory by over MEMORY_LIMIT.

    Memory is the growth of the peak RSS over the input (the peak is reset before
    each one, so C allocations in protobuf count too); where the peak cannot be
    reset, tracemalloc's peak of Python allocations (much slower).
    """
    previous = signal.signal(signal.SIGALRM, _alarm)
    use_rss = _reset_peak_rss()

    @contextmanager
    def run(what: str):
        if use_rss:
            _reset_peak_rss()
            rss_before, _ = _rss_kib()
        else:
            tracemalloc.start()
        start = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT, 1.0)  # and again every second, should one be swallowed
        try:
            yield
        except TooSlow:
            raise AssertionError(f"{what}: over {TIME_LIMIT} s") from None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.perf_counter() - start
            if use_rss:
                grown = (_rss_kib()[1] - rss_before) * 1024
            else:
                grown = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
        assert elapsed < TIME_LIMIT, f"{what}: {elapsed:.2f} s"
        assert grown < MEMORY_LIMIT, f"{what}: memory grew by {grown / 2**20:.0f} MiB"

    try:
        yield run
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def assert_clean_error(error: SigtoolError) -> None:
    message = error.format_message()
    assert message.strip(), "an empty error message"
    assert "\n" not in message and "\r" not in message, message
    assert error.exit_code in (2, 3), (error.exit_code, message)


def table_text(layout) -> str:
    """A table as `emit` prints it: plain text when piped, rich on a terminal (both are rendered)."""
    from rich.console import Console

    from sigtool.render import tables

    console = Console(file=io.StringIO(), width=100, color_system="standard", highlight=False)
    console.print(tables.rich_renderable(layout))
    return tables.plain_text(layout)


def parse_json(text: str):
    """The output is strict JSON (no NaN or Infinity, which Python's json module would accept)."""

    def reject(token):
        raise ValueError(f"{token} is not JSON")

    return json.loads(text, parse_constant=reject)


def exercise(model_dir: Path) -> list[str]:
    """What show, show --all and check do with the model, through the library; returns what happened."""
    from sigtool.render import tables

    outcomes = []
    try:
        info = load(str(model_dir), ops=True, functions=True)
    except SigtoolError as e:
        assert_clean_error(e)
        outcomes.append(f"show: {e.format_message()[:120]}")
    else:
        for view in (render.ShowView(), render.ShowView(all=True)):
            parse_json(render.show_json(info, view))
            render.show_smcli(info, view)
        table_text(tables.show_table(info))
        outcomes.append(f"show: {len(info.meta_graphs)} MetaGraphs")
    try:
        info = load(str(model_dir), graph=True)
    except SigtoolError as e:
        assert_clean_error(e)
        outcomes.append(f"check: {e.format_message()[:120]}")
    else:
        findings = tuple(run_checks(info, CheckOptions()))
        report = Report(str(model_dir), info.source, info.version, findings, failed(findings, strict=False))
        parse_json(render.findings_json([report], False))
        table_text(tables.findings_table([report]))
        render.summary_line([report], False)
        outcomes.append(f"check: {len(findings)} findings")
    return outcomes
