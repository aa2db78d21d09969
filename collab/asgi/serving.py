"""How uvicorn runs the app: the same options for ``nexus-canvas serve`` and the tests."""

from __future__ import annotations

from typing import Any

from collab.asgi.uvicorn_ws import NexusWebSocketProtocol
from collab.settings import Settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` / ``uvicorn.run`` (besides app and socket)."""
    return {
        "ws": NexusWebSocketProtocol,  # uvicorn's sans-I/O protocol plus direct fan-out writes
        "ws_max_size": settings.max_frame_bytes,
        "ws_per_message_deflate": settings.ws_compression,
        "log_config": None,
        "lifespan": "on",
        # uvicorn would otherwise take X-Forwarded-For from 127.0.0.1 as the client (its
        # default FORWARDED_ALLOW_IPS): the app decides, from NEXUS_TRUSTED_PROXIES only.
        "proxy_headers": False,
    }
