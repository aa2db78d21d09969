"""The y-websocket codec: round trips with pycrdt's helpers and strict decoding of bad frames."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from pycrdt import (
    Awareness,
    Doc,
    Text,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    write_var_uint,
)

from canvasdoc import wire
from collab.exceptions import ProtocolError


def _doc_with_text(content: str) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    doc["t"] = Text(content)
    return doc


# -- decoding what pycrdt encodes ----------------------------------------------------------


def test_pycrdt_sync_step1_decodes_to_the_state_vector() -> None:
    doc = _doc_with_text("hello")
    message = wire.decode(create_sync_message(doc))
    assert message == wire.SyncStep1(doc.get_state())


def test_pycrdt_update_message_decodes_to_the_update() -> None:
    update = _doc_with_text("hello").get_update()
    assert wire.decode(create_update_message(update)) == wire.SyncUpdate(update)


def test_pycrdt_awareness_message_decodes_to_the_payload() -> None:
    awareness = Awareness(Doc())
    awareness.set_local_state({"user": "a", "cursor": [1, 2]})
    payload = awareness.encode_awareness_update([awareness.client_id])
    message = wire.decode(create_awareness_message(payload))
    assert message == wire.AwarenessUpdate(payload)
    assert isinstance(message, wire.AwarenessUpdate)
    other = Awareness(Doc())
    other.apply_awareness_update(message.payload, "test")
    assert other.states[awareness.client_id] == {"user": "a", "cursor": [1, 2]}


def test_pycrdt_step2_reply_decodes_to_the_diff() -> None:
    server = _doc_with_text("hello world")
    client: Doc[Any] = Doc()
    step1 = wire.encode_sync_step1(client.get_state())
    reply = handle_sync_message(step1[1:], server)
    assert reply is not None
    message = wire.decode(reply)
    assert message == wire.SyncStep2(server.get_update(client.get_state()))


def test_our_step1_is_answered_by_pycrdt_and_the_diff_applies() -> None:
    server = _doc_with_text("abc")
    client: Doc[Any] = Doc()
    reply = handle_sync_message(wire.encode_sync_step1(client.get_state())[1:], server)
    assert reply is not None
    message = wire.decode(reply)
    assert isinstance(message, wire.SyncStep2)
    client.apply_update(message.update)
    assert str(client.get("t", type=Text)) == "abc"


# -- round trips through our encoders ------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 127, 128, 300, 20_000])
@pytest.mark.parametrize(
    ("encode", "kind"),
    [
        (wire.encode_sync_step1, wire.SyncStep1),
        (wire.encode_sync_step2, wire.SyncStep2),
        (wire.encode_update, wire.SyncUpdate),
    ],
)
def test_encoders_round_trip(
    encode: Callable[[bytes], bytes], kind: Callable[[bytes], wire.Message], size: int
) -> None:
    payload = bytes(random.Random(size).randrange(256) for _ in range(size))
    frame = encode(payload)
    assert wire.decode(frame) == kind(payload)


@pytest.mark.parametrize("size", [0, 1, 127, 128, 300, 20_000])
def test_awareness_round_trips(size: int) -> None:
    # Unlike updates, awareness payloads are checked when decoded: build a well-formed one.
    state = json.dumps({"text": "x" * size}).encode()
    payload = b"\x01\x07\x01" + write_var_uint(len(state)) + state
    assert wire.decode(wire.encode_awareness(payload)) == wire.AwarenessUpdate(payload)


def test_encoders_match_pycrdt_layout() -> None:
    update = _doc_with_text("x").get_update()
    assert wire.encode_update(update) == create_update_message(update)
    assert wire.encode_awareness(b"abc") == create_awareness_message(b"abc")
    assert wire.encode_sync_step1(b"\x00") == bytes([0, 0, 1, 0])
    assert wire.encode_sync_step2(b"\x00\x00") == bytes([0, 1, 2, 0, 0])


def test_query_awareness_round_trip() -> None:
    assert wire.encode_query_awareness() == b"\x03"
    assert wire.decode(wire.encode_query_awareness()) == wire.QueryAwareness()


def test_empty_update_constant_is_what_an_empty_doc_sends() -> None:
    assert Doc().get_update() == wire.EMPTY_UPDATE


# -- auth ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "no access", "accès refusé ✋", "r" * 200])
def test_permission_denied_matches_y_protocols_layout(reason: str) -> None:
    # y-protocols/auth: writeVarUint(messageAuth=2), writeVarUint(permissionDenied=0),
    # writeVarString(reason), where a varString is the UTF-8 byte length then the bytes.
    raw = reason.encode("utf-8")
    frame = wire.encode_permission_denied(reason)
    assert frame == bytes([2, 0]) + write_var_uint(len(raw)) + raw
    message = wire.decode(frame)
    assert isinstance(message, wire.Auth)
    assert message.payload[0] == wire.AUTH_PERMISSION_DENIED
    decoded, end = wire.read_var_bytes(message.payload, 1)
    assert decoded.decode("utf-8") == reason
    assert end == len(message.payload)


def test_bare_auth_frame_decodes_with_an_empty_payload() -> None:
    assert wire.decode(b"\x02") == wire.Auth(b"")


# -- varints ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 127, 128, 255, 16_383, 16_384, 2**32, 2**53 - 1])
def test_var_uint_round_trip(value: int) -> None:
    encoded = write_var_uint(value)
    assert wire.read_var_uint(b"\xaa" + encoded + b"\xbb", 1) == (value, 1 + len(encoded))


def test_var_bytes_returns_the_next_position() -> None:
    data = b"\x03abc\x02de"
    first, pos = wire.read_var_bytes(data, 0)
    second, end = wire.read_var_bytes(data, pos)
    assert (first, second, end) == (b"abc", b"de", len(data))


# -- strict decoding -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (b"", "empty frame"),
        (b"\x00", "sync frame without a sync message type"),
        (b"\x00\x00", "truncated variable-length integer at byte 2"),
        (b"\x00\x02\x80\x80", "truncated variable-length integer at byte 2"),
        (b"\x01", "truncated variable-length integer at byte 1"),
        (b"\x00\x01" + b"\x80" * 8 + b"\x01", "variable-length integer at byte 2 is longer than 8"),
        (b"\x01" + b"\xff" * 9, "variable-length integer at byte 1 is longer than 8"),
        (b"\x00\x02\x05abc", "payload declares 5 bytes at byte 3 but only 3 remain"),
        (b"\x01\x04ab", "payload declares 4 bytes at byte 2 but only 2 remain"),
        (b"\x00\x00\x81\x01" + b"x" * 128, "payload declares 129 bytes at byte 4 but only 128"),
        (b"\x00\x03\x00", "unknown sync message type 3 (expected 0, 1 or 2)"),
        (b"\x00\xff\x01x", "unknown sync message type 255"),
    ],
)
def test_broken_frames_raise_protocol_error_naming_the_problem(frame: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError) as excinfo:
        wire.decode(frame)
    assert problem in str(excinfo.value)


@pytest.mark.parametrize("message_type", [4, 5, 17, 127, 200, 255])
def test_unknown_message_types_decode_to_unknown(message_type: int) -> None:
    assert wire.decode(bytes([message_type]) + b"anything") == wire.Unknown(message_type)
    assert wire.decode(bytes([message_type])) == wire.Unknown(message_type)


@pytest.mark.parametrize(
    "frame",
    [
        wire.encode_sync_step1(b"\x01\x02\x03"),
        wire.encode_sync_step2(b"x" * 200),
        wire.encode_update(b"y" * 130),
        wire.encode_awareness(b"z" * 5),
    ],
)
def test_every_strict_prefix_of_a_frame_is_rejected(frame: bytes) -> None:
    for cut in range(len(frame)):
        with pytest.raises(ProtocolError):
            wire.decode(frame[:cut])


def _random_frame(rng: random.Random) -> bytes:
    size = rng.choice([0, 1, 2, 3, 5, 10, 40, 300])
    body = bytes(rng.randrange(256) for _ in range(size))
    if body and rng.random() < 0.7:
        # Bias towards the known message types so the length checks are reached.
        body = bytes([rng.randrange(5)]) + body[1:]
        if body[0] == 0 and len(body) > 1 and rng.random() < 0.7:
            body = body[:1] + bytes([rng.randrange(4)]) + body[2:]
    return body


@pytest.mark.parametrize("seed", range(300))
def test_random_bytes_decode_or_raise_protocol_error(seed: int) -> None:
    frame = _random_frame(random.Random(seed))
    try:
        message = wire.decode(frame)
    except ProtocolError:
        return
    assert isinstance(message, wire.Message)


# -- found by fuzzing (tests/collab/test_fuzz_protocol.py) -----------------------------------


def _command_frame(raw: bytes) -> bytes:
    return bytes([wire.MESSAGE_COMMAND]) + write_var_uint(len(raw)) + raw


def _awareness_entry(client_id: int, clock: int, state: bytes) -> bytes:
    return write_var_uint(client_id) + write_var_uint(clock) + write_var_uint(len(state)) + state


def test_a_deeply_nested_command_is_a_protocol_error_not_a_recursion_error() -> None:
    for depth in (wire.MAX_JSON_DEPTH + 1, 5000):
        with pytest.raises(ProtocolError, match="nested more than"):
            wire.decode(_command_frame(b"[" * depth + b"]" * depth))
    body = b'{"a":' * (wire.MAX_JSON_DEPTH - 1) + b"1" + b"}" * (wire.MAX_JSON_DEPTH - 1)
    assert isinstance(wire.decode(_command_frame(body)), wire.Command)


@pytest.mark.parametrize("raw", [b'{"op": "state", "id": NaN}', b'{"id": [Infinity]}'])
def test_commands_in_json_javascript_cannot_parse_are_refused(raw: bytes) -> None:
    with pytest.raises(ProtocolError, match="not valid UTF-8 JSON"):
        wire.decode(_command_frame(raw))


def test_an_awareness_payload_is_checked_whole_before_anything_applies_it() -> None:
    good = _awareness_entry(5, 1, b'{"user": "a"}')
    for broken in (b"\x05\x01\x05{bad}", b"\x05\x01\x03[0", b"\x05", b"\x05\x01\x10{}"):
        payload = write_var_uint(2) + good + broken
        with pytest.raises(ProtocolError, match="malformed awareness update"):
            wire.decode(wire.encode_awareness(payload))
    (entry,) = wire.decode_awareness(write_var_uint(1) + good)
    assert entry == wire.AwarenessEntry(5, 1, {"user": "a"})


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (_awareness_entry(2**53, 1, b"{}"), "client id 9007199254740992 exceeds"),
        (_awareness_entry(1, 2**53, b"{}"), "clock 9007199254740992 exceeds"),
        (_awareness_entry(1, 1, b'{"x": NaN}'), "not valid UTF-8 JSON"),
        (_awareness_entry(1, 1, b"[-Infinity]"), "not valid UTF-8 JSON"),
        (_awareness_entry(1, 1, b"[" * 65 + b"]" * 65), "nested more than 64 deep"),
        (_awareness_entry(1, 1, b'"\xff"'), "not valid UTF-8 JSON"),
    ],
)
def test_awareness_other_peers_could_not_apply_is_refused(payload: bytes, reason: str) -> None:
    """The server re-broadcasts awareness: a state lib0 or JSON.parse refuses would break
    every browser in the room."""
    with pytest.raises(ProtocolError, match=reason):
        wire.decode(wire.encode_awareness(write_var_uint(1) + payload))
