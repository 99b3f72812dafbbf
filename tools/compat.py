"""make compat: sigtool installed beside the TensorFlow a user already has.

For each TensorFlow release in RELEASES, a venv under .compat/ gets
`pip install tensorflow-cpu==X` (pip picks TF's protobuf and numpy), then a
wheel built once from this checkout (not editable). The script checks that the
install changed none of tensorflow-cpu, protobuf and numpy, that `pip check`
passes, and that show, check and run print exactly what they print in the
reference venv (the newest TF): same stdout, stderr and exit code. Two more rows
have no TensorFlow. One has the lowest protobuf pyproject.toml allows and the oldest
Python sigtool supports, the other the newest of both: show and check
only (run must say TF is missing).

    python tools/compat.py                 # the whole matrix; exit 1 if a cell fails
    python tools/compat.py --tf 2.12.1     # one release (plus the reference)
    python tools/compat.py --recreate      # fresh venvs

Venvs are reused: each records the `pip freeze` taken right after TF was
installed, and is put back to exactly that before sigtool goes in again.
Needs Linux x86_64, python3.11, 3.9 and 3.13 (PATH or pyenv), and the index.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".compat"
RELEASES = ["2.12.1", "2.15.1", "2.18.1", "2.21.0"]  # the last one is the reference
TF_PYTHON = "3.11"  # every release above has wheels for it
OLD_PYTHON = "3.9"  # the oldest Python sigtool supports (requires-python)
NEW_PYTHON = "3.13"  # the newest Python TF 2.21 supports; its row gets the newest protobuf
WATCHED = ("tensorflow-cpu", "protobuf", "numpy")
MODEL_GLOBS = ["testdata/*", "testdata/*/*"]  # every model, broken ones included
# run: (model, arguments). Each must succeed in the reference venv. Models under
# testdata/real/ and testdata/tf/ are added with --sample.
RUNS = [
    ("testdata/minimal", ["--input-json", '{"instances": [[1.0], [2.0], [5.0]]}', "-f", "json"]),
    ("testdata/minimal", ["--input-json", '{"inputs": {"x": [[-1.5], [0.25]]}}']),
    (
        "testdata/multi_tag",
        ["--tag-set", "serve", "--signature", "plus_three", "--input-json", '{"instances": [[1.0]]}', "-f", "json"],
    ),
    ("testdata/pbtxt", ["--sample", "--batch", "3", "-f", "json"]),
    ("testdata/half_plus_two_like", ["--input-json", '{"instances": [[1.0], [4.0]]}', "-f", "json"]),
    (
        "testdata/real/saved_model_half_plus_two_cpu",
        ["--input-json", '{"instances": [[1.0], [2.0], [5.0]]}', "-f", "json"],
    ),
    (
        "testdata/real/saved_model_half_plus_two_cpu",
        ["--signature", "classify_x_to_y", "--input-json", '{"examples": [{"x": 2.0}, {"x": 3.0}]}', "-f", "json"],
    ),
    (
        "testdata/real/saved_model_half_plus_two_cpu",
        ["--signature", "regress_x_to_y", "--input-json", '{"examples": [{"x": 2.0}]}', "-f", "json"],
    ),
    ("testdata/real/saved_model_half_plus_two_tf2_cpu", ["--input-json", '{"instances": [1.0]}', "-f", "json"]),
    ("testdata/tf/tf1_classify_regress_predict", ["--signature", "classify", "--sample", "--batch", "2", "-f", "json"]),
]
SAMPLED_RUN_GLOBS = ["testdata/real/*", "testdata/tf/*"]
TIMEOUT = 600


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(argv, *, check=True, cwd=None, env=None, timeout=3600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-25:]
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {proc.returncode}:\n" + "\n".join(tail))
    return proc


def find_python(version: str) -> str | None:
    """pythonX.Y from $SIGTOOL_PYTHON<X><Y>, PATH or pyenv."""
    override = os.environ.get("SIGTOOL_PYTHON" + version.replace(".", ""))
    pyenv = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for candidate in [override, shutil.which(f"python{version}"), *reversed(pyenv)]:
        if candidate and subprocess.run([candidate, "-c", ""], capture_output=True).returncode == 0:
            return candidate  # a pyenv shim for a version not selected fails here
    return None


def lowest_protobuf() -> str:
    """The lower bound of the protobuf requirement in pyproject.toml."""
    m = re.search(r'"protobuf\s*>=\s*([0-9][0-9.]*)', (ROOT / "pyproject.toml").read_text())
    if not m:
        raise RuntimeError("pyproject.toml: no protobuf>=X requirement found")
    return m.group(1)


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def freeze(py: Path) -> dict[str, str]:
    out = {}
    for line in sh([py, "-m", "pip", "freeze", "--all"]).stdout.splitlines():
        if "==" in line:
            name, ver = line.split("==", 1)
            out[norm(name)] = ver.strip()
        elif " @ " in line:
            out[norm(line.split(" @ ", 1)[0])] = "@"
    return out


def pip(py: Path, *args: str) -> None:
    sh([py, "-m", "pip", "--disable-pip-version-check", "install", "-q", *args])


class Env:
    """One row: a venv, what goes in it first, and what was measured."""

    def __init__(self, name: str, python: str | None, first: list[str], tf: str | None):
        self.name, self.python, self.first, self.tf = name, python, first, tf
        self.dir = WORK / name
        self.py = self.dir / "bin" / "python"
        self.baseline_file = self.dir / "compat-baseline.json"
        self.cells: dict[str, str] = {}
        self.failures: list[str] = []
        self.versions: dict[str, str] = {}
        self.python_version = "?"

    def fail(self, cell: str, why: str) -> None:
        self.cells[cell] = "FAIL"
        self.failures.append(f"{cell}: {why}")

    def prepare(self, recreate: bool) -> dict[str, str]:
        """The venv with only `first` installed; returns its baseline freeze."""
        if self.python is None:
            raise RuntimeError("no interpreter found for this row")
        baseline = None
        if not recreate and self.py.exists():
            if self.baseline_file.exists():
                baseline = json.loads(self.baseline_file.read_text())
            elif "sigtool" not in freeze(self.py):  # created by hand before: adopt it
                baseline = freeze(self.py)
            want = dict(a.split("==", 1) for a in self.first if "==" in a)
            if baseline is None or any(baseline.get(norm(k)) != v for k, v in want.items()):
                baseline = None
        if baseline is None:
            log(f"{self.name}: creating venv, pip install {' '.join(self.first)}")
            shutil.rmtree(self.dir, ignore_errors=True)
            sh([self.python, "-m", "venv", self.dir])
            pip(self.py, "--upgrade", "pip")
            pip(self.py, *self.first)
            baseline = freeze(self.py)
        else:
            log(f"{self.name}: reusing venv, putting it back to its recorded state")
            now = freeze(self.py)
            extra = sorted(set(now) - set(baseline))
            if extra:
                sh([self.py, "-m", "pip", "uninstall", "-q", "-y", *extra])
            back = [f"{n}=={v}" for n, v in sorted(baseline.items()) if now.get(n) != v and v != "@"]
            if back:
                pip(self.py, "--no-deps", *back)
            if freeze(self.py) != baseline:
                raise RuntimeError("could not put the venv back to its recorded state; run with --recreate")
        self.baseline_file.write_text(json.dumps(baseline, indent=1, sort_keys=True))
        self.python_version = sh([self.py, "-c", "import platform; print(platform.python_version())"]).stdout.strip()
        return baseline

    def install(self, wheel: Path, baseline: dict[str, str]) -> None:
        log(f"{self.name}: pip install {wheel.name}")
        pip(self.py, str(wheel))
        after = freeze(self.py)
        self.versions = {n: baseline.get(n, "-") for n in WATCHED}
        changed = [
            f"{n} {baseline[n]} -> {after.get(n, 'removed')}" for n in sorted(baseline) if after.get(n) != baseline[n]
        ]
        watched = [c for c in changed if c.split()[0] in WATCHED]
        if watched:
            self.fail("unchanged", "; ".join(watched))
        else:
            self.cells["unchanged"] = "yes"
        if changed and not watched:
            self.failures.append("note: other packages changed: " + "; ".join(changed))
        check = sh([self.py, "-m", "pip", "check"], check=False)
        if check.returncode == 0:
            self.cells["pip check"] = "ok"
        else:
            self.fail("pip check", check.stdout.strip().replace("\n", "; "))
        where = sh([self.py, "-c", "import sigtool; print(sigtool.__file__)"], cwd=tempfile.gettempdir()).stdout.strip()
        if not where.startswith(str(self.dir)):
            raise RuntimeError(f"sigtool imported from {where}, not from the venv")


def is_model(d: Path) -> bool:
    if not d.is_dir():
        return False
    if any((d / f).exists() for f in ("saved_model.pb", "saved_model.pbtxt", "saved_model.cpb", "export.meta")):
        return True
    return any(c.is_dir() and c.name.isdigit() for c in d.iterdir())


def models(patterns: list[str]) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        for p in sorted(glob.glob(str(ROOT / pattern))):
            rel = Path(p).relative_to(ROOT).as_posix()
            if is_model(Path(p)) and not any(rel.startswith(m + "/") for m in found) and rel not in found:
                found.append(rel)
    return found


def commands() -> dict[str, list[tuple[str, list[str]]]]:
    """{cell: [(label, argv after 'sigtool', must exit 0 in the reference)]}"""
    show, check = [], []
    for m in models(MODEL_GLOBS):
        show += [
            (f"show {m}", ["show", m], False),
            (f"show -f json {m}", ["show", m, "-f", "json"], False),
            (f"show -f smcli --all {m}", ["show", m, "-f", "smcli", "--all"], False),
        ]
        check += [(f"check -f json {m}", ["check", m, "-f", "json"], False)]
    runs = [(f"run {m} {' '.join(a)}", ["run", m, *a], True) for m, a in RUNS]
    # Some of these are meant to fail (unsafe ops, broken graphs): they must fail the same way.
    runs += [
        (f"run {m} --sample -f json", ["run", m, "--sample", "-f", "json"], False) for m in models(SAMPLED_RUN_GLOBS)
    ]
    return {"show": show, "check": check, "run": runs}


def run_all(env: Env, cells: dict[str, list[tuple[str, list[str]]]]) -> dict[str, list[tuple[int, str, str]]]:
    base = {
        "PATH": f"{env.dir / 'bin'}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LC_ALL": "C.UTF-8",
        "NO_COLOR": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": tempfile.gettempdir(),
    }
    results = {}
    for cell, cmds in cells.items():
        log(f"{env.name}: {cell} ({len(cmds)} commands)")
        results[cell] = []
        for _label, argv, _ in cmds:
            p = subprocess.run(
                [str(env.dir / "bin" / "sigtool"), *argv], cwd=ROOT, env=base, capture_output=True, timeout=TIMEOUT
            )
            results[cell].append(
                (p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))
            )
    record = {
        cell: [{"command": c[0], "exit": r[0], "stdout": r[1], "stderr": r[2]} for c, r in zip(cmds, results[cell])]
        for cell, cmds in cells.items()
    }
    (WORK / "out").mkdir(exist_ok=True)
    (WORK / "out" / f"{env.name}.json").write_text(json.dumps(record, indent=1))  # for a closer look
    return results


def first_difference(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "<end>"
        y = lb[i] if i < len(lb) else "<end>"
        if x != y:
            return f"line {i + 1}: reference {y[:160]!r} / here {x[:160]!r}"
    return "trailing bytes differ"


def compare(env: Env, cells, got, ref) -> None:
    for cell, cmds in cells.items():
        bad = []
        for (label, _, _), mine, theirs in zip(cmds, got[cell], ref[cell]):
            for what, i in (("exit code", 0), ("stdout", 1), ("stderr", 2)):
                if mine[i] != theirs[i]:
                    diff = f"{theirs[i]} vs {mine[i]}" if i == 0 else first_difference(mine[i], theirs[i])
                    bad.append(f"{label}: {what} differs ({diff})")
                    break
        if bad:
            env.fail(cell, f"{len(bad)}/{len(cmds)} differ; " + " | ".join(bad[:3]))
        else:
            env.cells[cell] = f"same ({len(cmds)})"


def check_reference(env: Env, cells, ref) -> None:
    """The reference must itself work: run requests succeed, stderr holds only sigtool's lines."""
    for cell, cmds in cells.items():
        bad = []
        for (label, _, must_succeed), (rc, _out, err) in zip(cmds, ref[cell]):
            noise = [ln for ln in err.splitlines() if not ln.startswith(("Error: ", "Warning: ", "Note: "))]
            if "Traceback (most recent call last)" in err:
                bad.append(f"{label}: traceback: {err.strip().splitlines()[-1][:200]}")
            elif cell == "run" and noise:
                bad.append(f"{label}: stderr holds {noise[0][:160]!r}")
            elif must_succeed and rc != 0:
                bad.append(f"{label}: exit {rc}: {err.strip()[:300]}")
        if bad:
            env.fail(cell, f"{len(bad)}/{len(cmds)} bad; " + " | ".join(bad[:3]))
        else:
            env.cells[cell] = f"ok ({len(cmds)})"


def no_tf_run(env: Env) -> None:
    """Without TensorFlow, run must say so: exit 4, one Error line."""
    p = subprocess.run(
        [str(env.dir / "bin" / "sigtool"), "run", "testdata/minimal", "--input-json", '{"instances": [[1.0]]}'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
    )
    lines = p.stderr.splitlines()
    if p.returncode == 4 and len(lines) == 1 and lines[0].startswith("Error: ") and not p.stdout:
        env.cells["run"] = "exit 4 (no TF)"
    else:
        env.fail("run", f"expected exit 4 and one Error line, got {p.returncode}: {p.stderr.strip()[:300]}")


def build_wheel(python: str) -> Path:
    """One wheel from the files git knows (tracked or not ignored), built outside the tree."""
    tools = WORK / "build-venv"
    if not (tools / "bin" / "python").exists():
        sh([python, "-m", "venv", tools])
    files = sh(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT).stdout.split("\0")
    out = WORK / "wheel"
    shutil.rmtree(out, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        for f in files:
            if f and (ROOT / f).is_file():
                (src / f).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / f, src / f)
        sh([tools / "bin" / "python", "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, src])
    wheels = list(out.glob("sigtool-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one wheel in {out}, found {wheels}")
    return wheels[0]


def table(rows: list[Env]) -> str:
    head = ["TF", "Python", "protobuf", "numpy", "unchanged by install", "pip check", "show", "check", "run"]
    keys = ["unchanged", "pip check", "show", "check", "run"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        tf = r.versions.get("tensorflow-cpu", "-") if r.tf else "none"
        lines.append(
            "| "
            + " | ".join(
                [tf, r.python_version, r.versions.get("protobuf", "-"), r.versions.get("numpy", "-")]
                + [r.cells.get(k, "FAIL") for k in keys]
            )
            + " |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--tf", action="append", choices=RELEASES, help="only this release (repeatable); the reference always runs"
    )
    ap.add_argument("--no-tf-rows", action="store_true", help="skip the rows without TensorFlow")
    ap.add_argument("--recreate", action="store_true", help="delete and rebuild the venvs")
    ap.add_argument("--wheel", type=Path, help="install this wheel instead of building one from the checkout")
    ap.add_argument(
        "--cell", action="append", choices=["show", "check", "run"], help="only these commands (repeatable)"
    )
    args = ap.parse_args()
    start = time.time()
    WORK.mkdir(exist_ok=True)
    py_tf = find_python(TF_PYTHON)
    reference = RELEASES[-1]
    wanted = [v for v in RELEASES[:-1] if not args.tf or v in args.tf] + [reference]
    rows = [Env(f"tf-{v}", py_tf, [f"tensorflow-cpu=={v}"], v) for v in wanted]
    if not args.no_tf_rows:
        low = lowest_protobuf()
        rows.append(Env(f"py{OLD_PYTHON}-protobuf-{low}", find_python(OLD_PYTHON), [f"protobuf=={low}"], None))
        rows.append(Env(f"py{NEW_PYTHON}-protobuf-newest", find_python(NEW_PYTHON), ["protobuf"], None))

    if args.wheel:
        wheel = args.wheel.resolve()
    else:
        log(f"building the wheel ({ROOT})")
        wheel = build_wheel(py_tf or sys.executable)
    log(f"wheel: {wheel}")
    cells = {k: v for k, v in commands().items() if not args.cell or k in args.cell}
    no_tf_cells = {k: v for k, v in cells.items() if k != "run"}
    log("commands: " + ", ".join(f"{k} {len(v)}" for k, v in cells.items()))

    outputs = {}
    for env in rows:
        try:
            baseline = env.prepare(args.recreate)
            env.install(wheel, baseline)
            outputs[env.name] = run_all(env, cells if env.tf else no_tf_cells)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            env.failures.append(f"setup: {e}")
    ref_env = rows[len(wanted) - 1]
    ref = outputs.get(ref_env.name)
    for env in rows:
        if env.name not in outputs:
            continue
        if ref is None:
            env.failures.append("no reference output")
        elif env is ref_env:
            check_reference(env, cells, ref)
        else:
            compare(env, cells if env.tf else no_tf_cells, outputs[env.name], ref)
        if not env.tf and (not args.cell or "run" in args.cell):
            no_tf_run(env)

    for env in rows:
        for k in ("show", "check", "run"):
            if args.cell and k not in args.cell:
                env.cells[k] = "not run"
    print()
    print(table(rows))
    problems = [f"{r.name}: {f}" for r in rows for f in r.failures]
    if problems:
        print()
        print("\n".join(problems))
    log(f"done in {time.time() - start:.0f} s (reference: TF {reference}; compared: exit code, stdout, stderr)")
    failed = any(f for r in rows for f in r.failures if not f.startswith("note:"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
