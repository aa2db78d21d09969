"""REST API: documents, layers, blobs, rendering, undo/redo, versions, AI jobs and their staged
proposals, and its OpenAPI description."""

from starlette.routing import BaseRoute

from collab.api import (
    ai_jobs,
    auth,
    blobs,
    docs,
    exports,
    history,
    layers,
    openapi,
    proposals,
    sharing,
    versions,
)


def routes() -> list[BaseRoute]:
    return [
        *history.routes,
        *versions.routes,
        *docs.routes,
        *layers.routes,
        *exports.routes,
        *blobs.routes,
        *auth.routes,
        *sharing.routes,
        *ai_jobs.routes,
        *proposals.routes,
        *openapi.routes,
    ]
