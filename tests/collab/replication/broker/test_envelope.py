"""Envelope wire format: round trips, compactness, and a clear error for every bad input."""

from __future__ import annotations

from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest

from collab.replication.broker import BrokerError, Envelope, EnvelopeKind
from collab.replication.broker.base import ENVELOPE_VERSION


def wire(*fields: Any) -> bytes:
    data: bytes = msgpack.packb(list(fields), use_bin_type=True)
    return data


GOOD = [ENVELOPE_VERSION, 1, "doc", "inst", "alice", b"\x01\x02", None]


@pytest.mark.parametrize("kind", list(EnvelopeKind))
@pytest.mark.parametrize("user", ["alice", None])
@pytest.mark.parametrize("target", ["inst-b", None])
def test_round_trip(kind: EnvelopeKind, user: str | None, target: str | None) -> None:
    envelope = Envelope("doc-1", "inst-a", user, kind, b"\x00payload\xff", target)
    assert Envelope.decode(envelope.encode()) == envelope


def test_encoding_is_compact() -> None:
    tiny = Envelope("d", "i", None, EnvelopeKind.UPDATE, b"")
    assert len(tiny.encode()) == 11  # array header, version, kind, 2 short strings, bin, nils
    typical = Envelope("doc-" + "x" * 28, "f" * 32, "alice", EnvelopeKind.UPDATE, b"u" * 200)
    fields = len(typical.doc_id) + len(typical.origin_instance) + 5 + len(typical.payload)
    assert len(typical.encode()) - fields <= 12


def test_kind_is_a_str_enum() -> None:
    assert EnvelopeKind("sync_request") is EnvelopeKind.SYNC_REQUEST
    assert str(EnvelopeKind.SYNC_REQUEST) == "sync_request"
    assert isinstance(EnvelopeKind.UPDATE, str)


def test_the_good_wire_sample_decodes() -> None:
    assert Envelope.decode(wire(*GOOD)) == Envelope(
        "doc", "inst", "alice", EnvelopeKind.UPDATE, b"\x01\x02"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not valid msgpack"),
        (b"\xc1", "not valid msgpack"),
        (wire(*GOOD) + b"\x00", "not valid msgpack"),
        (msgpack.packb({"v": 1}), "must be a msgpack array, got dict"),
        (msgpack.packb(b"bytes"), "must be a msgpack array, got bytes"),
        (wire(), "unsupported envelope version None"),
        (wire(2, *GOOD[1:]), "unsupported envelope version 2; this build reads 1"),
        (wire(*GOOD[:-1]), "has 7 fields .* got 6"),
        (wire(*GOOD, "extra"), "got 8"),
        (wire(GOOD[0], 9, *GOOD[2:]), "unknown envelope kind 9"),
        (wire(GOOD[0], "update", *GOOD[2:]), "unknown envelope kind 'update'"),
        (wire(GOOD[0], True, *GOOD[2:]), "unknown envelope kind True"),
        (wire(*GOOD[:2], "", *GOOD[3:]), "doc_id must be a non-empty string, got ''"),
        (wire(*GOOD[:2], 5, *GOOD[3:]), "doc_id must be a non-empty string, got 5"),
        (wire(*GOOD[:2], None, *GOOD[3:]), "doc_id must be a non-empty string, got None"),
        (wire(*GOOD[:3], b"inst", *GOOD[4:]), "origin_instance must be a non-empty string"),
        (wire(*GOOD[:4], 7, *GOOD[5:]), "origin_user must be a non-empty string or nil"),
        (wire(*GOOD[:5], "text", None), "payload must be binary, got str"),
        (wire(*GOOD[:5], None, None), "payload must be binary, got NoneType"),
        (wire(*GOOD[:6], 3), "target_instance must be a non-empty string or nil, got 3"),
    ],
)
def test_malformed_input_raises_broker_error_naming_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(BrokerError, match=message):
        Envelope.decode(data)


def test_decode_rejects_non_bytes() -> None:
    with pytest.raises(BrokerError, match="envelope must be bytes, got str"):
        Envelope.decode("text")  # type: ignore[arg-type]


def test_invalid_utf8_in_a_string_field_is_a_broker_error() -> None:
    data = bytearray(wire(*GOOD[:2], "dXc", *GOOD[3:]))
    data[data.index(b"dXc") + 1] = 0xFF
    with pytest.raises(BrokerError, match="not valid msgpack"):
        Envelope.decode(bytes(data))


def test_constructor_checks_kind_and_payload_types() -> None:
    with pytest.raises(TypeError, match="payload must be bytes, got str"):
        Envelope("doc", "inst", None, EnvelopeKind.UPDATE, "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="kind must be an EnvelopeKind"):
        Envelope("doc", "inst", None, "update", b"x")  # type: ignore[arg-type]


def test_envelopes_are_frozen() -> None:
    envelope = Envelope("doc", "inst", None, EnvelopeKind.UPDATE, b"x")
    with pytest.raises(AttributeError):
        envelope.payload = b"y"  # type: ignore[misc]


@pytest.mark.parametrize("kind", list(EnvelopeKind))
@pytest.mark.parametrize("user", ["alice", None])
@pytest.mark.parametrize("target", ["inst-b", None])
@pytest.mark.parametrize("doc_id", ["doc-1", "d" * 200])  # fixstr and str8 document ids
def test_the_origin_mark_is_found_on_the_raw_bytes(
    kind: EnvelopeKind, user: str | None, target: str | None, doc_id: str
) -> None:
    data = Envelope(doc_id, "inst-a", user, kind, b"inst-a", target).encode()
    assert Envelope.has_origin_mark(data, Envelope.origin_mark(doc_id, "inst-a"))
    for other_doc, other_instance in (
        (doc_id, "inst-b"),
        (doc_id, "inst-"),  # a prefix of the origin
        (doc_id, "inst-ab"),
        ("doc-2", "inst-a"),
        (doc_id[:-1], "inst-a"),
    ):
        mark = Envelope.origin_mark(other_doc, other_instance)
        assert not Envelope.has_origin_mark(data, mark), (other_doc, other_instance)


def test_the_origin_mark_needs_this_envelope_version() -> None:
    mark = Envelope.origin_mark("doc", "inst")
    assert Envelope.has_origin_mark(wire(*GOOD), mark)
    assert not Envelope.has_origin_mark(wire(2, *GOOD[1:]), mark)
    assert not Envelope.has_origin_mark(wire(*GOOD[:-1]), mark)  # six fields
    assert not Envelope.has_origin_mark(b"", mark)
