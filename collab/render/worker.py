"""A render worker process: ``python -m collab.render.worker``.

Reads render jobs from stdin and writes results to stdout, each message an 8-byte big-endian
length followed by a pickle. In: a :class:`~collab.render.tasks.RenderJob`. If the worker has
not decoded every image the job names, it answers ``("need", [hash, ...])`` and reads the
bytes of those blobs: a message listing ``(hash, size)`` pairs, then the raw bytes, in order
(written straight from the server's buffers: a pickle would copy megabytes while holding
the server's GIL). Out: ``("ok", RenderResult)`` or ``("error", type name, message)``.
Exits when stdin closes. Only the server that started the worker writes to it, so
unpickling is as trusted as the server.

A plain module started by its name, rather than a ``multiprocessing`` child: those re-import
the parent's ``__main__``, which in a script that starts a server starts another server.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import IO

from collab.render import tasks

HEADER = 8
# Renders are background work: on a busy machine the scheduler should prefer the server's
# event loop (live fan-out) over a worker. 10 is nice(1)'s default increment.
NICENESS = 10


def read_message(stream: IO[bytes]) -> bytes | None:
    """One length-prefixed message, or None at a clean end of stream."""
    header = _read_exactly(stream, HEADER)
    if header is None:
        return None
    body = _read_exactly(stream, int.from_bytes(header, "big"))
    if body is None:
        raise EOFError("stream ended inside a message")
    return body


def write_message(stream: IO[bytes], payload: bytes) -> None:
    stream.write(len(payload).to_bytes(HEADER, "big"))
    stream.write(payload)
    stream.flush()


def write_blobs(stream: IO[bytes], blobs: list[tuple[str, bytes]]) -> None:
    sizes = [(digest, len(data)) for digest, data in blobs]
    payload = pickle.dumps(sizes, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(payload).to_bytes(HEADER, "big"))
    stream.write(payload)
    for _, data in blobs:
        stream.write(data)
    stream.flush()


def write_abort(stream: IO[bytes]) -> None:
    """Sent instead of the blobs when the server could not load them: the worker drops the
    job and answers ``("aborted",)``, so both ends stay in step for the next job."""
    write_message(stream, pickle.dumps(None))


def read_blobs(stream: IO[bytes]) -> dict[str, bytes] | None:
    """The blobs the worker asked for, or None when the server aborted the job instead."""
    message = read_message(stream)
    if message is None:
        raise EOFError("stream ended before the blobs")
    sizes = pickle.loads(message)
    if sizes is None:
        return None
    blobs = {}
    for digest, size in sizes:
        data = _read_exactly(stream, size) if size else b""
        if data is None:
            raise EOFError(f"stream ended before blob {digest}")
        blobs[digest] = data
    return blobs


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            if remaining == size:
                return None
            raise EOFError(f"stream ended {remaining} bytes short of a {size}-byte read")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def main() -> None:
    requests = sys.stdin.buffer
    # The protocol owns file descriptor 1; anything a library prints goes to stderr instead.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    tasks.warm_up()
    while (message := read_message(requests)) is not None:
        job: tasks.RenderJob = pickle.loads(message)
        images = tasks.cached_images(job)
        blobs: dict[str, bytes] = {}
        need = tasks.missing(job, images)
        if need:
            write_message(replies, pickle.dumps(("need", need)))
            fetched = read_blobs(requests)
            if fetched is None:
                write_message(replies, pickle.dumps(("aborted",)))
                continue
            blobs = fetched
        try:
            reply: tuple[object, ...] = ("ok", tasks.run(job, images, blobs))
        except Exception as exc:  # reported to the server, which answers the request
            reply = ("error", type(exc).__name__, str(exc))
        write_message(replies, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main()
