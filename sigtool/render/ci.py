"""CI formats shared by `check` and `diff`: GitHub Actions workflow commands and JUnit XML.

Both commands turn what they found into plain Items (level, where, code, message); the writers here know
nothing else about either command. Levels: "error" (check's errors, diff's breaking changes), "warning",
"info". An item fails the build when it is an error, or a warning under --strict, as the exit code says.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Item:
    level: str  # "error", "warning" or "info"
    where: str
    code: str  # rule id or change code
    message: str
    word: str = ""  # the severity as the command names it ("breaking"); default: level


@dataclass(frozen=True)
class Case:
    """One JUnit <testcase>: a check rule, or a signature diff compared."""

    classname: str
    name: str
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Suite:
    """One JUnit <testsuite>; out: lines for its <system-out> (what belongs to no case)."""

    name: str
    cases: tuple[Case, ...]
    out: tuple[Item, ...] = field(default=())


def fails(item: Item, strict: bool) -> bool:
    return item.level == "error" or (strict and item.level == "warning")


# ---------------------------------------------------------------- GitHub Actions


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(items, tool: str) -> str:
    """One workflow command per error (::error) and warning (::warning); info is left out."""
    lines = []
    for item in items:
        if item.level not in ("error", "warning"):
            continue
        title = _escape_property(f"{tool} {item.code}")
        text = f"{item.where}: {item.message}" if item.where else item.message
        lines.append(f"::{item.level} title={title}::{_escape_data(text)}\n")
    return "".join(lines)


# ---------------------------------------------------------------- JUnit XML


def junit(name: str, suites, strict: bool) -> str:
    """JUnit XML, one <testsuite> per Suite and one <testcase> per Case; deterministic (no times, no hosts).

    A case fails (<failure>) when one of its items fails; its other items are listed in <system-out>.
    """
    from xml.etree import ElementTree as ET  # only for -f junit: keeps show and check quick to start

    root = ET.Element("testsuites", name=name)
    total = failed_total = 0
    for suite in suites:
        failures = sum(any(fails(i, strict) for i in case.items) for case in suite.cases)
        node = ET.SubElement(
            root,
            "testsuite",
            name=suite.name,
            tests=str(len(suite.cases)),
            failures=str(failures),
            errors="0",
            skipped="0",
        )
        total, failed_total = total + len(suite.cases), failed_total + failures
        for case in suite.cases:
            element = ET.SubElement(node, "testcase", classname=case.classname, name=case.name)
            failing = [i for i in case.items if fails(i, strict)]
            if failing:
                first = failing[0]
                failure = ET.SubElement(element, "failure", type=first.code, message=_line(first))
                failure.text = "".join(_line(i) + "\n" for i in failing)
            passing = [i for i in case.items if not fails(i, strict)]
            if passing:
                ET.SubElement(element, "system-out").text = "".join(_line(i) + "\n" for i in passing)
        if suite.out:
            ET.SubElement(node, "system-out").text = "".join(_line(i) + "\n" for i in suite.out)
    root.set("tests", str(total))
    root.set("failures", str(failed_total))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _line(item: Item) -> str:
    where = f" {item.where}:" if item.where else ""
    return f"{item.code} {item.word or item.level}:{where} {item.message}"


# ---------------------------------------------------------------- check (render.CHECK_FORMATS entries)


def _check_items(report):
    return [Item(f.severity.value, f.where, f.rule, f.message) for f in report.findings]


def _model_label(report) -> str:
    return report.path + (f" (version {report.version})" if report.version else "")


def check_github(reports, strict: bool) -> str:
    """check's findings as workflow commands: errors as ::error, warnings as ::warning (info left out)."""
    items = [
        Item(i.level, f"{_model_label(r)}: {i.where}" if i.where else _model_label(r), i.code, i.message)
        for r in reports
        for i in _check_items(r)
    ]
    return github(items, "sigtool check")


def check_junit(reports, strict: bool) -> str:
    """check's findings as JUnit: a <testsuite> per model (and version), a <testcase> per rule that found
    something (a model without findings gets one passing "check" case)."""
    suites = []
    for r in reports:
        by_rule: dict[str, list[Item]] = {}
        for item in _check_items(r):
            by_rule.setdefault(item.code, []).append(item)
        label = _model_label(r)
        cases = tuple(Case(label, rule, tuple(items)) for rule, items in sorted(by_rule.items())) or (
            Case(label, "check"),
        )
        suites.append(Suite(label, cases))
    return junit("sigtool check", suites, strict)
