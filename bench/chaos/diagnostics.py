"""What a failed run leaves for a post-mortem: Postgres's view of its sessions and locks, and
the documents' snapshot and fence rows, written as JSON into the work directory."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.chaos.painters import Painter
from bench.chaos.verify import replica_state

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


def painters_view(painters: Sequence[Painter]) -> dict[str, Any]:
    """Why the painters disagree, document by document: each painter's connection state and
    traffic, the clocks it lacks against the newest any painter of its document holds (by
    Yjs client id, named when a painter owns it), and which content group it is in (the
    same state vector can hide different deletions)."""
    by_doc: dict[str, list[Painter]] = {}
    for painter in painters:
        by_doc.setdefault(painter.doc_id, []).append(painter)
    owners = {p.client_id: p.name for p in painters}
    view: dict[str, Any] = {}
    for doc_id, group in sorted(by_doc.items()):
        states = {p.name: replica_state(p.client.doc) for p in group}
        clocks = {name: vector for name, (vector, _) in states.items()}
        newest: dict[int, int] = {}
        for vector in clocks.values():
            for client, clock in vector.items():
                newest[client] = max(newest.get(client, 0), clock)
        prints = {name: digest for name, (_, digest) in states.items()}
        groups = {digest: i for i, digest in enumerate(dict.fromkeys(prints.values()))}
        view[doc_id] = {
            p.name: {
                "url": p.client.url,
                "connected": p.client.connected,
                "synced": p.client.synced,
                "running": p.client.running,
                "last_close": p.client.last_close,
                "stats": dataclasses.asdict(p.client.stats),
                "lacks": {
                    owners.get(client, str(client)): [clocks[p.name].get(client, 0), clock]
                    for client, clock in newest.items()
                    if clocks[p.name].get(client, 0) < clock
                },
                "content_group": groups[prints[p.name]],
            }
            for p in group
        }
    return view


def dump_painters(painters: Sequence[Painter], path: Path) -> None:
    """Write ``painters_view`` to ``path`` and log the painters that disagree."""
    view = painters_view(painters)
    path.write_text(json.dumps(view, indent=1, default=str))
    for doc_id, group in view.items():
        odd = {
            name: {k: v[k] for k in ("connected", "synced", "lacks", "content_group")}
            for name, v in group.items()
            if v["lacks"] or v["content_group"] or not v["synced"]
        }
        if odd:
            log.warning("painters disagree", extra={"doc_id": doc_id, "painters": odd})
