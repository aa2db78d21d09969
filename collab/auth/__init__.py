"""Authentication: turn a WebSocket upgrade or an HTTP request into a ``Principal``.

The room and API code only ever see the ``Principal``; the authenticator chosen at start-up
(open mode on loopback, tokens otherwise) is the only thing that differs.
"""

from collab.auth.base import AuthenticationError, Authenticator, bearer_token
from collab.auth.open import OpenAuthenticator

__all__ = ["AuthenticationError", "Authenticator", "OpenAuthenticator", "bearer_token"]
