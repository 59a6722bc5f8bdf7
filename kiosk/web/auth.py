"""Sessions, login lockout and CSRF tokens for ``kiosk web``.

A session is a signed cookie (HMAC-SHA256 with the site secret) naming the user, the
business day and a random nonce; it is HttpOnly and SameSite=Strict, and ends with the
business day (the next opening time), so nobody stays logged in overnight. Each
request checks the account still exists and reads its counters from the store, so
``kiosk staff remove`` or a change of counters takes effect at once.

HTML forms carry a CSRF token derived from the session nonce; the JSON API refuses a
request whose ``Origin`` is another site (a cross-site page cannot forge it), and
SameSite=Strict keeps the cookie off cross-site requests in the first place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.core.config import Config
from kiosk.core.queue import business_day

COOKIE = "kiosk_session"
LOGIN_CSRF_COOKIE = "kiosk_login"
#: Failures per user before the lockout, and the window they are counted in.
MAX_FAILURES = 5
WINDOW_SECONDS = 300.0


@dataclass(frozen=True)
class Session:
    user: str
    day: str
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    def __init__(self, cfg: Config, secret: bytes):
        self.cfg = cfg
        self.key = hmac.new(secret, b"session", hashlib.sha256).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest())

    def make(self, user: str, now: float) -> tuple[str, int]:
        """(cookie value, max-age seconds until the business day ends)."""
        day = business_day(self.cfg, now)
        body = _b64(json.dumps({"u": user, "d": day, "n": secrets.token_hex(16)}).encode())
        return f"{body}.{self._mac(body)}", max(60, int(self.day_end(day) - now))

    def day_end(self, day: str) -> float:
        """The instant the business day ``day`` ends: the next day's opening time."""
        d = datetime.fromisoformat(day).date() + timedelta(days=1)
        return datetime.combine(d, self.cfg.open_time, self.cfg.tz).timestamp()

    def read(self, value: str | None, now: float) -> Session | None:
        if not value or "." not in value:
            return None
        body, mac = value.rsplit(".", 1)
        if not hmac.compare_digest(self._mac(body), mac):
            return None
        try:
            data = json.loads(_unb64(body))
            s = Session(str(data["u"]), str(data["d"]), str(data["n"]))
        except (ValueError, KeyError, TypeError):
            return None
        if s.day != business_day(self.cfg, now):
            return None  # sessions end with the business day
        return s

    def csrf(self, s: Session) -> str:
        return self._mac(f"csrf|{s.nonce}")

    def check_csrf(self, s: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(s), str(token))

    def tablet_key(self, counter: int) -> str:
        """The key in a counter tablet's link: only a tablet set up from the panel may rate."""
        return self._mac(f"tablet|{counter}")[:22]

    def check_tablet_key(self, counter: int, key: str | None) -> bool:
        return bool(key) and hmac.compare_digest(self.tablet_key(counter), str(key))


class Lockout:
    """At most ``MAX_FAILURES`` wrong PINs per user in ``WINDOW_SECONDS``; then 429.

    Kept in memory: a restart of ``kiosk web`` forgives, which costs an attacker a
    restart they cannot cause; scrypt makes each try slow anyway.
    """

    def __init__(self, clock: object = time.monotonic):
        self.clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, user: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(user, []) if now - t < WINDOW_SECONDS]
        if times:
            self._failures[user] = times
        else:
            self._failures.pop(user, None)
        return times

    def retry_after(self, user: str) -> int:
        """Seconds until ``user`` may try again; 0 when not locked out."""
        now = self.clock()  # type: ignore[operator]
        with self._lock:
            times = self._recent(user, now)
            if len(times) < MAX_FAILURES:
                return 0
            return max(1, int(times[-MAX_FAILURES] + WINDOW_SECONDS - now) + 1)

    def failed(self, user: str) -> None:
        now = self.clock()  # type: ignore[operator]
        with self._lock:
            self._recent(user, now)
            self._failures.setdefault(user, []).append(now)

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(user, None)
