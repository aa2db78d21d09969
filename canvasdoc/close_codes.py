"""WebSocket close codes the server uses, and what each one tells the client.

1000–1015 are the RFC 6455 codes; 4000–4999 are application codes (documented in
docs/protocol.md). A client may reconnect after any of them except ``INVALID_DOCUMENT_ID``.
"""

from __future__ import annotations

from typing import Final

NORMAL: Final = 1000
GOING_AWAY: Final = 1001  # server shutting down; reconnect (to another instance)
PROTOCOL_ERROR: Final = 1002  # malformed y-websocket frame
UNSUPPORTED_DATA: Final = 1003  # a text frame: the protocol is binary only
INVALID_PAYLOAD: Final = 1007  # an update or awareness update that cannot be applied
MESSAGE_TOO_BIG: Final = 1009  # a frame over the configured size limit
POLICY_VIOLATION: Final = 1008  # over a rate limit (messages or bytes per second)
INTERNAL_ERROR: Final = 1011  # the server failed (room could not be loaded, ...)
TRY_AGAIN_LATER: Final = 1013  # too many connections from this address; back off

SLOW_CONSUMER: Final = 4008  # the client fell too far behind; reconnect to resync
DOCUMENT_TOO_LARGE: Final = 4413  # an update would grow the document past its size limit
ACCESS_REVOKED: Final = 4403  # the share link or membership this connection used was revoked
INVALID_DOCUMENT_ID: Final = 4400  # the document id in the URL is not acceptable
