"""The OpenAPI description covers every route the app serves."""

from __future__ import annotations

import httpx
from starlette.routing import Route, WebSocketRoute

from tests.support.servers import RunningServer


async def test_every_route_is_documented(running: RunningServer, http: httpx.AsyncClient) -> None:
    r = await http.get("/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    schema = r.json()
    assert schema["openapi"].startswith("3.") and schema["info"]["title"] == "Nexus Canvas"
    paths = schema["paths"]
    expected: set[tuple[str, str]] = set()
    for route in running.app.routes:
        if isinstance(route, Route):
            path = route.path.replace(":path}", "}")
            expected |= {(m.lower(), path) for m in route.methods or ["GET"] if m != "HEAD"}
        elif isinstance(route, WebSocketRoute):
            expected.add(("get", route.path.replace(":path}", "}")))
    documented = {(method, path) for path, ops in paths.items() for method in ops}
    assert expected <= documented, expected - documented
    for path, ops in paths.items():
        for method, op in ops.items():
            assert op.get("summary"), (method, path)
            assert op.get("responses"), (method, path)


async def test_pixel_routes_carry_their_parameters(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    export = paths["/api/docs/{doc_id}/export"]["get"]
    assert {p["name"] for p in export["parameters"]} == {
        "doc_id",
        "format",
        "scale",
        "quality",
        "proposals",
    }
    upload = paths["/api/docs/{doc_id}/layers"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(form["properties"]) == {"image", "name", "blend_mode", "opacity", "x", "y"}
    assert {"413", "415", "400"} <= {str(code) for code in paths["/api/blobs"]["put"]["responses"]}
