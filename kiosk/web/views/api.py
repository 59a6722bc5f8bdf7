"""The JSON API (contract in docs/web-api.md; keep it stable).

Errors are ``{"error": "<Vietnamese>", "detail": "<English>"}`` with 401 (no session),
403 (not your counter, or a cross-site request), 404 (no such counter), 409 (refused
in the current state), 422 (malformed body), 429 (login locked out).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kiosk.core.queue import QueueError, UnknownName
from kiosk.core.store import StoreError
from kiosk.web.auth import COOKIE, MAX_FAILURES
from kiosk.web.live import ticket_json

if TYPE_CHECKING:
    from kiosk.web.app import Web

#: Actions of POST /api/counters/{id}/{action}; the body field each one needs.
ACTIONS: dict[str, str | None] = {
    "next": None,
    "recall": None,
    "skip": None,
    "finish": None,
    "hold": None,
    "return": None,
    "call": "code",
    "transfer": "service",
    "restore": "code",
    "open": None,
    "close": None,
}

#: Refusals in the words a clerk reads (Vietnamese first), by the English message.
_VI = [
    (r"no called ticket to (\w+)", "Quầy chưa gọi số nào để thực hiện việc này."),
    (r"there is no ticket (\S+) today", "Hôm nay không có số {0}."),
    (r"ticket (\S+) is not waiting", "Số {0} không còn chờ nên không gọi được."),
    (r"does not hold", "Quầy không tạm giữ số nào."),
    (r"ticket (\S+) was not skipped", "Số {0} không phải số vắng mặt."),
    (r"ticket (\S+) is already in", "Số {0} đã ở dịch vụ này; chọn dịch vụ khác."),
    (r"unknown service", "Không có dịch vụ này."),
    (r"has no citizen to rate", "Chưa có công dân để đánh giá."),
    (r"already been rated", "Số này đã được đánh giá."),
    (r"busy", "Hệ thống đang bận; thử lại."),
]


def vietnamese(message: str) -> str:
    for pattern, vi in _VI:
        m = re.search(pattern, message)
        if m:
            return vi.format(*m.groups())
    return "Không thực hiện được."


def error(status: int, vi: str, en: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": vi, "detail": en}, status_code=status, headers=headers or None)


def cross_site(request: Request) -> bool:
    """A request a page of another site made (its Origin is not this server)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    host = request.headers.get("host", "")
    return re.sub(r"^https?://", "", origin) != host


async def json_body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def routes(web: Web) -> list[Route]:
    async def login(request: Request) -> Response:
        if cross_site(request):
            return error(403, "Yêu cầu từ trang khác bị từ chối.", "cross-site request refused")
        body = await json_body(request)
        user, pin = (body or {}).get("user"), (body or {}).get("pin")
        if not isinstance(user, str) or not isinstance(pin, str) or not user or not pin:
            return error(
                422,
                "Cần tên đăng nhập và mã PIN.",
                'expected a JSON object {"user": "...", "pin": "..."}',
            )
        result = await do_login(web, user, pin)
        if isinstance(result, Response):
            return result
        cookie, max_age, counters = result
        resp = JSONResponse({"user": user, "counters": list(counters)})
        set_session_cookie(resp, cookie, max_age, request)
        return resp

    async def logout(request: Request) -> Response:
        resp = JSONResponse({"ok": True})
        resp.delete_cookie(COOKIE, path="/")
        return resp

    async def status(request: Request) -> Response:
        return JSONResponse(web.broker.snapshot.public_status(web.cfg))

    async def counter_state(request: Request) -> Response:
        guard = await authorize(web, request, request.path_params["counter"], post=False)
        if isinstance(guard, Response):
            return guard
        snap = await run_in_threadpool(web.broker.refresh)
        return JSONResponse(snap.counter_view(web.cfg, guard))

    async def action(request: Request) -> Response:
        name = request.path_params["action"]
        if name not in ACTIONS:
            return error(404, "Không có thao tác này.", f"unknown action {name}")
        guard = await authorize(web, request, request.path_params["counter"], post=True)
        if isinstance(guard, Response):
            return guard
        body = await json_body(request)
        field = ACTIONS[name]
        arg: str | None = None
        if field is not None:
            value = (body or {}).get(field)
            if body is None or not isinstance(value, str) or not value.strip():
                return error(
                    422,
                    "Thiếu thông tin: " + ("số vé" if field == "code" else "dịch vụ") + ".",
                    f'expected a JSON object {{"{field}": "..."}}',
                )
            arg = value.strip()
        elif body is None:
            return error(422, "Dữ liệu gửi lên không hợp lệ.", "the body must be empty or JSON")
        return await perform(web, guard, name, arg)

    return [
        Route("/api/login", login, methods=["POST"]),
        Route("/api/logout", logout, methods=["POST"]),
        Route("/api/status", status, methods=["GET"]),
        Route("/api/counters/{counter}", counter_state, methods=["GET"]),
        Route("/api/counters/{counter}/{action}", action, methods=["POST"]),
    ]


def set_session_cookie(resp: Response, cookie: str, max_age: int, request: Request) -> None:
    resp.set_cookie(
        COOKIE,
        cookie,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


async def do_login(web: Web, user: str, pin: str) -> Response | tuple[str, int, tuple[int, ...]]:
    """Check a PIN with the lockout; the session cookie, or an error response."""
    from kiosk.core import staff

    wait = web.lockout.retry_after(user)
    if wait:
        return error(
            429,
            f"Sai mã PIN {MAX_FAILURES} lần; thử lại sau {wait // 60 + 1} phút.",
            f"{MAX_FAILURES} wrong PINs within 5 minutes; try again in {wait} s",
            **{"Retry-After": str(wait)},
        )
    acc = await run_in_threadpool(staff.verify, web.queue.store, user, pin)
    if acc is None:
        web.lockout.failed(user)
        return error(401, "Sai tên đăng nhập hoặc mã PIN.", "wrong user or PIN")
    web.lockout.succeeded(user)
    cookie, max_age = web.sessions.make(user, web.clock())
    return cookie, max_age, acc.counters


async def authorize(web: Web, request: Request, counter: str, post: bool) -> Response | int:
    """The counter id a request may act on, or the error response (401/403/404)."""
    if post and cross_site(request):
        return error(403, "Yêu cầu từ trang khác bị từ chối.", "cross-site request refused")
    s = web.session(request)
    if s is None:
        return error(401, "Cần đăng nhập.", "log in first: POST /api/login")
    counters = await web.counters_of(s)
    if counters is None:
        return error(401, "Tài khoản không còn; đăng nhập lại.", "this account no longer exists")
    try:
        cid = web.cfg.counter(int(counter)).id
    except (KeyError, ValueError):
        return error(404, f"Không có quầy {counter}.", f"no counter {counter}")
    if cid not in counters:
        return error(
            403,
            f"Tài khoản {s.user} không được giao quầy {cid}.",
            f"{s.user} is not assigned to counter {cid}",
        )
    return cid


async def perform(web: Web, counter: int, name: str, arg: str | None) -> Response:
    q = web.queue
    cfg = web.cfg

    def run() -> dict[str, Any]:
        ops: dict[str, Callable[[], Any]] = {
            "next": lambda: {"ticket": ticket_json(cfg, q.call_next(counter))},
            "recall": lambda: {"ticket": ticket_json(cfg, q.recall(counter))},
            "skip": lambda: _skip(),
            "finish": lambda: {"ticket": ticket_json(cfg, q.finish(counter))},
            "hold": lambda: {"ticket": ticket_json(cfg, q.hold(counter))},
            "return": lambda: {"ticket": ticket_json(cfg, q.return_held(counter))},
            "call": lambda: {"ticket": ticket_json(cfg, q.call(counter, str(arg)))},
            "transfer": lambda: {"ticket": ticket_json(cfg, q.transfer(counter, str(arg)))},
            "restore": lambda: {"ticket": ticket_json(cfg, q.restore(counter, str(arg)))},
            "open": lambda: _open(True),
            "close": lambda: _open(False),
        }
        return ops[name]()

    def _skip() -> dict[str, Any]:
        skipped, nxt = q.skip(counter)
        return {"ticket": ticket_json(cfg, nxt), "skipped": ticket_json(cfg, skipped)}

    def _open(is_open: bool) -> dict[str, Any]:
        q.set_counter_open(counter, is_open)
        return {"open": is_open}

    try:
        data = await run_in_threadpool(run)
    except (QueueError, UnknownName) as e:
        return error(409, vietnamese(str(e)), str(e))
    except StoreError as e:
        return error(503, "Hệ thống đang bận; thử lại.", str(e))
    return JSONResponse({"counter": counter, "action": name, **data})
