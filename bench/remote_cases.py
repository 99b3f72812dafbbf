"""The remote (S3) rows of bench/bench.py (issue 13), against moto's S3 server on 127.0.0.1.

bench.py calls remote_rows() after its local rows (or alone with `--only remote`). It reuses the test
servers in tests/s3_server.py: moto in server mode, behind a proxy that counts the bytes the server sends.
Setup talks to moto directly, so the proxy counts only the measured commands (HTTP headers included).

    sigtool show s3://bench/big_v1          the ~1 GiB .bench/big_v1 (saved_model.pb only), target: transfers <= 2 MB
    boto3 download_file                     the same saved_model.pb, for scale (wall and bytes)
    sigtool check -f json 's3://registry/*' 200 copies of testdata's half_plus_two (TF1) model, --jobs 1 and default

Needs the `remote` extra (s3fs) and moto[server] (test extra); without them the rows are skipped with a note.
moto reads an object's whole value for every GET, ranged ones too, so every request on the 1 GiB object costs
moto about a second: the S3 wall times are mostly moto's; the bytes column is the figure that carries over.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import CACHE, MB, ROOT, GiB, Model, Row, last_stderr_line, measure

VERSIONS = 200
SMALL = ROOT / "testdata" / "real" / "saved_model_half_plus_two_cpu" / "00000123"
SHOW_MAX_BYTES = 2 * MB
DOWNLOAD = CACHE / "remote_download.pb"

# boto3's download_file in one GET: its default (8 MB ranged parts, ~130 GETs) makes moto read the 1 GiB
# object ~130 times (~2 min here), which would time moto, not S3 or boto3.
DOWNLOADER = """
import sys, boto3
from boto3.s3.transfer import TransferConfig
bucket, key, dest = sys.argv[1:]
boto3.client("s3").download_file(bucket, key, dest, Config=TransferConfig(multipart_threshold=1 << 40))
"""


@dataclass
class RemoteRow(Row):
    """A Row that also reports the bytes the S3 server sent (through the counting proxy) and the requests."""

    max_bytes: int | None = None
    sent: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)

    def cells(self) -> list[str]:
        cells = super().cells()
        if self.sent:
            cells[2] += f" [{max(self.sent) / MB:,.2f} MB, {max(self.requests)} requests]"
        return cells

    def target_text(self) -> str:
        text = super().target_text()
        if self.max_bytes is not None:
            text = ", ".join(t for t in (text, f"transfers ≤ {self.max_bytes / MB:g} MB") if t)
        return text

    def verdict(self) -> str:
        if self.max_bytes is None:
            return super().verdict()
        ok = max(self.sent) <= self.max_bytes and super().verdict() != "MISS"
        return "PASS" if ok else "MISS"


def missing_extra() -> str | None:
    """Why the remote rows cannot run, or None."""
    for module, where in (
        ("s3fs", "the remote extra: pip install '.[remote]'"),
        ("boto3", "boto3"),
        ("moto", "moto[server] (the test extra)"),
        ("flask", "moto[server] (the test extra)"),
    ):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not importable (needs {where})"
    return None


def bench_remote(row: RemoteRow, proxy, after=None) -> None:
    """bench.bench() plus the proxy's counts per run; `after` runs after each run (untimed)."""
    print(f"  {row.model.name:<14} {row.command} x{row.runs}", end="", flush=True, file=sys.stderr)
    if row.argv[0].endswith("sigtool"):
        measure(row.argv)  # warm-up, untimed, as bench.bench()
    for _ in range(row.runs):
        proxy.reset()
        wall, cpu, rss, rc = measure(row.argv)
        if after:
            after()
        if rc not in row.ok_codes:
            row.failure = f"FAILED (rc {rc})"
            print(f"  {row.failure}: {shlex.join(row.argv)}", file=sys.stderr)
            row.why = last_stderr_line(row.argv)
            return
        row.walls.append(wall)
        row.cpus.append(cpu)
        row.codes.add(rc)
        row.rss_mib = max(row.rss_mib, rss)
        with proxy.lock:
            row.sent.append(proxy.sent)
            row.requests.append(len(proxy.requests))
    print(f"  {min(row.walls):.3f} s, {row.rss_mib:,.0f} MiB, {max(row.sent) / MB:,.2f} MB", file=sys.stderr)


@contextlib.contextmanager
def environment(env: dict[str, str]):
    """os.environ = env inside (bench.measure's children inherit it), restored after."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def peak_rss_gib(pid: int) -> str:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "?"


def remote_rows(sigtool: list[str], big: Model | None, args, notes: list[str]) -> list[Row]:
    """Start moto + proxy, upload, measure; the rows (empty, with a note, when something is missing)."""
    why = missing_extra()
    if why:
        notes.append(f"remote (S3) rows skipped: {why}")
        return []
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from s3_server import CountingProxy, MotoServer, cli_env, s3_client
    finally:
        sys.path.pop(0)
    import boto3
    from boto3.s3.transfer import TransferConfig

    print("remote: starting moto's S3 server on 127.0.0.1 ...", file=sys.stderr, flush=True)
    try:
        server = MotoServer()
    except RuntimeError as e:
        notes.append(f"remote (S3) rows skipped: moto did not start ({e})")
        return []
    proxy = CountingProxy(server.port)
    rows: list[Row] = []
    try:
        env = cli_env(proxy.endpoint)
        direct = {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
        client = boto3.client(
            "s3",
            endpoint_url=server.endpoint,
            region_name=direct["AWS_DEFAULT_REGION"],
            aws_access_key_id=direct["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=direct["AWS_SECRET_ACCESS_KEY"],
        )
        if big is None:
            notes.append("remote: show of a 1 GiB model on S3 skipped (no .bench/big_v1: run without --no-big)")
        else:
            rows += big_rows(client, TransferConfig, server, proxy, env, sigtool, big, args, notes)
        rows += many_rows(s3_client(server.endpoint), proxy, env, sigtool, args, notes)
    finally:
        proxy.stop()
        server.stop()
        DOWNLOAD.unlink(missing_ok=True)
    return rows


def big_rows(client, TransferConfig, server, proxy, env, sigtool, big: Model, args, notes) -> list[Row]:
    pb = big.path / "saved_model.pb"
    size = pb.stat().st_size
    client.create_bucket(Bucket="bench")
    print(f"remote: uploading {pb} ({size / GiB:.2f} GiB) to s3://bench/big_v1 ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    # Parts above moto's 5 MiB key buffer are spooled to disk; completing the upload joins them in memory once.
    client.upload_file(
        str(pb),
        "bench",
        "big_v1/saved_model.pb",
        Config=TransferConfig(multipart_chunksize=64 * 1024**2, max_concurrency=2),
    )
    upload_s = time.perf_counter() - start
    start = time.perf_counter()
    client.get_object(Bucket="bench", Key="big_v1/saved_model.pb", Range="bytes=0-0")["Body"].read()
    one_get = time.perf_counter() - start
    notes.append(
        f"remote: big_v1's saved_model.pb ({size:,} bytes) uploaded to moto {moto_version()} in {upload_s:.1f} s; "
        f"moto's peak RSS so far {peak_rss_gib(server.process.pid)}; one 1-byte ranged GET of it takes "
        f"{one_get:.2f} s (moto reads the whole object for every GET), so S3 wall times here are mostly moto's"
    )
    model = Model("big_v1 on S3", big.path, big=True, tf1=True)
    url = "s3://bench/big_v1"
    rows = []
    with environment(env):
        row = RemoteRow(model, f"sigtool show {url}", [*sigtool, "show", url], args.runs, max_bytes=SHOW_MAX_BYTES)
        bench_remote(row, proxy)
        rows.append(row)
        if shutil.disk_usage(CACHE).free < size + GiB:
            notes.append("remote: boto3 download_file row skipped (not enough free disk for a 1 GiB download)")
            return rows
        argv = [sys.executable, "-c", DOWNLOADER, "bench", "big_v1/saved_model.pb", str(DOWNLOAD)]
        row = RemoteRow(model, "boto3 download_file (one GET)", argv, args.big_runs)
        bench_remote(row, proxy, after=lambda: DOWNLOAD.unlink(missing_ok=True))
        rows.append(row)
    return rows


def many_rows(fs, proxy, env, sigtool, args, notes) -> list[Row]:
    files = {p.relative_to(SMALL).as_posix(): p.read_bytes() for p in sorted(SMALL.rglob("*")) if p.is_file()}
    fs.mkdir("registry")
    print(f"remote: uploading {VERSIONS} model versions to s3://registry/ ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    fs.pipe({f"registry/{n}/{name}": data for n in range(1, VERSIONS + 1) for name, data in files.items()})
    notes.append(
        f"remote: s3://registry/1..{VERSIONS}: copies of testdata/real/saved_model_half_plus_two_cpu/00000123 "
        f"({len(files)} files each: {', '.join(files)}), uploaded in {time.perf_counter() - start:.1f} s"
    )
    model = Model(f"{VERSIONS} models on S3", SMALL, big=False, tf1=True)
    url, rows = "s3://registry/*", []
    with environment(env):
        for jobs in ("1", None):
            flags = ["--jobs", jobs] if jobs else []
            argv = [*sigtool, "check", "-f", "json", *flags, url]
            label = f"sigtool check -f json {' '.join(flags) or '(default --jobs)'} '{url}'"
            row = RemoteRow(model, label, argv, args.big_runs, ok_codes=(0, 1))
            bench_remote(row, proxy)
            rows.append(row)
    return rows


def moto_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("moto")
    except metadata.PackageNotFoundError:
        return "?"
