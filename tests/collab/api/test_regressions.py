"""What schemathesis (tests/collab/api/test_schemathesis.py) and the probes around it found in
the REST API, each kept as a plain test."""

from __future__ import annotations

import re

import httpx
import pytest

from collab.auth.identity import check_doc_id
from collab.exceptions import InvalidDocumentId
from tests.collab.api.conftest import png

JSON = {"content-type": "application/json"}


async def test_405_allows_every_method_the_path_serves(http: httpx.AsyncClient) -> None:
    """Starlette's 405 named only the first route's methods (one Route per method here), and
    the JSON error handler dropped its Allow header altogether."""
    r = await http.post("/api/docs/some-doc")
    assert r.status_code == 405 and r.json()["error"] == "http_error"
    assert r.headers["allow"] == "DELETE, GET, HEAD, PATCH"
    r = await http.request("TRACE", "/api/blobs")
    assert r.status_code == 405 and r.headers["allow"] == "POST, PUT"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/docs", b'{"name": "\\ud800"}'),
        ("/api/docs", b'{"id": "x", "color_profile": "\\udfff"}'),
        ("/api/docs/doc/versions", b'{"label": "\\ud800 v1"}'),
    ],
)
async def test_a_lone_surrogate_escape_is_a_bad_request_not_a_500(
    http: httpx.AsyncClient, path: str, body: bytes
) -> None:
    """Valid JSON, but no character: SQLite and the CRDT could not store it (500)."""
    assert (await http.post("/api/docs", json={"id": "doc"})).status_code == 201
    r = await http.post(path, content=body, headers=JSON)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_json" and "surrogate" in r.json()["message"]
    pair = await http.post("/api/docs", content=b'{"name": "\\ud83d\\ude00"}', headers=JSON)
    assert pair.status_code == 201 and pair.json()["name"] == "\N{GRINNING FACE}"


async def test_deeply_nested_json_is_a_bad_request_not_a_500(http: httpx.AsyncClient) -> None:
    body = b'{"a":' * 10_000 + b"1" + b"}" * 10_000  # within the 64 KiB limit
    r = await http.post("/api/docs", content=body, headers=JSON)
    assert r.status_code == 400 and r.json()["message"] == "request body is nested too deeply"


@pytest.mark.parametrize("version_id", [2**63, 10**30, -1])
async def test_restoring_a_version_id_out_of_range_is_not_found(
    http: httpx.AsyncClient, version_id: int
) -> None:
    """2**63 and up overflowed SQLite's INTEGER: 500."""
    assert (await http.post("/api/docs", json={"id": "doc"})).status_code == 201
    r = await http.post(f"/api/docs/doc/versions/{version_id}/restore")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


async def test_a_multipart_field_sent_twice_is_refused(http: httpx.AsyncClient) -> None:
    """The first value used to win silently (schemathesis: schema-violating request
    accepted, `y` and `name` sent as arrays)."""
    assert (await http.post("/api/docs", json={"id": "doc"})).status_code == 201
    r = await http.post(
        "/api/docs/doc/layers",
        files=[("image", ("a.png", png(8, 8), "image/png"))],
        data={"y": ["1", "2"]},
    )
    assert r.status_code == 422 and r.json()["message"] == "multipart field 'y' was sent 2 times"


# -- the OpenAPI description ------------------------------------------------------------------


@pytest.fixture
async def paths(http: httpx.AsyncClient) -> dict[str, dict[str, dict[str, object]]]:
    paths: dict[str, dict[str, dict[str, object]]] = (await http.get("/openapi.json")).json()[
        "paths"
    ]
    return paths


async def test_docstrings_that_start_with_the_yaml_marker_are_read(
    paths: dict[str, dict[str, dict[str, object]]],
) -> None:
    """A docstring starting on a new line with ``---`` (auth, sharing) was read as prose: the
    summary came out as "---" and the request bodies and responses were lost."""
    for path, method in [("/api/auth/login", "post"), ("/api/docs/{doc_id}/members", "post")]:
        operation = paths[path][method]
        assert operation["summary"] != "---"
        assert "requestBody" in operation
    assert "204" in paths["/api/docs/{doc_id}/members/{user_id}"]["delete"]["responses"]  # type: ignore[operator]


async def test_every_path_parameter_is_declared(
    paths: dict[str, dict[str, dict[str, object]]],
) -> None:
    for path, operations in paths.items():
        for method, operation in operations.items():
            declared = {
                p["name"]
                for p in operation.get("parameters", [])  # type: ignore[attr-defined]
                if p["in"] == "path"
            }
            assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)


async def test_doc_id_is_described_by_the_rule_the_server_enforces(
    paths: dict[str, dict[str, dict[str, object]]],
) -> None:
    (param,) = [
        p
        for p in paths["/api/docs/{doc_id}"]["get"]["parameters"]  # type: ignore[attr-defined]
        if p["name"] == "doc_id"
    ]
    pattern = re.compile(param["schema"]["pattern"])
    for doc_id in ["a", "A.b_c:d-e", "0" * 128, "", "-a", "a b", "é", "a" * 129]:
        try:
            check_doc_id(doc_id)
            accepted = True
        except InvalidDocumentId:
            accepted = False
        assert accepted == bool(pattern.search(doc_id)), doc_id


async def test_error_answers_are_described_with_their_body(
    http: httpx.AsyncClient, paths: dict[str, dict[str, dict[str, object]]]
) -> None:
    schema = (await http.get("/openapi.json")).json()["components"]["schemas"]["Error"]
    assert schema["required"] == ["error", "message"]
    responses = paths["/api/docs/{doc_id}"]["get"]["responses"]
    for code in ("400", "401", "403", "404", "503"):
        answer = responses[code]  # type: ignore[index]
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
