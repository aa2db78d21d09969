"""The live session of a document on this instance, with no transport and no replication
inside: the room (receive, apply, commands, fan-out to its connections), the room registry
(load, snapshot, unload), connections with their send queues, per-user undo and the shared
history. Nothing here imports Starlette or uvicorn (an import-linter contract)."""
