"""testdata/make_testdata.py is the source of truth: the committed bytes are exactly what it writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import NOT_MAKE_TESTDATA, TESTDATA

SCRIPT = TESTDATA / "make_testdata.py"
NOT_GENERATED = NOT_MAKE_TESTDATA - {"__pycache__"}  # what else may live in testdata/


def generate(out: Path) -> None:
    # A subprocess, as a developer runs it: nothing is imported into (or cached beside) testdata/.
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True)


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] not in NOT_GENERATED | {"__pycache__"}
    }


def test_committed_testdata_is_what_the_script_writes(tmp_path):
    generate(tmp_path)
    generated, committed = tree(tmp_path), tree(TESTDATA)
    assert sorted(generated) == sorted(committed), "run `python testdata/make_testdata.py` and commit the result"
    changed = [rel for rel in generated if generated[rel] != committed[rel]]
    assert not changed, f"{changed} differ from make_testdata.py's output; regenerate them"


def test_nothing_but_generated_cases_in_testdata(tmp_path):
    generate(tmp_path)
    owned = {p.name for p in tmp_path.iterdir()}
    present = {p.name for p in TESTDATA.iterdir()} - {"__pycache__"}
    assert present == owned | NOT_GENERATED


def test_script_is_idempotent_and_removes_stale_files(tmp_path):
    generate(tmp_path)
    first = tree(tmp_path)
    (tmp_path / "minimal" / "stale.pb").write_bytes(b"left over")
    (tmp_path / "bad" / "old_case").mkdir()
    (tmp_path / "not_ours.txt").write_text("kept")
    generate(tmp_path)
    second = tree(tmp_path)
    assert second.pop("not_ours.txt") == b"kept"
    assert second == first


def test_testdata_stays_small():
    total = sum(len(data) for data in tree(TESTDATA).values())
    assert total < 2_000_000, total
    big = (TESTDATA / "big_constant" / "saved_model.pb").stat().st_size
    assert 900_000 < big <= 1_100_000, big
