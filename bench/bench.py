"""Benchmark sigtool against TensorFlow's saved_model_cli: wall time and peak RSS per command.

Run from anywhere (paths are computed from this file's location):

    make bench                          # = .venv/bin/python bench/bench.py
    .venv/bin/python bench/bench.py --quick          # 1 run of everything
    .venv/bin/python bench/bench.py --runs 5 --big-runs 1 --no-big
    .venv/bin/python bench/bench.py --only remote    # only the S3 rows (bench/remote_cases.py)

Models: the two small TF Serving models in testdata/real/ (saved_model_half_plus_two{,_tf2}_cpu/00000123)
and two ~1 GiB models built once into .bench/big_v1 and .bench/big_tf2 by bench/build_models.py, in a
subprocess (this process never imports TensorFlow). The build takes ~1-2 min and ~7 GiB of RAM; the
models are rebuilt when build_models.py changes (each carries a stamp with that file's hash).

Each command runs as a child process with stdout/stderr to /dev/null; wall time is measured with
time.perf_counter() around Popen + os.wait4(), CPU time and peak RSS are the child's ru_utime + ru_stime
and ru_maxrss from wait4, all in a
lean helper interpreter (RUNNER: Linux counts a parent's own peak RSS in its child's ru_maxrss). The
page cache is warmed by reading saved_model.pb once before a model's commands. A command that exits
non-zero (check: above 1, since 1 means "errors found") or times out is reported as FAILED, not timed.
Pairs, sigtool row then saved_model_cli row:

    show MODEL --all            vs  saved_model_cli show --dir MODEL --all
    show MODEL                  vs  saved_model_cli show --dir MODEL --tag_set serve --signature_def serving_default
    check MODEL                 vs  saved_model_cli scan --dir MODEL          (if `sigtool check --help` works)
    run MODEL ... -f json       vs  saved_model_cli run ... (small TF1 model only; if `sigtool run --help` works)
    diff MODEL MODEL            (no saved_model_cli counterpart; if `sigtool diff --help` works)
    check MODEL                 on a copy of the small TF1 model with a 100 MB warmup file (1000 records), built
                                by sigtool's own writer into .bench/warmup_100mb (no TensorFlow, no saved_model_cli row)
    S3 rows (bench/remote_cases.py; moto's S3 server on 127.0.0.1 behind a byte-counting proxy; skipped with a note
    without s3fs, boto3 or moto[server]): show of big_v1 on S3 (target: transfers <= 2 MB) beside boto3
    download_file of its saved_model.pb, and check -f json of 200 versions ('s3://registry/*') at --jobs 1 and default

Targets (from the issues; MB = 10^6 bytes): sigtool show on a small model <= 0.15 s; on a 1 GB model
<= 0.3 s and <= 100 MB peak RSS (applied to `show` and `show --all`); sigtool check on a 1 GB model
<= 2 s and <= 300 MB; sigtool check of a 100 MB warmup file <= 1 s; PASS/MISS judges the min wall (noise only
adds time) and the max peak RSS. Prints one table (min and median wall, max peak RSS over the runs) and
writes it as Markdown to .bench/results.md.

Without an importable TensorFlow only sigtool is benchmarked; with < 5 GiB free disk the big models
are not built (they are used if already cached).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / ".bench"
BUILDER = HERE / "build_models.py"
REAL = ROOT / "testdata" / "real"  # TF Serving's own test models (testdata/real/PROVENANCE.md)
BIN = Path(sys.executable).parent
GiB, MiB, MB = 1024**3, 1024**2, 10**6
MIN_FREE_DISK = 5 * GiB
TIMEOUT_S = 600


@dataclass
class Model:
    name: str
    path: Path
    big: bool
    tf1: bool


@dataclass
class Row:
    model: Model
    command: str
    argv: list[str]
    runs: int
    ok_codes: tuple[int, ...] = (0,)
    target: tuple[float, float | None] | None = None  # (max wall s, max peak RSS in MB)
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss_mib: float = 0.0
    failure: str | None = None
    why: str = ""  # a failed command's last stderr line, from one more run
    codes: set[int] = field(default_factory=set)  # the exit codes seen (all in ok_codes unless failure)

    def cells(self) -> list[str]:
        size = self.model.path.joinpath("saved_model.pb").stat().st_size
        size_s = f"{size / MiB:,.1f} MiB" if size >= MiB else f"{size / 1024:,.1f} KiB"
        if self.failure:
            timing, cpu, rss, verdict = self.failure, "", "", "FAILED" if self.target else ""
        else:
            timing = f"{min(self.walls):.3f} / {statistics.median(self.walls):.3f}"
            cpu, rss, verdict = f"{min(self.cpus):.3f}", f"{self.rss_mib:,.1f}", self.verdict()
        command = self.command + (f" (rc {', '.join(map(str, sorted(self.codes)))})" if self.codes - {0} else "")
        return [self.model.name, size_s, command, str(self.runs), timing, cpu, rss, self.target_text(), verdict]

    def target_text(self) -> str:
        if not self.target:
            return ""
        wall, rss = self.target
        return f"≤ {wall:g} s" + (f", ≤ {rss:g} MB" if rss else "")

    def verdict(self) -> str:
        if not self.target:
            return ""
        wall, rss = self.target
        ok = min(self.walls) <= wall and (rss is None or self.rss_mib * MiB <= rss * MB)
        return "PASS" if ok else "MISS"


HEADER = [
    "model",
    "saved_model.pb",
    "command",
    "runs",
    "wall min / median s",
    "CPU min s",
    "peak RSS MiB",
    "target",
    "result",
]


# Measures one command. Run in its own lean interpreter (-S: no site, ~11 MiB) because Linux carries a parent's
# peak RSS into its child's ru_maxrss across exec: measured from this process, every child would show >= ~22 MiB.
RUNNER = """
import os, signal, subprocess, sys, time
timeout, argv = int(sys.argv[1]), sys.argv[2:]
start = time.perf_counter()
try:
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
except OSError:
    sys.exit(print(0, 0, 0, 127))
signal.signal(signal.SIGALRM, lambda *_: proc.kill())
signal.alarm(timeout)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
signal.alarm(0)
proc.returncode = os.waitstatus_to_exitcode(status)
print(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode)
"""


def measure(argv: list[str]) -> tuple[float, float, float, int]:
    """Run argv once: (wall s, CPU s = user + sys, peak RSS MiB, exit code), killing it after TIMEOUT_S."""
    cmd = [sys.executable, "-S", "-c", RUNNER, str(TIMEOUT_S), *argv]
    wall, cpu, rss_kib, rc = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    return float(wall), float(cpu), int(rss_kib) / 1024, int(rc)


def bench(row: Row) -> None:
    print(f"  {row.model.name:<14} {row.command} x{row.runs}", end="", flush=True, file=sys.stderr)
    if row.argv[0].endswith("sigtool"):
        measure(row.argv)  # warm-up, untimed: writes sigtool's bytecode cache as a first real run would
    for _ in range(row.runs):
        wall, cpu, rss, rc = measure(row.argv)
        if rc not in row.ok_codes:
            row.failure = f"TIMEOUT ({TIMEOUT_S} s)" if wall >= TIMEOUT_S else f"FAILED (rc {rc})"
            print(f"  {row.failure}: {shlex.join(row.argv)}", file=sys.stderr)
            row.why = last_stderr_line(row.argv)
            return
        row.walls.append(wall)
        row.cpus.append(cpu)
        row.codes.add(rc)
        row.rss_mib = max(row.rss_mib, rss)
    print(f"  {min(row.walls):.3f} s, CPU {min(row.cpus):.3f} s, {row.rss_mib:,.0f} MiB", file=sys.stderr)


def last_stderr_line(argv: list[str]) -> str:
    try:
        err = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=TIMEOUT_S).stderr
    except subprocess.TimeoutExpired:
        return "timed out"
    return ([line.strip() for line in err.splitlines() if line.strip()] or ["(no stderr)"])[-1]


def warm_page_cache(model: Model) -> None:
    buf = bytearray(MiB)
    with open(model.path / "saved_model.pb", "rb", buffering=0) as f:
        while f.readinto(buf):
            pass


def tool(name: str) -> str | None:
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name)


def exits_zero(argv: list[str]) -> bool:
    return subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def build_stamp() -> str:
    return hashlib.sha256(BUILDER.read_bytes()).hexdigest()


def ensure_big_model(name: str, kind: str, notes: list[str], have_tf: bool) -> Model | None:
    """The cached big model, (re)built in a TensorFlow subprocess when missing or stale."""
    out, stamp_file = CACHE / name, CACHE / f"{name}.stamp"
    model = Model(name, out, big=True, tf1=kind == "v1")
    if out.joinpath("saved_model.pb").exists() and stamp_file.exists() and stamp_file.read_text() == build_stamp():
        return checked(model, notes)
    if not have_tf:
        notes.append(f"{name}: not built (TensorFlow is not importable)")
        return None
    CACHE.mkdir(exist_ok=True)
    free = shutil.disk_usage(CACHE).free
    if free < MIN_FREE_DISK:
        notes.append(f"{name}: not built, only {free / GiB:.1f} GiB free disk (needs {MIN_FREE_DISK / GiB:.0f} GiB)")
        return None
    tmp = CACHE / f"{name}.tmp"
    for stale in (tmp, out):
        shutil.rmtree(stale, ignore_errors=True)
    stamp_file.unlink(missing_ok=True)
    print(f"building {out} (TensorFlow subprocess, ~1 min, ~7 GiB RAM) ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(BUILDER), kind, str(tmp)],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["?"]
        notes.append(f"{name}: build FAILED (rc {result.returncode}): {tail[0]}")
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    tmp.rename(out)
    stamp_file.write_text(build_stamp())
    print(f"  built in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return checked(model, notes)


def checked(model: Model, notes: list[str]) -> Model:
    size = model.path.joinpath("saved_model.pb").stat().st_size
    if size < GiB:
        notes.append(
            f"{model.name}: saved_model.pb is only {size:,} bytes, expected > 1 GiB: check bench/build_models.py"
        )
    return model


WARMUP_STAMP = "1000 records x 25000 floats, v1"  # change to rebuild .bench/warmup_100mb


def ensure_warmup_model(notes: list[str]) -> Model | None:
    """The small TF1 model (testdata/real) with a ~100 MB assets.extra/tf_serving_warmup_requests, built once."""
    out, stamp_file = CACHE / "warmup_100mb", CACHE / "warmup_100mb.stamp"
    version = out / "00000123"
    model = Model("warmup_100mb", version, big=False, tf1=True)
    if version.joinpath("saved_model.pb").exists() and stamp_file.exists() and stamp_file.read_text() == WARMUP_STAMP:
        return model
    try:
        sys.path.insert(0, str(ROOT))
        from sigtool.loader import warmup_io
        from sigtool.serving.values import Tensor
    except ImportError as e:
        notes.append(f"warmup_100mb: not built ({e})")
        return None
    finally:
        sys.path.pop(0)
    shutil.rmtree(out, ignore_errors=True)
    stamp_file.unlink(missing_ok=True)
    shutil.copytree(ROOT / "testdata" / "real" / "saved_model_half_plus_two_cpu" / "00000123", version)
    size = 25_000  # float32s per record: ~100 kB, 1000 records (Serving's limit) make ~100 MB
    record = warmup_io.predict_record("default", "serving_default", {"x": Tensor("DT_FLOAT", (size, 1), (0.5,) * size)})
    warmup_io.write_file(version / "assets.extra" / "tf_serving_warmup_requests", [record] * 1000)
    stamp_file.write_text(WARMUP_STAMP)
    return model


def rows_for(
    model: Model, sigtool: list[str], smcli: str | None, has_check: bool, has_run: bool, args, has_diff: bool = False
) -> list[Row]:
    """The command pairs for one model: (sigtool args, sigtool target, saved_model_cli args); MODEL goes 2nd."""
    show_target = (0.3, 100) if model.big else (0.15, None)
    pairs = [
        (["show", "--all"], show_target, ["show", "--all"]),
        (["show"], show_target, ["show", "--tag_set", "serve", "--signature_def", "serving_default"]),
    ]
    if has_check:
        pairs.append((["check"], (2.0, 300) if model.big else None, ["scan"]))
    if has_run and model.tf1 and not model.big:
        run_json = ["--signature", "serving_default", "--input-json", '{"instances": [[1.0]]}', "-f", "json"]
        run_exprs = ["--tag_set", "serve", "--signature_def", "serving_default", "--input_exprs", "x=[[1.0]]"]
        pairs.append((["run", *run_json], None, ["run", *run_exprs]))
    m, rows = str(model.path), []
    for st, target, sm in pairs:
        ok = (0, 1) if st[0] == "check" else (0,)  # check: 1 = "the model has errors", still a full run
        rows.append(Row(model, f"sigtool {shlex.join(st)}", [*sigtool, st[0], m, *st[1:]], args.runs, ok, target))
        if smcli:
            runs = args.big_runs if model.big else args.runs
            rows.append(Row(model, f"saved_model_cli {shlex.join(sm)}", [smcli, sm[0], "--dir", m, *sm[1:]], runs))
    if has_diff:  # the model against itself: both sides read, every signature compared, exit 0
        rows.append(
            Row(
                model,
                "sigtool diff MODEL MODEL",
                [*sigtool, "diff", m, m],
                args.runs,
                (0,),
                (0.5, 100) if model.big else None,
            )
        )
    return rows


def render(header: list[str], table: list[list[str]], markdown: bool) -> str:
    if markdown:
        esc = [[c.replace("|", "\\|") for c in r] for r in table]
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in esc])
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    numeric = {1, 3, 4, 5, 6}

    def fmt(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *map(fmt, table)])


def version_of(*dists: str) -> str:
    for dist in dists:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return "not installed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per command; saved_model_cli on small models too (default 3)"
    )
    parser.add_argument("--big-runs", type=int, default=2, help="runs of saved_model_cli on the big models (default 2)")
    parser.add_argument("--quick", action="store_true", help="1 run of everything")
    parser.add_argument("--no-big", action="store_true", help="skip the ~1 GiB models")
    parser.add_argument("--no-smcli", action="store_true", help="skip saved_model_cli")
    parser.add_argument(
        "--only",
        choices=("local", "remote"),
        help="only the local rows, or only the S3 rows (bench/remote_cases.py; uses .bench/big_v1)",
    )
    args = parser.parse_args()
    if args.quick:
        args.runs = args.big_runs = 1

    notes: list[str] = []
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        notes.append(
            "PYTHONDONTWRITEBYTECODE was set: unset for the children, so Python caches bytecode as in a normal install"
        )
    sigtool = [tool("sigtool")] if tool("sigtool") else [sys.executable, "-m", "sigtool"]
    has_check = exits_zero([*sigtool, "check", "--help"])
    has_run = exits_zero([*sigtool, "run", "--help"])
    has_diff = exits_zero([*sigtool, "diff", "--help"])
    for name, present in (("check", has_check), ("run", has_run), ("diff", has_diff)):
        if not present:
            notes.append(f"sigtool {name}: row skipped (`sigtool {name} --help` does not exit 0: not implemented yet)")

    have_tf = exits_zero([sys.executable, "-c", "import tensorflow"])
    has_run = has_run and have_tf  # sigtool run needs TensorFlow too
    smcli = tool("saved_model_cli") if have_tf and not args.no_smcli else None
    if not have_tf:
        notes.append("TensorFlow is not importable: benchmarking sigtool only")
    elif not smcli and not args.no_smcli:
        notes.append("saved_model_cli not found: benchmarking sigtool only")

    models = [
        Model("small_tf1", REAL / "saved_model_half_plus_two_cpu" / "00000123", big=False, tf1=True),
        Model("small_tf2", REAL / "saved_model_half_plus_two_tf2_cpu" / "00000123", big=False, tf1=False),
    ]
    for m in [m for m in models if not m.path.is_dir()]:
        notes.append(f"{m.name}: {m.path} not found, skipped")
        models.remove(m)
    if args.no_big:
        notes.append("big models skipped (--no-big)")
    else:
        bigs = (("big_v1", "v1"), ("big_tf2", "tf2"))[: 1 if args.only == "remote" else 2]  # S3 rows: big_v1 only
        models += [m for m in (ensure_big_model(n, k, notes, have_tf) for n, k in bigs) if m]

    floor = measure(["true"])[2]
    rows: list[Row] = []
    for model in models if args.only != "remote" else []:
        warm_page_cache(model)
        for row in rows_for(model, sigtool, smcli, has_check, has_run, args, has_diff):
            bench(row)
            rows.append(row)

    warmup = ensure_warmup_model(notes) if has_check and args.only != "remote" else None
    if warmup:
        warm_page_cache(warmup)
        row = Row(
            warmup,
            "sigtool check (100 MB warmup file)",
            [*sigtool, "check", str(warmup.path)],
            args.runs,
            (0, 1),
            (1.0, None),
        )
        bench(row)
        rows.append(row)

    if args.only != "local":
        sys.modules.setdefault("bench", sys.modules[__name__])  # remote_cases imports this module as `bench`
        from remote_cases import remote_rows

        rows += remote_rows(sigtool, next((m for m in models if m.name == "big_v1"), None), args, notes)

    notes += [f"{r.model.name} {r.command}: {r.failure}: {r.why}" for r in rows if r.failure]
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    info = [
        f"date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"python: {platform.python_version()} ({sys.executable})",
        f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        f"load average at the end (1 / 5 / 15 min; other work on the machine adds noise): {load}",
        f"sigtool {version_of('sigtool')}, "
        f"tensorflow {version_of('tensorflow-cpu', 'tensorflow') if have_tf else 'not importable'}",
        "wall: min / median over the runs (s); CPU: user + sys (s), less sensitive to load",
        "peak RSS: max ru_maxrss of the child (MiB); targets judge the min wall and the peak RSS, with MB = 10^6 bytes",
        f"peak RSS floor: {floor:.1f} MiB "
        "(what `true` shows: the measuring process's own RSS, counted in each child's)",
    ]
    table = [r.cells() for r in rows]
    print("\n".join(info) + "\n\n" + render(HEADER, table, markdown=False))
    for n in notes:
        print(f"note: {n}")

    CACHE.mkdir(exist_ok=True)
    md = "\n".join(f"- {line}" for line in info) + "\n\n" + render(HEADER, table, markdown=True) + "\n"
    md += "".join(f"\n- note: {n}" for n in notes) + ("\n" if notes else "")
    (CACHE / "results.md").write_text(md)
    print(f"\nMarkdown: {CACHE / 'results.md'}")
    missed = [r for r in rows if r.target and (r.failure or r.verdict() == "MISS")]
    if missed:
        print("targets missed: " + "; ".join(f"{r.model.name} {r.command}" for r in missed))


if __name__ == "__main__":
    main()
