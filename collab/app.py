"""The Starlette application: the y-websocket endpoint, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from collab import __version__, api
from collab.api import errors
from collab.asgi import web
from collab.asgi.uvicorn_ws import FRAME_BUDGET
from collab.asgi.ws_endpoint import websocket_endpoint
from collab.auth import Authenticator
from collab.gc_policy import GcPolicy
from collab.replication.broker.base import Broker
from collab.replication.lease.base import Lease
from collab.server import Server
from collab.settings import Settings
from inference import availability
from inference.config import AIConfig
from inference.exceptions import AIConfigError
from persistence.base import Store


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    authenticator: Authenticator | None = None,
    broker: Broker | None = None,
    lease: Lease | None = None,
) -> Starlette:
    """Build the app; the server's components start and stop with the app's lifespan.
    Components given here (tests, embedding) replace the ones the settings would build."""
    server = Server(settings, store=store, authenticator=authenticator, broker=broker, lease=lease)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with server, contextlib.AsyncExitStack() as stack:
            if getattr(app.state, "serving_process", False):  # `serve` sets it
                policy = GcPolicy(full_interval=settings.gc_full_interval)
                await stack.enter_async_context(policy)
                server.metrics.registry.register(policy.pauses)
                stack.callback(server.metrics.registry.unregister, policy.pauses)
            # The lifespan state reaches uvicorn's protocols too: the WebSocket protocol
            # reports the bytes each connection holds to the frame budget from its first read.
            yield {FRAME_BUDGET: server.frame_budget}

    app = CanvasApp(
        routes=[
            WebSocketRoute("/ws/{doc_id:path}", websocket_endpoint),
            Route("/health", health),
            Route("/metrics", metrics),
            *api.routes(),
            *web.routes,
        ],
        lifespan=lifespan,
        # a path no route serves: 404 pointing at the API docs (web.unknown_path)
        exception_handlers={**errors.HANDLERS, 404: web.unknown_path},
        middleware=_middleware(settings),
    )
    app.state.server = server
    return app


class CanvasApp(Starlette):
    """The Starlette app, except that a WebSocket to ``/ws/`` goes straight to its endpoint.

    A WebSocket connection lives for hours, and Starlette's middleware stack and router keep
    their coroutine frames suspended for all that time: about 5 KiB per connection, a sixth of
    what an idle connection costs (docs/performance.md, S3). None of that stack acts on a
    WebSocket here (CORS and the error page are HTTP-only; the endpoint closes with its own
    codes), so the upgrade skips it. The route stays declared for the OpenAPI description.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"].startswith("/ws/"):
            scope["app"] = self
            await websocket_endpoint(WebSocket(scope, receive, send))
            return
        await super().__call__(scope, receive, send)


def _middleware(settings: Settings) -> list[Middleware]:
    """CORS for the configured browser origins only (none by default: same origin)."""
    if not settings.origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-User",
                "X-User-Name",
                "If-None-Match",
            ],
            expose_headers=["ETag"],
        )
    ]


async def health(request: Request) -> JSONResponse:
    server: Server = request.app.state.server
    problems = server.problems()
    return JSONResponse(
        {
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "instance": server.instance_id,
            "auth": server.auth_mode,
            "broker": server.broker.kind,
            "version": __version__,
            "rooms": len(server.rooms.rooms),
            "connections": sum(len(r.connections) for r in server.rooms.rooms.values()),
            "store": server.store.kind,
            "pending_updates": server.writer.pending,
            "ai": await _ai_models(request.app),
        }
    )


async def _ai_models(app: Starlette) -> dict[str, Any]:
    """The models the embedded worker can load and the pipelines that run a fallback.

    The worker's child process reads its AIConfig from the environment it inherits from this
    process, so the same settings are read here, once per app. Checks are cheap (file, cached
    checksum, library found) and run off the event loop; no model is loaded."""
    server: Server = app.state.server
    if server.jobs.worker is None:
        return {"worker": "external", "note": "standalone workers check their own models"}
    config: AIConfig | None = getattr(app.state, "ai_config", None)
    if config is None:
        try:
            config = app.state.ai_config = AIConfig.from_env(os.environ)
        except AIConfigError as exc:
            return {"worker": "embedded", "error": str(exc)}
    return {"worker": "embedded", **await asyncio.to_thread(availability.report, config)}


async def metrics(request: Request) -> Response:
    server: Server = request.app.state.server
    server.metrics.store_pending.set(server.writer.pending)
    return Response(server.metrics.render(), media_type="text/plain; version=0.0.4")
