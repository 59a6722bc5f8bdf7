"""The ``kiosk web`` application object, built by one function that wires everything."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from kiosk.core.config import Config
from kiosk.core.queue import Queue, rating_labels
from kiosk.core.storage import open_store
from kiosk.core.tokens import load_secret, secret_path
from kiosk.web.auth import COOKIE, Lockout, Session, Sessions
from kiosk.web.live import Broker

HERE = Path(__file__).resolve().parent


@dataclass
class Web:
    """What every view needs; one per application."""

    cfg: Config
    queue: Queue
    broker: Broker
    sessions: Sessions
    lockout: Lockout
    secret: bytes
    templates: Jinja2Templates
    clock: Callable[[], float]

    def session(self, request: Request) -> Session | None:
        return self.sessions.read(request.cookies.get(COOKIE), self.clock())

    async def counters_of(self, s: Session) -> tuple[int, ...] | None:
        from kiosk.core import staff

        return await run_in_threadpool(staff.counters_of, self.queue.store, s.user)

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> Any:
        context.setdefault("site", self.cfg.site)
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)


def build_app(
    cfg: Config,
    db_path: str | Path,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The ASGI app for a site file and store (``kiosk web``, tests, the benchmark).

    ``db_path`` is a SQLite file or a ``postgresql://`` URL (``kiosk.core.storage``); the
    store must exist already (``kiosk init``).
    """
    from kiosk.web.views import api, pages

    store = open_store(db_path)
    queue = Queue(cfg, store, clock)
    secret = load_secret(secret_path(cfg, db_path))
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["rating_labels"] = rating_labels(cfg)
    web = Web(
        cfg=cfg,
        queue=queue,
        broker=Broker(queue),
        sessions=Sessions(cfg, secret),
        lockout=Lockout(monotonic),
        secret=secret,
        templates=templates,
        clock=clock,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        import asyncio

        web.broker.start(asyncio.get_running_loop())
        try:
            yield
        finally:
            web.broker.stop()
            store.close()

    routes = [
        *api.routes(web),
        *pages.routes(web),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.web = web
    return app


__all__ = ["Route", "Web", "build_app"]
