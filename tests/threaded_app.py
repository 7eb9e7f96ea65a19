"""Serve an aiohttp app from a thread of the test process, on 127.0.0.1 and a free port,
for the in-repo fakes (Immich, Nextcloud): the exodus under test, a subprocess, talks to
it over HTTP while the test reads the fake's state directly."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web


class ThreadedApp:
    def __init__(self, app: web.Application, name: str):
        self.app, self.name = app, name
        self.url = ""  # host:port once started
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            runner = web.AppRunner(self.app)
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.url = f"127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(runner.cleanup())

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        assert ready.wait(10), f"the {self.name} did not start"
        return self.url

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
