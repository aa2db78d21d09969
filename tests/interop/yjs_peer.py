# The API takes explicit `timeout=` arguments on purpose (test-friendly, matches the docs).
"""Drive a real, unmodified Yjs client (``yjs`` + ``y-websocket`` in Node) from asyncio.

Usage::

    async with YjsPeer("ws://127.0.0.1:8000/ws", "doc-1") as peer:
        await peer.call("add_layer", layer={"id": "l1", "name": "Layer 1", "strokes": []})
        doc = await peer.dump()

The Node side is ``yjs_peer.mjs`` next to this file; its command protocol is described in
``README.md``. The Node packages are installed with ``npm ci --prefix tests/interop``.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foundation.lifecycle import AsyncContext

INTEROP_DIR = Path(__file__).resolve().parent
PEER_SCRIPT = INTEROP_DIR / "yjs_peer.mjs"
NODE_MODULES = INTEROP_DIR / "node_modules"
REQUIRED_PACKAGES = ("yjs", "y-websocket", "ws")
INSTALL_HINT = "run `npm ci --prefix tests/interop` (needs node >= 18 and npm)"

Event = dict[str, Any]
EventPredicate = Callable[[Event], bool]


class YjsPeerError(RuntimeError):
    """The Node peer failed, answered with an error, or did not answer in time."""


def node_executable() -> str | None:
    """Path of the ``node`` binary (``$NODE`` overrides), or ``None`` if there is none."""
    return os.environ.get("NODE") or shutil.which("node")


def node_modules_ready() -> bool:
    """True when node is available and ``npm ci --prefix tests/interop`` has been run."""
    if node_executable() is None:
        return False
    return all((NODE_MODULES / name / "package.json").is_file() for name in REQUIRED_PACKAGES)


def node_modules_missing_reason() -> str:
    """A human-readable reason why :func:`node_modules_ready` is false (for skip messages)."""
    if node_executable() is None:
        return f"node is not installed (needed for Yjs interop tests); then {INSTALL_HINT}"
    missing = [n for n in REQUIRED_PACKAGES if not (NODE_MODULES / n / "package.json").is_file()]
    if missing:
        return f"Node packages {', '.join(missing)} missing in {NODE_MODULES}: {INSTALL_HINT}"
    return ""


def awareness_from_event(states: dict[str, Any]) -> dict[int, Any]:
    """Awareness states keyed by integer client id (JSON object keys arrive as strings)."""
    return {int(client_id): state for client_id, state in states.items()}


class YjsPeer(AsyncContext):
    """One Yjs client in its own Node process, connected to ``<ws_base_url>/<doc_id>``.

    Replies to commands are matched by id; everything else (``ready``, ``status``, ``synced``,
    ``awareness``, ``update``, ``connection-close``, ``closed``, ``connection-error``) is
    recorded in :attr:`events` in arrival order.
    """

    def __init__(
        self,
        ws_base_url: str,
        doc_id: str,
        *,
        params: dict[str, str] | None = None,
        start_timeout: float = 15.0,
        call_timeout: float = 10.0,
        wait_synced: bool = False,
        max_events: int = 100_000,
    ) -> None:
        self.ws_base_url = ws_base_url
        self.doc_id = doc_id
        self.params = params
        self.start_timeout = start_timeout
        self.call_timeout = call_timeout
        self._wait_synced_on_start = wait_synced
        self.events: collections.deque[Event] = collections.deque(maxlen=max_events)
        self._event_count = 0
        self.awareness_states: dict[int, Any] = {}
        self.client_id: int | None = None
        self.url: str | None = None
        self.returncode: int | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=200)
        self._stdout_task: asyncio.Task[None] | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._event_cond: asyncio.Condition | None = None
        self._closed = False

    # ---- lifecycle ---------------------------------------------------------------------------

    async def stop(self) -> None:
        """``close``, for ``async with`` (AsyncContext)."""
        await self.close()

    async def start(self) -> None:
        """Start the Node process and wait for its ``ready`` event."""
        if self._proc is not None:
            raise YjsPeerError("YjsPeer already started")
        if not node_modules_ready():
            raise YjsPeerError(node_modules_missing_reason())
        node = node_executable()
        assert node is not None
        args = [str(PEER_SCRIPT), self.ws_base_url, self.doc_id]
        if self.params:
            args += ["--params", json.dumps(self.params)]
        self._event_cond = asyncio.Condition()
        self._proc = await asyncio.create_subprocess_exec(
            node,
            *args,
            cwd=str(INTEROP_DIR),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        self._stdout_task = asyncio.create_task(self._read_stdout(), name="yjs-peer-stdout")
        self._stderr_task = asyncio.create_task(self._read_stderr(), name="yjs-peer-stderr")
        try:
            ready = await self.wait_event(
                lambda e: e.get("event") == "ready", timeout=self.start_timeout
            )
            self.client_id = int(ready["client_id"])
            self.url = str(ready.get("url"))
            if self._wait_synced_on_start:
                await self.wait_synced()
        except BaseException:
            await self.close()
            raise

    async def close(self, timeout: float = 5.0) -> None:
        """Ask the peer to quit (destroying the provider); kill it if it does not exit in time."""
        if self._closed:
            return
        self._closed = True
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.returncode is None and proc.stdin is not None and not proc.stdin.is_closing():
                with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                    proc.stdin.write(json.dumps({"id": -1, "op": "quit"}).encode() + b"\n")
                    await asyncio.wait_for(proc.stdin.drain(), timeout)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            self.returncode = proc.returncode
            if proc.stdin is not None:
                proc.stdin.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await proc.stdin.wait_closed()
            for task in (self._stdout_task, self._stderr_task):
                if task is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(task, timeout)
            self._fail_pending(YjsPeerError(self._describe("peer closed")))

    async def kill(self) -> None:
        """Kill the Node process abruptly (no provider cleanup), e.g. to simulate a crash."""
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            await self._proc.wait()
        await self.close()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None and not self._closed

    @property
    def stderr_tail(self) -> str:
        return "".join(self._stderr_tail)

    # ---- commands ----------------------------------------------------------------------------

    async def call(self, op: str, *, timeout: float | None = None, **kwargs: Any) -> dict[str, Any]:
        """Send ``{"id": N, "op": op, **kwargs}`` and return the ``{"ok": true, ...}`` reply."""
        if "id" in kwargs:
            raise TypeError(
                "'id' is the command id, assigned by YjsPeer.call; "
                "pass a layer id as layer=... (set_layer, remove_layer, add_stroke, ...)"
            )
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise YjsPeerError("YjsPeer not started")
        if self._closed or proc.returncode is not None:
            raise YjsPeerError(self._describe(f"cannot send {op!r}: peer is not running"))
        self._next_id += 1
        msg_id = self._next_id
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = fut
        limit = self.call_timeout if timeout is None else timeout
        try:
            proc.stdin.write(json.dumps({"id": msg_id, "op": op, **kwargs}).encode() + b"\n")
            await proc.stdin.drain()
            reply = await asyncio.wait_for(fut, limit)
        except TimeoutError:
            raise YjsPeerError(
                self._describe(f"no reply to {op!r} (id {msg_id}) within {limit:g}s")
            ) from None
        except (ConnectionError, OSError) as exc:
            raise YjsPeerError(self._describe(f"cannot send {op!r}: {exc}")) from exc
        finally:
            self._pending.pop(msg_id, None)
        if not reply.get("ok"):
            raise YjsPeerError(f"{op!r} failed in the Yjs peer: {reply.get('error')}")
        return reply

    async def dump(self) -> dict[str, Any]:
        """``{"meta": {...}, "layers": [...], "history": [...]}`` as JSON (``toJSON()``)."""
        reply = await self.call("dump")
        doc: dict[str, Any] = reply["doc"]
        return doc

    async def wait_synced(self, timeout: float | None = None) -> None:
        await self.call("wait_synced", timeout=timeout)

    async def state_vector(self) -> bytes:
        reply = await self.call("state_vector")
        return base64.b64decode(reply["state_vector"])

    async def encode_state(self) -> bytes:
        """``Y.encodeStateAsUpdate(doc)`` (a v1 update)."""
        reply = await self.call("encode_state")
        return base64.b64decode(reply["update"])

    async def apply_update(self, update: bytes) -> None:
        await self.call("apply_update", update=base64.b64encode(update).decode())

    async def set_awareness(self, state: dict[str, Any] | None) -> None:
        await self.call("set_awareness", state=state)

    async def connect(self) -> None:
        await self.call("connect")

    async def disconnect(self) -> None:
        await self.call("disconnect")

    # ---- events ------------------------------------------------------------------------------

    def mark(self) -> int:
        """Index of the next event; pass it as ``since`` to wait only for later events."""
        return self._event_count

    async def wait_event(
        self,
        predicate: EventPredicate,
        timeout: float = 10.0,
        *,
        since: int = 0,
    ) -> Event:
        """Return the first event (index >= ``since``) for which ``predicate`` is true.

        Events already received count, so there is no race between triggering something and
        starting to wait for it; use :meth:`mark` before the trigger to ignore older events.
        """
        cond = self._event_cond
        if cond is None:
            raise YjsPeerError("YjsPeer not started")
        checked = since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with cond:
            while True:
                first_kept = self._event_count - len(self.events)
                start = max(checked, first_kept)
                for i in range(start - first_kept, len(self.events)):
                    event = self.events[i]
                    if predicate(event):
                        return event
                checked = self._event_count
                if self._stdout_done():
                    raise YjsPeerError(self._describe("peer exited while waiting for an event"))
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise YjsPeerError(
                        self._describe(f"no matching event within {timeout:g}s")
                        + f"\nlast events: {list(self.events)[-10:]}"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(cond.wait(), remaining)

    async def wait_status(self, status: str, timeout: float = 10.0, *, since: int = 0) -> Event:
        return await self.wait_event(
            lambda e: e.get("event") == "status" and e.get("status") == status,
            timeout,
            since=since,
        )

    async def wait_awareness(
        self,
        predicate: Callable[[dict[int, Any]], bool],
        timeout: float = 10.0,
        *,
        since: int = 0,
    ) -> dict[int, Any]:
        """Wait for an ``awareness`` event whose states (keyed by int client id) match."""
        event = await self.wait_event(
            lambda e: (
                e.get("event") == "awareness"
                and predicate(awareness_from_event(e.get("states", {})))
            ),
            timeout,
            since=since,
        )
        return awareness_from_event(event["states"])

    async def wait_doc(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        timeout: float = 10.0,
        interval: float = 0.05,
    ) -> dict[str, Any]:
        """Poll :meth:`dump` until ``predicate(doc)`` holds; return that doc."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            doc = await self.dump()
            if predicate(doc):
                return doc
            if loop.time() >= deadline:
                raise YjsPeerError(self._describe(f"document did not match within {timeout:g}s"))
            await asyncio.sleep(interval)

    # ---- internals ---------------------------------------------------------------------------

    def _stdout_done(self) -> bool:
        return self._stdout_task is not None and self._stdout_task.done()

    def _describe(self, message: str) -> str:
        code = None if self._proc is None else self._proc.returncode
        tail = self.stderr_tail.strip() or "(empty)"
        return (
            f"YjsPeer({self.ws_base_url!r}, {self.doc_id!r}): {message} "
            f"[node exit code: {code}]\n--- node stderr (tail) ---\n{tail}"
        )

    def _fail_pending(self, exc: BaseException) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)
                # Mark retrieved so that an unawaited future does not log "never retrieved".
                fut.exception()
        self._pending.clear()

    async def _notify(self) -> None:
        assert self._event_cond is not None
        async with self._event_cond:
            self._event_cond.notify_all()

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        try:
            while True:
                line = await stdout.readline()
                if not line:
                    break
                try:
                    msg = json.loads(line)
                except json.JSONDecodeError:
                    self._stderr_tail.append(f"[non-JSON stdout] {line.decode(errors='replace')}")
                    continue
                if not isinstance(msg, dict):
                    continue
                if "event" in msg:
                    self._record_event(msg)
                    await self._notify()
                else:
                    fut = self._pending.get(msg.get("id", -1))
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
        finally:
            self._fail_pending(YjsPeerError(self._describe("peer stdout closed")))
            await self._notify()

    def _record_event(self, event: Event) -> None:
        self.events.append(event)
        self._event_count += 1
        if event.get("event") == "awareness":
            self.awareness_states = awareness_from_event(event.get("states", {}))

    async def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        stderr = self._proc.stderr
        while True:
            line = await stderr.readline()
            if not line:
                break
            self._stderr_tail.append(line.decode(errors="replace"))
