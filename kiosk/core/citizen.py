"""A citizen known by a keyed hash of their ID number, and the site's key.

The Law on Personal Data Protection (2025) asks for the least data: the store keeps
only ``HMAC-SHA256(site key, ID number)``, enough to tell "the same citizen again
today" (daily limit) and to find an online booking made with that ID, and nothing
that leads back to the person without the key. The key is 32 random bytes made per
site the first time it is needed (first start), kept in a file *outside* the store
(next to the database, mode 0600; ``[scanner] key_file`` puts it elsewhere): a
copied or leaked database alone does not reveal whose ID a hash is (12-digit IDs
are few enough to try them all against an unkeyed hash; not against a keyed one).

Nothing else from the card is stored; the initials a ticket may show live in memory
until the ticket is printed (:attr:`kiosk.core.queue.Queue.initials`). See
docs/privacy.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_BYTES = 32
KEY_NAME = "citizen.key"


class CitizenKeyError(Exception):
    """The key file cannot be read or made; the message says what to do."""


@dataclass(frozen=True)
class Citizen:
    """What a ticket's issue may know of the citizen: the keyed hash, whether they are
    of priority age, and the initials to print (never stored)."""

    key_hash: str
    senior: bool = False
    initials: str = ""

    def __repr__(self) -> str:
        return f"Citizen(senior={self.senior})"


class CitizenKey:
    """The site's HMAC key; :meth:`hash` turns an ID number into what is stored."""

    def __init__(self, key: bytes, path: Path | None = None):
        if len(key) < 16:
            raise CitizenKeyError("the citizen key is too short")
        self._key = key
        self.path = path

    def __repr__(self) -> str:
        return f"CitizenKey({self.path})"

    def hash(self, id_number: str) -> str:
        """The stored form of an ID number: hex HMAC-SHA256 under the site key."""
        return hmac.new(self._key, id_number.strip().encode("ascii"), hashlib.sha256).hexdigest()

    @classmethod
    def ephemeral(cls) -> CitizenKey:
        """A key that lives only in memory (an in-memory store: nothing to keep)."""
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> CitizenKey:
        """The key in ``path``; made (random, mode 0600) if the file does not exist."""
        p = Path(path)
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        except OSError as e:
            raise CitizenKeyError(
                f"cannot create the citizen key {p}: {e.strerror}; "
                "check the folder's permissions or set [scanner] key_file"
            ) from None
        else:
            try:
                os.write(fd, secrets.token_hex(KEY_BYTES).encode("ascii") + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        try:
            text = p.read_text("ascii").strip()
            key = bytes.fromhex(text)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            raise CitizenKeyError(
                f"cannot read the citizen key {p} ({e}); restore it from the backup. "
                "A new key would make today's ID hashes unrecognisable"
            ) from None
        return cls(key, p)


def key_path(key_file: str, store_path: object, data_path: str = "") -> Path | None:
    """Where the site's key lives: ``[scanner] key_file``, else next to the SQLite file;
    for a PostgreSQL store beside ``data_path`` (``[storage] path``, the kiosk's own data
    folder, as the web secret); None for an in-memory store (a key in memory)."""
    if key_file:
        return Path(key_file)
    text = str(store_path)
    if text.startswith(("postgresql://", "postgres://")):
        return Path(data_path).parent / KEY_NAME if data_path else None
    if text == ":memory:" or not text:
        return None
    return Path(text).parent / KEY_NAME
