"""The server's HTTP and WebSocket edge: the ``/ws/{doc_id}`` endpoint, the Starlette channel
adapter, the uvicorn protocol with its direct write path (the only module that depends on
uvicorn's internals), how uvicorn is configured, and the browser app's static routes."""
