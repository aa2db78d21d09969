"""REST API: documents, blobs, rendering, undo/redo, versions, AI jobs, and its OpenAPI
description."""

from starlette.routing import BaseRoute

from collab.api import auth, blobs, docs, exports, history, jobs, openapi, sharing, versions


def routes() -> list[BaseRoute]:
    return [
        *history.routes,
        *versions.routes,
        *docs.routes,
        *exports.routes,
        *blobs.routes,
        *auth.routes,
        *sharing.routes,
        *jobs.routes,
        *openapi.routes,
    ]
