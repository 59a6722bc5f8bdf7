"""Run ``kiosk web`` on uvicorn (plain: asyncio loop and h11, no compiled extras, so the
same wheels install on the Pi), and tell systemd when it is ready."""

from __future__ import annotations

import logging

from kiosk.core.config import Config

log = logging.getLogger(__name__)


class ListenError(Exception):
    """The server could not listen on the address (the CLI turns it into exit 2)."""


def serve(cfg: Config, db_path: str, host: str, port: int) -> None:
    import uvicorn

    from display.sdnotify import Notifier
    from kiosk.web.app import build_app

    app = build_app(cfg, db_path)
    notifier = Notifier()

    class Server(uvicorn.Server):
        async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
            await super().startup(sockets)
            if self.started:
                notifier.notify(f"READY=1\nSTATUS=serving on {host}:{port}")

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="asyncio",
        http="h11",
        ws="none",
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=2,
        server_header=False,
    )
    server = Server(config)
    print(f"kiosk web: serving {cfg.site.name} on http://{host}:{port}", flush=True)
    server.run()
    if not server.started:
        raise ListenError(
            f"cannot listen on {host}:{port} (in use, or not an address of this machine); "
            "choose another with --listen or [web] listen"
        )
