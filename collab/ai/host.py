"""The server's side of AI jobs: submission, cancellation, the workers' reports, the job
board that collaborators see, the result layer, the ``ai_tasks`` log, and in embedded mode
the worker itself.

- **Queue.** Without ``REDIS_URL``, a SQLite file beside the store's (``<data dir>/jobs.db``:
  queued and running jobs survive a restart or a SIGKILL and run again, as in the Redis
  queue; in memory only when the store is) and this server also runs the worker loop,
  whose pipelines run in one child process, so the event loop never runs inference. Redis
  Streams with it (workers are ``nexus-canvas worker`` processes).
- **Time limits.** Each kind of job runs at most ``NEXUS_JOBS_TIMEOUT_<KIND>`` seconds
  (default ``NEXUS_JOBS_TIMEOUT_SECONDS``); past it the job fails with an error naming the
  limit, and the child process running it is restarted.
- **Metrics.** The queue's depth and running jobs (refreshed at every job event here and
  every ``METRICS_REFRESH_S``), the jobs this instance ended by kind and state (each end
  counted once, though a worker may repeat its report: the ``ai_tasks`` row says whether it
  was already logged), and their run time by kind.
- **Ends the server did not hear of.** A job the queue ended on its own (its attempts
  spent while its worker could not reach any server, so no report came) is recorded as
  ended (``ai_tasks``, the board, the metrics) when this host next sees it: when it is read
  through the API, and by a sweep every ``RECONCILE_S`` over the newest ``RECONCILE_SCAN``
  tasks still logged as queued or running.
- **Deleted documents.** Deleting a document cancels its queued and running jobs; a result
  that still arrives for it ends its job cancelled (the result is dropped), not failed.
- **Job board.** Every job is an entry of the document's root Map ``jobs`` (job id → Map:
  ``id, kind, state, progress, user, name, label, layer_id, error, updated_at, stage,
  region, created_at, started_at, source, inputs`` and, once done, ``method, fallback``),
  written by the server in its own transactions
  (origin ``nexus:jobs``: outside every undo scope and the history). Any Yjs client reads
  it, it reaches every instance like any update, and it persists: a collaborator who joins
  late still sees a queued job or why one failed (awareness could show neither: it vanishes
  with the connection that set it, and a queued job has no worker connection yet).
  Progress is written in steps of 5 %, and only the newest ``KEEP_ENTRIES`` finished
  entries are kept.
- **Results.** A worker's "done" report carries the result's blob; the server adds it as a
  layer with ``room.edit`` on behalf of the user who submitted the job, so the layer is in
  that user's undo stack (as one step of its own: the capture is cut before and after)
  and in the shared history under their name; another user's undo never touches it. The
  layer's id is derived from the job (``ai-<job id>``) and the job's board entry records
  that it was applied, so a retried job never adds its layer twice, even after the user
  undid it.
- **Honest names.** The layer's name (and so the history's "add layer '…'") says what ran:
  "Fill (OpenCV inpainting, prompt not used)" when the fallback filled without the prompt,
  "Cut-out from box and 1 point (SAM2)", "Background removed (GrabCut fallback: model file
  missing)". A name the user gave is kept; when a fallback ran, its note is appended in
  parentheses (once: a re-run that passes the name on does not repeat it). The board's
  ``label`` becomes that name when the job is done; ``method`` holds the plain words.
- **Inputs.** The board entry lists the layers the job read (``inputs``: id and name;
  ``source``: composite, layer or layers), as the job's params do (``input_layers``).
- **Staged results** (``stage: true``). The layer lands as a *proposal*: it carries a
  ``proposal`` Map (``job_id``, ``user``, ``at``), every collaborator sees it, exports leave
  it out, and any editor accepts it (the key is removed: one undo step of the acceptor's) or
  discards it (the layer goes). It is added on behalf of the AI (``AI_USER``, named after the
  submitter in the history), not in the submitter's undo stack: an undo there would take
  the layer away from under whoever accepted it. Its provenance holds everything a re-run
  needs (mask blob, region, input layer, prompts, parameters).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from PIL import Image
from prometheus_client import CollectorRegistry
from pycrdt import Doc, Map

from canvasdoc.canvas import Canvas
from collab.auth.identity import Principal
from collab.observability.metrics import JobMetrics
from collab.session.limits import PerKeyRate
from collab.session.room import Room
from collab.session.rooms import RoomManager
from collab.settings import Settings, env_variable
from inference.jobs.executors import Executor, ProcessExecutor
from inference.jobs.links import BlobMissing, ServerUnreachable
from inference.jobs.model import Job, JobKind, JobLimits, JobState, Report
from inference.jobs.queue import JobNotFound, JobQueue, StaleAttempt, queue_from_url
from inference.jobs.worker import TimeLimit, Worker
from inference.results import FALLBACK_PREFIX, method_words
from persistence.base import (
    BlobNotFound,
    DocumentNotFound,
    Store,
    StoreError,
    TaskNotFound,
    TaskRecord,
    check_sha256,
)

log = logging.getLogger(__name__)

JOBS_ROOT = "jobs"
JOBS_ORIGIN = "nexus:jobs"
KEEP_ENTRIES = 50  # finished entries kept on a document's job board
MAX_NAME_CHARS = 200
# Everything a re-run needs, besides the mask (its blob is recorded as "mask"); "name" is
# the name the user gave (absent when the server chose it), "input_layers" what was read.
_PROVENANCE_PARAMS = (
    "prompt", "negative_prompt", "seed", "steps", "guidance", "strength", "region",
    "input_layer", "layers", "input_layers", "source", "points", "point_labels", "box",
    "output", "rerun_of", "name",
)  # fmt: skip
# Staged results are added by this pseudo-user: outside every person's undo stack. It is not
# a valid user id (it has a space), so no connection can claim it.
AI_USER = "nexus ai"
_PROVENANCE_RESULT = ("model", "backend", "fallback", "fallback_reason", "device", "seconds")
METRICS_REFRESH_S = 5.0  # the queue's depth is read at least this often
RECONCILE_S = 30.0  # how often unfinished ai_tasks rows are checked against the queue
RECONCILE_SCAN = 200  # the newest tasks looked at per sweep
_UNFINISHED = (str(JobState.QUEUED), str(JobState.RUNNING))
JOBS_FILE = "jobs.db"  # the embedded queue's SQLite file, in the data directory


class ResultRejected(Exception):
    """A result that cannot be applied (names what is wrong); its job fails."""


class DocumentGone(ResultRejected):
    """The job's document was deleted before its result came; the job ends cancelled."""


def job_timeouts(settings: Settings) -> dict[JobKind, TimeLimit]:
    """Each kind's time limit, with the variable that sets it (named in a timeout's error)."""
    limits = {}
    for kind in JobKind:
        field = f"jobs_timeout_{kind}"
        seconds: float | None = getattr(settings, field)
        if seconds is None:
            field, seconds = "jobs_timeout_seconds", settings.jobs_timeout_seconds
        limits[kind] = TimeLimit(seconds, env_variable(field))
    return limits


def queue_url(settings: Settings, store: Store) -> str | None:
    """Where this server's jobs wait: Redis with ``REDIS_URL``; else a SQLite file in the
    data directory, or memory when the store keeps nothing either."""
    if settings.redis_url:
        return settings.redis_url
    if store.kind == "memory":
        return None
    return f"sqlite:///{(settings.data_dir / JOBS_FILE).resolve()}"


class JobsHost:
    """AI jobs on this server instance: an async context manager started after the rooms."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        rooms: RoomManager,
        *,
        queue: JobQueue | None = None,
        executor: Executor | None = None,
        metrics: JobMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.rooms = rooms
        self.limits = JobLimits(
            max_prompt_chars=settings.jobs_max_prompt_chars, max_steps=settings.jobs_max_steps
        )
        self.submissions = PerKeyRate(settings.jobs_per_user_per_minute)
        self.metrics = metrics or JobMetrics(CollectorRegistry())
        self.queue = queue or queue_from_url(
            queue_url(settings, store),
            max_jobs=settings.jobs_max_queued,
            max_attempts=settings.jobs_max_attempts,
            lease=settings.jobs_lease_seconds,
            namespace=settings.redis_namespace,
        )
        self.worker: Worker | None = None
        if executor is not None or (settings.redis_url is None and settings.jobs_embedded_worker):
            self.worker = Worker(
                self.queue,
                LocalLink(self),
                executor or ProcessExecutor(),
                timeouts=job_timeouts(settings),
            )
        self._refresher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.queue.start()
        try:
            await self.refresh_metrics()
            if self.worker is not None:
                await self.worker.start()
        except BaseException:
            await self.queue.stop()
            raise
        self._refresher = asyncio.create_task(self._refresh_loop(), name="jobs:metrics")

    async def stop(self) -> None:
        refresher, self._refresher = self._refresher, None
        if refresher is not None:
            refresher.cancel()
            await asyncio.gather(refresher, return_exceptions=True)
        try:
            if self.worker is not None:
                await self.worker.stop()
        finally:
            await self.queue.stop()

    async def __aenter__(self) -> JobsHost:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- what the REST API calls -------------------------------------------------------------

    async def submit(self, job: Job) -> Job:
        """Queue ``job`` (raises QueueFull), log it and put it on the document's board."""
        job = await self.queue.submit(job)
        await self._log(job)
        await self._show(job)
        await self.refresh_metrics()
        log.info(
            "job submitted", extra={"job": job.id, "kind": str(job.kind), "doc_id": job.doc_id}
        )
        return job

    async def cancel(self, job_id: str) -> Job:
        job = await self.queue.cancel(job_id)
        if job.state is JobState.CANCELLED:
            await self._count_end(job)
            await self._log(job)
            await self._show(job)
            await self.refresh_metrics()
        return job

    async def cancel_document(self, doc_id: str) -> int:
        """Cancel the document's queued jobs and ask its running ones to stop (their
        workers see it at the next heartbeat); how many were unfinished."""
        jobs = await self.queue.unfinished(doc_id)
        for job in jobs:
            with contextlib.suppress(JobNotFound):
                await self.cancel(job.id)
        if jobs:
            extra = {"doc_id": doc_id, "jobs": len(jobs)}
            log.info("jobs of a deleted document cancelled", extra=extra)
        return len(jobs)

    async def refresh_metrics(self) -> None:
        """Read the queue's depth and running jobs into the metrics."""
        try:
            counts = await self.queue.counts()
        except Exception as exc:  # metrics never fail a request; the next refresh retries
            log.debug("could not read the job queue's counts", extra={"error": repr(exc)})
            return
        self.metrics.depth(counts[JobState.QUEUED], counts[JobState.RUNNING])

    async def _refresh_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + RECONCILE_S
        while True:
            await asyncio.sleep(METRICS_REFRESH_S)
            await self.refresh_metrics()
            if loop.time() >= next_sweep:
                next_sweep = loop.time() + RECONCILE_S
                try:
                    await self.reconcile()
                except Exception as exc:  # an outage: the next sweep tries again
                    log.warning("could not reconcile AI tasks", extra={"error": repr(exc)})

    async def get(self, job_id: str) -> Job:
        """The job as the queue has it (raises JobNotFound), its end recorded if the
        server had not heard of it (see :meth:`observe`)."""
        return await self.observe(await self.queue.get(job_id))

    async def observe(self, job: Job) -> Job:
        """Record the end of ``job``, read from the queue, if the ``ai_tasks`` log does not
        have it yet: the queue failed it (attempts spent) while its worker could not
        report. The log, the board and the metrics then agree with the queue."""
        if not job.state.final:
            return job
        try:
            if (await self.store.get_task(job.id)).status == str(job.state):
                return job
        except TaskNotFound:
            pass
        except StoreError as exc:  # the next look tries again
            log.warning("could not read an AI task", extra={"job": job.id, "error": str(exc)})
            return job
        await self._count_end(job)
        await self._log(job)
        await self._show(job)
        log.warning(
            "job ended without a report; recorded now",
            extra={"job": job.id, "state": str(job.state), "error": job.error},
        )
        return job

    async def reconcile(self) -> int:
        """Check the newest tasks logged as queued or running against the queue and record
        the ends the server missed; how many were recorded."""
        recorded = 0
        for task in await self.store.list_tasks(limit=RECONCILE_SCAN):
            if task.status not in _UNFINISHED:
                continue
            try:
                job = await self.queue.get(task.id)
            except JobNotFound:  # past the queue's retention, or a memory queue restarted
                continue
            if job.state.final:
                await self.observe(job)
                recorded += 1
        return recorded

    async def task(self, job_id: str) -> TaskRecord:
        """The job's ``ai_tasks`` row (for jobs the queue no longer keeps)."""
        return await self.store.get_task(job_id)

    async def report(self, report: Report) -> Job:
        """A worker's news about attempt ``report.attempt``. Raises StaleAttempt when that
        attempt no longer owns the job, and JobNotFound. A "done" whose result cannot be
        applied (its blob is missing, the document was deleted) ends the job failed."""
        job = await self.queue.get(report.job_id)
        if job.attempts != report.attempt:
            raise StaleAttempt(job, report.attempt)
        if report.state is JobState.RUNNING:
            if job.state is not JobState.RUNNING:
                raise StaleAttempt(job, report.attempt)
            job = job.with_(progress=max(job.progress, report.progress))
            if report.progress == 0:  # the start of an attempt
                await self._log(job)
            await self._show(job)
            return job
        state, error = report.state, report.error
        if state is JobState.DONE and job.state in (JobState.RUNNING, JobState.DONE):
            try:
                await self._apply(job, report.result or {})
            except DocumentGone as exc:  # expected after a delete: nothing to land it in
                log.info("result dropped", extra={"job": job.id, "why": str(exc)})
                state, error = JobState.CANCELLED, str(exc)
            except ResultRejected as exc:  # retrying would not help: the job fails
                log.error("result rejected", extra={"job": job.id, "error": str(exc)})
                state, error = JobState.FAILED, str(exc)
            else:
                await self._persist(job.doc_id)
        job = await self.queue.finish(
            job.id, report.attempt, state, result=report.result, error=error
        )
        await self._count_end(job)
        await self._log(job)
        await self._show(job)
        await self.refresh_metrics()
        log.info("job finished", extra={"job": job.id, "state": str(job.state)})
        return job

    async def _persist(self, doc_id: str) -> None:
        """Commit the document's updates (the result layer among them) to the update log
        before the job is marked done: a job marked done whose layer died in the group
        commit's window would never be run again."""
        try:
            await self.rooms.flush(doc_id)
        except Exception as exc:  # the writer keeps the update and retries it
            extra = {"doc_id": doc_id, "error": repr(exc)}
            log.warning("could not save after a result", extra=extra)

    async def _count_end(self, job: Job) -> None:
        """Count the job's end in the metrics, once: the ``ai_tasks`` row (logged after
        this) already holding the final state means a repeated report."""
        try:
            if (await self.store.get_task(job.id)).status == str(job.state):
                return
        except (TaskNotFound, StoreError):
            pass
        ran = None
        if job.started_at is not None and job.finished_at is not None:
            ran = job.finished_at - job.started_at
        self.metrics.ended(str(job.kind), str(job.state), ran)

    # -- the result layer --------------------------------------------------------------------

    async def _apply(self, job: Job, result: dict[str, Any]) -> None:
        blob = result.get("blob")
        try:
            check_sha256(blob)
            await self.store.blob_info(str(blob))
        except (ValueError, BlobNotFound) as exc:
            raise ResultRejected(f"job {job.id}: the result's blob is unusable: {exc}") from None
        staged = bool(job.params.get("stage"))
        user = Principal(job.user_id, job.user_name)
        if staged:
            user = Principal(AI_USER, f"AI for {job.user_name}", service=True)
        async with self._room(job.doc_id) as room:
            if room is None:
                raise DocumentGone(f"document {job.doc_id!r} was deleted before the result came")
            if _applied(room.doc, job):
                return
            name = layer_name(job, result)
            provenance = _provenance(job, result)
            proposal = None
            if staged:
                at = int(time.time() * 1000)
                proposal = {"job_id": job.id, "user": job.user_id, "name": job.user_name, "at": at}

            def change(canvas: Canvas) -> None:
                canvas.add_layer(
                    name,
                    kind="raster",
                    index=_beside(canvas, job.params.get("beside")),
                    blob=str(blob),
                    x=job.x,
                    y=job.y,
                    provenance=provenance,
                    layer_id=job.layer_id,
                    proposal=proposal,
                )
                done = job.with_(state=JobState.DONE, progress=100.0, result=result)
                _write_entry(canvas.doc, done)

            room.undo.track(user.user_id)
            room.undo.cut(user.user_id)  # the AI layer is an undo step of its own
            room.edit(user, change)
            room.undo.cut(user.user_id)

    # -- the job board and the log -----------------------------------------------------------

    async def _show(self, job: Job) -> None:
        try:
            async with self._room(job.doc_id) as room:
                if room is not None:
                    with room.doc.transaction(origin=JOBS_ORIGIN):
                        _write_entry(room.doc, job)
        except Exception:  # the board is a view: a failure to update it never fails a job
            log.exception("could not update the job board", extra={"job": job.id})

    async def _log(self, job: Job) -> None:
        try:
            await self.store.record_task(task_of(job))
        except StoreError as exc:
            log.error("could not log an AI task", extra={"job": job.id, "error": str(exc)})

    @asynccontextmanager
    async def _room(self, doc_id: str) -> AsyncIterator[Room | None]:
        """The document's room, or None if the document was deleted meanwhile (checked even
        when its room is still loaded: writing to it would bring the document back)."""
        try:
            await self.store.get_document(doc_id)
        except DocumentNotFound:
            yield None
            return
        room = await self.rooms.acquire(doc_id)
        try:
            yield room
        finally:
            self.rooms.release(doc_id)


class LocalLink:
    """The embedded worker's link to its own server: the store and the host, in-process.
    A store that is unavailable (a Postgres cut) is an outage, as a 503 is over HTTP:
    :class:`ServerUnreachable`, so the worker keeps the job and tries again."""

    def __init__(self, host: JobsHost) -> None:
        self._host = host

    async def fetch_blobs(self, hashes: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for digest in dict.fromkeys(hashes):
            try:
                found[digest] = (await self._host.store.get_blob(digest)).data
            except BlobNotFound:
                raise BlobMissing(f"input blob {digest} is not in the store") from None
            except StoreError as exc:
                raise ServerUnreachable(f"input blob {digest}: {exc}") from exc
        return found

    async def put_png(self, data: bytes) -> str:
        digest, size = await asyncio.to_thread(_png_facts, data)
        try:
            await self._host.store.put_blob(
                digest, data, media_type="image/png", width=size[0], height=size[1]
            )
        except StoreError as exc:
            raise ServerUnreachable(f"the result could not be stored: {exc}") from exc
        return digest

    async def report(self, report: Report) -> bool:
        try:
            await self._host.report(report)
        except StoreError as exc:
            raise ServerUnreachable(f"report of job {report.job_id}: {exc}") from exc
        except (StaleAttempt, JobNotFound) as exc:
            log.info("report refused as stale", extra={"job": report.job_id, "why": str(exc)})
            return False
        return True


def task_of(job: Job) -> TaskRecord:
    """The job's ``ai_tasks`` row."""
    result = job.result or {}
    extra = {k: result[k] for k in (*_PROVENANCE_RESULT, "blob") if k in result}
    latency = None
    if job.finished_at is not None:
        latency = round((job.finished_at - job.created_at) * 1000, 1)
    return TaskRecord(
        id=job.id,
        doc_id=job.doc_id,
        type=str(job.kind),
        status=str(job.state),
        user_id=job.user_id,
        model=result.get("model"),
        prompt=job.params.get("prompt"),
        params={**job.canvas_params, **extra, "layer_id": job.layer_id},
        input_bytes=job.input_bytes,
        output_bytes=result.get("output_bytes"),
        error=job.error,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        latency_ms=latency,
    )


def board(doc: Doc[Any]) -> dict[str, dict[str, Any]]:
    """The document's job board as plain data (job id → entry)."""
    jobs = doc.get(JOBS_ROOT, type=Map)
    return {key: value.to_py() or {} for key, value in jobs.items() if isinstance(value, Map)}


def _write_entry(doc: Doc[Any], job: Job) -> None:
    jobs = doc.get(JOBS_ROOT, type=Map)
    result = job.result if job.state is JobState.DONE else None
    view: dict[str, Any] = {
        "id": job.id,
        "kind": str(job.kind),
        "state": str(job.state),
        "progress": round(job.progress),
        "user": job.user_id,
        "name": job.user_name,
        "label": _board_label(job),
        "layer_id": job.layer_id if job.state is JobState.DONE else None,
        "error": job.error if job.state.final else None,
        "updated_at": int(time.time() * 1000),
        "stage": True if job.params.get("stage") else None,
        # where and since when, for the browser's progress overlay and elapsed time
        "region": job.params.get("region"),
        "created_at": int(job.created_at * 1000),
        "started_at": int(job.started_at * 1000) if job.started_at is not None else None,
        # what the job read, and (once done) what ran, in plain words
        "source": job.params.get("source"),
        "inputs": job.params.get("input_layers"),
        "method": method_words(result, with_reason=True) if result else None,
        "fallback": True if result and _fell_back(result) else None,
    }
    entry = jobs.get(job.id)
    if not isinstance(entry, Map):
        jobs[job.id] = Map({k: v for k, v in view.items() if v is not None})
    else:
        if entry.get("state") == str(JobState.DONE) and job.state is not JobState.DONE:
            return  # a late report never hides a result that was applied
        for key, value in view.items():
            if value is None:
                entry.pop(key, None)
            elif entry.get(key) != value:
                entry[key] = value
    finished = [
        (value.get("updated_at", 0), key)
        for key, value in jobs.items()
        if isinstance(value, Map) and value.get("state") in ("done", "failed", "cancelled")
    ]
    for _, key in sorted(finished)[: max(0, len(finished) - KEEP_ENTRIES)]:
        del jobs[key]


def _applied(doc: Doc[Any], job: Job) -> bool:
    entry = doc.get(JOBS_ROOT, type=Map).get(job.id)
    if isinstance(entry, Map) and entry.get("state") == str(JobState.DONE):
        return True
    return job.layer_id in Canvas(doc).layer_ids()


def _beside(canvas: Canvas, layer_id: object) -> int | None:
    """The z-index just above ``layer_id`` (a re-run lands beside its origin), else None
    (the top): the layer may have been removed meanwhile."""
    ids = canvas.layer_ids()
    return ids.index(layer_id) + 1 if isinstance(layer_id, str) and layer_id in ids else None


def layer_name(job: Job, result: dict[str, Any]) -> str:
    """The name of the layer a done job adds: the user's (with the fallback's note appended
    when one ran), else one that says what was made from what, and by what."""
    fallback = _fell_back(result)
    method = method_words(result, with_reason=job.kind is JobKind.REMOVE_BACKGROUND)
    given = job.params.get("name")
    if given:
        note = f" ({method})" if fallback and method else ""
        if not note or given.endswith(note):
            return str(given)[:MAX_NAME_CHARS]
        return str(given)[: MAX_NAME_CHARS - len(note)] + note
    note = f" ({method})" if method else ""
    if job.kind is JobKind.GENERATIVE_FILL:
        if fallback:  # the prompt (if any) was not used: the name does not repeat it
            return f"Fill{note}"[:MAX_NAME_CHARS]
        prompt = job.params.get("prompt")
        return f"Generative fill: {prompt[:60]}" if prompt else "Generative fill"
    if job.kind is JobKind.SEGMENT:
        made = "Mask" if job.params.get("output") == "mask" else "Cut-out"
        return f"{made} from {_prompt_words(job.params)}{note}"[:MAX_NAME_CHARS]
    return f"Background removed{note}"[:MAX_NAME_CHARS]


def _prompt_words(params: dict[str, Any]) -> str:
    """ "box", "2 points", "box and 1 point" (the points counted, both labels alike)."""
    points = len(params.get("points") or [])
    words = ["box"] if params.get("box") else []
    if points:
        words.append(f"{points} point" + ("" if points == 1 else "s"))
    return " and ".join(words) or "prompts"


def _fell_back(result: dict[str, Any]) -> bool:
    return bool(result.get("fallback")) or str(result.get("backend") or "").startswith(
        FALLBACK_PREFIX
    )


def _board_label(job: Job) -> str:
    """While queued or running: the kind and the prompt; once done: the layer's name."""
    if job.state is JobState.DONE and job.result:
        return layer_name(job, job.result)
    kind = str(job.kind).replace("_", " ")
    prompt = job.params.get("prompt")
    return f"{kind}: {prompt[:60]}" if prompt else kind


def _provenance(job: Job, result: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"job_id": job.id, "kind": str(job.kind), "user": job.user_id}
    params = job.canvas_params  # prompts in canvas pixels, as asked (a re-run asks again)
    found |= {k: params[k] for k in _PROVENANCE_PARAMS if params.get(k) is not None}
    if job.mask_blob is not None:
        found["mask"] = job.mask_blob
    found |= {k: result[k] for k in _PROVENANCE_RESULT if result.get(k) is not None}
    return found


def _png_facts(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        size = image.size
    return hashlib.sha256(data).hexdigest(), size
