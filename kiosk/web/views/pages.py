"""HTML pages: login, the staff panel, the counter tablet, the phone ticket page, the board.

Every page works without JavaScript (plain forms, full pages); a few lines of plain
JavaScript (static/app.js) add live updates through server-sent events and keyboard
shortcuts. Each live page has a JSON twin (the API, or its own ``/events`` stream).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from kiosk.core.queue import QueueError, asks_reason, rating_labels
from kiosk.core.tokens import check_ticket_token
from kiosk.web.auth import COOKIE, LOGIN_CSRF_COOKIE
from kiosk.web.live import Snapshot
from kiosk.web.views.api import (
    ACTIONS,
    authorize,
    cross_site,
    do_login,
    perform,
    set_session_cookie,
    vietnamese,
)

if TYPE_CHECKING:
    from kiosk.web.app import Web

#: Seconds after a citizen's service during which the tablet asks for the rating.
RATE_SECONDS = 30.0
#: Seconds between keep-alive comments on an idle event stream (proxies, dead phones).
KEEPALIVE = 25.0

STATUS_TEXT = {
    "waiting": ("Đang chờ", "Waiting"),
    "called": ("Mời đến quầy", "Please go to the counter"),
    "held": ("Tạm giữ", "On hold"),
    "served": ("Đã phục vụ", "Served"),
    "no_show": ("Đã qua lượt", "Missed: ask at the counter"),
    "expired": ("Hết hạn", "Expired"),
}


def sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def stream(web: Web, view: Callable[[Snapshot], Any], event: str) -> StreamingResponse:
    """A server-sent-events stream of ``view(snapshot)``, sent again whenever it changes."""

    async def gen() -> AsyncIterator[bytes]:
        web.broker.clients += 1
        try:
            last: Any = None
            yield b"retry: 2000\n\n"
            while True:
                data = view(web.broker.snapshot)
                if data != last:
                    last = data
                    yield sse(event, data)
                if not await web.broker.changed(KEEPALIVE):
                    yield b": keep-alive\n\n"
        except asyncio.CancelledError:
            raise
        finally:
            web.broker.clients -= 1

    return StreamingResponse(
        gen(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def routes(web: Web) -> list[Route]:
    cfg = web.cfg

    # ------------------------------------------------------------------ login
    async def index(request: Request) -> Response:
        return web.render(request, "index.html", counters=cfg.counters)

    async def login_page(request: Request) -> Response:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_hex(16)
        resp = web.render(
            request,
            "login.html",
            csrf=token,
            error=request.query_params.get("error", ""),
            next=request.query_params.get("next", ""),
        )
        resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/")
        return resp

    async def login_post(request: Request) -> Response:
        form = await request.form()
        token = request.cookies.get(LOGIN_CSRF_COOKIE)
        if not token or form.get("csrf") != token or cross_site(request):
            return web.render(
                request, "error.html", status_code=403, message="Phiên đăng nhập hết hạn."
            )
        user, pin = str(form.get("user", "")).strip(), str(form.get("pin", ""))
        nxt = str(form.get("next", ""))
        if not user or not pin:
            return RedirectResponse("/login?error=" + quote("Cần tên và mã PIN."), 303)
        result = await do_login(web, user, pin)
        if isinstance(result, Response):
            msg = json.loads(bytes(result.body))["error"]
            return RedirectResponse("/login?error=" + quote(msg), 303)
        cookie, max_age, counters = result
        target = nxt if nxt.startswith("/counter/") else f"/counter/{counters[0]}/panel"
        resp = RedirectResponse(target, 303)
        set_session_cookie(resp, cookie, max_age, request)
        return resp

    async def logout(request: Request) -> Response:
        resp = RedirectResponse("/login", 303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    # ------------------------------------------------------------------ staff panel
    async def panel_guard(request: Request, post: bool) -> Response | int:
        guard = await authorize(web, request, request.path_params["counter"], post)
        if isinstance(guard, Response) and guard.status_code == 401 and not post:
            return RedirectResponse("/login?next=" + quote(request.url.path), 303)
        if isinstance(guard, Response) and "json" not in request.headers.get("accept", ""):
            msg = json.loads(bytes(guard.body))["error"]
            return web.render(request, "error.html", status_code=guard.status_code, message=msg)
        return guard

    def panel_context(counter: int, snap: Snapshot, request: Request) -> dict[str, Any]:
        s = web.session(request)
        assert s is not None
        return {
            "view": snap.counter_view(cfg, counter),
            "services": cfg.services,
            "csrf": web.sessions.csrf(s),
            "user": s.user,
            "counter_id": counter,
            "tablet_key": web.sessions.tablet_key(counter),
            "now_ts": web.clock(),
        }

    async def panel(request: Request) -> Response:
        guard = await panel_guard(request, post=False)
        if isinstance(guard, Response):
            return guard
        s = web.session(request)
        assert s is not None
        counters = await web.counters_of(s) or ()
        snap = await run_in_threadpool(web.broker.refresh)
        return web.render(
            request,
            "panel.html",
            message=request.query_params.get("msg", ""),
            my_counters=[c for c in cfg.counters if c.id in counters],
            **panel_context(guard, snap, request),
        )

    async def panel_action(request: Request) -> Response:
        guard = await panel_guard(request, post=True)
        if isinstance(guard, Response):
            return guard
        s = web.session(request)
        assert s is not None
        form = await request.form()
        if not web.sessions.check_csrf(s, str(form.get("csrf", ""))):
            return web.render(
                request,
                "error.html",
                status_code=403,
                message="Biểu mẫu đã hết hạn; tải lại trang. / The form expired; reload.",
            )
        name = request.path_params["action"]
        if name not in ACTIONS:
            return web.render(
                request, "error.html", status_code=404, message="Không có thao tác này."
            )
        field = ACTIONS[name]
        arg = str(form.get(field, "")).strip() if field else None
        if field and not arg:
            resp: Response = JSONResponse(
                {"error": "Thiếu thông tin.", "detail": f"{field} is required"}, status_code=422
            )
        else:
            resp = await perform(web, guard, name, arg)
        if "json" in request.headers.get("accept", ""):
            return resp
        body = json.loads(bytes(resp.body))
        msg = body.get("error") or _done_message(name, body)
        return RedirectResponse(f"/counter/{guard}/panel?msg={quote(msg)}", 303)

    async def panel_events(request: Request) -> Response:
        guard = await panel_guard(request, post=False)
        if isinstance(guard, Response):
            return guard
        template = web.templates.get_template("panel_body.html")
        ctx = panel_context(guard, web.broker.snapshot, request)

        def view(snap: Snapshot) -> dict[str, Any]:
            ctx["view"] = snap.counter_view(cfg, guard)
            ctx["now_ts"] = web.clock()
            return {"html": template.render(ctx), "seq": snap.seq}

        return stream(web, view, "panel")

    # ------------------------------------------------------------------ counter tablet
    def tablet_counter(request: Request) -> int | None:
        try:
            c = cfg.counter(int(request.path_params["counter"])).id
        except (KeyError, ValueError):
            return None
        return c if web.sessions.check_tablet_key(c, request.query_params.get("k")) else None

    def tablet_view(counter: int) -> Callable[[Snapshot], dict[str, Any]]:
        def view(snap: Snapshot) -> dict[str, Any]:
            v = snap.counter_view(cfg, counter)
            cur, last = v["current"], v["last"]
            return {
                "counter": v["counter"],
                "current": cur and {"code": cur["code"], "service_name": cur["service_name"]},
                # Only a citizen who has just finished is asked (the tablet gives up
                # after 30 s), not whoever was served before the tablet was switched on.
                "rate": last
                and last["rating"] is None
                and web.clock() - (last["served_at"] or 0) < RATE_SECONDS
                and {"code": last["code"], "served_at": last["served_at"]},
            }

        return view

    async def tablet(request: Request) -> Response:
        c = tablet_counter(request)
        if c is None:
            return web.render(
                request,
                "error.html",
                status_code=403,
                message="Mở trang máy tính bảng từ bảng điều khiển của quầy.",
            )
        labels = rating_labels(cfg)
        low = [k for k in labels if asks_reason(cfg, k)]
        return web.render(
            request,
            "tablet.html",
            counter=cfg.counter(c),
            key=request.query_params.get("k"),
            labels=labels,
            reason_scores=low,
            reasons=list(cfg.rating.reasons),
            state=tablet_view(c)(web.broker.snapshot),
        )

    async def tablet_events(request: Request) -> Response:
        c = tablet_counter(request)
        if c is None:
            return JSONResponse({"error": "Sai khóa máy tính bảng."}, status_code=403)
        return stream(web, tablet_view(c), "tablet")

    async def tablet_rate(request: Request) -> Response:
        c = tablet_counter(request)
        if c is None or cross_site(request):
            return JSONResponse({"error": "Sai khóa máy tính bảng."}, status_code=403)
        try:
            body = json.loads(await request.body())
            score, code = int(body["score"]), str(body["code"])
            reason = str(body.get("reason") or "")
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "Dữ liệu không hợp lệ."}, status_code=422)
        try:
            t = await run_in_threadpool(web.queue.rate, c, score, reason, code)
        except QueueError as e:
            return JSONResponse({"error": vietnamese(str(e)), "detail": str(e)}, status_code=409)
        return JSONResponse({"code": t.code, "rating": t.rating, "score": score})

    # ------------------------------------------------------------------ phone ticket page
    def ticket_of(request: Request) -> str | None:
        day, code = request.path_params["day"], request.path_params["code"].upper()
        t = web.broker.snapshot.tickets.get(code) if day == web.broker.snapshot.day else None
        if t is None:
            with web.queue.store.read() as tx:
                t = tx.ticket_by_code(day, code)
        if t is None or not check_ticket_token(
            web.secret, t.day, t.code, t.id, request.query_params.get("k", "")
        ):
            return None
        return t.code

    def phone_view(day: str, code: str) -> Callable[[Snapshot], dict[str, Any]]:
        def view(snap: Snapshot) -> dict[str, Any]:
            v = snap.ticket_view(cfg, code) if snap.day == day else None
            if v is None:  # a ticket of another day: it can only have ended
                return {"code": code, "status": "expired", "text": STATUS_TEXT["expired"]}
            v["text"] = STATUS_TEXT.get(v["status"], (v["status"], v["status"]))
            return v

        return view

    async def phone(request: Request) -> Response:
        code = await run_in_threadpool(ticket_of, request)
        if code is None:
            return web.render(
                request,
                "error.html",
                status_code=404,
                message="Không tìm thấy vé. Hãy quét lại mã QR trên vé.",
            )
        day = request.path_params["day"]
        return web.render(
            request,
            "ticket.html",
            t=phone_view(day, code)(web.broker.snapshot),
            k=request.query_params.get("k"),
            day=day,
        )

    async def phone_events(request: Request) -> Response:
        code = await run_in_threadpool(ticket_of, request)
        if code is None:
            return JSONResponse({"error": "Không tìm thấy vé."}, status_code=404)
        return stream(web, phone_view(request.path_params["day"], code), "ticket")

    # ------------------------------------------------------------------ public board
    async def board(request: Request) -> Response:
        return web.render(request, "board.html", s=web.broker.snapshot.public_status(cfg))

    async def board_events(request: Request) -> Response:
        return stream(web, lambda snap: snap.public_status(cfg), "board")

    return [
        Route("/", index),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/counter/{counter}/panel", panel, methods=["GET"]),
        Route("/counter/{counter}/panel/events", panel_events, methods=["GET"]),
        Route("/counter/{counter}/panel/{action}", panel_action, methods=["POST"]),
        Route("/counter/{counter}/tablet", tablet, methods=["GET"]),
        Route("/counter/{counter}/tablet/events", tablet_events, methods=["GET"]),
        Route("/counter/{counter}/tablet/rate", tablet_rate, methods=["POST"]),
        Route("/t/{day}/{code}", phone, methods=["GET"]),
        Route("/t/{day}/{code}/events", phone_events, methods=["GET"]),
        Route("/board", board, methods=["GET"]),
        Route("/board/events", board_events, methods=["GET"]),
    ]


def _done_message(name: str, body: dict[str, Any]) -> str:
    t = body.get("ticket")
    code = t["code"] if t else ""
    return {
        "next": f"Đang gọi {code}" if code else "Không còn ai chờ.",
        "recall": f"Gọi lại {code}",
        "skip": f"Vắng mặt: {body.get('skipped', {}).get('code', '')}"
        + (f"; đang gọi {code}" if code else ""),
        "finish": f"Đã xong {code}",
        "hold": f"Tạm giữ {code}",
        "return": f"{code} trở lại đầu hàng chờ",
        "call": f"Đang gọi {code}",
        "transfer": f"Đã chuyển {code}",
        "restore": f"{code} trở lại đầu hàng chờ",
        "open": "Quầy mở",
        "close": "Quầy đóng",
    }.get(name, "Xong")
