"""The participatory classroom's web server: a student page, a teacher page, a JSON API.

``trustsim classroom`` serves :func:`create_app` with uvicorn. The pages are
plain HTML and a little JavaScript (``trustsim/viz/pages/``) that poll the API
once a second; every asset is served from here, so the classroom works with no
internet. All decisions are made by :class:`~trustsim.viz.session.Session`.

Security: teacher routes need the token (header ``X-Teacher-Token`` or query
``token``); a student is known by an HTTP-only cookie set when they join, so a
student can act only for their own node; nicknames reach the pages as JSON and
are shown with ``textContent``, never as HTML.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import segno
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from trustsim.viz.classroom import network_figure, shares_figure
from trustsim.viz.session import Refused, Session

PAGES = Path(__file__).with_name("pages")
COOKIE = "trustsim_student"
TICK_S = 0.5  # how often the server checks the round timer


def lan_address() -> str:
    """This machine's address on its network, for the join URL when serving beyond
    loopback. A UDP socket's connect sends nothing; it only picks the route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def urls(host: str, port: int, session: Session) -> tuple[str, str]:
    """The teacher's URL (with the token) and the students' join URL."""
    shown = lan_address() if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    return f"{base}/teacher?token={session.token}", f"{base}/"


def _png(fig: Any) -> Response:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return Response(
        buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "no-store"}
    )


def _page(name: str) -> HTMLResponse:
    return HTMLResponse((PAGES / name).read_text(encoding="utf-8"))


Handler = Callable[[Request], Awaitable[Response]]


def create_app(session: Session, join_url: str) -> Starlette:
    """The ASGI app serving ``session``; ``join_url`` is what the QR code encodes."""

    def refusals(handler: Callable[[Request], Awaitable[Any]]) -> Handler:
        """Run ``handler``; a dict becomes JSON and a :class:`Refused` its status."""

        async def wrapped(request: Request) -> Response:
            try:
                result = await handler(request)
            except Refused as refused:
                return JSONResponse({"error": refused.message}, status_code=refused.status)
            return result if isinstance(result, Response) else JSONResponse(result)

        return wrapped

    def token(request: Request) -> str | None:
        return request.headers.get("x-teacher-token") or request.query_params.get("token")

    async def body(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise Refused(400, "send a JSON object") from None
        if not isinstance(data, dict):
            raise Refused(400, "send a JSON object")
        return data

    # ---- students
    async def student_page(request: Request) -> Response:
        return _page("student.html")

    async def join(request: Request) -> Response:
        data = await body(request)
        client = request.client.host if request.client else "unknown"
        student = session.join(
            str(data.get("code", "")), str(data.get("nickname", "")), client,
            secret=request.cookies.get(COOKIE),
        )  # fmt: skip
        response = JSONResponse(session.view(student.secret))
        response.set_cookie(COOKIE, student.secret, httponly=True, samesite="strict")
        return response

    async def me(request: Request) -> dict[str, Any]:
        return session.view(request.cookies.get(COOKIE))

    async def choose(request: Request) -> dict[str, Any]:
        data = await body(request)
        try:
            round_ = int(data.get("round", -1))
        except (TypeError, ValueError):
            raise Refused(400, "round: a whole number") from None
        secret = request.cookies.get(COOKIE)
        session.choose(secret, round_, str(data.get("choice", "")))
        return session.view(secret)

    # ---- teacher
    async def teacher_page(request: Request) -> Response:
        try:
            session.authorise(token(request))
        except Refused as refused:
            return HTMLResponse(
                f"<!doctype html><title>TrustSim classroom</title><p>{refused.message}.</p>",
                status_code=refused.status,
            )
        return _page("teacher.html")

    async def overview(request: Request) -> dict[str, Any]:
        return {**session.overview(token(request)), "join_url": join_url}

    async def action(request: Request) -> dict[str, Any]:
        key, name = token(request), request.path_params["name"]
        data = await body(request) if name in ("timer", "auto", "shock") else {}
        if name == "start":
            session.start(key)
        elif name == "next":
            session.next_round(key)
        elif name == "end":
            session.end(key)
        elif name == "timer":
            try:
                session.set_timer(key, float(data.get("seconds", 0)))
            except (TypeError, ValueError):
                raise Refused(400, "timer: a number of seconds, 10 to 600") from None
        elif name == "auto":
            session.set_auto(key, bool(data.get("on")))
        elif name == "shock":
            session.shock(key, str(data.get("kind", "")), str(data.get("firm", "")))
        else:
            raise Refused(404, f"no action {name!r}: start, next, end, timer, auto or shock")
        return {**session.overview(key), "join_url": join_url}

    async def qr(request: Request) -> Response:
        session.authorise(token(request))
        svg = io.BytesIO()
        segno.make(join_url, error="m").save(svg, kind="svg", scale=8, border=2)
        return Response(svg.getvalue(), media_type="image/svg+xml")

    # drawing and the simulated worlds take a while: they run in worker threads, so the
    # students' requests are answered meanwhile

    async def network(request: Request) -> Response:
        session.authorise(token(request))
        try:
            world = session.worlds[int(request.path_params["world"])]
        except (ValueError, IndexError):
            raise Refused(404, f"world: 0 to {len(session.worlds) - 1}") from None

        def draw() -> Response:
            with session.lock:
                return _png(network_figure(world.model, [s.node for s in world.students]))

        return await run_in_threadpool(draw)

    async def shares(request: Request) -> Response:
        session.authorise(token(request))

        def draw() -> Response:
            with session.lock:
                titles = [f"world {w.index}: {w.condition}" for w in session.worlds]
                return _png(shares_figure([w.model for w in session.worlds], titles))

        return await run_in_threadpool(draw)

    async def comparison(request: Request) -> dict[str, Any]:
        table = await run_in_threadpool(session.comparison, token(request))
        # U needs two worlds of a condition: with one it is NaN, which JSON spells null
        return {"rows": table.astype(object).where(table.notna(), None).to_dict(orient="records")}

    async def export(request: Request) -> Response:
        data = session.export(token(request))
        return Response(
            data,
            media_type="application/vnd.apache.parquet",
            headers={"Content-Disposition": 'attachment; filename="classroom-choices.parquet"'},
        )

    async def stylesheet(request: Request) -> Response:
        return Response((PAGES / "classroom.css").read_text(), media_type="text/css")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()

        def ticker() -> None:  # rounds close on time even when no page is polling
            while not stop.wait(TICK_S):
                session.tick()

        thread = threading.Thread(target=ticker, name="round-timer", daemon=True)
        thread.start()
        yield
        stop.set()

    routes = [
        Route("/", student_page),
        Route("/classroom.css", stylesheet),
        Route("/api/join", refusals(join), methods=["POST"]),
        Route("/api/me", refusals(me)),
        Route("/api/choose", refusals(choose), methods=["POST"]),
        Route("/teacher", teacher_page),
        Route("/api/teacher", refusals(overview)),
        Route("/api/teacher/{name}", refusals(action), methods=["POST"]),
        Route("/teacher/qr.svg", refusals(qr)),
        Route("/teacher/network/{world}.png", refusals(network)),
        Route("/teacher/shares.png", refusals(shares)),
        Route("/teacher/comparison", refusals(comparison)),
        Route("/teacher/export.parquet", refusals(export)),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
