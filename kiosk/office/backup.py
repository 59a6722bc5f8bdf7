"""``kiosk backup``: a consistent copy of the queue database while the kiosk runs.

Uses SQLite's online backup API through :meth:`kiosk.core.store.Store.copy_file`
(the same as ``sqlite3 .backup``): it copies a snapshot page by page and restarts
if a writer changes the database meanwhile, so the kiosk keeps issuing tickets
during the copy. The copy is written under a temporary name, checked
(``PRAGMA integrity_check``), fsynced and only then renamed, so a power cut never
leaves a half copy that looks complete; a copy that fails its check is deleted.
The oldest copies beyond ``--keep`` are deleted. kiosk-backup.timer runs it nightly.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

from kiosk.core.store import Store, StoreError

PREFIX = "queue-"
SUFFIX = ".db"


def backup(db: Path, dest: Path, keep: int, now: float | None = None) -> tuple[Path, list[Path]]:
    """Copy ``db`` into folder ``dest``; returns (the new copy, copies deleted)."""
    if not db.is_file():
        raise StoreError(f"no queue database at {db}; nothing to back up (check [storage] path)")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot create the backup folder {dest}: {e.strerror}") from None
    stamp = datetime.fromtimestamp(time.time() if now is None else now).strftime("%Y%m%d-%H%M%S")
    final = dest / f"{PREFIX}{stamp}{SUFFIX}"
    part = final.with_name(final.name + ".part")
    try:
        Store.copy_file(db, part)
        with open(part, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, final)
        dfd = os.open(dest, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except StoreError:
        part.unlink(missing_ok=True)
        raise
    except OSError as e:
        part.unlink(missing_ok=True)
        raise StoreError(f"cannot write the backup in {dest}: {e.strerror or e}") from None
    copies = sorted(dest.glob(f"{PREFIX}*{SUFFIX}"))
    old = copies[: max(0, len(copies) - keep)]
    for p in old:
        p.unlink(missing_ok=True)
    return final, old
