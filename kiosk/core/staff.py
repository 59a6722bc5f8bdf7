"""Staff accounts: who may act at which counters, with a memory-hard PIN hash.

A PIN or password is stored only as scrypt(PIN, salt) with a random 16-byte salt per
account (``hashlib.scrypt``, standard library; n = 2**14, r = 8: 16 MB of memory and
about 40 ms here per check, so a stolen store cannot be tried through quickly). There
is no default account: ``kiosk staff add`` makes the first one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.core.config import Config
from kiosk.core.store import Store

USER_PATTERN = re.compile(r"^[a-z0-9._-]{1,32}$")
MIN_PIN = 4
#: scrypt cost; recorded with each hash so it can be raised later without a migration.
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


class StaffError(Exception):
    """A staff command that cannot be done (the message says why and how to fix it)."""


@dataclass(frozen=True)
class Account:
    user: str
    counters: tuple[int, ...]
    created_at: float


def _hash(pin: str, salt: bytes, params: dict[str, int]) -> bytes:
    return hashlib.scrypt(
        pin.encode("utf-8"),
        salt=salt,
        n=params["n"],
        r=params["r"],
        p=params["p"],
        dklen=params["dklen"],
        maxmem=256 * 1024 * 1024,
    )


def check_user(user: str) -> str:
    if not USER_PATTERN.match(user):
        raise StaffError(
            f'user name "{user}" is not allowed; use 1–32 lower-case letters without accents, '
            "digits, '.', '-' or '_' (e.g. lan.nguyen)"
        )
    return user


def add(cfg: Config, store: Store, user: str, pin: str, counters: Sequence[int]) -> Account:
    """Create an account, or replace the PIN and counters of an existing one."""
    check_user(user)
    if len(pin) < MIN_PIN:
        raise StaffError(f"the PIN must have at least {MIN_PIN} characters; nothing was changed")
    if not counters:
        raise StaffError("give at least one counter: --counter N")
    known = {c.id for c in cfg.counters}
    for c in counters:
        if c not in known:
            raise StaffError(
                f"unknown counter {c}; this site has counters "
                f"{', '.join(str(k) for k in sorted(known))}"
            )
    salt = secrets.token_bytes(16)
    digest = _hash(pin, salt, SCRYPT)
    now = time.time()
    ids = tuple(sorted(set(counters)))
    with store.transaction() as tx:
        tx.put_staff(user, salt, digest, json.dumps(SCRYPT), ids, now)
    return Account(user, ids, now)


def accounts(store: Store) -> list[Account]:
    with store.read() as tx:
        return [Account(u, tuple(c), at) for u, c, at in tx.staff_list()]


def remove(store: Store, user: str) -> None:
    with store.transaction() as tx:
        if not tx.remove_staff(user):
            raise StaffError(f'there is no staff account "{user}"; see kiosk staff list')


def counters_of(store: Store, user: str) -> tuple[int, ...] | None:
    """The counters an account may act at, or None if it no longer exists."""
    with store.read() as tx:
        row = tx.staff(user)
    return tuple(row[3]) if row else None


_DUMMY_SALT = secrets.token_bytes(16)


def verify(store: Store, user: str, pin: str) -> Account | None:
    """The account if the PIN is right; None otherwise (same cost either way)."""
    with store.read() as tx:
        row = tx.staff(user) if USER_PATTERN.match(user) else None
    if row is None:
        _hash(pin, _DUMMY_SALT, SCRYPT)  # no timing hint that the user does not exist
        return None
    salt, digest, params, counters = row
    if not hmac.compare_digest(_hash(pin, salt, json.loads(params)), digest):
        return None
    return Account(user, tuple(counters), 0.0)
