"""The canvas document as client and server share it: the schema (readers tolerant of foreign
values, validating writers), the y-websocket wire codec, WebSocket close codes, identifier
patterns, and the machine-readable facts the browser app reads (``python -m canvasdoc.facts``).

Import rule (pyproject's import-linter contracts): ``canvasdoc`` imports nothing else of the
project; ``collab`` (the server) and ``client`` (the Python client) both stand on it.
"""
