"""Every field number the wire readers name (sigtool/loader/fields.py) is the one sigtool's descriptors give.

decode.py, graph.py, read.py and load_order.py walk the wire format without
protobuf, by these numbers; the message classes are built from
sigtool/_proto/descriptors.binpb, so a wrong number here fails this test.
"""

from __future__ import annotations

import inspect

import pytest

from sigtool._proto import pool
from sigtool.loader import fields

PACKAGE = "sigtool.tf."
MESSAGES = [(n, cls) for n, cls in vars(fields).items() if inspect.isclass(cls) and cls.__module__ == fields.__name__]


def named(cls) -> dict[str, object]:
    return {k: v for k, v in vars(cls).items() if not k.startswith("_")}


def descriptors(name: str, cls):
    return [pool().FindMessageTypeByName(PACKAGE + m) for m in getattr(cls, "_messages", (name,))]


def test_every_class_names_fields():
    assert len(MESSAGES) > 30
    for name, cls in MESSAGES:
        assert named(cls), name


@pytest.mark.parametrize(("name", "cls"), MESSAGES, ids=[name for name, _ in MESSAGES])
def test_field_numbers_match_the_descriptors(name, cls):
    for message in descriptors(name, cls):
        for attr, value in named(cls).items():
            if attr.isupper():  # a oneof: its members' numbers
                oneof = message.oneofs_by_name[attr.lower()]
                assert value == frozenset(f.number for f in oneof.fields), f"{message.full_name}.{attr.lower()}"
            else:
                field = message.fields_by_name.get(attr)
                assert field is not None, f"{message.full_name} has no field {attr}"
                assert field.number == value, f"{message.full_name}.{attr} is {field.number}, not {value}"


def test_a_wrong_number_would_fail():
    class Wrong:
        _messages = ("SignatureDef",)
        method_name = 4

    with pytest.raises(AssertionError, match=r"SignatureDef\.method_name is 3, not 4"):
        test_field_numbers_match_the_descriptors("Wrong", Wrong)
