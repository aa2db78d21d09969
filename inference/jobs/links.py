"""How a worker reaches the server: fetch input blobs, store the result's PNG, report.

The embedded worker calls the server in-process (``collab.ai.host.LocalLink``); a
standalone worker speaks HTTP to any server instance (:class:`HttpLink`): ``GET`` and
``PUT /api/blobs`` and ``POST /api/jobs/{id}/report``, with a service token when the servers
require tokens. The server applies the result on behalf of the user who submitted the job.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Protocol

from inference.jobs.model import Report

log = logging.getLogger(__name__)


class LinkError(Exception):
    """The server could not be reached or refused a request; the job is released so that
    another attempt can try again later."""


class ServerUnreachable(LinkError):
    """The server or what it needs is down for now (connection refused or reset, a timeout,
    HTTP 502/503/504, the store unavailable): a routine outage. The worker keeps the job and
    tries again later; this does not spend one of the job's attempts."""


OUTAGE_STATUSES = frozenset({502, 503, 504})  # a proxy without a backend, a store cut


class BlobMissing(Exception):
    """An input blob is not in the store (collected, or never stored): the job fails."""


class ServerLink(Protocol):
    async def fetch_blobs(self, hashes: Sequence[str]) -> dict[str, bytes]:
        """The blobs' bytes by sha256; raises LinkError if one is missing."""
        ...

    async def put_png(self, data: bytes) -> str:
        """Store a PNG as a blob; its sha256."""
        ...

    async def report(self, report: Report) -> bool:
        """Tell the server; False when it refused the report as stale (another attempt owns
        the job now, or it ended): the worker then drops the job."""
        ...


class HttpLink:
    """:class:`ServerLink` over HTTP (stdlib ``urllib`` in threads: no extra dependency).
    Connection failures and 5xx answers are retried ``retries`` times with backoff; then a
    connection failure or a 502/503/504 raises :class:`ServerUnreachable`, another answer
    :class:`LinkError`."""

    def __init__(
        self,
        server_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        base = server_url.rstrip("/")
        if base.startswith("ws"):
            base = "http" + base[2:]
        if not base.startswith(("http://", "https://")):
            raise ValueError(f"server URL must be http(s)://host:port, got {server_url!r}")
        self.base = base
        self._token = token
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff

    def __repr__(self) -> str:
        return f"HttpLink({self.base!r})"

    async def fetch_blobs(self, hashes: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for digest in dict.fromkeys(hashes):
            status, body = await self._call("GET", f"/api/blobs/{digest}")
            if status == 404:
                raise BlobMissing(f"input blob {digest} is not in the store")
            if status != 200:
                raise LinkError(f"blob {digest} could not be fetched: HTTP {status} {body[:200]!r}")
            found[digest] = body
        return found

    async def put_png(self, data: bytes) -> str:
        status, body = await self._call("PUT", "/api/blobs", data, "image/png")
        if status not in (200, 201):
            raise LinkError(f"the result could not be stored: HTTP {status} {body[:200]!r}")
        digest: str = json.loads(body)["sha256"]
        return digest

    async def report(self, report: Report) -> bool:
        body = json.dumps(report.to_dict()).encode()
        path = f"/api/jobs/{report.job_id}/report"
        status, answer = await self._call("POST", path, body, "application/json")
        if status == 200:
            return True
        if status in (404, 409):
            log.info("report refused as stale", extra={"job": report.job_id, "status": status})
            return False
        raise LinkError(f"report of job {report.job_id} refused: HTTP {status} {answer[:200]!r}")

    async def _call(
        self, method: str, path: str, data: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, bytes]:
        delay = self._backoff
        for attempt in range(self._retries + 1):
            try:
                status, body = await asyncio.to_thread(
                    self._blocking, method, path, data, content_type
                )
            except OSError as exc:  # refused, reset, timed out (URLError is an OSError)
                failure, outage = f"{method} {self.base}{path} failed: {exc}", True
            else:
                if status < 500:
                    return status, body
                failure = f"{method} {self.base}{path} answered {status}: {body[:200]!r}"
                outage = status in OUTAGE_STATUSES
            if attempt == self._retries:
                raise ServerUnreachable(failure) if outage else LinkError(failure)
            log.warning("retrying a server call", extra={"error": failure, "in_s": delay})
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _blocking(
        self, method: str, path: str, data: bytes | None, content_type: str | None
    ) -> tuple[int, bytes]:
        headers = {"X-User": "nexus-worker"}
        if content_type:
            headers["Content-Type"] = content_type
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                return int(exc.code), bytes(exc.read())
