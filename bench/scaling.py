"""Unit costs for planning beyond one machine (docs/scaling.md): what one envelope costs the
broker and Redis, what one stored update costs the group-commit writer and its database.

    .venv/bin/python -m bench.scaling [--envelopes 20000] [--rows 20000] [--repeat 3]

Broker: two ``RedisBroker`` instances in this process on the real Redis (``--redis-url``),
``--docs`` documents, every envelope a real painting update (``bench.load.updates``). Phase
"publish" has only the publisher subscribed (as an instance holding the document: it gets
its own envelopes back and skips them); phase "publish+receive" adds a second instance that
decodes every envelope. Envelopes go out one per message, or ``--batch`` per message
(``Broker.offer_many``, as a busy room's replica sends them). Reported per envelope: this
process's CPU (publisher and subscribers; receive = difference of the two phases) and
Redis's CPU (``INFO cpu``), and from that the envelopes/s one Redis core would take.

Store: ``GroupCommitWriter`` (default window and batch) over ``PostgresStore`` (a fresh
schema in ``--database-url``) and ``SQLiteStore`` (a temporary file), ``--rows`` updates
appended as fast as the loop allows over ``--docs`` documents, then flushed. Reported: rows/s,
this process's CPU per row (SQLite's writer thread included) and Postgres's server CPU per
row (every ``postgres`` process on this machine, from /proc).

Redis and Postgres are shared with whatever else runs here: quote ``uptime`` with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from bench.load.updates import Painter
from collab.replication.broker.base import Envelope, EnvelopeKind
from collab.replication.broker.redis import RedisBroker
from persistence.postgres import PostgresStore
from persistence.sqlite import SQLiteStore
from persistence.writer import GroupCommitWriter

_CLK = os.sysconf("SC_CLK_TCK")


def painting_updates(count: int, users: int = 10) -> list[bytes]:
    painters = [Painter(100 + i, f"u{i}", seed=i) for i in range(users)]
    return [painters[i % users].next_update()[1] for i in range(count)]


@contextmanager
def cpu_clock() -> Iterator[dict[str, float]]:
    """This process's CPU seconds (all threads) and wall seconds spent in the block."""
    out: dict[str, float] = {}
    cpu, wall = time.process_time(), time.perf_counter()
    yield out
    out["cpu"] = time.process_time() - cpu
    out["wall"] = time.perf_counter() - wall


def proc_cpu(name: str) -> float:
    """CPU seconds used so far by every process whose command name starts with ``name``."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        if comm.startswith(name):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _CLK


# -- broker ------------------------------------------------------------------------------------


async def _redis_cpu(broker: RedisBroker) -> float:
    client = broker._client
    assert client is not None
    info = await client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def broker_phase(
    url: str, payloads: list[bytes], docs: int, batch: int, receive: bool
) -> dict[str, float]:
    namespace = f"nexus-scaling-{uuid.uuid4().hex[:8]}"
    pub = RedisBroker(url, namespace=namespace, instance_id="pub", queue_size=100_000)
    sub = RedisBroker(url, namespace=namespace, instance_id="sub")
    doc_ids = [f"doc-{i}" for i in range(docs)]
    async with pub, sub:
        for doc_id in doc_ids:
            await pub.subscribe(doc_id, lambda e: None)
            if receive:
                await sub.subscribe(doc_id, lambda e: None)
        envelopes = [
            Envelope(doc_ids[i % docs], "pub", f"user-{i % 10}", EnvelopeKind.UPDATE, p)
            for i, p in enumerate(payloads)
        ]
        redis_before = await _redis_cpu(pub)
        with cpu_clock() as clock:
            await _publish_all(pub, envelopes, docs, batch)
            target = len(envelopes)
            while pub.echoes < target or (receive and sub.decoded < target):
                await asyncio.sleep(0.002)
        redis_cpu = await _redis_cpu(pub) - redis_before
    n = len(envelopes)
    return {
        "envelopes": n,
        "messages": pub.messages,
        "wall_s": clock["wall"],
        "client_us": clock["cpu"] / n * 1e6,
        "redis_us": redis_cpu / n * 1e6,
        "dropped": pub.dropped,
    }


async def _publish_all(pub: RedisBroker, envelopes: list[Envelope], docs: int, batch: int) -> None:
    """Offer in loop turns of ``docs`` messages (one per document), as a busy instance would."""
    step = docs * batch
    for start in range(0, len(envelopes), step):
        chunk = envelopes[start : start + step]
        if batch == 1:
            for envelope in chunk:
                while not pub.offer(envelope):
                    await pub.drained()
        else:
            per_doc: dict[str, list[Envelope]] = {}
            for envelope in chunk:
                per_doc.setdefault(envelope.doc_id, []).append(envelope)
            for group in per_doc.values():
                while not pub.offer_many(group):
                    await pub.drained()
        await asyncio.sleep(0)
    await pub.drained()


# -- applying another instance's update ---------------------------------------------------------


def remote_apply_us(payloads: list[bytes], users: int = 10) -> float:
    """CPU per update to apply another instance's painting update to a room (undo tracking
    included, no local receivers): what every further instance holding a document pays."""
    from pycrdt import Doc

    from bench.load.updates import SEED_UPDATE
    from collab.observability.metrics import Metrics
    from collab.session.room import Room

    class _Sink:
        def append(self, doc_id: str, update: bytes) -> None:
            pass

    doc: Doc[Any] = Doc()
    doc.apply_update(SEED_UPDATE)
    room = Room("doc", doc, _Sink(), Metrics())
    with cpu_clock() as clock:
        for i, update in enumerate(payloads):
            room.apply_remote(update, f"user-{i % users}")
    room.close()
    return clock["cpu"] / len(payloads) * 1e6


# -- store -------------------------------------------------------------------------------------


async def store_phase(
    make: Callable[[], Any], payloads: list[bytes], docs: int, server: str | None
) -> dict[str, float]:
    store = make()
    async with store:
        doc_ids = [f"doc-{i}" for i in range(docs)]
        async with GroupCommitWriter(store) as writer:
            await writer.flush()
            server_before = proc_cpu(server) if server else 0.0
            with cpu_clock() as clock:
                for start in range(0, len(payloads), docs):
                    for i, update in enumerate(payloads[start : start + docs]):
                        writer.append(doc_ids[i], update)
                    await asyncio.sleep(0)
                await writer.flush()
            server_cpu = (proc_cpu(server) - server_before) if server else 0.0
    n = len(payloads)
    return {
        "rows": n,
        "wall_s": clock["wall"],
        "rows_per_s": n / clock["wall"],
        "client_us": clock["cpu"] / n * 1e6,
        "server_us": server_cpu / n * 1e6,
    }


async def _postgres_schema(url: str, name: str, create: bool) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url)
    try:
        verb = f'CREATE SCHEMA "{name}"' if create else f'DROP SCHEMA "{name}" CASCADE'
        await conn.execute(verb)
    finally:
        await conn.close()


# -- main --------------------------------------------------------------------------------------


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _row(label: str, values: dict[str, float], keys: list[str]) -> str:
    return f"| {label} | " + " | ".join(_fmt(values[k]) for k in keys) + " |"


def _fmt(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


async def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    p.add_argument("--envelopes", type=int, default=20_000)
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--docs", type=int, default=100)
    p.add_argument("--batch", type=int, default=4, help="envelopes per message when batched")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip", default="", help="comma-separated: broker, room, postgres, sqlite")
    args = p.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    print(f"# bench.scaling, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    updates = painting_updates(max(args.envelopes, args.rows))
    size = statistics.mean(len(u) for u in updates)
    print(f"painting updates: mean {size:.0f} bytes")

    if "broker" not in skip:
        payloads = updates[: args.envelopes]
        keys = ["envelopes", "messages", "wall_s", "client_us", "redis_us", "dropped"]
        print("\n| broker phase | " + " | ".join(keys) + " |")
        print("|---" * (len(keys) + 1) + "|")
        results: dict[tuple[int, bool], dict[str, float]] = {}
        for batch in (1, args.batch):
            for receive in (False, True):
                runs = [
                    await broker_phase(args.redis_url, payloads, args.docs, batch, receive)
                    for _ in range(args.repeat)
                ]
                results[batch, receive] = med = _median(runs)
                what = "publish+receive" if receive else "publish"
                print(_row(f"{what}, {batch}/message", med, keys))
        print()
        for batch in (1, args.batch):
            pub, both = results[batch, False], results[batch, True]
            recv = both["client_us"] - pub["client_us"]
            print(
                f"{batch}/message: instance CPU per envelope: publish {pub['client_us']:.1f} us "
                f"(own echo skipped included), receive {recv:.1f} us; Redis "
                f"{both['redis_us']:.2f} us per envelope with 2 subscribers per channel "
                f"(~{1e6 / max(both['redis_us'], 1e-9):,.0f} envelopes/s per Redis core, "
                "linear estimate)"
            )

    if "room" not in skip:
        runs_us = [remote_apply_us(updates[: args.envelopes]) for _ in range(args.repeat)]
        print(
            f"\nroom.apply_remote: {statistics.median(runs_us):.0f} us CPU per painting update "
            f"(median of {args.repeat}; 10 users, no local receivers)"
        )

    keys = ["rows", "wall_s", "rows_per_s", "client_us", "server_us"]
    store_rows = updates[: args.rows]
    if not {"postgres", "sqlite"} <= skip:
        print("\n| store | " + " | ".join(keys) + " |")
        print("|---" * (len(keys) + 1) + "|")
    if "postgres" not in skip:
        runs = []
        for _ in range(args.repeat):
            schema = f"scaling_{uuid.uuid4().hex[:10]}"
            await _postgres_schema(args.database_url, schema, create=True)
            try:
                runs.append(
                    await store_phase(
                        lambda s=schema: PostgresStore(args.database_url, schema=s),  # type: ignore[misc]
                        store_rows,
                        args.docs,
                        "postgres",
                    )
                )
            finally:
                await _postgres_schema(args.database_url, schema, create=False)
        print(_row("Postgres (group commit)", _median(runs), keys))
    if "sqlite" not in skip:
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="nexus-scaling-") as tmp:
                path = str(Path(tmp) / "store.db")
                runs.append(
                    await store_phase(lambda p=path: SQLiteStore(p), store_rows, args.docs, None)  # type: ignore[misc]
                )
        print(_row("SQLite (group commit, in-process)", _median(runs), keys))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(cast(Any, main)()))
