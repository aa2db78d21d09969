"""The browser app's schema.json is exactly what canvasdoc.facts derives from the schema."""

from __future__ import annotations

import json

from canvasdoc import canvas
from canvasdoc.facts import COMMAND, OUTPUT, facts, render


def test_committed_schema_json_is_current() -> None:
    committed = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
    assert committed == render(), (
        f"{OUTPUT} is out of date with canvasdoc/canvas.py: rerun `{COMMAND}` and commit the result"
    )


def test_facts_are_the_schema_values() -> None:
    data = facts()
    assert data["blend_modes"] == list(canvas.BLEND_MODES)
    assert data["ranges"]["opacity"] == {"min": 0, "max": 100}
    assert data["ranges"]["hardness"] == {"min": 0, "max": 1}
    assert data["ranges"]["size"] == {"min_exclusive": 0}
    assert data["ranges"]["width"] == {"min": 1, "max": 32768}
    assert data["ranges"]["dpi"] == {"min": 1, "max": 4800}
    assert data["lengths"]["id"] == 128
    assert data["lengths"]["name"] == 1000
    assert data["defaults"]["meta"]["width"] == canvas.CanvasMeta().width
    assert data["defaults"]["stroke"]["size"] == canvas.Stroke(id="").size
    assert json.loads(render()) == data
