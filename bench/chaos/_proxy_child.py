"""The proxies' process: ``python -m bench.chaos._proxy_child '{"name": ["host", port]}'``.

It prints one JSON line ``{"name": listening_port, ...}``, then obeys lines on stdin:
``cut NAME``, ``restore NAME`` (each answered ``ok``), and exits at end of input. A process
of its own, so that forwarding never waits on the harness's busy event loop.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tests.support.tcp_proxy import TcpProxy


async def _main(routes: dict[str, tuple[str, int]]) -> None:
    proxies = {name: await TcpProxy(host, port).start() for name, (host, port) in routes.items()}
    print(json.dumps({name: proxy.port for name, proxy in proxies.items()}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := (await reader.readline()).decode().strip():
            command, _, name = line.partition(" ")
            proxy = proxies.get(name)
            if proxy is None or command not in ("cut", "restore"):
                print(f"error: unknown command {line!r}", flush=True)
                continue
            if command == "cut":
                proxy.cut()
            else:
                proxy.restore()
            print("ok", flush=True)
    finally:
        await asyncio.gather(*(proxy.close() for proxy in proxies.values()))


if __name__ == "__main__":
    asyncio.run(_main({k: (h, int(p)) for k, (h, p) in json.loads(sys.argv[1]).items()}))
