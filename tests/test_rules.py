"""Every registered check rule against its own fixtures (testdata/rules/<RULE>/, see its README.md).

For each rule: check fires it on triggers/ (its severity, the expected text, the exit code) and not
on clean/, and its findings on triggers/ match the goldens in tests/golden/check/<RULE>/ exactly.
The rule list comes from the registry, so a new rule without fixtures, or a rule that is deleted or
stops firing, fails here. Then: the committed fixtures are what testdata/make_rule_fixtures.py
writes, and TensorFlow loads and runs them as the rules claim (the two tests with "tensorflow" in
their names start TensorFlow in a subprocess, about 15 s each).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, TESTDATA, invoke

from sigtool import checks

RULES_DIR = TESTDATA / "rules"
GOLDEN_CHECK = REPO / "tests" / "golden" / "check"
RULE_IDS = sorted(checks.RULES)
FIXTURE_IDS = sorted(p.name for p in RULES_DIR.iterdir() if p.is_dir())
ALL_IDS = sorted(set(RULE_IDS) | set(FIXTURE_IDS))
EXIT = {"error": (1, 1), "warning": (0, 1), "info": (0, 0)}  # severity -> exit code (plain, --strict)

sys.path.insert(0, str(TESTDATA))
import make_rule_fixtures as generator  # noqa: E402 - found through the sys.path entry just above


@pytest.fixture(autouse=True)
def from_repo_root(monkeypatch):
    """Paths stay relative (testdata/rules/...), so no output holds this checkout's location."""
    monkeypatch.chdir(REPO)


def rel(rule_id: str, kind: str = "") -> str:
    return "/".join(p for p in ("testdata", "rules", rule_id, kind) if p)


def options(rule_id: str) -> list[str]:
    path = RULES_DIR / rule_id / "args.txt"
    assert path.is_file(), f"{rel(rule_id)}/args.txt missing (empty when the rule needs no options)"
    return shlex.split(path.read_text())


def check(rule_id: str, kind: str, *extra: str, fmt: str = "json"):
    return invoke("check", *options(rule_id), *extra, "-f", fmt, rel(rule_id, kind))


def findings(result) -> list[dict]:
    return [f for model in json.loads(result.stdout)["models"] for f in model["findings"]]


def test_every_registered_rule_has_fixtures_and_every_fixture_a_rule():
    missing = sorted(set(RULE_IDS) - set(FIXTURE_IDS))
    stale = sorted(set(FIXTURE_IDS) - set(RULE_IDS))
    assert not missing, f"rules without testdata/rules/<RULE>/ fixtures: {missing}"
    assert not stale, f"fixtures for rules that are not registered: {stale}"
    # A third witness, so that deleting a rule together with its fixtures still fails: its goldens.
    goldens = sorted(p.name for p in GOLDEN_CHECK.iterdir() if p.is_dir())
    assert goldens == RULE_IDS, (
        f"tests/golden/check/<RULE>/ and the registry differ: {sorted(set(goldens) ^ set(RULE_IDS))}"
    )


@pytest.mark.parametrize("rule_id", ALL_IDS)
def test_rule_fires_on_triggers(rule_id):
    assert rule_id in checks.RULES, f"{rule_id} has fixtures but is not registered"
    severity = checks.RULES[rule_id].severity.value
    result = check(rule_id, "triggers")
    mine = [f for f in findings(result) if f["rule"] == rule_id]
    assert mine, f"{rule_id} does not fire on {rel(rule_id, 'triggers')}"
    assert {f["severity"] for f in mine} == {severity}
    expect = (RULES_DIR / rule_id / "expect.txt").read_text().splitlines()
    assert expect, f"{rel(rule_id)}/expect.txt names no text to expect"
    found = [f"{f['where']}  {f['message']}" for f in mine]
    for text in expect:
        assert any(text in line for line in found), (text, found)

    # This rule alone decides the exit code: errors fail, warnings fail under --strict, notes never.
    plain, strict = (check(rule_id, "triggers", "--select", rule_id, *flag) for flag in ((), ("--strict",)))
    assert (plain.exit_code, strict.exit_code) == EXIT[severity], (plain.stderr, strict.stderr)
    assert findings(plain) == mine


@pytest.mark.parametrize("rule_id", ALL_IDS)
def test_rule_is_silent_on_clean(rule_id):
    clean = RULES_DIR / rule_id / "clean"
    if not clean.is_dir():
        why = RULES_DIR / rule_id / "unconditional.txt"
        assert why.is_file() and why.read_text().strip(), f"{rel(rule_id)} has no clean/ and no unconditional.txt"
        # A rule with no clean model must then fire on every model check can read.
        for other in FIXTURE_IDS:
            for kind in ("triggers", "clean"):
                result = check(other, kind) if (RULES_DIR / other / kind).is_dir() else None
                if result is None or result.exit_code == 3:  # absent, or meant to be unreadable
                    continue
                got = {f["rule"] for f in findings(result)}
                assert rule_id in got, f"{rule_id} is silent on {rel(other, kind)}, so it can have a clean model"
        return
    result = check(rule_id, "clean")
    assert result.exit_code in (0, 1), result.stderr
    assert rule_id not in {f["rule"] for f in findings(result)}
    alone = check(rule_id, "clean", "--select", rule_id, "--strict")
    assert alone.exit_code == 0 and findings(alone) == [], alone.stdout


@pytest.mark.parametrize("rule_id", ALL_IDS)
def test_triggers_golden(rule_id, golden):
    table = check(rule_id, "triggers", fmt="table")
    as_json = check(rule_id, "triggers", fmt="json")
    assert table.exit_code == as_json.exit_code and table.stderr == as_json.stderr
    for output in (table.stdout, as_json.stdout, table.stderr):
        assert str(REPO) not in output
    golden(table.stdout, f"check/{rule_id}/triggers.txt")
    golden(as_json.stdout, f"check/{rule_id}/triggers.json")
    golden(table.stderr, f"check/{rule_id}/triggers.stderr")


# --- the generator --------------------------------------------------------------------------------


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generator_reproduces_the_protobuf_built_fixtures():
    built = generator.build()
    for rule_id in generator.OWNED:
        committed = {f"{rule_id}/{k}": v for k, v in tree(RULES_DIR / rule_id).items()}
        expected = {k: v for k, v in built.items() if k.split("/")[0] == rule_id}
        if rule_id in generator.TF_CASES:  # TensorFlow-written models: see the test for those below
            committed = {k: v for k, v in committed.items() if k.count("/") == 1}
        assert sorted(committed) == sorted(expected), "run `python testdata/make_rule_fixtures.py` and commit"
        changed = [k for k in expected if committed[k] != expected[k]]
        assert not changed, f"{changed} differ from make_rule_fixtures.py's output"


def test_generator_owns_only_its_directories(tmp_path):
    generator.write(tmp_path, tf=False)
    first = tree(tmp_path)
    assert {k.split("/")[0] for k in first} == set(generator.CASES)  # --no-tf: the protobuf-built rules only
    (tmp_path / "ZZZ999" / "triggers").mkdir(parents=True)
    (tmp_path / "ZZZ999" / "triggers" / "saved_model.pb").write_bytes(b"another script's")
    (tmp_path / "FMT002" / "clean" / "stale.txt").write_text("left over")
    generator.write(tmp_path, tf=False)
    second = tree(tmp_path)
    assert second.pop("ZZZ999/triggers/saved_model.pb") == b"another script's"
    assert second == first


def describe(path: Path) -> dict:
    """What sigtool reads from a model: show --all and check, with the path it was given taken out."""
    out = {}
    for command in (("show", "--all"), ("check",)):
        result = invoke(*command, "-f", "json", str(path))
        assert result.exit_code in (0, 1), result.stderr
        out[command[0]] = result.stdout.replace(str(path), "MODEL")
    return out


@pytest.mark.tf
def test_generator_reproduces_the_tensorflow_built_fixtures(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    script = TESTDATA / "make_rule_fixtures.py"
    done = subprocess.run(
        [sys.executable, str(script), "--tf-only", "--out", str(tmp_path)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for rule_id in generator.TF_CASES:
        fresh, committed = tree(tmp_path / rule_id), tree(RULES_DIR / rule_id)
        assert sorted(fresh) == sorted(committed), rule_id
        for name, data in fresh.items():
            if data == committed[name]:
                continue
            # TensorFlow need not write the same bytes twice; it must write the same model.
            assert name.endswith("saved_model.pb"), f"{rule_id}/{name} differs"
            model = Path(name).parent
            assert describe(tmp_path / rule_id / model) == describe(RULES_DIR / rule_id / model), name


# --- TensorFlow agrees -----------------------------------------------------------------------------

# Load each model with TensorFlow's own loader (tags {serve}) and run serving_default once; print what happened.
TF_LOAD_AND_RUN = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
example = tf.train.Example(features=tf.train.Features(feature={"x": tf.train.Feature(
    float_list=tf.train.FloatList(value=[3.0]))})).SerializeToString()
value = {tf.string: example, tf.float32: 3.0, tf.float64: 3.0, tf.int64: 3}
verdicts = {}
for path in sys.argv[1:]:
    try:
        with tf.compat.v1.Session(graph=tf.Graph()) as session:
            meta_graph = tf.compat.v1.saved_model.load(session, ["serve"], path)
            if "serving_default" not in meta_graph.signature_def:
                verdicts[path] = "no serving_default: " + ", ".join(sorted(meta_graph.signature_def))
                continue
            signature = meta_graph.signature_def["serving_default"]
            try:
                feeds = {}
                for t in signature.inputs.values():
                    v = value[tf.dtypes.as_dtype(t.dtype)]
                    feeds[t.name] = [[v]] if len(t.tensor_shape.dim) == 2 else [v]
                session.run({k: t.name for k, t in signature.outputs.items()}, feeds)
                verdicts[path] = "ok"
            except Exception as e:
                verdicts[path] = "run failed: " + " ".join(str(e).split())
    except Exception as e:
        verdicts[path] = "load failed: " + " ".join(str(e).split())
print(json.dumps(verdicts))
"""

# What TensorFlow says about the triggering models of the owned rules that claim a load or a request
# fails; every other owned fixture, clean or triggering, must load and answer serving_default.
TF_FAILS = {
    "GRAPH001": ("run failed", "refers to a Tensor which does not exist"),
    "GRAPH005": ("run failed", "keep_prob"),
    "SEC001": ("run failed", "labels.txt"),  # the request reads a file that is not there
    "SERVE001": ("load failed", "MetaGraphDef associated with tags 'serve' could not be found"),
    "SERVE002": ("no serving_default", "predict"),
    "SERVE003": ("load failed", ""),
    "SERVE004": ("load failed", "vocab.txt"),
    "SERVE007": ("load failed", "SavedModel file does not exist"),
}


def saved_model_dir(fixture: Path) -> Path:
    """The directory holding the model: the version directory of a base path, or the fixture itself."""
    versions = [p for p in sorted(fixture.iterdir()) if p.is_dir() and p.name.isdigit()]
    return versions[-1] if versions else fixture


@pytest.mark.tf
def test_tensorflow_agrees_with_the_owned_fixtures():
    models = {}
    for rule_id in generator.OWNED:
        for kind in ("triggers", "clean"):
            if (RULES_DIR / rule_id / kind).is_dir():
                models[(rule_id, kind)] = saved_model_dir(RULES_DIR / rule_id / kind)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", TF_LOAD_AND_RUN, *map(str, models.values())],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    verdicts = json.loads(done.stdout.strip().splitlines()[-1])
    for (rule_id, kind), path in models.items():
        verdict = verdicts[str(path)]
        if kind == "triggers" and rule_id in TF_FAILS:
            outcome, text = TF_FAILS[rule_id]
            assert verdict.startswith(outcome + ": ") and text in verdict, (rule_id, verdict)
        else:
            assert verdict == "ok", (rule_id, kind, verdict)
