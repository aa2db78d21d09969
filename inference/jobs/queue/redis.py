"""The job queue on Redis Streams with a consumer group (distributed mode).

Keys (under the deployment's namespace, like the broker's)::

    {ns}:jobs:stream   stream; one entry {job: id} per queued or running job
    {ns}:job:{id}      hash: job (the record as submitted, JSON), state, progress, attempts,
                       cancel, entry (the job's stream entry), worker, started_at,
                       finished_at, error, result (JSON)

Workers read the stream through the consumer group ``workers``: a delivered entry stays
pending for its consumer until the job finishes. A heartbeat re-claims the entry for the
same consumer (``XCLAIM … JUSTID``), which resets its idle time; an entry idle for longer
than the lease belongs to a lost worker and is taken over with ``XAUTOCLAIM`` by the next
claim. Finished, cancelled and released jobs leave the stream (``XACK`` + ``XDEL``), so its
length is the number of jobs queued or running, which bounds submission. Every change of a
job's state runs in one Lua script that first checks the state and the attempt number, so a
worker that lost its lease can change nothing.

A Redis that cannot be reached or times out (a restart, a network cut) raises
:class:`QueueUnavailable` from every call, never the client's own exception: the API
answers 503 and a worker waits and tries again. A refused password stays the client's
``AuthenticationError``: that is a misconfiguration, not an outage.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, AuthorizationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from foundation.redis import RedisSource
from inference.jobs.model import Job, JobState
from inference.jobs.queue.base import (
    RETENTION_S,
    RETRY_AFTER_S,
    JobNotFound,
    JobQueue,
    Lease,
    QueueFull,
    QueueNotStarted,
    QueueUnavailable,
    StaleAttempt,
    check_final,
)

P = ParamSpec("P")
R = TypeVar("R")

GROUP = "workers"
_RECLAIM_SCAN = 16  # pending entries looked at per XAUTOCLAIM round

_SUBMIT = """
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
local entry = redis.call('XADD', KEYS[1], '*', 'job', ARGV[2])
redis.call('HSET', KEYS[2], 'job', ARGV[3], 'state', 'queued', 'progress', '0',
  'attempts', '0', 'cancel', '0', 'entry', entry, 'worker', '', 'started_at', '',
  'finished_at', '', 'error', '', 'result', '')
return 1
"""

# KEYS: stream, job. ARGV: group, entry, worker, now, max_attempts, retention.
_TAKE = """
local function drop()
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
end
local function finish(state, err)
  redis.call('HSET', KEYS[2], 'state', state, 'error', err, 'finished_at', ARGV[4])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  drop()
  return 2
end
local state = redis.call('HGET', KEYS[2], 'state')
if (state ~= 'queued' and state ~= 'running')
    or redis.call('HGET', KEYS[2], 'entry') ~= ARGV[2] then
  drop()
  return 0
end
local attempts = tonumber(redis.call('HGET', KEYS[2], 'attempts'))
if state == 'running' then
  if redis.call('HGET', KEYS[2], 'cancel') == '1' then return finish('cancelled', 'cancelled') end
  if attempts >= tonumber(ARGV[5]) then
    return finish('failed', 'gave up after ' .. attempts ..
      ' attempt(s); the last one ended with: lease expired (worker lost)')
  end
end
redis.call('HSET', KEYS[2], 'state', 'running', 'attempts', attempts + 1, 'progress', '0',
  'worker', ARGV[3], 'started_at', ARGV[4])
return 1
"""

# KEYS: stream, job. ARGV: group, attempt, progress.
_HEARTBEAT = """
if redis.call('HGET', KEYS[2], 'state') ~= 'running'
    or redis.call('HGET', KEYS[2], 'attempts') ~= ARGV[2] then
  return {0, 0}
end
redis.call('HSET', KEYS[2], 'progress', ARGV[3])
local entry = redis.call('HGET', KEYS[2], 'entry')
local worker = redis.call('HGET', KEYS[2], 'worker')
redis.call('XCLAIM', KEYS[1], ARGV[1], worker, 0, entry, 'JUSTID')
return {1, tonumber(redis.call('HGET', KEYS[2], 'cancel'))}
"""

# KEYS: stream, job. ARGV: group, attempt, state, result, error, now, retention.
_FINISH = """
local state = redis.call('HGET', KEYS[2], 'state')
if not state then return -1 end
local attempts = redis.call('HGET', KEYS[2], 'attempts')
if attempts == ARGV[2] and state == ARGV[3] then return 1 end
if attempts ~= ARGV[2] or state ~= 'running' then return 0 end
redis.call('HSET', KEYS[2], 'state', ARGV[3], 'result', ARGV[4], 'error', ARGV[5],
  'finished_at', ARGV[6])
if ARGV[3] == 'done' then redis.call('HSET', KEYS[2], 'progress', '100') end
local entry = redis.call('HGET', KEYS[2], 'entry')
redis.call('XACK', KEYS[1], ARGV[1], entry)
redis.call('XDEL', KEYS[1], entry)
redis.call('EXPIRE', KEYS[2], ARGV[7])
return 1
"""

# KEYS: stream, job. ARGV: group, now, retention.
_CANCEL = """
local state = redis.call('HGET', KEYS[2], 'state')
if not state then return -1 end
if state == 'queued' then
  local entry = redis.call('HGET', KEYS[2], 'entry')
  redis.call('HSET', KEYS[2], 'state', 'cancelled', 'error', 'cancelled before it ran',
    'finished_at', ARGV[2])
  redis.call('XACK', KEYS[1], ARGV[1], entry)
  redis.call('XDEL', KEYS[1], entry)
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  return 1
end
if state == 'running' then redis.call('HSET', KEYS[2], 'cancel', '1') end
return 0
"""

# KEYS: stream, job. ARGV: group, attempt, error, max_attempts, now, retention, job id.
_RELEASE = """
if redis.call('HGET', KEYS[2], 'state') ~= 'running'
    or redis.call('HGET', KEYS[2], 'attempts') ~= ARGV[2] then
  return 0
end
local entry = redis.call('HGET', KEYS[2], 'entry')
redis.call('XACK', KEYS[1], ARGV[1], entry)
redis.call('XDEL', KEYS[1], entry)
if tonumber(ARGV[2]) >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[2], 'state', 'failed', 'finished_at', ARGV[5], 'error',
    'gave up after ' .. ARGV[2] .. ' attempt(s); the last one ended with: ' .. ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  return 2
end
local fresh = redis.call('XADD', KEYS[1], '*', 'job', ARGV[7])
redis.call('HSET', KEYS[2], 'state', 'queued', 'entry', fresh, 'error', ARGV[3],
  'progress', '0')
return 1
"""


def _reachable(
    method: Callable[Concatenate[RedisQueue, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[RedisQueue, P], Coroutine[Any, Any, R]]:
    """Turn the client's connection and timeout errors into :class:`QueueUnavailable`."""

    async def call(self: RedisQueue, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(self, *args, **kwargs)
        except (AuthenticationError, AuthorizationError):
            raise  # a wrong password or ACL: waiting would not help
        except (RedisConnectionError, RedisTimeoutError) as exc:
            cause = str(exc) or type(exc).__name__
            raise QueueUnavailable(self.describe(), cause, RETRY_AFTER_S) from exc

    functools.update_wrapper(call, method)
    return call


class RedisQueue(JobQueue):
    """:class:`JobQueue` on Redis Streams. Pass ``url`` (the queue owns its client) or
    ``conn`` (a ``redis.asyncio.Redis``, left open on stop)."""

    kind = "redis"

    def __init__(
        self,
        url: str | None = None,
        *,
        conn: aioredis.Redis | None = None,
        namespace: str = "nexus",
        max_jobs: int = 64,
        max_attempts: int = 3,
        lease: float = 30.0,
    ) -> None:
        super().__init__(max_jobs=max_jobs, max_attempts=max_attempts, lease=lease)
        self._source = RedisSource("RedisQueue", url, conn)
        if not namespace or any(c.isspace() for c in namespace):
            raise ValueError(f"namespace must be a non-empty word, got {namespace!r}")
        self.url = url
        self.namespace = namespace
        self.stream = f"{namespace}:jobs:stream"
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"RedisQueue(namespace={self.namespace!r}, max_jobs={self.max_jobs})"

    def describe(self) -> str:
        """Where the queue is (the URL without its password), for errors and logs."""
        return f"Redis {self._source.describe()}"

    def job_key(self, job_id: str) -> str:
        return f"{self.namespace}:job:{job_id}"

    @_reachable
    async def _open(self) -> None:
        self._client = client = self._source.client(socket_connect_timeout=5)
        try:  # if this fails, start() runs _close, which closes a client made here
            await client.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        for name, source in (
            ("submit", _SUBMIT), ("take", _TAKE), ("heartbeat", _HEARTBEAT),
            ("finish", _FINISH), ("cancel", _CANCEL), ("release", _RELEASE),
        ):  # fmt: skip
            self._scripts[name] = client.register_script(source)

    async def _close(self) -> None:
        client, self._client = self._client, None
        await self._source.close(client)

    @property
    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            raise QueueNotStarted(repr(self))
        return self._client

    async def _run(self, script: str, job_id: str, *args: object) -> Any:
        return await self._scripts[script](keys=[self.stream, self.job_key(job_id)], args=args)

    # -- producers ---------------------------------------------------------------------------

    @_reachable
    async def submit(self, job: Job) -> Job:
        job = job.with_(state=JobState.QUEUED, attempts=0, progress=0.0)
        self._check_started()
        added = await self._run("submit", job.id, self.max_jobs, job.id, json.dumps(job.to_dict()))
        if not added:
            raise QueueFull(self.max_jobs, RETRY_AFTER_S)
        return job

    @_reachable
    async def get(self, job_id: str) -> Job:
        raw = await cast(Any, self._redis.hgetall(self.job_key(job_id)))
        if not raw:
            raise JobNotFound(job_id)
        return _job_of({_text(k): _text(v) for k, v in raw.items()})

    @_reachable
    async def size(self) -> int:
        return int(await self._redis.xlen(self.stream))

    @_reachable
    async def counts(self) -> dict[JobState, int]:
        redis = self._redis
        total = int(await redis.xlen(self.stream))
        pending = await redis.xpending(self.stream, GROUP)  # delivered, not yet acknowledged
        running = min(total, int(pending["pending"]))
        return {JobState.QUEUED: total - running, JobState.RUNNING: running}

    @_reachable
    async def unfinished(self, doc_id: str) -> list[Job]:
        redis = self._redis
        ids = []
        for _entry, fields in await redis.xrange(self.stream):
            job_id = _text((fields or {}).get(b"job") or (fields or {}).get("job") or "")
            if job_id:
                ids.append(job_id)
        found = []
        for job_id in dict.fromkeys(ids):
            try:
                job = await self.get(job_id)
            except JobNotFound:  # expired or removed meanwhile
                continue
            if job.doc_id == doc_id and not job.state.final:
                found.append(job)
        return sorted(found, key=lambda job: job.created_at)

    @_reachable
    async def cancel(self, job_id: str) -> Job:
        if await self._run("cancel", job_id, GROUP, time.time(), RETENTION_S) == -1:
            raise JobNotFound(job_id)
        return await self.get(job_id)

    @_reachable
    async def finish(
        self,
        job_id: str,
        attempt: int,
        state: JobState,
        *,
        result: dict[str, object] | None = None,
        error: str | None = None,
    ) -> Job:
        check_final(state)
        outcome = await self._run(
            "finish",
            job_id,
            GROUP,
            attempt,
            str(state),
            json.dumps(result) if result is not None else "",
            error or "",
            time.time(),
            RETENTION_S,
        )
        if outcome == -1:
            raise JobNotFound(job_id)
        job = await self.get(job_id)
        if not outcome:
            raise StaleAttempt(job, attempt)
        return job

    # -- consumers ---------------------------------------------------------------------------

    @_reachable
    async def claim(self, worker: str, *, timeout: float) -> Job | None:
        redis = self._redis
        cursor = "0-0"
        while True:  # first the entries of lost workers
            reply = await redis.xautoclaim(
                self.stream,
                GROUP,
                worker,
                min_idle_time=int(self.lease * 1000),
                start_id=cursor,
                count=_RECLAIM_SCAN,
            )
            cursor = _text(reply[0])
            for entry, fields in reply[1]:
                job = await self._take(entry, fields, worker)
                if job is not None:
                    return job
            if cursor == "0-0":
                break
        read = await redis.xreadgroup(
            GROUP, worker, {self.stream: ">"}, count=1, block=max(1, int(timeout * 1000))
        )
        for _stream, entries in read or []:
            for entry, fields in entries:
                job = await self._take(entry, fields, worker)
                if job is not None:
                    return job
        return None

    async def _take(self, entry: Any, fields: Any, worker: str) -> Job | None:
        job_id = _text((fields or {}).get(b"job") or (fields or {}).get("job") or "")
        if not job_id:  # not one of ours: drop it so that it is not read again
            await self._redis.xack(self.stream, GROUP, entry)
            await self._redis.xdel(self.stream, entry)
            return None
        taken = await self._run(
            "take", job_id, GROUP, _text(entry), worker, time.time(), self.max_attempts,
            RETENTION_S,
        )  # fmt: skip
        return await self.get(job_id) if taken else None

    @_reachable
    async def heartbeat(self, job_id: str, attempt: int, progress: float) -> Lease:
        held, cancel = await self._run(
            "heartbeat", job_id, GROUP, attempt, max(0.0, min(100.0, progress))
        )
        return Lease(held=bool(held), cancel=bool(cancel))

    @_reachable
    async def release(self, job_id: str, attempt: int, error: str) -> Job:
        outcome = await self._run(
            "release", job_id, GROUP, attempt, error, self.max_attempts, time.time(),
            RETENTION_S, job_id,
        )  # fmt: skip
        job = await self.get(job_id)
        if not outcome:
            raise StaleAttempt(job, attempt)
        return job


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _job_of(raw: dict[str, str]) -> Job:
    data = json.loads(raw["job"])
    data.update(
        state=raw["state"],
        progress=float(raw["progress"]),
        attempts=int(raw["attempts"]),
        cancel_requested=raw["cancel"] == "1",
        started_at=float(raw["started_at"]) if raw["started_at"] else None,
        finished_at=float(raw["finished_at"]) if raw["finished_at"] else None,
        error=raw["error"] or None,
        result=json.loads(raw["result"]) if raw["result"] else None,
    )
    return Job.from_dict(data)
