"""The embedded server's job process: ``python -m inference.jobs.child``.

Loads the inference context once (configuration from its environment, models as jobs need
them) and runs the jobs its parent sends, one at a time, so that the server's event loop
never runs inference. Messages both ways are an 8-byte big-endian length and a pickle.

In: ``("run", job, inputs)`` (a job's dict and its input blobs by sha256), ``("cancel",)``.
Out: ``("ready", info)`` once, then per job some ``("progress", percent)`` and one of
``("ok", png, width, height, metadata)`` or ``("error", kind, message)`` with kind
``cancelled``, ``invalid`` or ``failed``. ``("fatal", message)`` if it cannot start. Exits
when its input ends.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from typing import IO, Any

from inference.config import AIConfig
from inference.context import InferenceContext
from inference.exceptions import Cancelled, InferenceError, InvalidInput
from inference.jobs import runner
from inference.jobs.executors import HEADER
from inference.jobs.model import Job


class _Replies:
    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, *message: Any) -> None:
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._stream.write(len(payload).to_bytes(HEADER, "big") + payload)
            self._stream.flush()


def _read(stream: IO[bytes]) -> tuple[Any, ...] | None:
    header = stream.read(HEADER)
    if len(header) < HEADER:
        return None
    size = int.from_bytes(header, "big")
    body = b""
    while len(body) < size:
        chunk = stream.read(size - len(body))
        if not chunk:
            return None
        body += chunk
    message: tuple[Any, ...] = pickle.loads(body)
    return message


def _run(ctx: InferenceContext, replies: _Replies, message: tuple[Any, ...], control: Any) -> None:
    _, data, inputs = message
    last = [-1.0]

    def progress(percent: float) -> None:
        control(percent)  # raises Cancelled once the parent asked
        if percent - last[0] >= 1 or percent >= 100:
            last[0] = percent
            replies.send("progress", percent)

    try:
        output = runner.execute(ctx, Job.from_dict(data), inputs, progress)
    except Cancelled as exc:
        replies.send("error", "cancelled", str(exc))
    except InvalidInput as exc:
        replies.send("error", "invalid", str(exc))
    except Exception as exc:  # reported to the parent, which fails the job
        replies.send("error", "failed", f"{type(exc).__name__}: {exc}")
    else:
        replies.send("ok", output.png, output.width, output.height, output.metadata)


def main() -> int:
    requests = sys.stdin.buffer
    # The protocol owns file descriptor 1; anything a library prints goes to stderr instead.
    replies = _Replies(os.fdopen(os.dup(1), "wb"))
    os.dup2(2, 1)
    try:
        ctx = InferenceContext(AIConfig.from_env(os.environ)).start()
    except (InferenceError, ValueError, RuntimeError) as exc:
        replies.send("fatal", f"{type(exc).__name__}: {exc}")
        return 2
    replies.send("ready", {"device": ctx.device.device, "dtype": ctx.device.dtype})
    job: threading.Thread | None = None
    control = runner.Control()
    try:
        while (message := _read(requests)) is not None:
            if message[0] == "run":
                if job is not None:
                    job.join()
                control = runner.Control()
                job = threading.Thread(target=_run, args=(ctx, replies, message, control))
                job.start()
            elif message[0] == "cancel":
                control.cancel()
        control.cancel()
        if job is not None:
            job.join()
    finally:
        ctx.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
