"""Schemathesis against the served OpenAPI description, over every operation with a fixed
seed and bounded examples: a 5xx, a crash, or an answer the description does not allow
(status, content type, headers, body schema, a valid request refused or an invalid one
accepted) fails the operation's test.

Two passes: every parameter generated (document ids are mostly unknown, so this probes
validation and the 4xx paths), then every ``doc_id`` naming a seeded document with a layer
and a version, so the operations behind the existence checks run too.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from PIL import Image
from schemathesis.python import asgi
from starlette.applications import Starlette
from starlette.testclient import TestClient

from collab.app import create_app
from tests.support.servers import settings_for

SEEDED_DOC = "fuzz-doc"
SEEDED_VERSION = 1


def _config(**extra: Any) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": 8,
            "generation": {"max-examples": 30, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "operations": [
                {
                    # A schema-valid body is any bytes; the server wants a decodable image,
                    # which OpenAPI cannot say.
                    "include-path-regex": "^/api/(blobs|docs/{doc_id}/layers$)",
                    "include-method-regex": "^(PUT|POST)$",
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                },
                {
                    # Plain HTTP on the WebSocket route answers 404 whatever the method (as
                    # documented): there is no HTTP resource there to allow methods on.
                    "include-path": "/ws/{doc_id}",
                    "checks": {"unsupported_method": {"enabled": False}},
                },
            ],
            **extra,
        }
    )


def _served_description() -> dict[str, Any]:
    """GET /openapi.json of an app built like the server's (it needs no lifespan)."""
    with tempfile.TemporaryDirectory() as tmp:
        response = TestClient(create_app(settings_for(Path(tmp)))).get("/openapi.json")
    response.raise_for_status()
    description: dict[str, Any] = response.json()
    return description


DESCRIPTION = _served_description()
schema = schemathesis.openapi.from_dict(DESCRIPTION, config=_config())
on_a_document = schemathesis.openapi.from_dict(
    DESCRIPTION,
    config=_config(parameters={"doc_id": SEEDED_DOC}),
).exclude(path_regex="^/api/(auth|blobs|jobs)|^/(health|metrics|openapi.json|ws/)")


def _png(width: int, height: int) -> bytes:
    pixels = np.random.default_rng(1).integers(0, 256, (height, width, 4), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Starlette]:
    # Schemathesis runs the app's lifespan in its own event loop thread from the first call
    # on, and its pytest plugin ends it when the test ends.
    yield create_app(settings_for(tmp_path))


@pytest.fixture
def seeded_app(app: Starlette) -> Starlette:
    with asgi.get_client(app) as client:
        created = client.post("/api/docs", json={"id": SEEDED_DOC, "width": 96, "height": 64})
        assert created.status_code == 201, created.text
        layer = client.post(
            f"/api/docs/{SEEDED_DOC}/layers",
            files={"image": ("sky.png", _png(40, 30), "image/png")},
            data={"opacity": "80", "blend_mode": "multiply"},
        )
        assert layer.status_code == 201, layer.text
        version = client.post(f"/api/docs/{SEEDED_DOC}/versions", json={"label": "seeded"})
        assert version.status_code == 201, version.text
        assert version.json()["id"] == SEEDED_VERSION
    return app


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one app per operation
def test_api(case: schemathesis.Case, app: Starlette) -> None:
    case.call_and_validate(app=app)


@on_a_document.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_on_a_document(case: schemathesis.Case, seeded_app: Starlette) -> None:
    case.call_and_validate(app=seeded_app)
