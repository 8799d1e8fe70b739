"""An HTTP server in a background thread: Flink-shaped JSON about the session's jobs and the page that shows them.

Routes (as Flink's REST API where it fits): /jobs, /jobs/overview, /jobs/<id>, /jobs/<id>/vertices/<vid>
(and its /watermarks, /backpressure), /jobs/<id>/checkpoints, /jobs/<id>/exceptions, /config; / serves the page, /static/ its assets.
"""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Callable

from sqlstream.core.errors import ValidationError
from sqlstream import job_status

STATIC = Path(__file__).parent / "static"
REFRESH_MS = 1000
READ_TRIES = 5  # a job's thread may change a dict while it is read: read again


def _aiohttp():
    try:
        from aiohttp import web
    except ImportError:
        raise ValidationError("The web UI needs aiohttp: pip install 'sqlstream[web]'") from None
    return web


class WebServer:
    """Serves `jobs()` (JobInfo objects, newest last) on host:port; port 0 picks a free one (see `.port`)."""

    def __init__(self, jobs: Callable[[], list], host: str = "127.0.0.1", port: int = 0):
        self.jobs, self.host, self.requested_port = jobs, host, port
        self.port: int | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> "WebServer":
        web = _aiohttp()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(web, ready), name="web-ui", daemon=True)
        self.thread.start()
        ready.wait()
        if self._error is not None:
            raise ValidationError(f"The web UI cannot listen on {self.host}:{self.requested_port} "
                                  f"('rest.port'): {self._error}") from None
        return self

    def stop(self) -> None:
        if self.loop is not None and self.thread is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)

    def _serve(self, web, ready: threading.Event) -> None:
        loop = self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(self._app(web), access_log=None)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self.host, self.requested_port)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
        except OSError as e:
            self._error = e
            ready.set()
            loop.run_until_complete(runner.cleanup())
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    # ---- routes ------------------------------------------------------------------------------------
    def _app(self, web):
        app = web.Application()
        json = web.json_response

        def find(request):
            jid = request.match_info["jid"]
            info = next((j for j in self.jobs() if j.id == jid), None)
            if info is None:
                raise web.HTTPNotFound(text=f'{{"errors": ["Job {jid} not found"]}}', content_type="application/json")
            return info

        async def index(request):
            return web.FileResponse(STATIC / "index.html")

        async def config(request):
            from sqlstream import __version__
            return json({"refresh-interval": REFRESH_MS, "sqlstream-version": __version__,
                         "features": {"web-submit": False, "web-cancel": False}})

        async def jobs(request):
            return json({"jobs": [{"id": j.id, "status": j.status} for j in self.jobs()]})

        async def overview(request):
            return json({"jobs": [job_status.job_overview(j) for j in reversed(self.jobs())]})

        async def detail(request):
            info = find(request)
            return json(_read(lambda: job_status.job_detail(info)))

        def find_vertex(request) -> dict:
            info = find(request)
            found = _read(lambda: job_status.vertex_detail(info, request.match_info["vid"]))
            if found is None:
                raise web.HTTPNotFound(text=f'{{"errors": ["Vertex {request.match_info["vid"]} not found"]}}',
                                       content_type="application/json")
            return found

        async def vertex(request):
            return json(find_vertex(request))

        async def watermarks(request):
            return json(job_status.vertex_watermarks(find_vertex(request)))

        async def backpressure(request):
            return json(job_status.vertex_backpressure(find_vertex(request)))

        async def checkpoints(request):
            info = find(request)
            return json(_read(lambda: job_status.checkpoints(info.job.coordinator)))

        async def exceptions(request):
            return json(job_status.exceptions(find(request)))

        async def favicon(request):
            return web.Response(status=204)

        app.router.add_get("/", index)
        app.router.add_get("/favicon.ico", favicon)
        app.router.add_get("/config", config)
        app.router.add_get("/jobs", jobs)
        app.router.add_get("/jobs/overview", overview)
        app.router.add_get("/jobs/{jid}", detail)
        app.router.add_get("/jobs/{jid}/vertices/{vid}", vertex)
        app.router.add_get("/jobs/{jid}/vertices/{vid}/watermarks", watermarks)
        app.router.add_get("/jobs/{jid}/vertices/{vid}/backpressure", backpressure)
        app.router.add_get("/jobs/{jid}/checkpoints", checkpoints)
        app.router.add_get("/jobs/{jid}/exceptions", exceptions)
        app.router.add_static("/static/", STATIC)
        return app


def _read(fn):
    """Read a running job's state from this thread: its own thread may resize a dict meanwhile."""
    for attempt in range(READ_TRIES):
        try:
            return fn()
        except RuntimeError:
            if attempt == READ_TRIES - 1:
                raise
