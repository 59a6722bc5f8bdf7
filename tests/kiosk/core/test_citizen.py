"""The site's key and the keyed hash of an ID number: made once, private, not
reversible without the key."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from kiosk.core.citizen import CitizenKey, CitizenKeyError, key_path


def test_the_key_is_made_once_with_mode_0600_and_read_back_the_same(tmp_path: Path) -> None:
    p = tmp_path / "citizen.key"
    a = CitizenKey.load_or_create(p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    b = CitizenKey.load_or_create(p)
    assert a.hash("001099012345") == b.hash("001099012345")
    assert len(a.hash("001099012345")) == 64


def test_another_site_key_gives_other_hashes(tmp_path: Path) -> None:
    a = CitizenKey.load_or_create(tmp_path / "a.key")
    b = CitizenKey.load_or_create(tmp_path / "b.key")
    assert a.hash("001099012345") != b.hash("001099012345")


def test_a_hash_cannot_be_reversed_without_the_key(tmp_path: Path) -> None:
    """Trying every ID of a neighbourhood finds the hash only with the site's key: not
    with plain SHA-256 (what a leaked database alone allows) nor with another key."""
    key = CitizenKey.load_or_create(tmp_path / "citizen.key")
    secret_id = "001099012345"
    stored = key.hash(secret_id)
    guesses = [f"001099{n:06d}" for n in range(12000, 13000)]
    wrong = CitizenKey.ephemeral()
    assert not any(hashlib.sha256(g.encode()).hexdigest() == stored for g in guesses)
    assert not any(wrong.hash(g) == stored for g in guesses)
    assert [g for g in guesses if key.hash(g) == stored] == [secret_id]
    assert secret_id not in stored


def test_an_unreadable_key_file_is_a_message_not_a_new_key(tmp_path: Path) -> None:
    p = tmp_path / "citizen.key"
    p.write_text("not hex\n")
    with pytest.raises(CitizenKeyError, match="restore it from the backup"):
        CitizenKey.load_or_create(p)
    assert p.read_text() == "not hex\n"


def test_the_key_lives_next_to_the_database_unless_the_site_file_says(tmp_path: Path) -> None:
    assert key_path("", tmp_path / "queue.db") == tmp_path / "citizen.key"
    assert key_path("/etc/kiosk/k", tmp_path / "queue.db") == Path("/etc/kiosk/k")
    assert key_path("", ":memory:") is None
    assert key_path("", "postgresql://kiosk@db/kiosk", "/var/lib/kiosk/queue.db") == Path(
        "/var/lib/kiosk/citizen.key"
    )


def test_key_and_citizen_never_show_secrets_in_repr(tmp_path: Path) -> None:
    key = CitizenKey.load_or_create(tmp_path / "citizen.key")
    text = (tmp_path / "citizen.key").read_text().strip()
    assert text not in repr(key)
