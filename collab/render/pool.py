"""Where renders run: worker processes by default, threads if configured.

Skia holds the GIL for the whole of each draw call (measured: a 2048x2048 float blend holds
it for ~35 ms), so a render in a thread of the server process stalls the event loop, and
with it every live editor's fan-out, for that long at a time. Worker processes
(:mod:`collab.render.worker`) keep the event loop free: a job ships the scene, the worker
asks for the bytes of the images it has not decoded yet (``fetch``, run on the event loop),
and the encoded result comes back. Workers start when renders first need them and run at a
lower CPU priority than the server. ``mode="thread"`` renders in threads of the server
process instead (for measuring that difference, and for hosts that cannot start processes).

The pool is a component (``start``/``stop``, async context manager). A server that does not
own one uses :func:`shared_pool`, one per process and configuration, stopped at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import pickle
import queue as queue_module
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from collab.render import tasks
from collab.render.worker import read_message, write_abort, write_blobs, write_message
from foundation.lifecycle import AsyncContext

log = logging.getLogger(__name__)

MODES = ("process", "thread")
Fetch = Callable[[list[str]], dict[str, bytes]]  # blocking: blob bytes by hash
STOP_TIMEOUT = 10.0


class RenderBusy(RuntimeError):
    """More renders are waiting than the pool accepts; retry later."""


class RenderFailed(RuntimeError):
    """The render raised, or its worker died (a dead worker is replaced)."""


class _Process:
    """One worker process and the pipes to it; used by one thread at a time."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collab.render.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def call(self, job: tasks.RenderJob, fetch: Fetch) -> tasks.RenderResult:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            write_message(self.proc.stdin, pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
            reply = self._reply()
            if reply[0] == "need":
                try:
                    found = fetch(reply[1])
                except BaseException:
                    # The worker waits for the blobs: tell it to drop the job, so that it
                    # does not read the next job as this one's blobs.
                    write_abort(self.proc.stdin)
                    self._reply()
                    raise
                write_blobs(self.proc.stdin, [(h, found[h]) for h in reply[1] if h in found])
                reply = self._reply()
        except (OSError, EOFError) as exc:
            raise _WorkerDied(f"render worker {self.proc.pid} died: {exc}") from exc
        if reply[0] == "ok":
            result: tasks.RenderResult = reply[1]
            return result
        raise RenderFailed(f"render failed: {reply[1]}: {reply[2]}")

    def _reply(self) -> tuple[Any, ...]:
        assert self.proc.stdout is not None
        message = read_message(self.proc.stdout)
        if message is None:
            code = self.proc.wait()
            raise EOFError(f"exited with status {code}")
        reply: tuple[Any, ...] = pickle.loads(message)
        return reply

    def close(self) -> None:
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()  # the worker exits at the end of its input
            except OSError:
                pass
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class _WorkerDied(RenderFailed):
    pass


class RenderPool(AsyncContext):
    """Runs :func:`collab.render.tasks.run` on ``workers`` processes (or threads).

    At most ``workers`` renders run at once; up to ``queue`` more wait, beyond that
    :meth:`run` raises :class:`RenderBusy` at once rather than letting work pile up.
    """

    def __init__(self, workers: int = 2, *, mode: str = "process", queue: int = 16) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.workers = workers
        self.mode = mode
        self.queue = queue
        self._threads: concurrent.futures.ThreadPoolExecutor | None = None
        self._idle: queue_module.Queue[_Process | None] = queue_module.Queue()
        self._processes: list[_Process] = []
        self._slots = threading.BoundedSemaphore(workers)
        self._pending = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RenderPool(workers={self.workers}, mode={self.mode!r})"

    @property
    def started(self) -> bool:
        return self._threads is not None

    def start_now(self) -> None:
        """Start synchronously. Worker processes are started when renders first need them,
        so a server that never renders never pays for them."""
        with self._lock:
            if self._threads is not None:
                raise RuntimeError(f"{self!r} is already started")
            self._threads = concurrent.futures.ThreadPoolExecutor(
                self.workers + self.queue, thread_name_prefix="render"
            )

    async def start(self) -> None:
        self.start_now()

    def stop_now(self) -> None:
        """Wait for running renders, then end the workers. Idempotent."""
        with self._lock:
            threads, self._threads = self._threads, None
        if threads is None:
            return
        threads.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            processes, self._processes = self._processes, []
            self._idle = queue_module.Queue()
        for process in processes:
            process.close()

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_now)

    async def run(
        self,
        job: tasks.RenderJob,
        fetch: Callable[[list[str]], Coroutine[Any, Any, dict[str, bytes]]],
    ) -> tasks.RenderResult:
        """Render ``job`` off the event loop. ``fetch(hashes)`` loads the bytes of the images
        the chosen worker has not decoded yet (it runs on this event loop); a hash it leaves
        out renders as a missing image."""
        threads = self._threads
        if threads is None:
            raise RuntimeError(f"{self!r} is not started")
        with self._lock:
            if self._pending >= self.workers + self.queue:
                raise RenderBusy(
                    f"{self._pending} renders are running or waiting "
                    f"(limit {self.workers + self.queue}); retry shortly"
                )
            self._pending += 1
        try:
            loop = asyncio.get_running_loop()

            def fetch_blocking(hashes: list[str]) -> dict[str, bytes]:
                return asyncio.run_coroutine_threadsafe(fetch(hashes), loop).result()

            return await loop.run_in_executor(threads, self._run_blocking, job, fetch_blocking)
        finally:
            with self._lock:
                self._pending -= 1

    def _run_blocking(self, job: tasks.RenderJob, fetch: Fetch) -> tasks.RenderResult:
        if self.mode == "thread":
            with self._slots:
                images = tasks.cached_images(job)
                need = tasks.missing(job, images)
                blobs = fetch(need) if need else {}
                try:
                    return tasks.run(job, images, blobs)
                except Exception as exc:
                    raise RenderFailed(f"render failed: {type(exc).__name__}: {exc}") from exc
        with self._lock:
            if self._idle.empty() and len(self._processes) < self.workers:
                fresh = _Process()
                self._processes.append(fresh)
                self._idle.put(fresh)
        process = self._idle.get()
        if process is None:
            raise RuntimeError(f"{self!r} stopped")
        try:
            result = process.call(job, fetch)
        except _WorkerDied:
            log.error("a render worker died; starting another", extra={"pid": process.proc.pid})
            process.close()
            process = self._replace(process)
            raise
        finally:
            self._idle.put(process)
        return result

    def _replace(self, dead: _Process) -> _Process:
        fresh = _Process()
        with self._lock:
            self._processes = [p for p in self._processes if p is not dead] + [fresh]
        return fresh


_SHARED: dict[tuple[str, int], RenderPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(workers: int, mode: str = "process") -> RenderPool:
    """The process-wide pool for this configuration, started on first use, stopped at exit."""
    with _SHARED_LOCK:
        pool = _SHARED.get((mode, workers))
        if pool is None:
            pool = RenderPool(workers, mode=mode)
            pool.start_now()
            _SHARED[(mode, workers)] = pool
        return pool


@atexit.register
def _stop_shared() -> None:
    with _SHARED_LOCK:
        pools = list(_SHARED.values())
        _SHARED.clear()
    for pool in pools:
        pool.stop_now()
