"""Write tests/vectors/document_readers.json: reader test vectors shared by Python and the browser.

Each case holds raw ``meta`` / ``layers`` (/ ``history``) values, some of them garbage a
foreign client might write, and the ``expected`` reading, computed here by the Python readers
(canvasdoc/canvas.py). tests/canvasdoc/test_reader_vectors.py explains how raw values become a Y.Doc
and checks the Python side; client/web/src/document/readers.test.ts checks the browser's.

    python tests/vectors/make_reader_vectors.py          # rewrite the file
    python tests/vectors/make_reader_vectors.py --check  # exit 1 if it is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from canvasdoc._validate import BLEND_MODES  # noqa: E402
from tests.canvasdoc.test_reader_vectors import read_case  # noqa: E402

OUTPUT = Path(__file__).with_name("document_readers.json")
NAN = {"$num": "NaN"}
INF = {"$num": "Infinity"}
NEG_INF = {"$num": "-Infinity"}
SHA = "0123456789abcdef" * 4
EMOJI = "\U0001f3a8"  # one code point, two UTF-16 units


def _stroke(**fields: Any) -> dict[str, Any]:
    return {
        "id": "s1",
        "tool": "brush",
        "color": "#112233",
        "size": 4,
        "hardness": 0.5,
        "opacity": 80,
        "points": [0, 0, 10, 10],
    } | fields


def _layer(**fields: Any) -> dict[str, Any]:
    return {
        "id": "L1",
        "name": "Layer",
        "kind": "raster",
        "blend_mode": "normal",
        "opacity": 100,
        "visible": True,
        "locked": False,
        "x": 0,
        "y": 0,
        "blob": None,
    } | fields


def _paint(**fields: Any) -> dict[str, Any]:
    base = _layer(kind="paint", strokes=[_stroke()])
    del base["blob"]
    return base | fields


CASES: list[dict[str, Any]] = [
    {"name": "empty document", "meta": None, "layers": []},
    {
        "name": "valid meta and layers",
        "meta": {
            "name": "Poster",
            "width": 800,
            "height": 600,
            "dpi": 300,
            "color_profile": "Display P3",
            "background": "transparent",
        },
        "layers": [_layer(blob=SHA, x=12.5, y=-3), _paint(id="L2", blend_mode="multiply")],
    },
    {
        "name": "meta garbage falls back",
        "meta": {
            "name": 5,
            "width": 0,
            "height": 40000,
            "dpi": True,
            "color_profile": "p" * 201,
            "background": "red",
        },
        "layers": [],
    },
    {
        "name": "meta integral floats and colour case",
        "meta": {"width": 512.0, "height": 32768, "dpi": 4800.0, "background": "#AABBCC"},
        "layers": [],
    },
    {
        "name": "meta non-integral and out of range",
        "meta": {"width": 512.5, "height": -1, "dpi": 0, "background": "#AABBCCDD"},
        "layers": [],
    },
    {
        "name": "meta non-finite and wrong types",
        "meta": {
            "width": NAN,
            "height": INF,
            "dpi": NEG_INF,
            "name": ["x"],
            "background": None,
            "color_profile": None,
        },
        "layers": [],
    },
    {
        "name": "meta text lengths count code points",
        "meta": {"name": "n" * 999 + EMOJI, "color_profile": "c" * 200, "background": "#abc"},
        "layers": [],
    },
    {"name": "meta name too long", "meta": {"name": "n" * 1000 + EMOJI}, "layers": []},
    {
        "name": "meta as nested shared types",
        "meta": {
            "name": {"$text": "Text"},
            "width": {"$map": {"v": 3}},
            "height": {"$array": [3]},
            "background": {"$plain": {"c": "#fff"}},
        },
        "layers": [],
    },
    {
        "name": "non-map layer items are skipped",
        "meta": None,
        "layers": [
            "a string",
            7,
            None,
            [1, 2],
            {"$plain": _layer(id="plain")},
            _layer(id="ok"),
            {"$array": [1]},
            {"$text": "t"},
            True,
        ],
    },
    {
        "name": "id-less maps get anon ids",
        "meta": None,
        "layers": [
            {"name": "first"},
            _layer(id=None, name="second"),
            _layer(id=5, name="num"),
            _layer(id="", name="empty"),
            _layer(id="x" * 129, name="long"),
            _layer(id="y" * 128, name="max"),
        ],
    },
    {
        "name": "stored anon ids count as no id",
        "meta": None,
        "layers": [
            _layer(id="anon-0", name="stored anon-0"),
            _layer(id="anon-17", name="a17"),
            _layer(id="anon-x", name="not anon"),
            _layer(id="Anon-1", name="case"),
            _layer(id="anon-", name="no digits"),
            {"name": "bare"},
        ],
    },
    {
        "name": "duplicate ids keep the last occurrence",
        "meta": None,
        "layers": [
            _layer(id="A", name="A first"),
            _layer(id="B", name="B"),
            _layer(id="A", name="A second", opacity=50),
            _layer(id="C", name="C"),
            _layer(id="B", name="B last"),
        ],
    },
    {
        "name": "unicode ids count code points",
        "meta": None,
        "layers": [_layer(id=EMOJI * 128, name="128"), _layer(id=EMOJI * 129, name="129")],
    },
    {
        "name": "layer garbage falls back",
        "meta": None,
        "layers": [
            _layer(
                name=5,
                kind="vector",
                blend_mode="Multiply",
                opacity=140,
                visible=1,
                locked="yes",
                x="3",
                y=NAN,
                blob=SHA.upper(),
            )
        ],
    },
    {
        "name": "layer numbers at the edges",
        "meta": None,
        "layers": [
            _layer(id="a", opacity=0, x=1e300, y=-1e300),
            _layer(id="b", opacity=100.0),
            _layer(id="c", opacity=-0.5, x=INF, y=NEG_INF),
            _layer(id="d", opacity=True, visible=False, locked=True),
            _layer(id="e", opacity=False, visible=None, locked=0),
            _layer(id="f", opacity=100.0001, x=0.1, y=2.5),
        ],
    },
    {
        "name": "every blend mode",
        "meta": None,
        "layers": [_layer(id=f"b{i}", blend_mode=mode) for i, mode in enumerate(BLEND_MODES)]
        + [
            _layer(id="bad1", blend_mode="Normal"),
            _layer(id="bad2", blend_mode=""),
            _layer(id="bad3", blend_mode=None),
            _layer(id="bad4", blend_mode="plus"),
        ],
    },
    {
        "name": "layer kinds",
        "meta": None,
        "layers": [
            _layer(id="r", kind="raster"),
            _layer(id="p", kind="paint"),
            _layer(id="g", kind="group"),
            _layer(id="e", kind=""),
            _layer(id="n", kind=None),
            _layer(id="u", kind="PAINT"),
        ],
    },
    {
        "name": "blob values",
        "meta": None,
        "layers": [
            _layer(id="ok", blob=SHA),
            _layer(id="short", blob=SHA[:63]),
            _layer(id="long", blob=SHA + "0"),
            _layer(id="hex", blob="g" * 64),
            _layer(id="num", blob=12),
            _layer(id="none", blob=None),
            _paint(id="paint", blob=SHA),
        ],
    },
    {
        "name": "strokes read on any kind",
        "meta": None,
        "layers": [_layer(id="raster", strokes=[_stroke()]), _paint(id="group", kind="group")],
    },
    {
        "name": "strokes that are not an Array",
        "meta": None,
        "layers": [
            _paint(id="str", strokes="x"),
            _paint(id="plain", strokes={"$plain": [_stroke()]}),
            _paint(id="num", strokes=3),
            _paint(id="map", strokes={"$map": {"a": 1}}),
            _paint(id="none", strokes=None),
        ],
    },
    {
        "name": "stroke items: non-maps, anon ids, duplicates",
        "meta": None,
        "layers": [
            _paint(
                strokes=[
                    "x",
                    4,
                    None,
                    {"$plain": _stroke(id="plain")},
                    _stroke(id=None),
                    _stroke(id="anon-3", size=2),
                    _stroke(id="d", size=5),
                    _stroke(id="e"),
                    _stroke(id="d", size=6),
                    [1, 2],
                ]
            )
        ],
    },
    {
        "name": "stroke garbage falls back",
        "meta": None,
        "layers": [
            _paint(
                strokes=[
                    _stroke(id="a", tool="pen", color="#GGGGGG", size=0, hardness=1.5, opacity=101),
                    _stroke(
                        id="b", tool=None, color="#12345", size=-1, hardness=-0.1, opacity=True
                    ),
                    _stroke(id="c", tool="Brush", color=None, size=NAN, hardness=INF, opacity="50"),
                    _stroke(id="d", color="112233", size=True, hardness=False, opacity=NEG_INF),
                    {"id": "e"},
                ]
            )
        ],
    },
    {
        "name": "stroke values at the edges",
        "meta": None,
        "layers": [
            _paint(
                strokes=[
                    _stroke(
                        id="a", tool="eraser", color="#AABBCCDD", size=0.0001, hardness=0, opacity=0
                    ),
                    _stroke(id="b", color="#FfEeDd", size=1e9, hardness=1, opacity=100),
                    _stroke(id="c", size=2.5, hardness=0.25, opacity=33.3),
                ]
            )
        ],
    },
    {
        "name": "bad points drop their pair",
        "meta": None,
        "layers": [
            _paint(
                strokes=[
                    _stroke(
                        points=[
                            1,
                            2,
                            "a",
                            3,
                            4,
                            5,
                            True,
                            6,
                            NAN,
                            7,
                            8,
                            None,
                            9.5,
                            10.5,
                            INF,
                            1,
                            2,
                            NEG_INF,
                            [1],
                            3,
                            {"k": 1},
                            4,
                            11,
                            12,
                            13,
                        ]
                    )
                ]
            )
        ],
    },
    {
        "name": "points storage forms",
        "meta": None,
        "layers": [
            _paint(
                strokes=[
                    _stroke(id="plain", points={"$plain": [1, 2, 3, 4, "x", 5, 6, 7]}),
                    _stroke(id="str", points="1,2"),
                    _stroke(id="map", points={"$map": {"0": 1, "1": 2}}),
                    _stroke(id="none", points=None),
                    _stroke(id="empty", points=[]),
                    _stroke(id="odd", points=[1]),
                    _stroke(id="nested", points=[{"$array": [1, 2]}, 3, 4, 5]),
                ]
            )
        ],
    },
    {
        "name": "provenance forms",
        "meta": None,
        "layers": [
            _layer(
                id="map",
                provenance={
                    "job_id": "j1",
                    "model": "sd",
                    "steps": 20,
                    "region": {"x": 1, "y": 2},
                    "tags": ["a", 1, None],
                    "cpu": True,
                },
            ),
            _layer(id="plain", provenance={"$plain": {"job_id": "j2", "seed": 7}}),
            _layer(id="nan", provenance={"job_id": "j3", "score": NAN}),
            _layer(id="list", provenance={"$plain": ["a"]}),
            _layer(id="string", provenance="job"),
            _layer(id="none", provenance=None),
            _layer(id="nested", provenance={"inner": {"$map": {"a": 1}}, "arr": {"$array": [2]}}),
            _layer(id="empty", provenance={}),
        ],
    },
    {
        "name": "proposal forms",
        "meta": None,
        "layers": [
            _layer(
                id="map",
                proposal={
                    "$map": {"job_id": "j1", "user": "ann", "name": "Ann", "at": 1700000000000}
                },
            ),
            _layer(id="plain", proposal={"job_id": "j2"}),
            _layer(id="empty", proposal={"$map": {}}),
            _layer(id="null-job", proposal={"$map": {"job_id": None, "note": "by hand"}}),
            _layer(id="nested", proposal={"$map": {"job_id": "j3", "inner": {"$map": {"a": 1}}}}),
            _layer(id="none", proposal=None),
            _layer(id="string", proposal="yes"),
            _layer(id="true", proposal=True),
            _layer(id="num-job", proposal={"$map": {"job_id": 5}}),
            _layer(id="empty-job", proposal={"$map": {"job_id": ""}}),
            _layer(id="nan", proposal={"$map": {"job_id": "j4", "score": NAN}}),
            _layer(id="list", proposal={"$plain": ["j5"]}),
            _layer(id="array", proposal={"$array": ["j6"]}),
            _paint(id="paint", proposal={"$map": {"job_id": "j7"}}),
        ],
    },
    {
        "name": "history entries",
        "meta": None,
        "layers": [],
        "history": [
            {
                "id": "h1",
                "user": "u-1",
                "name": "Ann",
                "action": "edit",
                "label": "add layer 'Sky'",
                "at": 1700000000000,
            },
            "not a map",
            12,
            [1, 2],
            {
                "$plain": {
                    "id": "h2",
                    "user": "u-2",
                    "name": "Bo",
                    "action": "undo",
                    "label": "undo: hide 'Sky'",
                    "at": 1700000000500,
                }
            },
            None,
            {
                "id": "h3",
                "user": "u-1",
                "name": "Ann",
                "action": "restore",
                "label": "restore version 'v1'",
                "at": 1700000001000,
            },
        ],
    },
    {
        "name": "layer name edges and shared types",
        "meta": None,
        "layers": [
            _layer(id="text", name={"$text": "T"}),
            _layer(id="max", name="m" * 1000),
            _layer(id="over", name="m" * 1001),
            _layer(id="map", name={"$map": {}}),
            _layer(id="empty", name=""),
        ],
    },
    {
        "name": "mixed realistic document",
        "meta": {
            "name": "Mix",
            "width": 1920,
            "height": 1080,
            "dpi": 72,
            "color_profile": "sRGB",
            "background": "#FFFFFF80",
        },
        "layers": [
            _layer(id="bg", name="Background", blob=SHA),
            "garbage",
            _paint(
                id="ink",
                name="Ink",
                opacity=75.5,
                strokes=[
                    _stroke(id="s1"),
                    _stroke(id="s2", tool="eraser", points=[5, 5, 6, NAN, 7, 7]),
                ],
            ),
            {"name": "nameless"},
            _layer(id="bg", name="Background moved", blend_mode="screen", visible=False),
        ],
    },
]


def build() -> list[dict[str, Any]]:
    return [case | {"expected": read_case(case)} for case in CASES]


def main(argv: list[str]) -> int:
    text = json.dumps(build(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale: run python tests/vectors/make_reader_vectors.py")
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(CASES)} cases to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
