"""Invalid UTF-8 in proto3 `string` fields: TensorFlow refuses the whole file, sigtool reads on and says where.

Protobuf (and so TF and Serving) rejects a proto3 string field that is not
valid UTF-8 ("String field had bad UTF-8"). sigtool decodes such a value with
replacement characters, and notes the field's path, e.g.
`meta_graphs[0].signature_def['serving_default'].inputs['x'].name`, so that
`show` can end with an error and `check` can report it.

Paths: `.field` for a field, `field[i]` for a repeated one, `field['key']`
for a map entry (a key that is not UTF-8 itself is shown with \\x escapes).
The fast wire decoder and the protobuf path write the same paths.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_found: ContextVar[list[str] | None] = ContextVar("sigtool_invalid_utf8", default=None)


@contextmanager
def collecting() -> Iterator[list[str]]:
    """Collect the paths noted while reading one model (in the order found, without repeats)."""
    found: list[str] = []
    token = _found.set(found)
    try:
        yield found
    finally:
        _found.reset(token)


def note(path: str) -> None:
    found = _found.get()
    if found is not None and path not in found:
        found.append(path)


def text(raw: bytes, path) -> str:
    """A string field's bytes as text; invalid UTF-8 is replaced and its path noted (path: str or a callable)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        note(path() if callable(path) else path)
        return raw.decode("utf-8", "replace")


def key(raw: bytes) -> str:
    """A map key as paths write it: ['key'], with \\x escapes for bytes that are not UTF-8."""
    return "['" + raw.decode("utf-8", "backslashreplace") + "']"


# --- the protobuf path --------------------------------------------------------------------


def parse(message_class, data: bytes, path: str):
    """data parsed as message_class; where a string field is not UTF-8, its path is noted and it is replaced.

    Raises protobuf's DecodeError when the bytes are corrupt in any other way.
    """
    from google.protobuf import message as pb_message

    try:
        return message_class.FromString(data)
    except (pb_message.DecodeError, UnicodeDecodeError):  # protobuf 3.20's pure-Python parser raises the latter
        lenient = lenient_class(message_class.DESCRIPTOR).FromString(data)  # corrupt bytes still raise
    if not repair(lenient, path):
        raise pb_message.DecodeError(f"Error parsing message with type '{message_class.DESCRIPTOR.full_name}'")
    return message_class.FromString(lenient.SerializeToString())


def repair(message, path: str) -> bool:
    """Note and replace each invalid string in a lenient message (in place); False when all were valid."""
    changed = False
    for field, value in message.ListFields():
        here = f"{path}.{field.name}" if path else field.name
        if _is_map(field):
            for entry in value:
                changed |= _repair_entry(entry, here)
        elif _repeated(field):
            for index, item in enumerate(value):
                if field.type == field.TYPE_MESSAGE:
                    changed |= repair(item, f"{here}[{index}]")
                elif _was_string(field) and not _valid(item):
                    note(f"{here}[{index}]")
                    value[index] = _replaced(item)
                    changed = True
        elif field.type == field.TYPE_MESSAGE:
            changed |= repair(value, here)
        elif _was_string(field) and not _valid(value):
            note(here)
            setattr(message, field.name, _replaced(value))
            changed = True
    return changed


def _repair_entry(entry, here: str) -> bool:
    """One entry of a map (the twin reads maps as repeated entries: upb allows no bytes keys)."""
    fields = entry.DESCRIPTOR.fields_by_name
    k = entry.key
    where = here + (key(k) if isinstance(k, bytes) else f"[{k}]")
    changed = False
    if _was_string(fields["key"]) and not _valid(k):
        note(where)
        entry.key = _replaced(k)
        changed = True
    if fields["value"].type == fields["value"].TYPE_MESSAGE:
        changed |= repair(entry.value, where)
    elif _was_string(fields["value"]) and not _valid(entry.value):
        note(where)
        entry.value = _replaced(entry.value)
        changed = True
    return changed


def _repeated(field) -> bool:
    if hasattr(field, "is_repeated"):  # protobuf >= 5.28; `label` is gone in 7
        return field.is_repeated
    return field.label == field.LABEL_REPEATED


def _is_map(field) -> bool:
    return field.type == field.TYPE_MESSAGE and field.message_type.full_name in _MAP_ENTRIES


def _was_string(field) -> bool:
    return field.type == field.TYPE_BYTES and field.full_name in _STRING_FIELDS


def _valid(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _replaced(raw: bytes) -> bytes:
    return raw.decode("utf-8", "replace").encode("utf-8")


# --- lenient twins: the same messages with every string field read as bytes -------------------

_LENIENT_FILES: set[str] = set()
_STRING_FIELDS: set[str] = set()  # full names of the twins' fields that are strings in the original
_MAP_ENTRIES: set[str] = set()  # full names of the twins' map entry messages (plain messages in the twin)


@functools.cache
def _pool():
    from google.protobuf import descriptor_pool

    return descriptor_pool.DescriptorPool()


_CLASSES: dict = {}  # every twin class, held: see sigtool._proto.build_classes


def lenient_class(descriptor):
    """A class wire-compatible with `descriptor`'s, whose string fields are bytes (parsing never checks UTF-8)."""
    _add_file(descriptor.file)
    return _CLASSES[descriptor.full_name]


def _add_file(file) -> None:
    from google.protobuf import descriptor_pb2

    from sigtool._proto import build_classes

    if file.name in _LENIENT_FILES:
        return
    for dependency in file.dependencies:
        _add_file(dependency)
    proto = descriptor_pb2.FileDescriptorProto()
    file.CopyToProto(proto)
    for message in proto.message_type:
        _to_bytes(message, f"{proto.package}.{message.name}" if proto.package else message.name)
    _pool().AddSerializedFile(proto.SerializeToString())
    _CLASSES.update(build_classes(_pool(), [_pool().FindFileByName(file.name)]))
    _LENIENT_FILES.add(file.name)


def _to_bytes(message, full_name: str) -> None:
    for field in message.field:
        if field.type == field.TYPE_STRING:
            field.type = field.TYPE_BYTES
            _STRING_FIELDS.add(f"{full_name}.{field.name}")
    for nested in message.nested_type:
        if nested.options.map_entry:
            nested.options.ClearField("map_entry")
            _MAP_ENTRIES.add(f"{full_name}.{nested.name}")
        _to_bytes(nested, f"{full_name}.{nested.name}")
