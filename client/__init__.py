"""Python client for Nexus Canvas: a live replica of a canvas over y-websocket."""

from client.backoff import Backoff
from client.errors import ClientError, ConnectionRefused, ReadOnlyError
from client.provider import CanvasClient, ClientStats

__all__ = [
    "Backoff",
    "CanvasClient",
    "ClientError",
    "ClientStats",
    "ConnectionRefused",
    "ReadOnlyError",
]
