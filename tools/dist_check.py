"""make dist: build the sdist and wheel a user gets, and prove they install.

    python tools/dist_check.py

1. `python -m build` on a copy of the files git knows (tracked, or new and not
   ignored), so nothing left in the working tree leaks in: an sdist, then a
   wheel built from that sdist. Both land in dist/.
2. The sdist holds what a build from it needs (pyproject.toml, README.md, the
   license text, every file under sigtool/); the wheel holds every file under
   sigtool/ (package data included) and the version of sigtool/__init__.py.
3. `twine check --strict` on both.
4. `pipx install` of the wheel (PIPX_HOME under a temp dir); `sigtool --version`.
5. A Python 3.9 venv installs the wheel; `sigtool show testdata/minimal` works.

build, twine and pipx are installed into a temp venv here: nothing by hand.
Exit 1 and one line per problem if anything fails.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
OLD_PYTHON = "3.9"
PACKAGE = "sigtool"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(argv, *, env=None, cwd=None) -> str:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, cwd=cwd)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-20:]
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {proc.returncode}:\n  " + "\n  ".join(tail))
    return proc.stdout


def find_python(version: str) -> str | None:
    """pythonX.Y from $SIGTOOL_PYTHON<X><Y>, PATH or pyenv (a shim that fails is skipped)."""
    pyenv = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    for candidate in [
        os.environ.get("SIGTOOL_PYTHON" + version.replace(".", "")),
        shutil.which(f"python{version}"),
        *reversed(pyenv),
    ]:
        if candidate and subprocess.run([candidate, "-c", ""], capture_output=True).returncode == 0:
            return candidate
    return None


def known_files() -> list[str]:
    out = sh(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT)
    return sorted(f for f in set(out.split("\0")) if f and (ROOT / f).is_file())


def version() -> str:
    m = re.search(r'^__version__ = "([^"]+)"', (ROOT / PACKAGE / "__init__.py").read_text(), re.M)
    if not m:
        raise RuntimeError(f"{PACKAGE}/__init__.py: no __version__")
    return m.group(1)


def build(tmp: Path, tools: Path, files: list[str]) -> tuple[Path, Path]:
    src = tmp / "src"
    for f in files:
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, src / f)
    out = tmp / "dist"
    sh([tools / "python", "-m", "build", "--outdir", out, src])
    shutil.rmtree(DIST, ignore_errors=True)
    shutil.copytree(out, DIST)
    sdists, wheels = list(DIST.glob("*.tar.gz")), list(DIST.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        raise RuntimeError(f"expected one sdist and one wheel, got {sorted(p.name for p in DIST.iterdir())}")
    return sdists[0], wheels[0]


def check_contents(sdist: Path, wheel: Path, files: list[str], ver: str) -> list[str]:
    problems = []
    package_files = [f for f in files if f.startswith(PACKAGE + "/")]
    licenses = [f for f in files if re.match(r"(LICEN[CS]E|COPYING)", f)]
    if not licenses:
        problems.append(
            "no LICENSE file: pyproject.toml says Apache-2.0, but no license text ships in the sdist or wheel"
        )
    with tarfile.open(sdist) as tar:
        top = f"{PACKAGE}-{ver}/"
        in_sdist = {n[len(top) :] for n in tar.getnames() if n.startswith(top)}
    for f in ["pyproject.toml", "README.md", *licenses, *package_files]:
        if f not in in_sdist:
            problems.append(f"sdist lacks {f}")
    with zipfile.ZipFile(wheel) as zf:
        in_wheel = set(zf.namelist())
        meta = zf.read(f"{PACKAGE}-{ver}.dist-info/METADATA").decode()
    for f in package_files:
        if f not in in_wheel:
            problems.append(f"wheel lacks {f}")
    stray = sorted(n for n in in_wheel if not n.startswith((PACKAGE + "/", f"{PACKAGE}-{ver}.dist-info/")))
    if stray:
        problems.append(f"wheel holds files outside the package: {', '.join(stray[:5])}")
    for line in (f"Version: {ver}", "Requires-Python: >=3.9"):
        if line not in meta.splitlines():
            problems.append(f"wheel METADATA lacks {line!r}")
    if "Description-Content-Type: text/markdown" not in meta:
        problems.append("wheel METADATA: README not marked as Markdown")
    return problems


def pipx_install(tmp: Path, tools: Path, wheel: Path, ver: str) -> list[str]:
    env = dict(
        os.environ, PIPX_HOME=str(tmp / "pipx"), PIPX_BIN_DIR=str(tmp / "pipx-bin"), PIPX_MAN_DIR=str(tmp / "pipx-man")
    )
    sh([tools / "pipx", "install", wheel], env=env)
    out = sh([tmp / "pipx-bin" / "sigtool", "--version"], env=env).strip()
    log(f"pipx: {out}")
    return [] if out.startswith(f"sigtool {ver} (") else [f"pipx: sigtool --version printed {out!r}"]


def old_python(tmp: Path, wheel: Path) -> list[str]:
    python = find_python(OLD_PYTHON)
    if python is None:
        return [f"no python{OLD_PYTHON} found (PATH, pyenv or $SIGTOOL_PYTHON{OLD_PYTHON.replace('.', '')})"]
    venv = tmp / "py39"
    sh([python, "-m", "venv", venv])
    sh([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel])
    problems = []
    for argv in (["show", "testdata/minimal"], ["check", "testdata/minimal"]):
        p = subprocess.run([str(venv / "bin" / "sigtool"), *argv], cwd=ROOT, capture_output=True, text=True)
        if p.returncode != 0 or (argv[0] == "show" and "serving_default" not in p.stdout):
            problems.append(
                f"Python {OLD_PYTHON}: sigtool {' '.join(argv)} exited {p.returncode}: {p.stderr.strip()[-300:]}"
            )
    pyver = sh([venv / "bin" / "python", "-c", "import platform; print(platform.python_version())"]).strip()
    log(f"Python {pyver}: wheel installed; show and check on testdata/minimal " + ("failed" if problems else "work"))
    return problems


def main() -> int:
    start = time.time()
    problems: list[str] = []
    ver = version()
    files = known_files()
    with tempfile.TemporaryDirectory(prefix="sigtool-dist-") as t:
        tmp = Path(t)
        log("temp venv with build, twine, pipx")
        sh([sys.executable, "-m", "venv", tmp / "tools"])
        tools = tmp / "tools" / "bin"
        sh([tools / "python", "-m", "pip", "install", "-q", "build", "twine", "pipx"])
        log("python -m build (sdist, then the wheel from the sdist)")
        sdist, wheel = build(tmp, tools, files)
        log(f"built dist/{sdist.name} and dist/{wheel.name}")
        problems += check_contents(sdist, wheel, files, ver)
        log("twine check --strict")
        try:
            sh([tools / "twine", "check", "--strict", sdist, wheel])
        except RuntimeError as e:
            problems.append(f"twine check: {e}")
        log("pipx install")
        try:
            problems += pipx_install(tmp, tools, wheel, ver)
        except RuntimeError as e:
            problems.append(f"pipx: {e}")
        log(f"Python {OLD_PYTHON} venv")
        try:
            problems += old_python(tmp, wheel)
        except RuntimeError as e:
            problems.append(f"Python {OLD_PYTHON}: {e}")
    for p in problems:
        print(f"FAIL: {p}")
    log(f"{'FAILED' if problems else 'ok'} in {time.time() - start:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
