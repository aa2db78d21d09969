"""AI jobs over REST, as the browser app submits them: generative fills (OpenCV fallback) and
segmentations (GrabCut fallback), to a live instance chosen in turn; every accepted job
(202) is kept with its id, every refusal with its status."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image, ImageDraw

log = logging.getLogger(__name__)

TERMINAL = frozenset({"done", "failed", "cancelled"})


@dataclass
class Submission:
    job_id: str
    doc_id: str
    kind: str
    instance: str
    at: float
    state: str = "queued"
    error: str | None = None
    attempts: int | None = None


def _mask_png(side: int) -> str:
    image = Image.new("L", (side, side), 0)
    ImageDraw.Draw(image).rectangle((side // 4, side // 4, side // 2, side // 2), fill=255)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


class JobSubmitter:
    """Submits a job every ``every`` seconds (jittered) to the next instance that
    ``live_urls()`` lists, as one of a few users (the per-user rate limit stays far away)."""

    def __init__(
        self,
        doc_ids: Sequence[str],
        live_urls: Callable[[], list[tuple[str, str]]],
        *,
        side: int,
        every: float,
        rng: random.Random,
    ) -> None:
        self.doc_ids = list(doc_ids)
        self.live_urls = live_urls
        self.side = side
        self.every = every
        self.rng = rng
        self.accepted: list[Submission] = []
        self.refused: Counter[str] = Counter()  # "503", "ConnectError", ...
        self._mask = _mask_png(side)
        self._turn = 0

    def _body(self, kind: str, n: int) -> dict[str, Any]:
        s = self.side
        if kind == "generative-fill":
            return {"mask_png": self._mask, "prompt": f"chaos {n}", "seed": n, "steps": 2}
        return {"box": [s // 8, s // 8, s - s // 8, s - s // 8], "output": "mask"}

    async def submit_one(self, http: httpx.AsyncClient) -> None:
        urls = self.live_urls()
        if not urls:
            self.refused["no live instance"] += 1
            return
        name, base = urls[self._turn % len(urls)]
        n = self._turn
        self._turn += 1
        kind = "generative-fill" if n % 2 == 0 else "segment"
        doc_id = self.rng.choice(self.doc_ids)
        try:
            response = await http.post(
                f"{base}/api/docs/{doc_id}/ai/{kind}",
                json=self._body(kind, n),
                headers={"X-User": f"ai-user-{n % 5}"},
            )
        except httpx.HTTPError as exc:
            self.refused[type(exc).__name__] += 1
            log.info("job submission failed", extra={"instance": name, "error": repr(exc)})
            return
        if response.status_code != 202:
            self.refused[str(response.status_code)] += 1
            return
        job = response.json()
        self.accepted.append(Submission(job["id"], doc_id, kind, name, time.monotonic()))

    async def run(self, stop: asyncio.Event) -> None:
        """One submission every ``every`` seconds (jittered), each on its own: a slow answer
        (an instance paused, a render under load) does not hold the next one back."""
        pending: set[asyncio.Task[None]] = set()
        async with httpx.AsyncClient(timeout=60) as http:
            while not stop.is_set():
                task = asyncio.create_task(self.submit_one(http))
                pending.add(task)
                task.add_done_callback(pending.discard)
                try:
                    async with asyncio.timeout(self.every * self.rng.uniform(0.5, 1.5)):
                        await stop.wait()
                except TimeoutError:
                    pass
            await asyncio.gather(*pending, return_exceptions=True)

    async def wait_all_ended(self, base_url: str, timeout: float) -> None:
        """Poll every accepted job until each is done, failed or cancelled (or ``timeout``)."""
        pending = [s for s in self.accepted if s.state not in TERMINAL]
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            while pending and time.monotonic() < deadline:
                for sub in pending:
                    try:
                        response = await http.get(f"/api/jobs/{sub.job_id}")
                    except httpx.HTTPError:
                        continue
                    if response.status_code == 200:
                        job = response.json()
                        sub.state, sub.error = job["state"], job.get("error")
                        sub.attempts = job.get("attempts")
                pending = [s for s in pending if s.state not in TERMINAL]
                if pending:
                    await asyncio.sleep(0.5)
