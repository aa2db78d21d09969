"""One chaos run from start to end: services, instances, painters, jobs, faults, checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from bench.chaos import diagnostics, verify
from bench.chaos.config import ChaosConfig
from bench.chaos.faults import FaultInjector
from bench.chaos.jobs import JobSubmitter
from bench.chaos.ledger import Ledger
from bench.chaos.painters import Painter
from bench.chaos.proxy import ProxyProcess
from bench.chaos.report import ChaosReport, InstanceFigures, count_states
from bench.chaos.services import PostgresSchema, PrivateRedis, free_port
from bench.chaos.topology import Cluster

log = logging.getLogger(__name__)

# Instance settings that make the faults bite within a short run: a snapshot lease shorter
# than a pause (so a paused holder loses it and its late write meets the fence), frequent
# snapshots and compaction, rooms unloaded soon after their last client.
_INSTANCE_ENV = {
    "NEXUS_SNAPSHOT_LEASE_TTL": "5",
    "NEXUS_SNAPSHOT_INTERVAL": "3",
    "NEXUS_SNAPSHOT_EVERY_UPDATES": "300",
    "NEXUS_RENDER_WORKERS": "1",
    "NEXUS_JOBS_LEASE_SECONDS": "10",
    "NEXUS_REMBG_MODEL": "none",
}


def postgres_via(url: str, port: int, schema: str) -> str:
    """``url`` with its host and port replaced by the proxy's and the schema on the path."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
    query = urlencode([*parse_qsl(parts.query), ("search_path", schema)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


async def _create_documents(base_url: str, config: ChaosConfig) -> list[str]:
    doc_ids = [f"chaos-{d:02d}" for d in range(config.documents)]
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for doc_id in doc_ids:
            body = {"id": doc_id, "name": doc_id, "width": config.canvas_side,
                    "height": config.canvas_side}  # fmt: skip
            response = await http.post("/api/docs", json=body, headers={"X-User": "chaos"})
            response.raise_for_status()
    return doc_ids


async def _sample_rss(cluster: Cluster, stop: asyncio.Event) -> None:
    while not stop.is_set():
        for instance in cluster.instances:
            instance.sample_rss()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await stop.wait()


class ChaosRun:
    """The parts of one run, started in order and stopped in reverse."""

    def __init__(self, config: ChaosConfig, root: Path, schema: str) -> None:
        self.config = config
        self.root = root
        self.schema = schema
        self.report = ChaosReport(duration=config.duration)
        self.redis = PrivateRedis(root / "redis", binary=config.redis_server)
        self.ports = [free_port() for _ in range(config.instances)]
        pg = urlsplit(config.database_url)
        routes = {"pg": (pg.hostname or "127.0.0.1", pg.port or 5432)}
        routes |= {f"c{i}": ("127.0.0.1", port) for i, port in enumerate(self.ports)}
        self.proxy = ProxyProcess(routes)
        self.cluster: Cluster | None = None
        self.painters: list[Painter] = []
        self.rng = random.Random(config.seed)

    async def start(self) -> None:
        await self.redis.start()
        await self.proxy.start()
        env = {
            **_INSTANCE_ENV,
            "DATABASE_URL": postgres_via(
                self.config.database_url, self.proxy.ports["pg"], self.schema
            ),
            "REDIS_URL": self.redis.url,
            "NEXUS_REDIS_NAMESPACE": f"chaos{uuid.uuid4().hex[:8]}",
            "NEXUS_ROOM_IDLE_SECONDS": str(self.config.idle_seconds),
        }
        self.cluster = Cluster(self.root, env, self.ports, self.config.workers)
        await self.cluster.start()
        await self.cluster.wait_workers(timeout=300)
        for instance in self.cluster.instances:
            instance.rss_start = instance.sample_rss()

    async def load(self) -> Ledger:
        """Painters and jobs under faults for ``duration``; the ledger of every edit."""
        config, cluster = self.config, self.cluster
        assert cluster is not None
        doc_ids = await _create_documents(cluster.instances[0].http_url, config)
        injector = FaultInjector(config, cluster, self.redis, self.proxy)
        ledger = Ledger(injector.phase_of)
        injector.ledger = ledger
        for i in range(config.clients):
            route = f"c{(i // config.documents) % config.instances}"
            url = f"ws://127.0.0.1:{self.proxy.ports[route]}"
            seed = random.Random(self.rng.random())
            self.painters.append(Painter(i, doc_ids[i % config.documents], url, ledger, seed))
        await asyncio.gather(*(p.start() for p in self.painters))
        await asyncio.gather(*(p.client.wait_synced(timeout=60) for p in self.painters))
        self.submitter = JobSubmitter(
            doc_ids,
            lambda: [
                (i.name, i.http_url) for i in cluster.instances if i.name not in injector.down()
            ],
            side=config.canvas_side,
            every=config.job_every,
            rng=random.Random(self.rng.random()),
        )
        stop = asyncio.Event()
        side = config.canvas_side
        tasks = [
            asyncio.create_task(p.paint(stop, config.edits_per_second, config.presence_every, side))
            for p in self.painters
        ]
        tasks += [
            asyncio.create_task(self.submitter.run(stop)),
            asyncio.create_task(_sample_rss(cluster, stop)),
        ]
        try:
            await injector.run()
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
        self.report.faults = injector.events
        self.doc_ids = doc_ids
        return ledger

    async def check(self, ledger: Ledger) -> None:
        """The end-of-run checks, into the report."""
        config, report, cluster = self.config, self.report, self.cluster
        assert cluster is not None
        report.set_latencies(ledger.latencies)
        report.final_convergence = await verify.wait_painters_converged(
            self.painters, config.converge_timeout
        )
        if report.final_convergence is None:
            diagnostics.dump_painters(self.painters, self.root / "painters-after-faults.json")
        base = cluster.instances[0].http_url
        await self.submitter.wait_all_ended(base, config.jobs_timeout)
        if await verify.wait_painters_converged(self.painters, config.converge_timeout) is None:
            report.replica_problems.append("painters differ after the jobs ended")
            diagnostics.dump_painters(self.painters, self.root / "painters-after-jobs.json")
        expected: dict[str, tuple[dict[int, int], str]] = {}
        for painter in self.painters:
            expected.setdefault(painter.doc_id, verify.replica_state(painter.client.doc))
        report.replica_problems += await verify.instance_mismatches(
            cluster.instances, expected, wait=20
        )
        await asyncio.gather(*(p.stop() for p in self.painters))
        report.leaks = await verify.leaked(cluster.instances, config.idle_seconds + 30)
        if report.leaks:  # what holds the rooms: look at Postgres while they are still held
            await diagnostics.dump_postgres(
                config.database_url, self.schema, self.root / "postgres-at-leak.json"
            )
        for instance in cluster.instances:
            report.instances.append(
                InstanceFigures(
                    name=instance.name,
                    starts=instance.process.starts,
                    rss_start=instance.rss_start,
                    rss_end=instance.sample_rss(),
                    rss_peak=instance.rss_peak,
                    cpu_seconds=instance.cpu_seconds(),
                    error_lines=len(instance.process.error_lines()),
                )
            )
        fresh = await verify.load_fresh(config.database_url, self.schema, self.doc_ids)
        for doc_id, doc in fresh.items():
            if verify.replica_state(doc) != expected[doc_id]:
                report.replica_problems.append(f"{doc_id} loaded from Postgres differs")
        missing = verify.missing_edits(ledger, fresh)
        edits = ledger.edits
        report.edits_sent = len(edits)
        report.edits_confirmed = sum(1 for e in edits if e.confirmed_at is not None)
        report.missing = [e.id for e in missing]
        report.lost = [e.id for e in missing if e.confirmed_at is not None]
        subs = self.submitter.accepted
        report.jobs_accepted = len(subs)
        report.jobs_refused = dict(self.submitter.refused)
        report.jobs_by_state = count_states([s.state for s in subs])
        tasks = await verify.task_states(config.database_url, self.schema)
        report.job_problems = verify.job_problems(subs, fresh, tasks)
        report.job_problems += [
            f"worker {problem}" for w in cluster.workers if (problem := w.exited_early())
        ]
        report.unknown_job_layers = verify.unknown_job_layers(subs, fresh)

    async def stop(self) -> None:
        """Stop everything, whatever failed before; a failure here is reported, not raised."""
        try:
            await asyncio.gather(*(p.stop() for p in self.painters))
        except Exception as exc:
            log.exception("stopping the painters failed")
            self.report.errors.append(f"stopping the painters failed: {exc!r}")
        if self.cluster is not None:
            try:
                self.report.forced_stops = await self.cluster.stop()
            except Exception as exc:
                log.exception("stopping the processes failed")
                self.report.errors.append(f"stopping the processes failed: {exc!r}")
        for name, step in (("proxies", self.proxy.close), ("redis", self.redis.stop)):
            try:
                await step()
            except Exception as exc:
                log.exception("stopping failed", extra={"part": name})
                self.report.errors.append(f"stopping the {name} failed: {exc!r}")


async def run(config: ChaosConfig) -> ChaosReport:
    """Run the soak described by ``config`` and return its report (``report.violations``
    empty: nothing lost, converged, every job once). The work directory (logs, data) is kept
    when the run failed or ``keep_work_dir`` is set."""
    started = time.monotonic()
    root = config.work_dir or Path(tempfile.mkdtemp(prefix="nexus-chaos-"))
    root.mkdir(parents=True, exist_ok=True)
    async with PostgresSchema(config.database_url) as schema:
        chaos = ChaosRun(config, root, schema.name)
        stages = chaos.report.stages
        try:
            mark = time.monotonic()
            await chaos.start()
            stages["setup"], mark = time.monotonic() - mark, time.monotonic()
            ledger = await chaos.load()
            stages["load"], mark = time.monotonic() - mark, time.monotonic()
            await chaos.check(ledger)
            stages["checks"] = time.monotonic() - mark
        except Exception as exc:
            log.exception("chaos run failed")
            chaos.report.errors.append(f"the run itself failed: {exc!r}")
        finally:
            await chaos.stop()
    report = chaos.report
    report.wall_seconds = time.monotonic() - started
    report.load_average = os.getloadavg()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report.harness_cpu_seconds = usage.ru_utime + usage.ru_stime
    if config.work_dir is None and not config.keep_work_dir and not report.violations:
        shutil.rmtree(root, ignore_errors=True)
    else:
        report.work_dir = str(root)
    return report
