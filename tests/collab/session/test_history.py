"""The shared history panel: same entries, same order, right author and label, bounded."""

from __future__ import annotations

from pathlib import Path

from pycrdt import Doc

from canvasdoc.canvas import Canvas
from client import CanvasClient
from collab.session.history import ChangeDescriber, HistoryLog
from tests.support.servers import serve, settings_for
from tests.support.waiting import eventually


def _labels(doc: Doc) -> tuple[ChangeDescriber, Canvas]:
    return ChangeDescriber(doc), Canvas(doc)


def test_labels_name_what_changed() -> None:
    doc: Doc = Doc()
    describer, canvas = _labels(doc)
    sky = canvas.add_layer("Sky", kind="paint")
    assert describer.take() == "add layer 'Sky'"
    canvas.update_layer(sky, blend_mode="multiply")
    assert describer.take() == "set blend mode of 'Sky' to multiply"
    canvas.update_layer(sky, opacity=40)
    assert describer.take() == "set opacity of 'Sky' to 40"
    canvas.update_layer(sky, visible=False)
    assert describer.take() == "hide 'Sky'"
    canvas.update_layer(sky, name="Clouds")
    assert describer.take() == "rename 'Sky' to 'Clouds'"
    stroke = canvas.begin_stroke(sky)
    assert describer.take() == "stroke on 'Clouds'"
    canvas.append_points(sky, stroke, [1, 2])
    assert describer.take() == "stroke on 'Clouds'"
    other = canvas.add_layer("Ground")
    describer.take()
    canvas.move_layer(other, 0)
    assert describer.take() == "move layer 'Ground'"
    canvas.remove_layer(sky)
    assert describer.take() == "remove layer 'Clouds'"
    canvas.set_meta(width=800, height=600)
    assert describer.take() == "resize canvas to 800×600"
    canvas.set_meta(name="Poster")
    assert describer.take() == "rename canvas to 'Poster'"
    assert describer.take() is None


def test_history_log_coalesces_bursts_and_is_capped() -> None:
    doc: Doc = Doc()
    log = HistoryLog(doc, max_entries=3, coalesce_s=60)
    assert log.record("u1", "U1", "edit", "stroke on 'A'")
    assert not log.record("u1", "U1", "edit", "stroke on 'A'")  # same burst
    assert log.record("u2", "U2", "edit", "stroke on 'A'")  # another author
    assert log.record("u1", "U1", "undo", "undo: stroke on 'A'")
    assert log.record("u1", "U1", "edit", "add layer 'B'")
    entries = Canvas(doc).history()
    assert [e["label"] for e in entries] == [
        "stroke on 'A'",
        "undo: stroke on 'A'",
        "add layer 'B'",
    ]
    assert [e["user"] for e in entries] == ["u2", "u1", "u1"]


def test_a_users_burst_is_one_entry_however_others_interleave() -> None:
    doc: Doc = Doc()
    log = HistoryLog(doc, max_entries=100, coalesce_s=60)
    recorded = [
        log.record(user, user.upper(), "edit", "stroke on 'A'")
        for _ in range(5)
        for user in ("u1", "u2", "u3")
    ]
    assert recorded == [True, True, True] + [False] * 12
    assert [e["user"] for e in Canvas(doc).history()] == ["u1", "u2", "u3"]
    assert log.record("u2", "U2", "edit", "stroke on 'B'")  # another label: a new entry
    assert log.record("u2", "U2", "undo", "undo: stroke on 'B'")  # never coalesced
    assert log.record("u2", "U2", "undo", "undo: stroke on 'B'")


def test_a_burst_ends_after_the_coalesce_window() -> None:
    doc: Doc = Doc()
    log = HistoryLog(doc, max_entries=100, coalesce_s=0)
    assert log.record("u1", "U1", "edit", "stroke on 'A'")
    assert log.record("u1", "U1", "edit", "stroke on 'A'")
    assert len(Canvas(doc).history()) == 2


def test_the_cap_is_enforced_in_batches_keeping_the_newest() -> None:
    doc: Doc = Doc()
    log = HistoryLog(doc, max_entries=20, coalesce_s=0)
    lengths = []
    for i in range(45):
        log.record("u1", "U1", "edit", f"change {i}")
        lengths.append(len(Canvas(doc).history()))
    assert max(lengths) == 22  # max_entries + max_entries // 10
    assert lengths[22] == 20  # the 23rd entry trims back to the cap in one delete
    labels = [e["label"] for e in Canvas(doc).history()]
    assert labels == [f"change {i}" for i in range(45 - len(labels), 45)]


async def test_every_client_sees_the_same_bounded_history(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, history_max_entries=6, undo_capture_ms=0)
    async with serve(settings) as srv:
        async with (
            CanvasClient(srv.url, "hist", user="ann", name="Ann") as ann,
            CanvasClient(srv.url, "hist", user="ben", name="Ben") as ben,
        ):
            await ann.wait_synced()
            await ben.wait_synced()
            room = srv.server.rooms.rooms["hist"]

            async def done(n: int) -> None:
                await eventually(lambda: len(Canvas(room.doc).history()) >= min(n, 6))

            sky = ann.canvas.add_layer("Sky", layer_id="sky")
            await done(1)
            await ben.wait_for(lambda: "sky" in ben.canvas.layer_ids())
            ben.canvas.update_layer(sky, blend_mode="multiply")
            await done(2)
            ann.canvas.update_layer(sky, opacity=30)
            await done(3)
            await ben.undo()
            await done(4)
            await ben.redo()
            await done(5)
            for i in range(4):  # distinct labels: four more entries, the cap drops the oldest
                ann.canvas.update_layer(sky, name=f"Sky {i}")
                await eventually(
                    lambda i=i: Canvas(room.doc).history()[-1]["label"].endswith(f"'Sky {i}'")
                )
            expected = Canvas(room.doc).history()
            await eventually(lambda: ann.canvas.history() == expected == ben.canvas.history())
            assert len(expected) == 6
            assert [(e["user"], e["label"]) for e in expected] == [
                ("ben", "undo: set blend mode of 'Sky' to normal"),
                ("ben", "redo: set blend mode of 'Sky' to multiply"),
                ("ann", "rename 'Sky' to 'Sky 0'"),
                ("ann", "rename 'Sky 0' to 'Sky 1'"),
                ("ann", "rename 'Sky 1' to 'Sky 2'"),
                ("ann", "rename 'Sky 2' to 'Sky 3'"),
            ]
            assert expected[2]["name"] == "Ann"
            assert all(e["at"] > 0 for e in expected)


def test_a_foreign_id_change_is_followed() -> None:
    """Found by fuzzing: the describer cached a layer's id once, so after a foreign client
    changed it, moving that layer read as a removal and an addition."""
    doc: Doc = Doc()
    describer = ChangeDescriber(doc)
    foreign: Doc = Doc()
    canvas = Canvas(foreign)
    canvas.add_layer("Sky", layer_id="a")
    canvas.add_layer("Ground", layer_id="g")
    doc.apply_update(foreign.get_update())
    describer.take()
    before = foreign.get_state()
    canvas.layers_array[0]["id"] = "b"
    doc.apply_update(foreign.get_update(before))
    assert describer.take() == "change id of 'Sky'"
    before = foreign.get_state()
    canvas.move_layer("b", 1)
    doc.apply_update(foreign.get_update(before))
    assert describer.take() == "move layer 'Sky'"
