"""The Python client: a local replica of one canvas, kept in sync over y-websocket.

Edits are made on ``client.doc`` / ``client.canvas`` at any time, connected or not. While
connected each local change is sent as an update; after a drop the client reconnects with
exponential backoff and jitter, and the sync handshake (its state vector in step 1, the
server's diff in step 2, and its own step 2 answering the server's step 1) exchanges exactly
what each side missed, offline edits included.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import websockets
from pycrdt import Awareness, Doc, Subscription, TransactionEvent

from canvasdoc import wire
from canvasdoc.canvas import Canvas
from canvasdoc.errors import ProtocolError
from client.backoff import Backoff

log = logging.getLogger(__name__)

_REMOTE = "remote"
_AWARENESS_RENEW_S = 15.0


@dataclass
class ClientStats:
    connects: int = 0
    frames_received: int = 0
    bytes_received: int = 0
    frames_sent: int = 0
    bytes_sent: int = 0
    last_step2_bytes: int = 0  # size of the server's diff in the last handshake
    permission_denied: str | None = None


class CanvasClient:
    """A live, reconnecting replica of document ``doc_id`` on the server at ``server_url``."""

    def __init__(
        self,
        server_url: str,
        doc_id: str,
        *,
        user: str | None = None,
        name: str | None = None,
        doc: Doc[Any] | None = None,
        reconnect: bool = True,
        backoff: Backoff | None = None,
        max_frame_bytes: int = 16 * 1024 * 1024,
        open_timeout: float = 10.0,
        token: str | None = None,
    ) -> None:
        base = server_url.rstrip("/")
        if base.startswith("http"):
            base = "ws" + base[len("http") :]
        params = {k: v for k, v in {"user": user, "name": name}.items() if v}
        self.url = f"{base}/ws/{quote(doc_id, safe='')}" + (
            f"?{urlencode(params)}" if params else ""
        )
        self.doc_id = doc_id
        self.doc: Doc[Any] = doc if doc is not None else Doc()
        self.canvas = Canvas(self.doc)
        self.awareness = Awareness(self.doc)
        self.stats = ClientStats()
        self.last_close: tuple[int | None, str] | None = None
        self._reconnect = reconnect
        self._backoff = backoff or Backoff()
        self._max_frame = max_frame_bytes
        self._open_timeout = open_timeout
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._online = asyncio.Event()
        self._synced = asyncio.Event()
        self._changed = asyncio.Event()
        self._ws: websockets.ClientConnection | None = None
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._applying_remote = False
        self._task: asyncio.Task[None] | None = None
        self._doc_sub: Subscription | None = None
        self._awareness_sub: str | None = None
        self._commands: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._command_ids = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting (and reconnecting) in the background."""
        if self._task is not None:
            raise RuntimeError("client already started")
        self._doc_sub = self.doc.observe(self._on_doc_change)
        self._awareness_sub = self.awareness.observe(self._on_awareness_change)
        self._online.set()
        self._task = asyncio.create_task(self._run(), name=f"client:{self.doc_id}")

    async def stop(self) -> None:
        """Send what is queued, disconnect and stop reconnecting."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                while self._ws is not None and not self._outbox.empty():
                    await asyncio.sleep(0.01)
        self._online.clear()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._doc_sub is not None:
            self.doc.unobserve(self._doc_sub)
            self._doc_sub = None
        if self._awareness_sub is not None:
            self.awareness.unobserve(self._awareness_sub)
            self._awareness_sub = None

    async def __aenter__(self) -> CanvasClient:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- state --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ws is not None

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self._synced.wait()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds, re-checking after every document, awareness or
        connection change."""
        async with asyncio.timeout(timeout):
            while not predicate():
                event = self._changed
                await event.wait()

    async def go_offline(self) -> None:
        """Disconnect and stay offline (edits keep working locally) until ``go_online``."""
        self._online.clear()
        ws = self._ws
        if ws is not None:
            await ws.close()
        await self.wait_for(lambda: not self.connected)

    def go_online(self) -> None:
        self._online.set()

    def set_presence(self, state: dict[str, Any] | None) -> None:
        """Set this client's awareness state (cursor, name, colour, ...)."""
        self.awareness.set_local_state(state)

    async def undo(self, timeout: float = 10.0) -> dict[str, Any]:
        """Undo this user's last change on the server (any of the user's connections);
        answers ``{"done", "can_undo", "can_redo"}``. Everyone receives the result."""
        return await self._command("undo", timeout)

    async def redo(self, timeout: float = 10.0) -> dict[str, Any]:
        return await self._command("redo", timeout)

    async def undo_state(self, timeout: float = 10.0) -> dict[str, Any]:
        return await self._command("state", timeout)

    async def _command(self, op: str, timeout: float) -> dict[str, Any]:
        if self._ws is None:
            raise ConnectionError(f"cannot {op}: not connected to {self.url}")
        ref = next(self._command_ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._commands[ref] = future
        try:
            self._outbox.put_nowait(wire.encode_command({"op": op, "id": ref}))
            async with asyncio.timeout(timeout):
                reply = await future
        finally:
            self._commands.pop(ref, None)
        if not reply.get("ok"):
            raise RuntimeError(f"{op} failed: {reply.get('error')}")
        return reply

    @property
    def peers(self) -> dict[int, dict[str, Any]]:
        """Awareness states of the other clients."""
        return {k: v for k, v in self.awareness.states.items() if k != self.awareness.client_id}

    # -- connection loop ---------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._online.wait()
            try:
                async with websockets.connect(
                    self.url,
                    max_size=self._max_frame,
                    open_timeout=self._open_timeout,
                    additional_headers=self._headers,
                ) as ws:
                    await self._session(ws)
            except websockets.InvalidStatus as exc:
                status = exc.response.status_code
                self.last_close = (status, exc.response.body.decode(errors="replace")[:200])
                log.warning("connection refused", extra={"doc_id": self.doc_id, "status": status})
                if status in (401, 403):  # retrying cannot help; the caller must act
                    self._online.clear()
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                log.info("connection lost", extra={"doc_id": self.doc_id, "error": str(exc)})
            finally:
                self._ws = None
                self._synced.clear()
                for future in self._commands.values():
                    if not future.done():
                        future.set_exception(ConnectionError("connection lost before the reply"))
                self._notify()
            if not self._reconnect:
                return
            if self._online.is_set():
                await asyncio.sleep(self._backoff.next_delay())

    async def _session(self, ws: websockets.ClientConnection) -> None:
        self._ws = ws
        self.stats.connects += 1
        while not self._outbox.empty():  # the handshake below carries everything queued
            self._outbox.get_nowait()
        self._notify()
        await self._send(ws, wire.encode_sync_step1(self.doc.get_state()))
        if self.awareness.get_local_state() is not None:
            await self._send(ws, self._own_awareness())
        sender = asyncio.create_task(self._drain_outbox(ws))
        renew = asyncio.create_task(self._renew_awareness())
        try:
            async for frame in ws:
                if isinstance(frame, bytes):
                    await self._handle(ws, frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            sender.cancel()
            renew.cancel()
            await asyncio.gather(sender, renew, return_exceptions=True)
            rcvd = ws.protocol.close_rcvd
            self.last_close = (rcvd.code, rcvd.reason) if rcvd else (None, "")

    async def _handle(self, ws: websockets.ClientConnection, frame: bytes) -> None:
        self.stats.frames_received += 1
        self.stats.bytes_received += len(frame)
        try:
            message = wire.decode(frame)
        except ProtocolError as exc:
            log.warning("ignoring malformed frame from server", extra={"error": str(exc)})
            return
        match message:
            case wire.SyncStep1(state_vector):
                await self._send(ws, wire.encode_sync_step2(self.doc.get_update(state_vector)))
            case wire.SyncStep2(update):
                self.stats.last_step2_bytes = len(frame)
                self._apply_remote(update)
                self._backoff.reset()
                self._synced.set()
                self._notify()
            case wire.SyncUpdate(update):
                self._apply_remote(update)
            case wire.AwarenessUpdate(payload):
                self.awareness.apply_awareness_update(payload, _REMOTE)
            case wire.QueryAwareness():
                await self._send(ws, self._own_awareness())
            case wire.Command(body):
                future = self._commands.get(body.get("id"))  # type: ignore[arg-type]
                if future is not None and not future.done():
                    future.set_result(body)
            case wire.Auth(payload):
                self.stats.permission_denied = payload[2:].decode(errors="replace")
                self._notify()
            case wire.Unknown():
                pass

    def _apply_remote(self, update: bytes) -> None:
        if update == wire.EMPTY_UPDATE:
            return
        self._applying_remote = True
        try:
            self.doc.apply_update(update)
        finally:
            self._applying_remote = False

    async def _send(self, ws: websockets.ClientConnection, frame: bytes) -> None:
        self.stats.frames_sent += 1
        self.stats.bytes_sent += len(frame)
        await ws.send(frame)

    async def _drain_outbox(self, ws: websockets.ClientConnection) -> None:
        while True:
            frame = await self._outbox.get()
            await self._send(ws, frame)

    async def _renew_awareness(self) -> None:
        # Yjs peers drop a presence not renewed within 30 s.
        while True:
            await asyncio.sleep(_AWARENESS_RENEW_S)
            state = self.awareness.get_local_state()
            if state is not None:
                self.awareness.set_local_state(state)

    def _own_awareness(self) -> bytes:
        update = self.awareness.encode_awareness_update([self.awareness.client_id])
        return wire.encode_awareness(update)

    # -- observers ------------------------------------------------------------------------

    def _on_doc_change(self, event: TransactionEvent) -> None:
        if not self._applying_remote and self._ws is not None:
            update = event.update
            if update != wire.EMPTY_UPDATE:
                self._outbox.put_nowait(wire.encode_update(update))
        self._notify()

    def _on_awareness_change(self, topic: str, change: tuple[dict[str, Any], Any]) -> None:
        if topic == "update" and change[1] == "local" and self._ws is not None:
            self._outbox.put_nowait(self._own_awareness())
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
