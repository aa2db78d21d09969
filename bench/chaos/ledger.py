"""Every edit of the run with its id, and who saw it when.

Yjs numbers each client's changes with a clock, and every replica's state vector says up to
which clock of each client it holds. An edit is recorded with its painter's clock after it;
a replica whose state vector reaches that clock holds the edit (Yjs applies a client's
changes in clock order), so one state vector per transaction tells which edits arrived: the
fan-out latency is that moment minus the edit's time, and an edit is *confirmed* once another
painter (on any instance) holds it, i.e. a server took it and passed it on.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from canvasdoc.wire import read_var_uint


class Phase(enum.StrEnum):
    STEADY = "steady"
    FAULT = "during fault"
    AFTER = "after fault"


def decode_state_vector(data: bytes) -> dict[int, int]:
    """A Yjs state vector (var-uint count, then client and clock pairs) as a dict."""
    count, pos = read_var_uint(data, 0)
    clocks: dict[int, int] = {}
    for _ in range(count):
        client, pos = read_var_uint(data, pos)
        clock, pos = read_var_uint(data, pos)
        clocks[client] = clock
    return clocks


@dataclass
class Edit:
    id: str  # "<painter>-<seq>"
    painter: int
    doc_id: str
    kind: str  # "layer", "stroke" (a new stroke) or "points" (points appended)
    layer_id: str
    stroke_id: str | None
    seq: int  # the x coordinate of the point the edit wrote (unique per painter)
    clock: int  # the painter's own Yjs clock right after the edit
    at: float  # time.monotonic() of the edit
    confirmed_at: float | None = None


@dataclass
class _Painter:
    doc_id: str
    client_id: int
    edits: list[Edit] = field(default_factory=list)


class Ledger:
    """Edits by painter, the clocks each painter has seen of each other painter of its
    document, and fan-out latencies by phase (``phase_of(sent, arrived)``)."""

    def __init__(self, phase_of: Callable[[float, float], Phase]) -> None:
        self.phase_of = phase_of
        self.painters: dict[int, _Painter] = {}
        self.peers: dict[str, list[int]] = {}  # doc -> painter indexes
        self.latencies: dict[Phase, list[float]] = {phase: [] for phase in Phase}
        self._seen: dict[tuple[int, int], int] = {}  # (receiver, sender) -> clock
        self._cursor: dict[tuple[int, int], int] = {}  # (receiver, sender) -> next edit index
        self._by_client: dict[int, int] = {}  # Yjs client id -> painter index

    def join(self, painter: int, doc_id: str, client_id: int) -> None:
        self.painters[painter] = _Painter(doc_id, client_id)
        self.peers.setdefault(doc_id, []).append(painter)
        self._by_client[client_id] = painter

    @property
    def edits(self) -> list[Edit]:
        return [edit for p in self.painters.values() for edit in p.edits]

    def record(
        self, painter: int, kind: str, layer_id: str, stroke_id: str | None, seq: int, clock: int
    ) -> Edit:
        now = time.monotonic()
        owner = self.painters[painter]
        edit = Edit(
            id=f"{painter}-{seq}",
            painter=painter,
            doc_id=owner.doc_id,
            kind=kind,
            layer_id=layer_id,
            stroke_id=stroke_id,
            seq=seq,
            clock=clock,
            at=now,
        )
        owner.edits.append(edit)
        return edit

    def observe(self, receiver: int, state_vector: bytes) -> None:
        """``receiver``'s replica now holds ``state_vector``: note the edits that arrived."""
        now = time.monotonic()
        doc_id = self.painters[receiver].doc_id
        clocks = decode_state_vector(state_vector)
        for sender in self.peers[doc_id]:
            if sender == receiver:
                continue
            clock = clocks.get(self.painters[sender].client_id, 0)
            key = (receiver, sender)
            if clock <= self._seen.get(key, 0):
                continue
            self._seen[key] = clock
            edits = self.painters[sender].edits
            index = self._cursor.get(key, 0)
            while index < len(edits) and edits[index].clock <= clock:
                edit = edits[index]
                self.latencies[self.phase_of(edit.at, now)].append(now - edit.at)
                if edit.confirmed_at is None:
                    edit.confirmed_at = now
                index += 1
            self._cursor[key] = index

    def targets(self) -> dict[int, int]:
        """Each painter's clock now: what every peer must reach to hold all edits so far."""
        return {i: p.edits[-1].clock for i, p in self.painters.items() if p.edits}

    def reached(self, targets: dict[int, int]) -> bool:
        """Every painter holds every peer's edits up to ``targets``."""
        for painters in self.peers.values():
            for sender in painters:
                goal = targets.get(sender)
                if goal is None:
                    continue
                for receiver in painters:
                    if receiver != sender and self._seen.get((receiver, sender), 0) < goal:
                        return False
        return True
