"""The OpenAPI description covers every route the app serves, passes a real validator, and
is readable at the docs page; a malformed route docstring is refused when it is built."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute

from canvasdoc import ids
from collab.api.openapi import DOCS_PAGE, SCHEMAS, OpenApiDocError
from tests.support.servers import RunningServer, serve, settings_for

SECRET = "test-secret-" + "o" * 32
# What OpenAPI 3.0 allows (written out here, not imported: the test checks openapi.py).
OPERATION_FIELDS = {
    "tags",
    "summary",
    "description",
    "externalDocs",
    "operationId",
    "parameters",
    "requestBody",
    "responses",
    "callbacks",
    "deprecated",
    "security",
    "servers",
}
RESPONSE_FIELDS = {"description", "headers", "content", "links"}
STATUS_CODE = re.compile(r"^(default|[1-5](\d\d|XX))$")


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


async def test_the_description_passes_an_openapi_validator(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    OpenAPIV30SpecValidator(schema).validate()


async def test_every_operation_states_its_answers_as_openapi_allows(
    http: httpx.AsyncClient,
) -> None:
    """Walked here, not left to the validator's schema alone: a response key that is no status
    code, a stray field in an answer (an unquoted YAML flow mapping with a comma made
    ``"or open mode": null`` in /api/auth/register's 409), a description that is no string."""
    paths = (await http.get("/openapi.json")).json()["paths"]
    for path, ops in paths.items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert set(op) <= OPERATION_FIELDS, (where, set(op) - OPERATION_FIELDS)
            assert isinstance(op["summary"], str), where
            for code, answer in op["responses"].items():
                assert STATUS_CODE.match(code), (where, code)
                assert set(answer) <= RESPONSE_FIELDS, (where, code, set(answer))
                assert isinstance(answer["description"], str) and answer["description"], (
                    where,
                    code,
                )


async def test_the_bearer_token_is_declared_and_public_routes_need_none(
    http: httpx.AsyncClient,
) -> None:
    schema = (await http.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {"bearer": []} in schema["security"] and {} in schema["security"]  # open mode
    paths = schema["paths"]
    for public in ("/api/auth/login", "/health", DOCS_PAGE, "/openapi.json"):
        for op in paths[public].values():
            assert op["security"] == [], public
    assert "security" not in paths["/api/docs/{doc_id}"]["get"]  # the document's default


def _route(docstring: str) -> list[BaseRoute]:
    async def handler(request: Request) -> JSONResponse:
        return JSONResponse({})

    handler.__doc__ = docstring
    return [Route("/api/example", handler, methods=["POST"])]


_OPERATION = """
    ---
    summary: An example
    responses:
"""


@pytest.mark.parametrize(
    ("docstring", "named"),
    [
        (_OPERATION + "      409: {description: name taken, or open mode}\n", "'or open mode'"),
        (_OPERATION + "      20O: {description: created}\n", "'20O'"),
        (_OPERATION + "      200: {description: 200}\n", "description string, got 200"),
        (_OPERATION + "      200: created\n", "must be a mapping"),
        ("\n---\nsumary: typo\nresponses: {200: {description: ok}}\n", "'sumary'"),
        ("\n---\nsummary: [unclosed\n", "does not parse"),
        ("\n---\n- a list\n", "got list"),
    ],
)
def test_a_malformed_docstring_is_refused_when_the_description_is_built(
    docstring: str, named: str
) -> None:
    with pytest.raises(OpenApiDocError) as refused:
        SCHEMAS.get_schema(routes=_route(docstring))
    assert named in str(refused.value)
    assert "handler" in str(refused.value)  # the route's author learns which function


def test_a_well_formed_docstring_is_taken_as_written() -> None:
    docstring = _OPERATION + '      409: {description: "name taken, or open mode"}\n'
    op = SCHEMAS.get_schema(routes=_route(docstring))["paths"]["/api/example"]["post"]
    assert op["responses"]["409"]["description"] == "name taken, or open mode"


async def test_the_docs_page_is_public_in_token_mode(tmp_path: Path) -> None:
    """Served from the build's api-docs.html with a policy that allows this server only; the
    page and /openapi.json need no token, the API they describe does."""
    build = tmp_path / "dist"
    build.mkdir()
    (build / "api-docs.html").write_text("<!doctype html><title>docs</title>")
    settings = settings_for(tmp_path, auth_secret=SECRET, web_dir=build)
    async with serve(settings) as srv, httpx.AsyncClient(base_url=srv.http_url) as http:
        page = await http.get(DOCS_PAGE)
        assert page.status_code == 200 and page.text == "<!doctype html><title>docs</title>"
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "connect-src 'self'" in policy
        assert (await http.head(DOCS_PAGE)).status_code == 200
        assert (await http.get("/openapi.json")).status_code == 200
        assert (await http.get("/api/docs")).status_code == 401
        (build / "api-docs.html").unlink()
        missing = await http.get(DOCS_PAGE)
        assert missing.status_code == 503 and "npm --prefix client/web" in missing.text


async def test_the_docs_page_is_not_taken_for_a_document(http: httpx.AsyncClient) -> None:
    """The id "ui" is valid, so /api/docs/ui means a document: the page lives apart."""
    assert ids.DOC_ID.match("ui")
    assert (await http.get("/api/docs/ui")).json()["error"] == "not_found"
    page = await http.get(DOCS_PAGE)
    assert page.headers["content-type"].startswith("text/html")


async def test_register_and_login_answer_as_documented(tmp_path: Path) -> None:
    """The documented bodies (docs/security.md) are the served ones: each answer validates
    against the response schema /openapi.json gives, and each refusal is a documented code."""
    async with (
        serve(settings_for(tmp_path, auth_secret=SECRET)) as srv,
        httpx.AsyncClient(base_url=srv.http_url) as http,
    ):
        document = (await http.get("/openapi.json")).json()

        def check(path: str, response: httpx.Response) -> None:
            answers = document["paths"][path]["post"]["responses"]
            assert str(response.status_code) in answers, (path, response.status_code)
            schema = answers[str(response.status_code)]["content"]["application/json"]["schema"]
            if "$ref" in schema:  # "#/components/schemas/Error"
                schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            OAS30Validator(schema).validate(response.json())

        credentials = {"name": "ada_l", "password": "correct horse"}
        registered = await http.post("/api/auth/register", json=credentials)
        assert registered.status_code == 200
        check("/api/auth/register", registered)
        logged_in = await http.post("/api/auth/login", json=credentials)
        assert logged_in.status_code == 200
        check("/api/auth/login", logged_in)
        refresh = {"refresh_token": logged_in.json()["refresh_token"]}
        refreshed = await http.post("/api/auth/refresh", json=refresh)
        assert refreshed.status_code == 200
        check("/api/auth/refresh", refreshed)
        for path, body, status in [
            ("/api/auth/register", credentials, 409),  # name_taken
            ("/api/auth/register", {"name": "ab", "password": "long enough"}, 422),
            ("/api/auth/register", {"name": "grace", "password": "short"}, 422),
            ("/api/auth/login", {**credentials, "password": "wrong horse"}, 401),
            ("/api/auth/refresh", {"refresh_token": "not-a-token"}, 401),
        ]:
            refused = await http.post(path, json=body)
            assert refused.status_code == status, (path, body, refused.text)
            check(path, refused)


async def test_an_unknown_path_points_at_the_docs(http: httpx.AsyncClient) -> None:
    api = await http.get("/api/no-such-thing")
    assert api.status_code == 404
    assert api.json()["error"] == "not_found" and api.json()["docs"] == DOCS_PAGE
    assert "/api/no-such-thing" in api.json()["message"]
    page = await http.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert f'href="{DOCS_PAGE}"' in page.text and "/no-such-page" in page.text
