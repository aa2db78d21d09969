"""Nexus Canvas collaboration server: y-websocket rooms over a shared pycrdt document."""

__version__ = "0.1.0"
