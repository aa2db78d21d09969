"""What a failed run leaves for a post-mortem: Postgres's view of its sessions and locks, and
the documents' snapshot and fence rows, written as JSON into the work directory."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

_ACTIVITY = """
SELECT pid, application_name, client_port, state, wait_event_type, wait_event,
       pg_blocking_pids(pid) AS blocked_by,
       extract(epoch FROM now() - xact_start) AS xact_seconds,
       extract(epoch FROM now() - query_start) AS query_seconds,
       left(query, 300) AS query
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
ORDER BY xact_start NULLS LAST
"""


def _plain(row: Any) -> dict[str, Any]:
    return {key: (list(value) if isinstance(value, list) else value) for key, value in row.items()}


async def dump_postgres(database_url: str, schema: str, path: Path) -> None:
    """Write sessions (with who blocks whom), snapshot rows and fences to ``path`` (a small
    file: written in place)."""
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        found = {
            "activity": [_plain(r) for r in await conn.fetch(_ACTIVITY)],
            "snapshots": [
                _plain(r)
                for r in await conn.fetch(
                    "SELECT doc_id, id, seq, label, created_at::text FROM snapshots "
                    "ORDER BY doc_id, seq"
                )
            ],
            "fences": [_plain(r) for r in await conn.fetch("SELECT * FROM snapshot_fences")],
            "documents": [
                _plain(r) for r in await conn.fetch("SELECT id, last_seq FROM documents")
            ],
        }
    finally:
        await conn.close()
    path.write_text(json.dumps(found, indent=1, default=str))  # noqa: ASYNC240
    log.warning("postgres diagnostics written", extra={"path": str(path)})
