"""Why a request's bytes do not parse as its message type, naming the field.

protobuf refuses a message whose ``string`` field holds bytes that are not UTF-8 (the gateway
passes ``%ED%A0%80`` in a query value or path segment through as such bytes), but its error
names only the message type. :func:`explain` walks the wire format with the descriptor to find
the field, so the caller gets ``ordering: must be valid UTF-8`` instead.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


class _Truncated(Exception):
    pass


def explain(descriptor: Descriptor | Any, data: bytes) -> str:
    """A one-line reason ``data`` is not a valid ``descriptor`` message, starting with the
    field's path (``site.domain: ...``, ``user_ids[2]: ...``) when one is to blame."""
    try:
        problem = _first_problem(descriptor, memoryview(data), "")
    except _Truncated:
        problem = None
    return problem or f"the request is not a valid {descriptor.full_name} message"


def _first_problem(descriptor: Descriptor, data: memoryview, prefix: str) -> str | None:
    seen: dict[int, int] = {}
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            _, position = _varint(data, position)
        elif wire_type == _FIXED64:
            position += 8
        elif wire_type == _FIXED32:
            position += 4
        elif wire_type == _LENGTH:
            length, position = _varint(data, position)
            value = data[position:position + length]
            if len(value) < length:
                raise _Truncated
            position += length
            field = descriptor.fields_by_number.get(number)
            if field is None:
                continue
            index = seen.get(number, 0)
            seen[number] = index + 1
            path = prefix + field.name
            if field.is_repeated and not _is_map(field):
                path += f"[{index}]"
            problem = _check(field, value, path)
            if problem is not None:
                return problem
        else:
            return None  # groups (3, 4) and unknown wire types: nothing to name
    if position > len(data):
        raise _Truncated
    return None


def _check(field: FieldDescriptor, value: memoryview, path: str) -> str | None:
    if field.type == FieldDescriptor.TYPE_STRING:
        try:
            str(value, "utf-8")
        except UnicodeDecodeError:
            return f"{path}: must be valid UTF-8"
        return None
    if field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type is not None:
        return _first_problem(field.message_type, value, path + ".")
    return None


def _is_map(field: FieldDescriptor) -> bool:
    options = field.message_type.GetOptions() if field.message_type is not None else None
    return bool(options is not None and options.map_entry)


def _varint(data: memoryview, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise _Truncated
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
