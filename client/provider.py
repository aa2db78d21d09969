"""The Python client: a local replica of one canvas, kept in sync over y-websocket.

Edits are made on ``client.doc`` / ``client.canvas`` at any time, connected or not. While
connected each local change is sent as an update; after a drop the client reconnects with
exponential backoff and jitter, and the sync handshake (its state vector in step 1, the
server's diff in step 2, and its own step 2 answering the server's step 1) exchanges exactly
what each side missed, offline edits included.

The server's first frame names this client's role on the document (the ``hello`` notice,
docs/protocol.md): ``client.role``. A viewer's replica is read-only: the writers of
``client.canvas`` raise ``ReadOnlyError`` before changing anything. A refusal that retrying
cannot fix (HTTP 401/403 on the upgrade, close code 4400 or 4413) stops the reconnect loop and
makes ``wait_synced()`` raise ``ConnectionRefused`` naming the status or code and the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import websockets
from pycrdt import Awareness, Doc, Subscription, TransactionEvent

from canvasdoc import close_codes, wire
from canvasdoc.canvas import Layer
from canvasdoc.errors import ProtocolError
from client.backoff import Backoff
from client.errors import ConnectionRefused, ReadOnlyError
from client.guarded_canvas import GuardedCanvas

log = logging.getLogger(__name__)

_REMOTE = "remote"
_AWARENESS_RENEW_S = 15.0
WRITABLE_ROLES = frozenset({"owner", "editor"})
_RETRYABLE_STATUS = frozenset({408, 429})  # 4xx answers that may succeed later


def _final_status(status: int) -> bool:
    """An upgrade refused with this HTTP status will be refused again: do not retry."""
    return 400 <= status < 500 and status not in _RETRYABLE_STATUS


def _final_close(code: int | None) -> bool:
    """A close code after which reconnecting cannot help (as y-websocket: 4400-4499), except
    4403: a changed or revoked role, which a new connection picks up (or is refused, 403)."""
    return code is not None and 4400 <= code < 4500 and code != close_codes.ACCESS_REVOKED


def _refusal_text(body: bytes) -> str:
    """The message of the server's JSON refusal (``{"error", "message"}``), else the body."""
    text = body.decode(errors="replace")
    try:
        message = json.loads(text).get("message")
    except (ValueError, AttributeError):
        message = None
    return (message if isinstance(message, str) else text)[:500]


@dataclass
class ClientStats:
    attempts: int = 0  # connection attempts, refused ones included
    connects: int = 0  # attempts that opened a WebSocket
    frames_received: int = 0
    bytes_received: int = 0
    frames_sent: int = 0
    bytes_sent: int = 0
    last_step2_bytes: int = 0  # size of the server's diff in the last handshake
    permission_denied: str | None = None


class CanvasClient:
    """A live, reconnecting replica of document ``doc_id`` on the server at ``server_url``.

    ``role``, ``user_id`` and ``user_name`` are what the server said in its ``hello`` on the
    last connection (None before the first one); the role is kept while offline."""

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
        self.canvas = GuardedCanvas(self.doc, self.check_writable)
        self.awareness = Awareness(self.doc)
        self.stats = ClientStats()
        self.last_close: tuple[int | None, str] | None = None
        self.role: str | None = None
        self.user_id: str | None = user
        self.user_name: str | None = name or user
        self.refused: ConnectionRefused | None = None  # why the client stopped reconnecting
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
        self._online.clear()  # the run loop waits for this before it reconnects
        ws = self._ws
        if ws is not None:
            # A normal close (1000): cancelling the task inside `connect()` would send 1011.
            with contextlib.suppress(TimeoutError, websockets.WebSocketException, OSError):
                async with asyncio.timeout(2):
                    await ws.close()
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

    @property
    def running(self) -> bool:
        """The connection loop runs: connected, connecting or waiting to reconnect (False
        before ``start``, after ``stop`` and after a refusal that stopped it)."""
        return self._task is not None and not self._task.done()

    @property
    def read_only(self) -> bool:
        """The server gave this client a role that cannot edit (a viewer)."""
        return self.role is not None and self.role not in WRITABLE_ROLES

    def check_writable(self, action: str = "edit the document") -> None:
        """Raise ``ReadOnlyError`` naming ``action`` if this replica is read-only (every
        writer of ``client.canvas`` calls it before writing)."""
        if self.read_only:
            assert self.role is not None
            raise ReadOnlyError(
                action=action,
                doc_id=self.doc_id,
                role=self.role,
                name=self.user_name or self.user_id or "this client",
                user=self.user_id or "",
            )

    async def wait_synced(self, timeout: float = 10.0) -> None:
        """Wait until the replica is in sync with the server.

        Raises ``ConnectionRefused`` at once when the server refused the client for good
        (it names the HTTP status or close code and the reason), ``ConnectionError`` when the
        client has stopped without syncing (``reconnect=False``), and ``TimeoutError`` naming
        the last failure when ``timeout`` passes first."""
        try:
            async with asyncio.timeout(timeout):
                while not self._synced.is_set():
                    if self.refused is not None:
                        raise self.refused
                    if not self.running:
                        raise ConnectionError(
                            f"not synced with {self.url} and not connecting "
                            f"(last close: {self._last_close_text()})"
                        )
                    event = self._changed
                    await event.wait()
        except TimeoutError:
            raise TimeoutError(
                f"not synced with {self.url} within {timeout:g} s "
                f"(attempts: {self.stats.attempts}, last close: {self._last_close_text()})"
            ) from None

    def _last_close_text(self) -> str:
        if self.last_close is None:
            return "none"
        code, reason = self.last_close
        return f"{code if code is not None else 'no code'} {reason!r}"

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
        """Connect again after ``go_offline``, or after a refusal once its cause is fixed."""
        self._online.set()
        if self._task is not None and self._task.done():
            self.refused = None
            self._task = asyncio.create_task(self._run(), name=f"client:{self.doc_id}")

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
            self.stats.attempts += 1
            refusal: ConnectionRefused | None = None
            try:
                async with websockets.connect(
                    self.url,
                    max_size=self._max_frame,
                    open_timeout=self._open_timeout,
                    additional_headers=self._headers,
                ) as ws:
                    await self._session(ws)
                code, reason = self.last_close or (None, "")
                if _final_close(code):
                    refusal = ConnectionRefused(self.url, close_code=code, reason=reason)
            except websockets.InvalidStatus as exc:
                status = exc.response.status_code
                reason = _refusal_text(bytes(exc.response.body or b""))
                self.last_close = (status, reason)
                log.warning("connection refused", extra={"doc_id": self.doc_id, "status": status})
                if _final_status(status):
                    refusal = ConnectionRefused(self.url, status=status, reason=reason)
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                log.info("connection lost", extra={"doc_id": self.doc_id, "error": str(exc)})
            finally:
                self._ws = None
                self._synced.clear()
                for future in self._commands.values():
                    if not future.done():
                        future.set_exception(ConnectionError("connection lost before the reply"))
            if refusal is not None:  # retrying cannot help; the caller must act
                log.warning(
                    "not reconnecting", extra={"doc_id": self.doc_id, "error": str(refusal)}
                )
                self.refused = refusal
                self._notify()
                return
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
        sender: asyncio.Task[None] | None = None
        renew: asyncio.Task[None] | None = None
        try:
            await self._send(ws, wire.encode_sync_step1(self.doc.get_state()))
            if self.awareness.get_local_state() is not None:
                await self._send(ws, self._own_awareness())
            sender = asyncio.create_task(self._drain_outbox(ws))
            renew = asyncio.create_task(self._renew_awareness())
            async for frame in ws:
                if isinstance(frame, bytes):
                    await self._handle(ws, frame)
        except websockets.ConnectionClosed:
            pass  # e.g. closed by the server before the handshake was sent: see close_rcvd
        finally:
            tasks = [task for task in (sender, renew) if task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
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
                if body.get("type") == wire.NOTICE_HELLO:
                    self._on_hello(body)
                    return
                future = self._commands.get(body.get("id"))  # type: ignore[arg-type]
                if future is not None and not future.done():
                    future.set_result(body)
            case wire.Auth(payload):
                self.stats.permission_denied = payload[2:].decode(errors="replace")
                self._notify()
            case wire.Unknown():
                pass

    def _on_hello(self, body: dict[str, Any]) -> None:
        role, user, name = body.get("role"), body.get("user"), body.get("name")
        if not all(isinstance(value, str) and value for value in (role, user, name)):
            log.warning("ignoring a malformed hello from the server", extra={"hello": body})
            return
        assert isinstance(role, str) and isinstance(user, str) and isinstance(name, str)
        if role != self.role:
            log.info("role on document", extra={"doc_id": self.doc_id, "role": role})
        self.role, self.user_id, self.user_name = role, user, name
        self._notify()

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
                if self.read_only:
                    # Written straight into client.doc, past the canvas writers' check: the
                    # server would refuse it, so it is not sent; the replica now differs.
                    log.warning(
                        "local change of a read-only replica not sent",
                        extra={"doc_id": self.doc_id, "role": self.role},
                    )
                else:
                    self._outbox.put_nowait(wire.encode_update(update))
        self._notify()

    def _on_awareness_change(self, topic: str, change: tuple[dict[str, Any], Any]) -> None:
        if topic == "update" and change[1] == "local" and self._ws is not None:
            self._outbox.put_nowait(self._own_awareness())
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- staged AI proposals -----------------------------------------------------------------

    def proposals(self) -> list[Layer]:
        """The layers awaiting review (``layer.proposal`` set): AI results submitted with
        ``stage: true``, left out of exports until accepted."""
        return [layer for layer in self.canvas.read_layers() if layer.is_proposal]

    def accept_proposal(self, layer_id: str) -> None:
        """Accept a staged proposal: it becomes an ordinary layer, drawn in exports. An edit of
        this replica like any other: the server records "accept proposal '<name>'" under this
        user, whose undo makes it a proposal again (an edit of the same user within the
        server's undo capture window joins the same step; ``POST .../accept`` cuts the step).
        Raises ``LayerNotFound``, ``NotAProposal`` (an ordinary layer, e.g. accepted already)
        or ``ReadOnlyError``, leaving the replica unchanged."""
        self.canvas.accept_proposal(layer_id)

    def discard_proposal(self, layer_id: str) -> None:
        """Discard a staged proposal: its layer is removed (this user's undo brings it back).
        Raises ``LayerNotFound``, ``NotAProposal`` (an ordinary layer is never removed this
        way) or ``ReadOnlyError``, leaving the replica unchanged."""
        self.canvas.discard_proposal(layer_id)
