"""Where a job's pipeline runs: a thread of the worker process, or a child process.

A standalone worker (``nexus-canvas worker``) has its own process, so it runs pipelines in
a thread (:class:`ThreadExecutor`). The embedded server must never run inference on its
event loop's process, so its worker loop hands each job to one child process
(:class:`ProcessExecutor`, ``python -m inference.jobs.child``) that loads the models once and
keeps them; if the child dies, the job is released for another attempt and the next job
starts a fresh child. A job stopped from outside while it runs (its time limit, the worker
stopping) kills the child too: it may still be running the job, and its late replies would
be read as the next job's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import sys
from collections.abc import Mapping
from typing import Any, Protocol

from inference.context import InferenceContext
from inference.exceptions import Cancelled, InvalidInput
from inference.jobs import runner
from inference.jobs.model import Job
from inference.jobs.runner import Control, Output

log = logging.getLogger(__name__)

HEADER = 8  # bytes of the big-endian length before each pickled message
READY_TIMEOUT = 300.0  # seconds a fresh child may take to import its libraries
STOP_TIMEOUT = 5.0


class ExecutorDied(Exception):
    """The process running the job died; the job may be tried again elsewhere."""


class JobFailed(Exception):
    """The job raised in the child process (the message names the error)."""


class Executor(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def execute(self, job: Job, inputs: Mapping[str, bytes], control: Control) -> Output:
        """Run ``job``; raises Cancelled when ``control`` is cancelled, ExecutorDied when
        the process running it dies, and the job's own error otherwise."""
        ...


class ThreadExecutor:
    """Runs jobs in a thread of this process with an ``InferenceContext`` owned by the
    caller."""

    def __init__(self, ctx: InferenceContext) -> None:
        self.ctx = ctx

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def execute(self, job: Job, inputs: Mapping[str, bytes], control: Control) -> Output:
        control.began()
        return await asyncio.to_thread(runner.execute, self.ctx, job, inputs, control)


class ProcessExecutor:
    """Runs jobs, one at a time, in a child process started by the first job and kept for
    the next ones (its models stay loaded). ``env`` replaces the child's environment (default:
    this process's), which is where the child reads its ``AIConfig`` from."""

    def __init__(self, *, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(env) if env is not None else None
        self._proc: asyncio.subprocess.Process | None = None
        self._ready_seen = False
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (for operators and crash tests)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    async def start(self) -> None:
        """Nothing yet: the child starts with the first job, so a server that never runs a
        job never pays for its imports (torch alone takes seconds)."""

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the child exits at the end of its input
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def execute(self, job: Job, inputs: Mapping[str, bytes], control: Control) -> Output:
        async with self._lock:
            if not self._ready_seen or self._proc is None:
                control.setting_up()  # a fresh child's imports are not the job's time
            proc = self._proc if self._proc is not None else await self._spawn()
            try:
                await self._ready(proc)
                control.began()
                await _send(proc, ("run", job.to_dict(), dict(inputs)))
                forward = asyncio.create_task(_forward_cancel(proc, control))
                try:
                    return await self._outcome(proc, control)
                finally:
                    forward.cancel()
            except ExecutorDied:
                await self._reap(proc, died=True)
                raise
            except asyncio.CancelledError:
                await self._reap(proc, died=False)
                raise

    async def _spawn(self) -> asyncio.subprocess.Process:
        if self._proc is None:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "inference.jobs.child",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=self._env if self._env is not None else os.environ.copy(),
            )
            self._ready_seen = False
        return self._proc

    async def _ready(self, proc: asyncio.subprocess.Process) -> None:
        if self._ready_seen:
            return
        message = await asyncio.wait_for(_receive(proc), READY_TIMEOUT)
        if message[0] == "fatal":
            raise ExecutorDied(f"the job worker process could not start: {message[1]}")
        log.info("job worker process ready", extra={"pid": proc.pid, **message[1]})
        self._ready_seen = True

    async def _outcome(self, proc: asyncio.subprocess.Process, control: Control) -> Output:
        while True:
            message = await _receive(proc)
            match message:
                case ("progress", percent):
                    control.progress = max(control.progress, float(percent))
                case ("ok", png, width, height, metadata):
                    return Output(png, width, height, metadata)
                case ("error", "cancelled", text):
                    raise Cancelled(text)
                case ("error", "invalid", text):
                    raise InvalidInput(text)
                case ("error", _, text):
                    raise JobFailed(text)
                case _:
                    raise ExecutorDied(f"unexpected message from the job worker: {message!r:.80}")

    async def _reap(self, proc: asyncio.subprocess.Process, *, died: bool) -> None:
        if self._proc is proc:
            self._proc = None
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        code = await proc.wait()
        if died:
            log.error("the job worker process died", extra={"pid": proc.pid, "status": code})
        else:
            log.warning(
                "job worker process stopped mid-job; the next job starts a fresh one",
                extra={"pid": proc.pid},
            )


async def _forward_cancel(proc: asyncio.subprocess.Process, control: Control) -> None:
    while not control.cancelled:
        await asyncio.sleep(0.05)
    with contextlib.suppress(ExecutorDied):
        await _send(proc, ("cancel",))


async def _send(proc: asyncio.subprocess.Process, message: tuple[Any, ...]) -> None:
    assert proc.stdin is not None
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        proc.stdin.write(len(payload).to_bytes(HEADER, "big") + payload)
        await proc.stdin.drain()
    except (ConnectionError, RuntimeError) as exc:
        raise ExecutorDied(f"the job worker process is gone: {exc}") from exc


async def _receive(proc: asyncio.subprocess.Process) -> tuple[Any, ...]:
    assert proc.stdout is not None
    try:
        header = await proc.stdout.readexactly(HEADER)
        body = await proc.stdout.readexactly(int.from_bytes(header, "big"))
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise ExecutorDied(f"the job worker process {proc.pid} died mid-job") from exc
    message: tuple[Any, ...] = pickle.loads(body)  # our own child: as trusted as we are
    return message
