"""Which store a kiosk works on: a PostgreSQL URL, or the path of a SQLite file.

Kept apart from both adapters (kiosk/core/store.py, kiosk/core/pgstore.py) so that
neither imports the other's module, and psycopg loads only for a PostgreSQL store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kiosk.core.store import Store, StoreError


def open_store(spec: str | os.PathLike[str], *, create: bool = False) -> Any:
    """The store ``spec`` names: a PostgreSQL URL, or the path of a SQLite file.

    Only ``create=True`` (``kiosk init``, and ``kiosk run``, which is the kiosk itself)
    may make a new store: a mistyped path or URL otherwise becomes a clear refusal,
    not an empty store whose numbering starts again at 001 on the same day.
    """
    text = os.fspath(spec)
    if text.strip() in ("", ":memory:"):
        raise StoreError(
            f"the queue database path {text!r} keeps nothing on disk (numbers would repeat); "
            "give a file path with --db PATH or [storage] path"
        )
    if text.startswith(("postgresql://", "postgres://")):
        from kiosk.core.pgstore import PgStore

        return PgStore(text, create=create)
    path = Path(text)
    if not create and not path.exists():
        raise StoreError(
            f"there is no queue database at {path}; nothing was changed. Check --db PATH or "
            f"[storage] path for a typing mistake, or create it with `kiosk init --db {path}`"
        )
    return Store(path)
