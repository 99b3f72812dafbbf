"""Real servers on 127.0.0.1 for the remote-model tests: moto's S3 in server mode, a counting TCP proxy in
front of it, and an HTTP file server that honours Range requests (and refuses one folder with 403)."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

ACCESS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class MotoServer:
    """`python -m moto.server` in a subprocess on a free port; stop() ends it."""

    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **ACCESS},
        )
        wait_for(self.port)
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class CountingProxy:
    """A TCP proxy that counts the bytes the server sends and records the HTTP requests it forwards."""

    _REQUEST = re.compile(rb"(GET|HEAD|PUT|POST|DELETE) (\S+) HTTP/1\.[01]\r\n")

    def __init__(self, target_port: int):
        self.target = target_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.sent = 0
        self.requests: list[tuple[str, str]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.sent, self.requests = 0, []

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                with self.lock:
                    if upstream:
                        self.requests += [(m.decode(), p.decode()) for m, p in self._REQUEST.findall(data)]
                    else:
                        self.sent += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.listener.close()


def cli_env(endpoint: str, **extra: str) -> dict[str, str]:
    """The environment a sigtool subprocess gets: AWS's own variables, nothing from the user's ~/.aws."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GOOGLE_"))}
    env.update(
        ACCESS,
        AWS_ENDPOINT_URL=endpoint,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        COLUMNS="100",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def as_user(monkeypatch, endpoint: str, cwd: Path):
    """This process's environment as a user's would be (AWS_* variables only) for in-process CLI runs, with
    sigtool's cache of remote filesystems emptied before and after."""
    from sigtool.loader import remote

    for key, value in cli_env(endpoint).items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    monkeypatch.chdir(cwd)
    remote._FILESYSTEMS.clear()
    try:
        yield
    finally:
        remote._FILESYSTEMS.clear()


def s3_client(endpoint: str):
    """An s3fs filesystem for setting up buckets (talks to moto directly, so proxies count only sigtool)."""
    import s3fs

    return s3fs.S3FileSystem(
        key=ACCESS["AWS_ACCESS_KEY_ID"],
        secret=ACCESS["AWS_SECRET_ACCESS_KEY"],
        endpoint_url=endpoint,
        skip_instance_cache=True,
    )


def upload(fs, local: Path, key: str) -> None:
    """Every file under local (or the file itself) to bucket/key."""
    local = Path(local)
    if local.is_file():
        fs.pipe(key, local.read_bytes())
        return
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.pipe(f"{key}/{path.relative_to(local).as_posix()}", path.read_bytes())


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Files under the server's directory, with single-range requests; anything under denied/ is 403."""

    sent = 0
    requests: ClassVar[list[tuple[str, str]]] = []

    def log_message(self, *args) -> None:
        pass

    def send_head(self):
        type(self).requests.append((self.command, self.path))
        if self.path.lstrip("/").startswith("denied"):
            self.send_error(403, "Forbidden")
            return None
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        path = self.translate_path(self.path)
        if not match or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        if start >= size:
            self.send_error(416, "Range Not Satisfiable")
            return None
        f = open(path, "rb")  # noqa: SIM115 - copyfile closes it
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._remaining = end - start + 1
        return _Limited(f, end - start + 1)

    def copyfile(self, source, outputfile):
        while True:
            data = source.read(1 << 16)
            if not data:
                break
            type(self).sent += len(data)
            outputfile.write(data)
        source.close()


class _Limited:
    def __init__(self, f, n: int):
        self.f, self.n = f, n

    def read(self, size: int) -> bytes:
        data = self.f.read(min(size, self.n))
        self.n -= len(data)
        return data

    def close(self) -> None:
        self.f.close()


class HTTPFileServer:
    def __init__(self, directory: Path):
        handler = type("Handler", (RangeHandler,), {"sent": 0, "requests": []})
        self.handler = handler
        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), lambda *a: handler(*a, directory=str(directory))
        )
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
