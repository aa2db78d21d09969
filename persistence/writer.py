"""Group commit of document updates: many ``append`` calls, few store transactions.

Rooms call :meth:`GroupCommitWriter.append` for every applied update (synchronous, never
blocks). A background task commits the queue in batches: it takes the oldest pending update,
waits until that update is ``window`` seconds old (or ``max_batch`` updates are queued, or
someone calls :meth:`~GroupCommitWriter.flush`), then writes the batch with one
``store.append_updates`` call. A failing store is retried with capped exponential backoff;
the batch stays at the head of the queue, so nothing is lost and order is kept. A retried
batch may have been committed by an attempt that reported failure; the duplicate updates are
harmless because applying a CRDT update twice has no effect.

While the store is down the queue is bounded: past ``max_pending`` queued updates, the ones
not in flight are merged per document (``pycrdt.merge_updates``: lossless), so the buffer is
bounded by the number and size of the documents being edited, not by the edit rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable

from pycrdt import merge_updates

from foundation.lifecycle import AsyncContext
from persistence.documents import DocumentLog
from persistence.errors import AlreadyStarted, StoreError, StoreNotStarted

logger = logging.getLogger(__name__)
_RETRY_LOG_SECONDS = 60.0  # a retry is logged at least this often during a long outage

OnCommit = Callable[[str, int], None]


class GroupCommitWriter(AsyncContext):
    """Batches ``(doc_id, update)`` appends into ``store.append_updates`` calls.

    Every update is committed about ``window`` seconds after its append at the latest (plus
    the commit itself), or at once when :meth:`flush` asks for it. ``on_commit(doc_id,
    last_seq)`` is called after each commit for every document in the batch.
    """

    def __init__(
        self,
        store: DocumentLog,
        *,
        window: float = 0.1,
        max_batch: int = 1000,
        on_commit: OnCommit | None = None,
        retry_backoff: float = 0.05,
        retry_backoff_max: float = 5.0,
        max_pending: int = 100_000,
    ) -> None:
        if window < 0:
            raise ValueError(f"window must be >= 0 seconds, got {window}")
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.store = store
        self.window = window
        self.max_batch = max_batch
        self.on_commit = on_commit
        self.retry_backoff = retry_backoff
        self.retry_backoff_max = retry_backoff_max
        self.max_pending = max_pending
        self.failing = False  # the last commit attempt failed (store unavailable)
        self.last_error: str | None = None
        self.compactions = 0
        self._compact_at = max_pending
        self._inflight = 0  # head items of the queue being committed right now
        # Each append gets a ticket number; updates commit in ticket order, so "everything up
        # to ticket N is durable" is a single integer. A merged entry carries the weight (ticket
        # count) of the updates it replaced, so the arithmetic survives compaction.
        self._queue: deque[tuple[str, bytes, float, int]] = deque()  # doc, update, at, weight
        self._appended = 0
        self._committed = 0
        self._urgent = 0  # commit without waiting for the window while _committed < this
        self._last_ticket: dict[str, int] = {}  # docs with uncommitted updates only
        self._last_seq: dict[str, int] = {}
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def __repr__(self) -> str:
        return f"GroupCommitWriter({self.store!r})"

    @property
    def pending(self) -> int:
        """Updates appended but not committed yet."""
        return len(self._queue)

    def last_seq(self, doc_id: str) -> int:
        """Last seq committed through this writer for ``doc_id`` (0 if none)."""
        return self._last_seq.get(doc_id, 0)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the background commit task. Raises AlreadyStarted if running."""
        if self._task is not None:
            raise AlreadyStarted(repr(self))
        self._stopping = False
        self._wakeup = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="group-commit-writer")
        self._task.add_done_callback(self._task_done)

    async def stop(self) -> None:
        """Commit everything pending, then end the task. Idempotent.

        Against a store that keeps failing this waits forever; bound it with
        ``asyncio.timeout``: on cancellation the uncommitted updates are dropped and logged.
        """
        task = self._task
        if task is None:
            return
        self._stopping = True
        self._wakeup.set()
        try:
            await asyncio.shield(task)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._task = None
            if self._queue:
                logger.error(
                    "group commit writer stopped with %d uncommitted updates for docs %s",
                    len(self._queue),
                    sorted({d for d, _, _, _ in self._queue}),
                    extra={"count": len(self._queue)},
                )
                self._queue.clear()
                self._last_ticket.clear()
                self._committed = self._appended
            self._fail_waiters(StoreError(f"{self!r} stopped before committing"))

    # -- appending and waiting -----------------------------------------------------------------

    def append(self, doc_id: str, update: bytes) -> None:
        """Queue one update for ``doc_id``; returns at once."""
        if self._task is None or self._task.done() or self._stopping:
            raise StoreNotStarted(repr(self))
        self._appended += 1
        self._last_ticket[doc_id] = self._appended
        self._queue.append((doc_id, update, asyncio.get_running_loop().time(), 1))
        if len(self._queue) == 1 or len(self._queue) >= self.max_batch:
            self._wakeup.set()
        if len(self._queue) - self._inflight > self._compact_at:
            self._compact()

    def _compact(self) -> None:
        head = list(itertools.islice(self._queue, self._inflight))
        groups: dict[str, tuple[list[bytes], float, int]] = {}
        for doc_id, update, at, weight in itertools.islice(self._queue, self._inflight, None):
            updates, first_at, total = groups.pop(doc_id, ([], at, 0))
            updates.append(update)
            groups[doc_id] = (updates, first_at, total + weight)  # re-inserted: last-use order
        before = len(self._queue)
        tail = [
            (doc_id, merge_updates(*updates) if len(updates) > 1 else updates[0], at, weight)
            for doc_id, (updates, at, weight) in groups.items()
        ]
        self._queue = deque([*head, *tail])
        # Many documents can keep the merged tail large; don't re-merge on every append.
        self._compact_at = max(self.max_pending, 2 * len(tail))
        self.compactions += 1
        logger.warning(
            "update buffer over %d entries (store %s): merged %d pending updates into %d",
            self.max_pending,
            "failing" if self.failing else "slow",
            before - len(head),
            len(tail),
            extra={"pending": len(self._queue), "docs": len(groups)},
        )

    async def flush(
        self,
        doc_id: str | None = None,
        *,
        timeout: float | None = None,
    ) -> None:
        """Wait until every update appended before this call (for ``doc_id``, or all) is
        committed, committing at once instead of waiting for the window.

        Raises TimeoutError after ``timeout`` seconds; the updates stay queued.
        """
        target = self._appended if doc_id is None else self._last_ticket.get(doc_id, 0)
        if target <= self._committed:
            return
        if self._task is None or self._task.done():
            raise StoreNotStarted(repr(self))
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, fut))
        self._urgent = max(self._urgent, target)
        self._wakeup.set()
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            what = "all documents" if doc_id is None else f"document {doc_id!r}"
            raise TimeoutError(
                f"flush of {what} not committed within {timeout}s ({self.pending} pending)"
            ) from None
        finally:
            self._waiters = [(t, f) for t, f in self._waiters if f is not fut]

    # -- the commit task -----------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._stopping:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            deadline = self._queue[0][2] + self.window
            while not self._must_commit_now():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._wakeup.wait()
            count = min(len(self._queue), self.max_batch)
            self._inflight = count
            batch = [(d, u) for d, u, _, _ in itertools.islice(self._queue, count)]
            try:
                result = await self._commit(batch)
            finally:
                self._inflight = 0
            for _ in range(count):
                self._committed += self._queue.popleft()[3]
            self._after_commit(result)

    def _must_commit_now(self) -> bool:
        return (
            self._stopping or self._committed < self._urgent or len(self._queue) >= self.max_batch
        )

    async def _commit(self, batch: list[tuple[str, bytes]]) -> dict[str, int]:
        started = logged = time.monotonic()
        for attempt in itertools.count(1):
            try:
                result = await self.store.append_updates(batch)
            except Exception as exc:
                self.failing = True
                self.last_error = f"{type(exc).__name__}: {exc}"
                delay = min(self.retry_backoff * 2 ** (attempt - 1), self.retry_backoff_max)
                doc_ids = sorted({d for d, _ in batch})
                # The first failure is an error with its stack; retries of the same outage
                # are warnings, and only at attempts 2, 4, 8, ... or a minute after the last
                # line (one line per retry filled the log during a 20 s cut)
                now = time.monotonic()
                if attempt & (attempt - 1) and now - logged < _RETRY_LOG_SECONDS:
                    await asyncio.sleep(delay)
                    continue
                logged = now
                logger.log(
                    logging.ERROR if attempt == 1 else logging.WARNING,
                    "group commit of %d updates for docs %s failed (attempt %d: %r); "
                    "retrying in %.2fs",
                    len(batch),
                    doc_ids,
                    attempt,
                    exc,
                    delay,
                    exc_info=attempt == 1,
                    extra={"doc_ids": doc_ids, "count": len(batch), "attempt": attempt},
                )
                await asyncio.sleep(delay)
            else:
                if attempt > 1:
                    logger.warning(
                        "group commit recovered after %d attempts (%.1f s)",
                        attempt,
                        time.monotonic() - started,
                        extra={"attempts": attempt, "seconds": time.monotonic() - started},
                    )
                self.failing = False
                self.last_error = None
                return result
        raise AssertionError("unreachable")

    def _after_commit(self, result: dict[str, int]) -> None:
        for doc_id, seq in result.items():
            self._last_seq[doc_id] = max(seq, self._last_seq.get(doc_id, 0))
            if self._last_ticket.get(doc_id, 0) <= self._committed:
                self._last_ticket.pop(doc_id, None)
        still_waiting = []
        for target, fut in self._waiters:
            if target > self._committed:
                still_waiting.append((target, fut))
            elif not fut.done():
                fut.set_result(None)
        self._waiters = still_waiting
        if self.on_commit is not None:
            for doc_id, seq in result.items():
                try:
                    self.on_commit(doc_id, seq)
                except Exception:
                    logger.exception("on_commit callback failed for document %r", doc_id)

    def _fail_waiters(self, exc: BaseException) -> None:
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(exc)
        self._waiters = []

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("group commit task died", exc_info=task.exception())
            self._fail_waiters(StoreError(f"{self!r} task died: {task.exception()!r}"))
