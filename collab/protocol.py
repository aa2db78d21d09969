"""The y-websocket wire protocol, without I/O.

A frame is one binary WebSocket message::

    [0 SYNC][0 STEP1][varUint8Array state vector]
    [0 SYNC][1 STEP2][varUint8Array update]
    [0 SYNC][2 UPDATE][varUint8Array update]
    [1 AWARENESS][varUint8Array awareness update]
    [2 AUTH][0 PERMISSION_DENIED][varString reason]
    [3 QUERY_AWARENESS]
    [100 COMMAND][varString JSON object]      Nexus extension, see docs/protocol.md

Standard Yjs clients never send type 100 and the server only ever sends it in reply to a
command, so unmodified clients are unaffected.

Encoding is done by pycrdt's own helpers. Decoding is strict here because frames come from
untrusted peers: every length is bounds-checked and a broken frame raises ``ProtocolError``
naming what was wrong, instead of the ``IndexError`` a naive reader would throw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from pycrdt import create_awareness_message, create_update_message, write_var_uint
from pycrdt._sync import create_sync_step1_message, create_sync_step2_message

from collab.exceptions import ProtocolError

MESSAGE_SYNC: Final = 0
MESSAGE_AWARENESS: Final = 1
MESSAGE_AUTH: Final = 2
MESSAGE_QUERY_AWARENESS: Final = 3
MESSAGE_COMMAND: Final = 100

SYNC_STEP1: Final = 0
SYNC_STEP2: Final = 1
SYNC_UPDATE: Final = 2

AUTH_PERMISSION_DENIED: Final = 0

EMPTY_UPDATE: Final = b"\x00\x00"
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
        return AwarenessUpdate(payload)
    if message_type == MESSAGE_QUERY_AWARENESS:
        return QueryAwareness()
    if message_type == MESSAGE_AUTH:
        return Auth(frame[1:])
    if message_type == MESSAGE_COMMAND:
        raw, _ = read_var_bytes(frame, 1)
        try:
            body = json.loads(raw.decode())
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProtocolError(f"command is not valid UTF-8 JSON: {exc}") from None
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


def encode_permission_denied(reason: str) -> bytes:
    raw = reason.encode()
    return bytes([MESSAGE_AUTH, AUTH_PERMISSION_DENIED]) + write_var_uint(len(raw)) + raw
