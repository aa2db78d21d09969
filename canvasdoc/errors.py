"""Errors of the shared document package.

Tree::

    ProtocolError      a frame breaks the y-websocket protocol (raised by ``canvasdoc.wire``)
    SchemaError        a value a canvas writer refuses (``canvasdoc.canvas``; a ValueError)
"""

from __future__ import annotations

from canvasdoc._validate import SchemaError

__all__ = ["ProtocolError", "SchemaError"]


class ProtocolError(Exception):
    """A frame does not follow the y-websocket protocol."""
