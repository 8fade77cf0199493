"""The participatory classroom's web server: a student page, a teacher page, a JSON API.

``trustsim classroom`` serves :func:`create_app` with uvicorn. The pages are
plain HTML and a little JavaScript (``trustsim/viz/pages/``) that poll the API
once a second; every asset is served from here, so the classroom works with no
internet. All decisions are made by :class:`~trustsim.viz.session.Session`.

Security: the teacher's link carries a token, which the server moves into an
HTTP-only cookie (and out of the address bar on the projector); the teacher's
actions also need it in the ``X-Teacher-Token`` header, which a forged request
from another site cannot set. A student is known by an HTTP-only cookie set when
they join, so a student can act only for their own node. Nicknames reach the
pages as JSON and are shown with ``textContent``, never as HTML. Request bodies
are capped at 4 KB.
"""

from __future__ import annotations

import html
import io
import json
import logging
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import segno
from matplotlib.figure import Figure
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from trustsim.viz.classroom import network_figure, png_bytes, shares_figure
from trustsim.viz.session import Refused, Session

PAGES = Path(__file__).with_name("pages")
STUDENT_COOKIE, TEACHER_COOKIE = "trustsim_student", "trustsim_teacher"
COOKIE_AGE_S = 6 * 3600  # a lesson, with room to spare: a browser restart keeps the node
MAX_BODY = 4096  # bytes: every request the pages send is far smaller
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


def _page(name: str, **values: str) -> HTMLResponse:
    text = (PAGES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(value))
    return HTMLResponse(text, headers={"Cache-Control": "no-store"})


Handler = Callable[[Request], Awaitable[Response]]


def create_app(session: Session, join_url: str) -> Starlette:
    """The ASGI app serving ``session``; ``join_url`` is what the QR code encodes.

    Every call into the session runs in a worker thread: the session's lock may be
    held for a while (a round's steps, a picture), and the event loop keeps
    answering meanwhile.
    """

    def refusals(handler: Callable[[Request], Awaitable[Any]]) -> Handler:
        """Run ``handler``; a dict becomes JSON and a :class:`Refused` its status."""

        async def wrapped(request: Request) -> Response:
            try:
                result = await handler(request)
            except Refused as refused:
                return JSONResponse({"error": refused.message}, status_code=refused.status)
            return result if isinstance(result, Response) else JSONResponse(result)

        return wrapped

    def call(method: Callable[..., Any], *args: Any) -> Awaitable[Any]:
        return run_in_threadpool(method, *args)

    def token(request: Request) -> str | None:
        """The teacher's token: from its cookie (pages, pictures, export) or a header."""
        return request.headers.get("x-teacher-token") or request.cookies.get(TEACHER_COOKIE)

    def action_token(request: Request) -> str | None:
        """Actions need the header: a cookie alone is what a forged request would carry."""
        return request.headers.get("x-teacher-token")

    async def body(request: Request) -> dict[str, Any]:
        """The request's JSON object, refused beyond MAX_BODY bytes (read no further)."""
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            raise Refused(413, f"a request body is at most {MAX_BODY} bytes")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                raise Refused(413, f"a request body is at most {MAX_BODY} bytes")
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
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
        student = await call(
            session.join, str(data.get("code", "")), str(data.get("nickname", "")), client,
            request.cookies.get(STUDENT_COOKIE),
        )  # fmt: skip
        response = JSONResponse(await call(session.view, student.secret))
        response.set_cookie(
            STUDENT_COOKIE, student.secret, max_age=COOKIE_AGE_S, httponly=True, samesite="strict"
        )
        return response

    async def me(request: Request) -> dict[str, Any]:
        return await call(session.view, request.cookies.get(STUDENT_COOKIE))

    async def choose(request: Request) -> dict[str, Any]:
        data = await body(request)
        try:
            round_ = int(data.get("round", -1))
        except (TypeError, ValueError, OverflowError):
            raise Refused(400, "round: a whole number") from None
        secret = request.cookies.get(STUDENT_COOKIE)
        await call(session.choose, secret, round_, str(data.get("choice", "")))
        return await call(session.view, secret)

    # ---- teacher
    async def teacher_page(request: Request) -> Response:
        given = request.query_params.get("token")
        if given is not None:  # the link's token goes into a cookie, out of the address bar
            try:
                session.authorise(given)
            except Refused as refused:
                return HTMLResponse(f"<p>{refused.message}.</p>", status_code=refused.status)
            response = RedirectResponse("/teacher", status_code=303)
            response.set_cookie(
                TEACHER_COOKIE, given, max_age=COOKIE_AGE_S, httponly=True, samesite="strict"
            )
            return response
        try:
            session.authorise(token(request))
        except Refused as refused:
            return HTMLResponse(
                f"<!doctype html><title>TrustSim classroom</title><p>{refused.message}.</p>",
                status_code=refused.status,
            )
        return _page("teacher.html", token=session.token)

    async def overview(request: Request) -> dict[str, Any]:
        return {**await call(session.overview, token(request)), "join_url": join_url}

    async def action(request: Request) -> dict[str, Any]:
        key, name = action_token(request), request.path_params["name"]
        data = await body(request)
        if name == "start":
            await call(session.start, key)
        elif name == "next":
            await call(session.next_round, key)
        elif name == "end":
            await call(session.end, key)
        elif name == "timer":
            try:
                seconds = float(data.get("seconds", 0))
            except (TypeError, ValueError):
                raise Refused(400, "timer: a number of seconds, 10 to 600") from None
            await call(session.set_timer, key, seconds)
        elif name == "auto":
            await call(session.set_auto, key, bool(data.get("on")))
        elif name == "shock":
            await call(session.shock, key, str(data.get("kind", "")), str(data.get("firm", "")))
        else:
            raise Refused(404, f"no action {name!r}: start, next, end, timer, auto or shock")
        return {**await call(session.overview, key), "join_url": join_url}

    async def qr(request: Request) -> Response:
        session.authorise(token(request))
        svg = io.BytesIO()
        segno.make(join_url, error="m").save(svg, kind="svg", scale=8, border=2)
        return Response(svg.getvalue(), media_type="image/svg+xml")

    drawn: dict[str, tuple[int, bytes]] = {}  # picture -> (session.pictures, PNG)

    def picture(name: str, draw: Callable[[], Figure]) -> Response:
        """The PNG of a picture, drawn once per change of the session's pictures."""
        with session.lock:
            version = session.pictures
            if name not in drawn or drawn[name][0] != version:
                drawn[name] = version, png_bytes(draw())
            data = drawn[name][1]
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})

    async def network(request: Request) -> Response:
        session.authorise(token(request))
        try:
            world = session.worlds[int(request.path_params["world"])]
        except (ValueError, IndexError):
            raise Refused(404, f"world: 0 to {len(session.worlds) - 1}") from None
        return await call(
            picture,
            f"network {world.index}",
            lambda: network_figure(world.model, [s.node for s in world.students]),
        )

    async def shares(request: Request) -> Response:
        session.authorise(token(request))
        titles = [session.shown_label(w) for w in session.worlds]
        return await call(
            picture, "shares", lambda: shares_figure([w.model for w in session.worlds], titles)
        )

    async def comparison(request: Request) -> dict[str, Any]:
        table = await call(session.comparison, token(request))
        # U needs two worlds of a condition: with one it is NaN, which JSON spells null
        return {"rows": table.astype(object).where(table.notna(), None).to_dict(orient="records")}

    async def export(request: Request) -> Response:
        data = await call(session.export, token(request))
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
                try:
                    session.tick()
                except Exception:  # keep the timer alive; the teacher can still advance
                    logging.getLogger("trustsim").exception("classroom: closing a round failed")

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
