"""The site secret of ``kiosk web`` and what it signs: ticket links and sessions.

The secret is 32 random bytes in a file beside the store (``web-secret``, mode 0600),
made at the first start by whichever process needs it first (the web server, or
the printer when it puts the ticket's link in the QR code); never in the site file,
which is edited on a PC and shared. A ticket's token is an HMAC of the ticket's day,
code and id, so only the printed QR code leads to that ticket's page and nobody can
walk through other people's tickets by changing the number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import socket
from pathlib import Path

from kiosk.core.config import Config

SECRET_NAME = "web-secret"


def secret_path(cfg: Config, db_path: str | os.PathLike[str]) -> Path:
    """``[web] secret_file``, else ``web-secret`` beside the SQLite store (for a PostgreSQL
    store: beside ``[storage] path``, the kiosk's own data folder)."""
    explicit = str(cfg.web.secret_file or "")
    if explicit:
        return Path(explicit)
    text = os.fspath(db_path)
    if text.startswith(("postgresql://", "postgres://")):
        text = str(cfg.storage.path)
    return Path(text).parent / SECRET_NAME


def load_secret(path: Path) -> bytes:
    """Read the secret, making it (atomically, 0600) if it does not exist yet."""
    try:
        data = path.read_bytes().strip()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # the first process to make it wins; others read its secret
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)
    return path.read_bytes().strip()


def ticket_token(secret: bytes, day: str, code: str, ticket_id: int) -> str:
    """The unguessable ``k`` of a ticket's page link (16 URL-safe characters, 96 bits)."""
    mac = hmac.new(secret, f"ticket|{day}|{code}|{ticket_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:12]).decode()


def check_ticket_token(secret: bytes, day: str, code: str, ticket_id: int, token: str) -> bool:
    return hmac.compare_digest(ticket_token(secret, day, code, ticket_id), token)


def public_url(cfg: Config) -> str:
    """Where phones reach ``kiosk web``: ``[web] public_url``, or this machine's LAN address."""
    explicit = str(cfg.web.public_url or "").rstrip("/")
    if explicit:
        return explicit
    host, _, port = str(cfg.web.listen).rpartition(":")
    if host in ("0.0.0.0", "::", "[::]", ""):
        host = lan_address()
    return f"http://{host}:{port}"


def lan_address() -> str:
    """This machine's address on the office LAN (a UDP 'connect' sends nothing)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))
        return str(s.getsockname()[0])
    except OSError:
        return "127.0.0.1"
    finally:
        s.close()


def qr_template(cfg: Config) -> str:
    """The ticket QR's URL template: ``[printer] qr_url``, else the phone page when [web] is on."""
    explicit = str(cfg.printer.qr_url or "")
    if explicit or not cfg.web.enabled:
        return explicit
    return public_url(cfg) + "/t/{day}/{code}?k={token}"
