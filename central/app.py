"""The central server as an ASGI application (FastAPI on uvicorn).

Three audiences, three sets of routes:

- **kiosks** (bearer token of their site): ``POST /uplink/events``, ``/uplink/heartbeat``,
  ``/uplink/report`` and the read-backs ``GET /uplink/sites``, ``/uplink/events``,
  ``/uplink/reports`` — the contract of docs/uplink.md, unchanged, so today's kiosks
  talk to it with ``[uplink] url = "https://central.example/uplink"``. Any prefix
  before the last path part is accepted, as the reference receiver did.
- **province IT and managers** (HTTP Basic, users made by ``central-server user add``):
  the dashboard ``/``, one page per office ``/office/{site}``, CSV export, a JSON twin of
  each page, live updates over server-sent events (``/live``).
- **Prometheus** (same users): ``/metrics``.

The OpenAPI schema is published at ``/openapi.json`` (docs at ``/docs``). Database
failures answer 503 with ``Retry-After``, which the kiosk obeys, so nothing is lost
while PostgreSQL restarts.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from central import contract
from central.contract import BadRequest
from central.dashboard import Office, offices, svg_bars
from central.db import CentralDB, DatabaseError

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
VERSION = "1"


@dataclass
class Settings:
    tz: str = "Asia/Ho_Chi_Minh"
    #: Requests a site may make per second on average, and in one burst.
    rate: float = 5.0
    burst: int = 30
    #: Seconds between keep-alive comments on the live stream.
    keepalive: float = 15.0
    #: A heartbeat older than this marks an office as out of touch.
    stale_after: float = 300.0


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """A token bucket per site: ``rate`` requests a second, bursts up to ``burst``."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    buckets: dict[str, _Bucket] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, site: str) -> float:
        """0 when the request may go, else the seconds to wait (for Retry-After)."""
        now = self.clock()
        with self.lock:
            b = self.buckets.get(site)
            if b is None:
                b = self.buckets[site] = _Bucket(float(self.burst), now)
            b.tokens = min(float(self.burst), b.tokens + (now - b.at) * self.rate)
            b.at = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / self.rate


class Changes:
    """A version number the uplink routes bump; the live stream waits on it."""

    def __init__(self) -> None:
        self.version = 0
        self._cond: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    async def bump(self) -> None:
        cond = self._condition()
        async with cond:
            self.version += 1
            cond.notify_all()

    async def wait(self, seen: int, timeout: float) -> int:
        cond = self._condition()
        async with cond:
            if self.version == seen:
                try:
                    await asyncio.wait_for(cond.wait(), timeout)
                except TimeoutError:
                    pass
            return self.version


UPLINK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["schema", "site"],
                    "properties": {
                        "schema": {"type": "integer", "enum": [1]},
                        "site": {"type": "string", "pattern": contract.SITE_RE.pattern},
                        "sent_at": {"type": "string"},
                        "after": {"type": "integer"},
                        "events": {"type": "array", "items": {"type": "object"}},
                        "day": {"type": "string"},
                        "report": {"type": "object"},
                    },
                }
            }
        },
    }
}
BEARER: dict[str, Any] = {"security": [{"bearer": []}]}
BASIC: dict[str, Any] = {"security": [{"basic": []}]}


def create_app(db: CentralDB, settings: Settings | None = None) -> FastAPI:
    """The application, wired to ``db`` (opened and migrated by the caller)."""
    settings = settings or Settings()
    tz = ZoneInfo(settings.tz)
    limiter = RateLimiter(settings.rate, settings.burst)
    changes = Changes()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    # Verified Basic credentials, by a hash of the header: scrypt costs ~50 ms a check.
    verified: dict[str, float] = {}

    app = FastAPI(
        title="Queue-kiosk central server",
        version=VERSION,
        description="Receives every office's uplink (docs/uplink.md) and shows a province's "
        "public administrative service centres on one dashboard.",
    )

    def today() -> date:
        return datetime.now(tz).date()

    def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return JSONResponse({"ok": False, "error": message}, status, headers=headers)

    async def uplink_site(request: Request) -> str:
        token = contract.bearer(request.headers)
        if token is None:
            raise BadRequest(401, "missing bearer token; set [uplink] token on the kiosk")
        site = await run_in_threadpool(db.site_for_token, token)
        if site is None:
            raise BadRequest(401, "unknown or revoked token; ask the province for the site's token")
        wait = limiter.take(site)
        if wait > 0:
            raise _TooMany(wait)
        return site

    async def guarded(request: Request, handler: Callable[..., Any]) -> Response:
        try:
            return await handler(request)  # type: ignore[no-any-return]
        except _TooMany as e:
            secs = max(1, math.ceil(e.wait))
            return json_error(
                429, f"too many requests; retry after {secs} s", {"Retry-After": str(secs)}
            )
        except BadRequest as e:
            return json_error(e.status, str(e))
        except DatabaseError as e:
            log.warning("%s", e)
            return json_error(
                503, "the central database is unavailable; retry later", {"Retry-After": "10"}
            )

    # ------------------------------------------------------------ uplink

    async def post_events(request: Request) -> Response:
        site = await uplink_site(request)
        doc = contract.document(await request.body())
        _same_site(site, doc)
        events = contract.events(doc)
        stored, dup, conflicts = await run_in_threadpool(db.add_events, site, events)
        if conflicts:
            log.error("site %s sent %d events that differ from those held", site, conflicts)
        await changes.bump()
        return JSONResponse(
            {
                "ok": True,
                "site": site,
                "received": len(events),
                "stored": stored,
                "duplicates": dup,
                "conflicts": conflicts,
                "last_seq": events[-1]["seq"],
            }
        )

    async def post_heartbeat(request: Request) -> Response:
        site = await uplink_site(request)
        doc = contract.document(await request.body())
        _same_site(site, doc)
        await run_in_threadpool(db.set_heartbeat, site, doc)
        await changes.bump()
        return JSONResponse({"ok": True, "site": site})

    async def post_report(request: Request) -> Response:
        site = await uplink_site(request)
        doc = contract.document(await request.body())
        _same_site(site, doc)
        day, report = contract.report(doc)
        await run_in_threadpool(db.set_report, site, day, report)
        return JSONResponse({"ok": True, "site": site, "day": day})

    async def get_sites(request: Request) -> Response:
        site = await uplink_site(request)
        rows = await run_in_threadpool(db.site_summaries)
        return JSONResponse({"ok": True, "sites": [r for r in rows if r["site"] == site]})

    async def get_events(request: Request) -> Response:
        site = await uplink_site(request)
        q = request.query_params
        _same_site(site, {"site": q.get("site", site)})
        try:
            after = int(q.get("after", "0"))
            limit = max(1, min(10000, int(q.get("limit", "1000"))))
        except ValueError:
            raise BadRequest(400, "after and limit must be whole numbers") from None
        if not 0 <= after < 2**62:
            raise BadRequest(400, "after must be a seq (0 or more)")
        evs = await run_in_threadpool(db.events, site, after, limit)
        return JSONResponse({"ok": True, "site": site, "events": evs})

    async def get_reports(request: Request) -> Response:
        site = await uplink_site(request)
        q = request.query_params
        _same_site(site, {"site": q.get("site", site)})
        first, last = q.get("from", "2000-01-01"), q.get("to", "2999-12-31")
        if not contract.is_day(first) or not contract.is_day(last):
            raise BadRequest(400, "from and to must be days like 2026-11-30")
        reps = await run_in_threadpool(db.reports, site, first, last)
        return JSONResponse({"ok": True, "site": site, "reports": reps})

    routes: list[tuple[str, str, Callable[..., Any], str]] = [
        ("POST", "events", post_events, "Store a batch of events (idempotent by site and seq)"),
        ("POST", "heartbeat", post_heartbeat, "Latest device health of the site"),
        ("POST", "report", post_report, "A closed business day's report"),
        ("GET", "sites", get_sites, "What the server holds for this token's site"),
        ("GET", "events", get_events, "The stored events of the site, in seq order"),
        ("GET", "reports", get_reports, "The daily reports of the site"),
    ]
    for method, name, fn, summary in routes:
        endpoint = _endpoint(guarded, fn)

        extra: dict[str, Any] = dict(BEARER)
        if method == "POST":
            extra.update(UPLINK_BODY)
        app.add_api_route(
            f"/uplink/{name}",
            endpoint,
            methods=[method],
            summary=summary,
            openapi_extra=extra,
            responses={
                400: {"description": "breaks the contract"},
                401: {"description": "missing, unknown or revoked token"},
                403: {"description": "a token speaking for another site"},
                413: {"description": "body too large: halve the batch"},
                429: {"description": "rate limit: wait Retry-After seconds"},
                503: {"description": "database unavailable: retry later"},
            },
            name=f"uplink_{name}_{method.lower()}",
        )
        # Kiosks configured with another prefix (https://host/kiosk/v1) keep working.
        app.add_api_route(
            "/{prefix:path}/" + name,
            endpoint,
            methods=[method],
            include_in_schema=False,
            name=f"uplink_{name}_{method.lower()}_prefixed",
        )

    # --------------------------------------------------------- dashboard

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        key = hashlib.sha256(header.encode("utf-8")).hexdigest()
        if verified.get(key, 0) > time.monotonic():
            return True
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        if not db.check_user(user, password):
            return False
        verified[key] = time.monotonic() + 300
        return True

    async def viewer(request: Request, handler: Callable[[], Any]) -> Response:
        try:
            ok = await run_in_threadpool(authorised, request)
            if not ok:
                return PlainTextResponse(
                    "Cần đăng nhập / Login required",
                    401,
                    headers={"WWW-Authenticate": 'Basic realm="central", charset="UTF-8"'},
                )
            return await handler()  # type: ignore[no-any-return]
        except DatabaseError:
            return PlainTextResponse(
                "Cơ sở dữ liệu trung tâm tạm thời không truy cập được; thử lại sau ít phút.\n"
                "The central database is unavailable; try again in a few minutes.",
                503,
                headers={"Retry-After": "10"},
            )

    def load_offices() -> list[Office]:
        return offices(db.overview(today()), settings.stale_after)

    @app.get(
        "/", response_class=HTMLResponse, summary="Every office on one page", openapi_extra=BASIC
    )
    async def dashboard(request: Request) -> Response:
        async def page() -> Response:
            rows = await run_in_threadpool(load_offices)
            return templates.TemplateResponse(
                request, "dashboard.html", {"offices": rows, "day": today(), "live": True}
            )

        return await viewer(request, page)

    @app.get("/api/offices", summary="The dashboard as JSON", openapi_extra=BASIC)
    async def offices_json(request: Request) -> Response:
        async def page() -> Response:
            rows = await run_in_threadpool(load_offices)
            return JSONResponse(
                {"day": today().isoformat(), "offices": [o.as_dict() for o in rows]}
            )

        return await viewer(request, page)

    @app.get("/fragment/offices", response_class=HTMLResponse, include_in_schema=False)
    async def offices_fragment(request: Request) -> Response:
        async def page() -> Response:
            rows = await run_in_threadpool(load_offices)
            return templates.TemplateResponse(request, "_offices.html", {"offices": rows})

        return await viewer(request, page)

    @app.get("/fragment/office/{site}", response_class=HTMLResponse, include_in_schema=False)
    async def office_fragment(request: Request, site: str) -> Response:
        # An office page's live part: its own figures, not the whole table.
        async def page() -> Response:
            rows = await run_in_threadpool(load_offices)
            office = next((o for o in rows if o.site == site), None)
            if office is None:
                return PlainTextResponse(f"Không có đơn vị {site} / no site {site}", 404)
            return templates.TemplateResponse(request, "_office.html", {"office": office})

        return await viewer(request, page)

    def _month(value: str | None) -> tuple[date, date]:
        d = today().replace(day=1)
        if value:
            try:
                d = date.fromisoformat(value + "-01")
            except ValueError:
                raise BadRequest(400, f"month {value!r} must look like 2026-11") from None
        nxt = (d + timedelta(days=32)).replace(day=1)
        return d, nxt - timedelta(days=1)

    @app.get("/office/{site}.csv", summary="One office's month as CSV", openapi_extra=BASIC)
    async def office_csv(request: Request, site: str) -> Response:
        async def page() -> Response:
            try:
                first, last = _month(request.query_params.get("month"))
            except BadRequest as e:
                return PlainTextResponse(str(e), 400)
            if await run_in_threadpool(db.site, site) is None:
                return PlainTextResponse(f"no site {site}", 404)
            days = await run_in_threadpool(db.daily, site, first, last)
            buf = io.StringIO()
            w = csv.writer(buf)
            cols = [
                "day",
                "issued",
                "served",
                "no_show",
                "expired",
                "wait_mean_min",
                "rated",
                "satisfied",
            ]
            w.writerow(cols)
            for d in days:
                w.writerow([d[c] if d[c] is not None else "" for c in cols])
            # A BOM so that Excel on a Windows PC opens the Vietnamese names correctly.
            return Response(
                "\ufeff" + buf.getvalue(),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{site}-{first:%Y-%m}.csv"'},
            )

        return await viewer(request, page)

    @app.get(
        "/office/{site}", response_class=HTMLResponse, summary="One office", openapi_extra=BASIC
    )
    async def office_page(request: Request, site: str) -> Response:
        async def page() -> Response:
            try:
                first, last = _month(request.query_params.get("month"))
            except BadRequest as e:
                return PlainTextResponse(str(e), 400)
            s = await run_in_threadpool(db.site, site)
            if s is None:
                return PlainTextResponse(f"Không có đơn vị {site} / no site {site}", 404)
            day = today()
            hours = await run_in_threadpool(db.hourly, site, day)
            days = await run_in_threadpool(db.daily, site, first, last)
            office = next(
                (o for o in await run_in_threadpool(load_offices) if o.site == site), None
            )
            return templates.TemplateResponse(
                request,
                "office.html",
                {
                    "site": s,
                    "office": office,
                    "day": day,
                    "month": first.strftime("%Y-%m"),
                    "hours_svg": svg_bars(
                        [(f"{h['hour']}h", h["issued"], h["served"]) for h in hours],
                        "Số phiếu theo giờ hôm nay",
                    ),
                    "days_svg": svg_bars(
                        [(d["day"][8:], d["issued"], d["served"]) for d in days],
                        f"Số phiếu theo ngày, tháng {first.month}/{first.year}",
                    ),
                    "days": days,
                    "live": True,
                },
            )

        return await viewer(request, page)

    @app.get("/live", include_in_schema=False)
    async def live(request: Request) -> Response:
        async def page() -> Response:
            async def stream() -> AsyncIterator[bytes]:
                seen = changes.version
                yield b"retry: 5000\n\n"
                while not await request.is_disconnected():
                    now = await changes.wait(seen, settings.keepalive)
                    if now != seen:
                        seen = now
                        yield f"event: change\ndata: {now}\n\n".encode()
                    else:
                        yield b": keep-alive\n\n"

            return StreamingResponse(
                stream(),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )

        return await viewer(request, page)

    @app.get("/metrics", summary="Prometheus exposition", openapi_extra=BASIC)
    async def metrics(request: Request) -> Response:
        async def page() -> Response:
            from central.metrics import exposition

            rows = await run_in_threadpool(load_offices)
            body, ctype = exposition(rows)
            return Response(body, media_type=ctype)

        return await viewer(request, page)

    @app.get("/healthz", summary="Liveness and database reachability")
    async def healthz() -> Response:
        try:
            version = await run_in_threadpool(db.schema_version)
        except DatabaseError as e:
            return JSONResponse({"ok": False, "error": str(e)}, 503)
        return JSONResponse({"ok": True, "schema": version})

    app.openapi_schema = None
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.db = db
    app.state.changes = changes
    app.state.limiter = limiter
    return app


def _endpoint(
    guarded: Callable[[Request, Callable[..., Any]], Any], fn: Callable[..., Any]
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return await guarded(request, fn)  # type: ignore[no-any-return]

    return endpoint


class _TooMany(Exception):
    def __init__(self, wait: float):
        self.wait = wait


def _same_site(site: str, doc: dict[str, Any]) -> None:
    if doc.get("site") != site:
        raise BadRequest(403, f"this token is for site {site!r}, not {doc.get('site')!r}")
