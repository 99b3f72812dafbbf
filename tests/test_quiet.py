"""sigtool.quiet: fd 2 captured while a library logs, given back after, the telling line kept for errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import warnings

import pytest
from conftest import REPO

from sigtool import quiet


def test_writes_to_fd_2_are_captured_and_fd_2_is_given_back(capfd):
    with quiet.captured_stderr() as log:
        os.write(2, b"I0000 00:00:1.0 12 port.cc:153] oneDNN custom operations are on.\n")
        print("python noise", file=sys.stderr)
        warnings.warn("deprecated", DeprecationWarning, stacklevel=1)
        with quiet.captured_stderr() as inner:  # nested: the same capture
            os.write(2, b"inner\n")
        assert inner is log
        text = log.text()
    os.write(2, b"after\n")
    captured = capfd.readouterr()
    assert captured.err == "after\n"
    assert "oneDNN" in text and "python noise" in text and "inner" in text
    assert quiet.current().text() == ""


def test_fd_2_comes_back_after_an_exception(capfd):
    with pytest.raises(RuntimeError), quiet.captured_stderr():
        os.write(2, b"lost\n")
        raise RuntimeError("boom")
    os.write(2, b"visible\n")
    assert capfd.readouterr().err == "visible\n"


@pytest.mark.parametrize(
    "text,line",
    [
        ("I0000 00:00:1796239512.873620    7944 port.cc:153] oneDNN custom operations are on. errors may differ\n", ""),
        (
            "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            + "E0000 00:00:1796239512.873620    7944 cuda_dnn.cc:8] Unable to register cuDNN factory\nlater line\n",
            "Unable to register cuDNN factory",
        ),
        ("F0000 00:00:1.5 3 tensor.cc:99] Check failed: dims() == 2\n", "Check failed: dims() == 2"),
        (
            "Traceback (most recent call last):\n"
            "AttributeError: 'MessageFactory' object has no attribute 'GetPrototype'\n",
            "AttributeError: 'MessageFactory' object has no attribute 'GetPrototype'",
        ),
    ],
)
def test_relevant_line(text, line):
    assert quiet.relevant_line(text) == line


def _child(code: str) -> subprocess.CompletedProcess:
    script = "import os, signal\nfrom sigtool import quiet\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=60, check=False
    )


@pytest.mark.slow
def test_a_process_ended_inside_the_capture_still_says_why():
    """TensorFlow's CHECK failures abort the process: the watcher quotes the fatal line on the real stderr."""
    result = _child("""
        with quiet.captured_stderr():
            os.write(2, b"F0000 00:00:1.5 3 tensor_shape.cc:99] Check failed: d < dims() (3 vs. 2)\\n")
            os.abort()
    """)
    assert result.returncode == -signal.SIGABRT
    assert result.stderr == "Error: TensorFlow ended the process: Check failed: d < dims() (3 vs. 2)\n"
    killed = _child("""
        with quiet.captured_stderr():
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert killed.returncode == -signal.SIGKILL
    assert killed.stderr.startswith("Error: the process ended inside TensorFlow without a message")


def test_a_normal_exit_after_captures_prints_nothing():
    result = _child("""
        for _ in range(3):
            with quiet.captured_stderr():
                os.write(2, b"I0000 00:00:1.5 3 port.cc:153] oneDNN custom operations are on.\\n")
        print("done")
    """)
    assert (result.returncode, result.stdout, result.stderr) == (0, "done\n", "")
