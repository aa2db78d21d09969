"""Errors raised by the collaboration server.

Tree::

    CollabError
    ├── SettingsError          a configuration value is invalid (names the variable)
    ├── ProtocolError          (canvasdoc.errors; not a CollabError) a frame breaks the protocol
    │   ├── FrameTooLarge      a frame exceeded the configured size limit
    │   └── TextFrame          a text frame arrived; the protocol is binary
    ├── InvalidUpdate          a document update or awareness update could not be applied
    │   └── DocumentTooLarge   an update would grow the document past its size limit
    ├── RateLimited            a connection sent more than its message or byte rate
    ├── InvalidDocumentId      a document id in a URL is not acceptable
    └── RoomLoadError          a room could not be loaded from the store
"""

from __future__ import annotations

from canvasdoc.errors import ProtocolError

__all__ = [
    "CollabError",
    "DocumentTooLarge",
    "FrameTooLarge",
    "InvalidDocumentId",
    "InvalidUpdate",
    "ProtocolError",
    "RateLimited",
    "RoomLoadError",
    "SettingsError",
    "TextFrame",
]


class CollabError(Exception):
    """Base class of the collaboration server's errors."""


class SettingsError(CollabError, ValueError):
    """A configuration value is invalid; ``field`` names the setting when known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FrameTooLarge(ProtocolError):
    """A frame is larger than the configured limit."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class TextFrame(ProtocolError):
    """A text frame arrived; y-websocket frames are binary."""

    def __init__(self) -> None:
        super().__init__("text frames are not part of the y-websocket protocol; send binary")


class InvalidUpdate(CollabError):
    """A document or awareness update could not be applied."""


class DocumentTooLarge(InvalidUpdate):
    """Applying the update would grow the document past ``max_document_bytes``."""


class RateLimited(CollabError):
    """A connection exceeded its message or byte rate."""


class InvalidDocumentId(CollabError, ValueError):
    """A document id is not acceptable."""


class RoomLoadError(CollabError):
    """A room's document could not be loaded from the store."""
