"""The struct groups of a Yjs v1 update: which clock ranges of which clients it carries.

A server may merge several clients' updates into one broadcast (ours does, per event-loop
turn, under load), so a receipt can deliver several sent updates at once. The harness keys a
sent update by its first struct, ``client << 32 | clock``; a received update delivers every
sent update whose first clock lies in one of its groups' ranges. Finding a group's range means
walking its structs (the encoding of y-protocols / lib0, ``UpdateDecoderV1``): only lengths are
computed, nothing is decoded into objects.
"""

from __future__ import annotations

_UTF16 = "utf-16-le"


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf = buf
        self.pos = pos

    def uint(self) -> int:
        buf, pos = self.buf, self.pos
        value = shift = 0
        while True:
            byte = buf[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                self.pos = pos
                return value
            shift += 7

    def skip_varint(self) -> None:
        buf, pos = self.buf, self.pos
        while buf[pos] & 0x80:
            pos += 1
        self.pos = pos + 1

    def string(self) -> bytes:
        n = self.uint()
        start = self.pos
        self.pos = start + n
        if self.pos > len(self.buf):
            raise IndexError("string past the end of the update")
        return self.buf[start : self.pos]

    def skip_any(self) -> None:
        tag = self.buf[self.pos]
        self.pos += 1
        if tag in (127, 126, 121, 120):  # undefined, null, false, true
            return
        if tag == 125:
            self.skip_varint()
        elif tag == 124:
            self.pos += 4
        elif tag in (123, 122):
            self.pos += 8
        elif tag in (119, 116):  # string, Uint8Array
            self.string()
        elif tag == 118:  # object
            for _ in range(self.uint()):
                self.string()
                self.skip_any()
        elif tag == 117:  # array
            for _ in range(self.uint()):
                self.skip_any()
        else:
            raise ValueError(f"unknown lib0 any tag {tag}")


def _content_length(r: _Reader, ref: int) -> int:
    """Skip an item's content; return its length in clock ticks."""
    if ref == 1:  # deleted
        return r.uint()
    if ref == 2:  # JSON
        n = r.uint()
        for _ in range(n):
            r.string()
        return n
    if ref in (3, 5):  # binary, embed
        r.string()
        return 1
    if ref == 4:  # string: its length in UTF-16 code units
        return len(r.string().decode("utf-8", "surrogatepass").encode(_UTF16)) // 2
    if ref == 6:  # format
        r.string()
        r.string()
        return 1
    if ref == 7:  # type
        type_ref = r.uint()
        if type_ref in (3, 5):  # XmlElement, XmlHook carry a name
            r.string()
        return 1
    if ref == 8:  # any
        n = r.uint()
        for _ in range(n):
            r.skip_any()
        return n
    if ref == 9:  # subdocument
        r.string()
        r.skip_any()
        return 1
    raise ValueError(f"unknown content ref {ref}")


def struct_ranges(update: bytes, pos: int = 0) -> list[tuple[int, int, int]]:
    """``(client, first clock, clock length)`` of each struct group of ``update[pos:]``."""
    r = _Reader(update, pos)
    out = []
    for _ in range(r.uint()):
        n_structs = r.uint()
        client = r.uint()
        clock = r.uint()
        length = 0
        for _ in range(n_structs):
            info = update[r.pos]
            r.pos += 1
            ref = info & 0x1F
            if ref in (0, 10):  # GC, Skip
                length += r.uint()
                continue
            if info & 0x80:  # origin
                r.uint()
                r.uint()
            if info & 0x40:  # right origin
                r.uint()
                r.uint()
            if not info & 0xC0:  # parent info
                if r.uint() == 1:
                    r.string()
                else:
                    r.uint()
                    r.uint()
                if info & 0x20:
                    r.string()
            length += _content_length(r, ref)
        out.append((client, clock, length))
    return out
