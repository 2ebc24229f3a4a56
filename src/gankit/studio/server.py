"""The studio's web server: a small Starlette app serving one local page and a JSON API over `StudioRun`.

Work is bounded: one model call at a time (the CPU is shared anyway), at most MAX_WAITING requests queued
behind it (the rest are told to retry), and every request body is capped while it is read. Errors come back as
{"error": message} with status 400 (bad input), 413 (too large), 503 (busy) or 500, and the server keeps serving.
"""
from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import GankitError, summary
from . import MAX_UPLOAD_BYTES, StudioRun

STATIC = Path(__file__).parent / "static"
MAX_BODY = 2 * MAX_UPLOAD_BYTES + (64 << 10)  # two pictures (inpainting: image and mask) and the options
MAX_WAITING = 64
REPORT_SUFFIXES = {".html", ".png", ".gif", ".json", ".jsonl", ".yaml", ".txt"}


class TooLarge(Exception):
    pass


class Gate:
    """One model call at a time; at most `waiting` requests queued behind it."""

    def __init__(self, waiting: int = MAX_WAITING):
        self.lock, self.queued, self.waiting = asyncio.Lock(), 0, waiting

    async def run(self, fn, *args):
        if self.queued >= self.waiting:
            return JSONResponse({"error": f"the studio is busy ({self.queued} requests waiting); try again shortly"},
                                503)
        self.queued += 1
        try:
            async with self.lock:
                return JSONResponse(await run_in_threadpool(fn, *args))
        finally:
            self.queued -= 1


async def read_json(request: Request, limit: int = MAX_BODY):
    """The request's JSON body, refused (TooLarge) as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    try:
        return json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        raise GankitError("the request body is not JSON") from None


def build_app(runs: list[StudioRun]) -> Starlette:
    gate = Gate()

    def run_of(request: Request) -> StudioRun:
        index = request.path_params["index"]
        if not 0 <= index < len(runs):
            raise GankitError(f"no run {index}: this studio has runs 0..{len(runs) - 1}")
        return runs[index]

    async def index_page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def list_runs(request: Request) -> Response:
        return JSONResponse([dict(run.describe(), id=i) for i, run in enumerate(runs)])

    async def act(request: Request) -> Response:
        try:
            run = run_of(request)
            body = await read_json(request)
            return await gate.run(run.act, request.path_params["action"], body)
        except TooLarge:
            return JSONResponse({"error": f"the request is larger than {MAX_BODY >> 20} MB"}, 413)
        except GankitError as err:
            return JSONResponse({"error": str(err)}, 400)
        except Exception as err:  # the page shows it; the server keeps serving
            return JSONResponse({"error": f"internal error: {summary(err)}"}, 500)

    async def run_file(request: Request) -> Response:
        """A file of a run folder that its report.html shows (curves, sample grids, metrics, config)."""
        try:
            run = run_of(request)
        except GankitError as err:
            return JSONResponse({"error": str(err)}, 404)
        if run.folder is None:
            return JSONResponse({"error": "this run is a generator export: it has no report"}, 404)
        root = run.folder.resolve()
        path = (root / request.path_params["path"]).resolve()
        if not path.is_relative_to(root) or path.suffix.lower() not in REPORT_SUFFIXES or not path.is_file():
            return JSONResponse({"error": "no such file in the run's report"}, 404)
        return FileResponse(path)

    async def error_handler(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": f"internal error: {summary(exc)}"}, 500)

    return Starlette(routes=[
        Route("/", index_page),
        Route("/api/runs", list_runs),
        Route("/api/runs/{index:int}/{action:str}", act, methods=["POST"]),
        Route("/runs/{index:int}/files/{path:path}", run_file),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ], exception_handlers={500: error_handler})


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, so that a taken port or a bad address is a one-line error before anything starts."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        raise GankitError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    return sock


def make_server(runs: list[StudioRun], sock: socket.socket):
    """A uvicorn server for the app on an already bound socket; `.run(sockets=[sock])` serves until stopped."""
    import uvicorn

    config = uvicorn.Config(build_app(runs), log_level="warning", access_log=False, limit_concurrency=256,
                            timeout_keep_alive=5)
    return uvicorn.Server(config)


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
