"""sigtool on hostile file systems: links, directories, FIFOs, devices, permissions; and no surprises on disk
(nothing written, nothing read outside the model, asset paths that leave the model never opened).
"""

from __future__ import annotations

import builtins
import io
import os
import shutil
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import GEN, assert_one_error_line, invoke
from hardening import (
    COMMANDS,
    LOAD_FAILED,
    assert_check_ran,
    assert_refused,
    saved_model,
    show_json,
    time_limit,
    write_model,
)

from sigtool._proto import saved_model_pb2
from sigtool.loader import load

# --- the file system: links, directories, FIFOs, permissions ------------------------------------------


def test_symlink_loop(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "saved_model.pb").symlink_to("loop_a")
    (model / "loop_a").symlink_to("saved_model.pb")
    for message in assert_refused(model):
        assert "symbolic link loop" in message


def test_dangling_symlink(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "saved_model.pb").symlink_to("does_not_exist.pb")
    for message in assert_refused(model):
        assert "dangling symbolic link" in message and "does_not_exist.pb" in message


def test_symlink_to_a_directory(tmp_path):
    model = tmp_path / "m"
    (model / "elsewhere").mkdir(parents=True)
    (model / "saved_model.pb").symlink_to("elsewhere")
    for message in assert_refused(model):
        assert "is a directory" in message


def test_saved_model_pb_is_a_directory(tmp_path):
    model = tmp_path / "m"
    (model / "saved_model.pb").mkdir(parents=True)
    for message in assert_refused(model):
        assert "is a directory" in message


def test_symlink_to_a_valid_model_file_is_followed(tmp_path):
    real = write_model(tmp_path / "real", saved_model())
    model = tmp_path / "m"
    model.mkdir()
    (model / "saved_model.pb").symlink_to(real / "saved_model.pb")
    assert [s["key"] for s in show_json(model)["meta_graphs"][0]["signatures"]] == ["serving_default"]


def test_model_path_is_a_file(tmp_path):
    garbage = tmp_path / "model"
    garbage.write_bytes(b"\x07\x08 not a model")
    for message in assert_refused(garbage):
        assert "not a valid SavedModel" in message
    for message in assert_refused(garbage / "saved_model.pb"):  # a path through a file
        assert "no such file" in message


def test_fifo_fails_fast_instead_of_blocking(tmp_path):
    # Regression: os.open on a FIFO blocked until a writer came (show hung forever).
    model = tmp_path / "m"
    model.mkdir()
    os.mkfifo(model / "saved_model.pb")
    with time_limit(20):
        for message in assert_refused(model):
            assert "FIFO" in message and "regular file" in message


def test_device_is_not_read(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "saved_model.pb").symlink_to(os.devnull)
    for message in assert_refused(model):
        assert "not a regular file" in message


def test_directories_linked_far_away_are_not_walked_whole(tmp_path):
    # Found while hardening: assets/ -> / made check list the whole file system (15 s here).
    model = tmp_path / "m"
    shutil.copytree(GEN / "tf2_assets_lookup", model, ignore=shutil.ignore_patterns("assets*"))
    (model / "assets").symlink_to("/")
    (model / "assets.extra").symlink_to("/")
    start = time.monotonic()
    with time_limit(60):
        assert_check_ran(model)
        files = load(str(model), graph=True).files
    assert time.monotonic() - start < 10
    assert 0 < len(files.assets) <= 10_000 and len(files.assets_extra) <= 10_000


def test_version_directory_that_is_a_symlink_loop(tmp_path):
    base = tmp_path / "base"
    write_model(base / "1", saved_model())
    (base / "2").symlink_to("2")
    result = invoke("show", base)
    assert "Traceback" not in result.stderr
    assert_one_error_line(result, LOAD_FAILED)


@pytest.fixture
def unprivileged():
    """A context manager under which file permissions apply: as root, the effective user becomes nobody."""
    if os.geteuid() != 0:
        yield contextmanager(lambda: (yield))
        return

    @contextmanager
    def as_nobody():
        try:
            os.setegid(65534)
            os.seteuid(65534)
        except OSError as e:
            os.setegid(0)
            pytest.skip(f"cannot drop root privileges here ({e})")
        try:
            yield
        finally:
            os.seteuid(0)
            os.setegid(0)

    yield as_nobody


@pytest.fixture
def shared_tmp():
    """A temporary directory that another user can enter (pytest's own is private to its user)."""
    root = Path(tempfile.mkdtemp(prefix="sigtool-test-"))
    root.chmod(0o755)
    yield root
    for p in [root, *root.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755)
    shutil.rmtree(root)


def test_unreadable_files_and_directories(shared_tmp, unprivileged):
    # Regressions: check crashed with PermissionError on an unreadable warmup file or an unsearchable
    # assets.extra/, and show/check on a link into a directory that cannot be searched.
    source = GEN / "tf2_warmup"

    def model(name: str) -> Path:
        d = shared_tmp / name
        shutil.copytree(source, d)
        for p in [d, *d.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        return d

    unreadable_pb = model("unreadable_pb")
    (unreadable_pb / "saved_model.pb").chmod(0)
    extra = model("extra_not_searchable")
    (extra / "assets.extra").chmod(0o600)
    warmup = model("warmup_unreadable")
    (warmup / "assets.extra" / "tf_serving_warmup_requests").chmod(0)
    hidden = shared_tmp / "hidden"
    hidden.mkdir(mode=0o700)
    shutil.copy(source / "saved_model.pb", hidden / "saved_model.pb")
    link = shared_tmp / "link"
    link.mkdir()
    (link / "saved_model.pb").symlink_to(hidden / "saved_model.pb")
    base = shared_tmp / "base"
    shutil.copytree(source, base / "1")
    base.chmod(0o311)  # can be entered, not listed

    refused = {
        unreadable_pb: "Permission denied",
        link: "Permission denied",
        link / "saved_model.pb": "Permission denied",
        base: "cannot list",
    }
    readable = (extra, warmup)
    runs = [(args, path) for path in [*refused, *readable] for args in COMMANDS]
    for args, path in runs:  # once with privileges: lazy imports happen before they are dropped
        invoke(*args, path)
    results = {}
    with unprivileged():  # gives the privileges back even when a command crashes
        for args, path in runs:
            results[args, path] = invoke(*args, path)
    for (args, path), result in results.items():
        assert "Traceback" not in result.stderr
        if path in refused:
            assert refused[path] in assert_one_error_line(result, LOAD_FAILED), (args, path)
        elif args[0] == "check":
            assert result.exit_code == 1, result.stderr  # the warmup file Serving cannot read
            assert "SERVE006" in result.stdout and "cannot read the file (Permission denied)" in result.stdout
        else:
            assert result.exit_code == 0, result.stderr


# --- no surprises on disk ------------------------------------------------------------------------------

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


@pytest.fixture
def file_access(monkeypatch):
    """A context manager recording every file opened (and how) in this process; file-system changes fail."""
    opened: list[tuple[str, str]] = []
    changed: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def recording_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)):
            opened.append((os.path.abspath(os.fsdecode(file)), "w" if set(mode) & set("wax+") else "r"))
        return real_open(file, mode, *args, **kwargs)

    def recording_os_open(path, flags, *args, **kwargs):
        opened.append((os.path.abspath(os.fsdecode(path)), "w" if flags & _WRITE_FLAGS else "r"))
        return real_os_open(path, flags, *args, **kwargs)

    def refuse(name):
        def change(*args, **kwargs):
            changed.append(f"{name}{args}")
            raise PermissionError(f"test: {name} is not allowed")

        return change

    @contextmanager
    def recording():
        with monkeypatch.context() as m:
            m.setattr(builtins, "open", recording_open)
            m.setattr(io, "open", recording_open)
            m.setattr(os, "open", recording_os_open)
            for name in (
                "mkdir",
                "makedirs",
                "rename",
                "replace",
                "remove",
                "unlink",
                "rmdir",
                "symlink",
                "link",
                "truncate",
                "chmod",
                "utime",
                "mkfifo",
            ):
                m.setattr(os, name, refuse(name))
            yield opened, changed

    return recording


def listing(root: Path) -> dict[str, tuple]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            found[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return found


def test_no_file_is_written_or_read_outside_the_model(tmp_path, monkeypatch, file_access):
    tree = tmp_path / "tree"
    model = tree / "models" / "warm" / "1"
    shutil.copytree(GEN / "tf2_warmup", model)
    (model / "assets").mkdir(exist_ok=True)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for p in [tree, *tree.rglob("*")]:  # a read-only tree (root may write anyway: the listings tell)
        p.chmod(p.stat().st_mode & ~0o222)
    monkeypatch.chdir(cwd)
    before, cwd_before = listing(tree), listing(cwd)
    try:
        with file_access() as (opened, changed):
            for args in (
                ("show",),
                ("show", "--all"),
                ("show", "--all", "-f", "json"),
                ("show", "-f", "smcli", "--all"),
                ("check",),
                ("check", "-f", "json", "--strict"),
            ):
                result = invoke(*args, model)
                assert result.exit_code in (0, 1), result.stderr
                assert "Traceback" not in result.stderr
            assert invoke("show", tree / "models" / "warm").exit_code == 0  # a model base path
        after, cwd_after = listing(tree), listing(cwd)
    finally:
        for p in [tree, *tree.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
    assert changed == []
    assert [p for p, how in opened if how == "w"] == []
    outside = sorted({p for p, _ in opened if not p.startswith(str(model) + os.sep)})
    assert outside == []
    assert after == before
    assert cwd_after == cwd_before == {}


def test_asset_paths_outside_the_model_are_reported_and_never_opened(tmp_path, file_access):
    model = tmp_path / "a" / "b" / "model"
    shutil.copytree(GEN / "tf2_assets_lookup", model)
    targets = [
        (model / "assets" / ".." / ".." / "outside.txt").resolve(),
        (model / ".." / ".." / "outside.txt").resolve(),
        tmp_path / "absolute_outside.txt",
    ]
    for target in targets:
        target.write_text("secret\n")
    sm = saved_model_pb2.SavedModel.FromString((model / "saved_model.pb").read_bytes())
    mg = sm.meta_graphs[0]
    assert [a.filename for a in mg.asset_file_def] == ["vocab.txt"]
    for filename in ("../../outside.txt", str(tmp_path / "absolute_outside.txt")):
        mg.asset_file_def.add(filename=filename).tensor_info.name = "asset_path_initializer:0"
    (model / "saved_model.pb").write_bytes(sm.SerializeToString())
    with file_access() as (opened, changed):
        findings = assert_check_ran(model)
        assert_check_ran(model, "--strict")
    assert changed == []
    outside = {f["where"]: f["message"] for f in findings if f["rule"] == "SERVE004"}
    assert len(outside) == 2, findings
    assert all("outside the model directory" in m and "not opened" in m for m in outside.values())
    assert any("../../outside.txt" in w for w in outside) and any("absolute_outside.txt" in w for w in outside)
    opened_paths = {Path(p).resolve() for p, _ in opened}
    assert not opened_paths & set(targets), opened_paths
    assert all(str(p).startswith(str(model.resolve())) for p in opened_paths), opened_paths
