"""The chaos soak's post-mortem of painters that did not converge: it must name the painter
that lags, whose changes it lacks, and how far behind it is."""

from __future__ import annotations

import json
import random
from pathlib import Path

from bench.chaos import diagnostics
from bench.chaos.ledger import Ledger, Phase, decode_state_vector
from bench.chaos.painters import Painter


def _painter(index: int, ledger: Ledger) -> Painter:
    painter = Painter(index, "doc", "ws://127.0.0.1:1", ledger, random.Random(index))
    ledger.join(index, "doc", painter.client_id)
    return painter


def test_the_lagging_painter_and_what_it_lacks_are_named(tmp_path: Path) -> None:
    ledger = Ledger(lambda sent, arrived: Phase.STEADY)
    ahead, behind, alone = _painter(0, ledger), _painter(1, ledger), _painter(2, ledger)
    alone.doc_id = "other"
    ahead.edit()  # its layer
    behind.client.doc.apply_update(ahead.client.doc.get_update())
    ahead.edit()
    ahead.edit()  # ``behind`` missed these two

    view = diagnostics.painters_view([ahead, behind, alone])

    assert set(view) == {"doc", "other"}
    lagging = view["doc"]["p1"]
    now = decode_state_vector(ahead.client.doc.get_state())[ahead.client_id]
    assert lagging["lacks"] == {"p0": [ledger.painters[0].edits[0].clock, now]}
    assert lagging["content_group"] == 1 and view["doc"]["p0"]["content_group"] == 0
    assert view["doc"]["p0"]["lacks"] == {}
    assert lagging["connected"] is False and lagging["synced"] is False
    path = tmp_path / "painters.json"
    diagnostics.dump_painters([ahead, behind, alone], path)
    assert json.loads(path.read_text())["doc"]["p1"]["lacks"] == lagging["lacks"]
