"""What `sigtool diff` reports: a Change, its severity, and the table of stable change codes.

Codes are never renamed or reused. DIFF0xx are breaking, DIFF1xx warnings, DIFF2xx info.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sigtool.model import signature_order


class Severity(Enum):
    BREAKING = "breaking"  # a client of the old model fails against the new one (exit 1)
    WARNING = "warning"  # likely to break something; fails only under --strict
    INFO = "info"  # worth knowing; never fails


@dataclass(frozen=True)
class Kind:
    code: str
    severity: Severity
    summary: str


_KINDS = (
    # breaking
    Kind(
        "DIFF001",
        Severity.BREAKING,
        "The compared tag-set (serve by default) is gone: Serving cannot load the new model as before.",
    ),
    Kind("DIFF002", Severity.BREAKING, "A signature was removed."),
    Kind("DIFF003", Severity.BREAKING, "serving_default was removed: requests that name no signature fail."),
    Kind("DIFF004", Severity.BREAKING, "A signature's method name changed (the Serving API that calls it)."),
    Kind("DIFF005", Severity.BREAKING, "An input was removed or renamed."),
    Kind("DIFF006", Severity.BREAKING, "A new input has no default: every old request lacks it."),
    Kind("DIFF007", Severity.BREAKING, "An input's dtype changed."),
    Kind(
        "DIFF008",
        Severity.BREAKING,
        "An input's shape narrowed: a free dimension fixed, a fixed size or the rank changed.",
    ),
    Kind("DIFF009", Severity.BREAKING, "An input's encoding changed (dense, coo_sparse, composite)."),
    Kind("DIFF010", Severity.BREAKING, "An output was removed or renamed."),
    Kind("DIFF011", Severity.BREAKING, "An output's dtype changed."),
    Kind("DIFF012", Severity.BREAKING, "An output's encoding changed (dense, coo_sparse, composite)."),
    Kind("DIFF013", Severity.BREAKING, "A signature that passed Serving's Classify/Regress checks now fails them."),
    Kind("DIFF014", Severity.BREAKING, "A tf.Example feature was added as required (no default)."),
    Kind("DIFF015", Severity.BREAKING, "A tf.Example feature's dtype changed."),
    Kind("DIFF016", Severity.BREAKING, "A tf.Example feature's shape or kind (dense, sparse, ragged) changed."),
    Kind("DIFF017", Severity.BREAKING, "A tf.Example feature was removed: old clients may still send it."),
    Kind("DIFF018", Severity.BREAKING, "A tf.Example feature lost its default: examples without it now fail."),
    # warning
    Kind("DIFF101", Severity.WARNING, "An output's shape widened: a fixed dimension became free, or the rank unknown."),
    Kind("DIFF102", Severity.WARNING, "An output's fixed size or rank changed."),
    Kind("DIFF103", Severity.WARNING, "New ops need a newer TensorFlow (and Serving) than the old model did."),
    Kind("DIFF104", Severity.WARNING, "The new model was written by a newer TensorFlow major/minor release."),
    # info
    Kind(
        "DIFF201",
        Severity.INFO,
        "Only a tensor name changed (REST and gRPC clients do not see it; TF1 session users do).",
    ),
    Kind("DIFF202", Severity.INFO, "A signature was added."),
    Kind("DIFF203", Severity.INFO, "An output was added."),
    Kind("DIFF204", Severity.INFO, "An input's shape widened: it accepts everything it did."),
    Kind("DIFF205", Severity.INFO, "An output's shape narrowed: a free dimension is now fixed."),
    Kind("DIFF206", Severity.INFO, "The TensorFlow version that wrote the model changed (same or older major/minor)."),
    Kind("DIFF207", Severity.INFO, "The variables' size on disk changed."),
    Kind("DIFF208", Severity.INFO, "A tf.Example feature was added with a default, or gained one."),
    Kind("DIFF209", Severity.INFO, "An internal signature (__saved_model_init_op ...) changed: clients never call it."),
    Kind("DIFF210", Severity.INFO, "A new input has a default (SignatureDef defaults): old requests still work."),
)
KINDS: dict[str, Kind] = {k.code: k for k in _KINDS}


@dataclass(frozen=True)
class Change:
    code: str  # DIFF###, a key of KINDS
    severity: Severity
    where: str  # tag-set/signature/inputs|outputs/key, as check writes it; a feature: .../inputs/KEY/features/NAME
    old: str  # the old value as text ("" when there was none)
    new: str  # the new value as text ("" when there is none)
    message: str


def change(code: str, where: str, old: str, new: str, message: str) -> Change:
    return Change(code, KINDS[code].severity, where, old, new, message)


def sort_key(c: Change) -> tuple:
    """Tag-set, then signatures as show orders them (serving_default first), then place and code."""
    parts = c.where.split("/")
    signature = signature_order(parts[1]) if len(parts) > 1 else (-1, "")
    return (parts[0], signature, "/".join(parts[2:]), c.code, c.old, c.new, c.message)


def failed(changes, *, strict: bool) -> bool:
    """Breaking changes fail; warnings only under --strict; info never."""
    return any(c.severity is Severity.BREAKING or (strict and c.severity is Severity.WARNING) for c in changes)


def summary_line(changes, strict: bool) -> str:
    """One line for stderr: '2 breaking, 1 warning, 3 info: FAILED'."""
    counts = {s: sum(c.severity is s for c in changes) for s in Severity}
    warnings = counts[Severity.WARNING]
    words = [
        f"{counts[Severity.BREAKING]} breaking",
        f"{warnings} warning{'s' * (warnings != 1)}",
        f"{counts[Severity.INFO]} info",
    ]
    verdict = "FAILED" if failed(changes, strict=strict) else "PASSED"
    return ", ".join(words) + f": {verdict}" + (" (--strict: warnings fail)" if strict else "")
