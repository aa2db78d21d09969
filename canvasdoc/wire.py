"""The y-websocket wire protocol, without I/O.

A frame is one binary WebSocket message::

    [0 SYNC][0 STEP1][varUint8Array state vector]
    [0 SYNC][1 STEP2][varUint8Array update]
    [0 SYNC][2 UPDATE][varUint8Array update]
    [1 AWARENESS][varUint8Array awareness update]
    [2 AUTH][0 PERMISSION_DENIED][varString reason]
    [3 QUERY_AWARENESS]
    [100 COMMAND][varString JSON object]      Nexus extension, see docs/protocol.md

Type 100 carries the server's replies to commands (``{"id": N, "ok": ...}``) and its notices
(``{"type": ...}``): the first frame of every connection is the ``hello`` notice, which tells
the client who it is on this document and its role. Standard Yjs clients ignore type 100 (a
y-websocket provider logs "Unable to compute message" once per connection unless a handler is
registered for it, as the browser app does).

Encoding is done by pycrdt's own helpers. Decoding is strict here because frames come from
untrusted peers: every length is bounds-checked and a broken frame raises ``ProtocolError``
naming what was wrong, instead of the ``IndexError`` a naive reader would throw.

An awareness payload is checked whole before anything applies it (pycrdt's reader would
apply the entries before a broken one, unannounced), and it must be something every peer can
apply: client ids and clocks within JavaScript's safe integers, states in strict JSON (no
``NaN``; ``JSON.parse`` refuses it) nested at most ``MAX_JSON_DEPTH`` deep. The server
re-broadcasts what it accepts, so one peer's bad state would otherwise break all the others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from pycrdt import create_awareness_message, create_update_message, write_var_uint
from pycrdt._sync import create_sync_step1_message, create_sync_step2_message

from canvasdoc.errors import ProtocolError

MESSAGE_SYNC: Final = 0
MESSAGE_AWARENESS: Final = 1
MESSAGE_AUTH: Final = 2
MESSAGE_QUERY_AWARENESS: Final = 3
MESSAGE_COMMAND: Final = 100

SYNC_STEP1: Final = 0
SYNC_STEP2: Final = 1
SYNC_UPDATE: Final = 2

AUTH_PERMISSION_DENIED: Final = 0

NOTICE_HELLO: Final = "hello"  # type-100 notice: {"type": "hello", "doc", "role", "user", "name"}

EMPTY_UPDATE: Final = b"\x00\x00"
MAX_JSON_DEPTH: Final = 64
MAX_SAFE_INTEGER: Final = 2**53 - 1  # lib0's decoder refuses larger variable-length integers
_MAX_VARUINT_BYTES: Final = 8


@dataclass(frozen=True, slots=True)
class SyncStep1:
    state_vector: bytes


@dataclass(frozen=True, slots=True)
class SyncStep2:
    update: bytes


@dataclass(frozen=True, slots=True)
class SyncUpdate:
    update: bytes


@dataclass(frozen=True, slots=True)
class AwarenessUpdate:
    payload: bytes


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    """One client's state in an awareness payload (``None``: the client left)."""

    client_id: int
    clock: int
    state: Any


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    pass


@dataclass(frozen=True, slots=True)
class Auth:
    payload: bytes


@dataclass(frozen=True, slots=True)
class Command:
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Unknown:
    message_type: int


Message = (
    SyncStep1 | SyncStep2 | SyncUpdate | AwarenessUpdate | QueryAwareness | Auth | Command | Unknown
)


def read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode an unsigned LEB128 integer at ``pos``; return it and the next position."""
    value = 0
    shift = 0
    for i in range(_MAX_VARUINT_BYTES):
        if pos + i >= len(data):
            raise ProtocolError(f"truncated variable-length integer at byte {pos}")
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos + i + 1
        shift += 7
    raise ProtocolError(f"variable-length integer at byte {pos} is longer than 8 bytes")


def read_var_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    """Decode a length-prefixed byte string at ``pos``."""
    length, start = read_var_uint(data, pos)
    end = start + length
    if end > len(data):
        raise ProtocolError(
            f"payload declares {length} bytes at byte {start} but only {len(data) - start} remain"
        )
    return data[start:end], end


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [
            child
            for item in level
            if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return depth


def loads_json(raw: bytes, what: str) -> Any:
    """Strict JSON from a peer: UTF-8, no NaN or Infinity, at most ``MAX_JSON_DEPTH`` deep."""
    try:
        value = json.loads(raw.decode(), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"{what} is not valid UTF-8 JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError(f"{what} is nested more than {MAX_JSON_DEPTH} deep") from None
    if _json_depth(value) > MAX_JSON_DEPTH:
        raise ProtocolError(f"{what} is nested more than {MAX_JSON_DEPTH} deep")
    return value


def _read_safe_uint(data: bytes, pos: int, what: str) -> tuple[int, int]:
    value, pos = read_var_uint(data, pos)
    if value > MAX_SAFE_INTEGER:
        raise ProtocolError(f"{what} {value} exceeds {MAX_SAFE_INTEGER}")
    return value, pos


def decode_awareness(payload: bytes) -> list[AwarenessEntry]:
    """Decode an awareness payload completely, or raise ``ProtocolError`` naming the fault.

    Trailing bytes after the last entry are ignored, as Yjs does."""
    try:
        count, pos = read_var_uint(payload, 0)
        entries = []
        for _ in range(count):  # a lying count runs into the end of the payload
            client_id, pos = _read_safe_uint(payload, pos, "client id")
            clock, pos = _read_safe_uint(payload, pos, "clock")
            raw, pos = read_var_bytes(payload, pos)
            state = loads_json(raw, f"state of client {client_id}") if raw else None
            entries.append(AwarenessEntry(client_id, clock, state))
    except ProtocolError as exc:
        raise ProtocolError(f"malformed awareness update: {exc}") from None
    return entries


def decode(frame: bytes) -> Message:
    """Decode one frame. Unknown message types decode to ``Unknown`` (to be ignored)."""
    if not frame:
        raise ProtocolError("empty frame")
    message_type = frame[0]
    if message_type == MESSAGE_SYNC:
        if len(frame) < 2:
            raise ProtocolError("sync frame without a sync message type")
        sync_type = frame[1]
        payload, _ = read_var_bytes(frame, 2)
        if sync_type == SYNC_STEP1:
            return SyncStep1(payload)
        if sync_type == SYNC_STEP2:
            return SyncStep2(payload)
        if sync_type == SYNC_UPDATE:
            return SyncUpdate(payload)
        raise ProtocolError(f"unknown sync message type {sync_type} (expected 0, 1 or 2)")
    if message_type == MESSAGE_AWARENESS:
        payload, _ = read_var_bytes(frame, 1)
        decode_awareness(payload)
        return AwarenessUpdate(payload)
    if message_type == MESSAGE_QUERY_AWARENESS:
        return QueryAwareness()
    if message_type == MESSAGE_AUTH:
        return Auth(frame[1:])
    if message_type == MESSAGE_COMMAND:
        raw, _ = read_var_bytes(frame, 1)
        body = loads_json(raw, "command")
        if not isinstance(body, dict):
            raise ProtocolError(f"command must be a JSON object, got {type(body).__name__}")
        return Command(body)
    return Unknown(message_type)


def encode_sync_step1(state_vector: bytes) -> bytes:
    return create_sync_step1_message(state_vector)


def encode_sync_step2(update: bytes) -> bytes:
    return create_sync_step2_message(update)


def encode_update(update: bytes) -> bytes:
    return create_update_message(update)


def encode_awareness(payload: bytes) -> bytes:
    return create_awareness_message(payload)


def encode_query_awareness() -> bytes:
    return bytes([MESSAGE_QUERY_AWARENESS])


def encode_command(body: dict[str, Any]) -> bytes:
    raw = json.dumps(body, separators=(",", ":")).encode()
    return bytes([MESSAGE_COMMAND]) + write_var_uint(len(raw)) + raw


def encode_hello(*, doc_id: str, role: str, user: str, name: str) -> bytes:
    """The server's first frame on a connection: the client's role and identity there."""
    return encode_command(
        {"type": NOTICE_HELLO, "doc": doc_id, "role": role, "user": user, "name": name}
    )


def encode_permission_denied(reason: str) -> bytes:
    raw = reason.encode()
    return bytes([MESSAGE_AUTH, AUTH_PERMISSION_DENIED]) + write_var_uint(len(raw)) + raw
