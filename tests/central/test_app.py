"""The central server through HTTP on a real uvicorn and a real PostgreSQL.

It keeps the uplink contract of docs/uplink.md (today's kiosks talk to it unchanged),
answers every bad request with a status and a message, and shows the offices on a
dashboard that only its users can read.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import requests

from central.db import CentralDB
from tests.conftest import EXAMPLE

SITE = "nghia-tan"


def ev(seq: int, type: str = "ticket_issued", **kw: Any) -> dict[str, Any]:
    base = {
        "seq": seq,
        "type": type,
        "at": f"2026-11-30T01:{seq // 60:02d}:{seq % 60:02d}.000Z",
        "day": "2026-11-30",
        "code": f"A{seq:03d}",
        "ticket_id": seq,
        "service": "hotich",
        "number": seq,
        "priority": False,
    }
    base.update(kw)
    return base


def post(
    server: Any, token: str, kind: str, doc: dict[str, Any], prefix: str = "/uplink"
) -> requests.Response:
    return requests.post(
        f"{server.url}{prefix}/{kind}",
        data=json.dumps(doc).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )


def batch(*events: dict[str, Any], site: str = SITE) -> dict[str, Any]:
    return {
        "schema": 1,
        "site": site,
        "sent_at": "2026-11-30T01:05:00Z",
        "after": 0,
        "events": list(events),
    }


def test_a_site_token_is_shown_once_and_only_its_hash_is_kept(cdb: CentralDB, db_url: str):
    token = cdb.add_site(SITE, "UBND phường Nghĩa Tân")
    assert len(token) >= 40
    import psycopg

    with psycopg.connect(db_url) as c:
        dump = json.dumps(c.execute("SELECT * FROM sites").fetchall(), default=str)
    assert token not in dump
    assert cdb.site_for_token(token) == SITE
    cdb.revoke_site(SITE)
    assert cdb.site_for_token(token) is None


def test_migrations_apply_once_in_order(cdb: CentralDB):
    assert cdb.migrate() == []  # the fixture applied them already
    from central.db import latest_version

    assert cdb.schema_version() == latest_version() >= 1


def test_a_batch_sent_twice_is_stored_once_and_a_different_event_is_kept_aside(server, cdb):
    token = cdb.add_site(SITE, "Nghĩa Tân")
    first = post(server, token, "events", batch(ev(1), ev(2), ev(3)))
    assert first.status_code == 200, first.text
    assert first.json() == {
        "ok": True,
        "site": SITE,
        "received": 3,
        "stored": 3,
        "duplicates": 0,
        "conflicts": 0,
        "last_seq": 3,
    }
    again = post(server, token, "events", batch(ev(2), ev(3), ev(4)))
    assert again.json()["stored"] == 1 and again.json()["duplicates"] == 2
    clash = post(server, token, "events", batch(ev(4, type="ticket_called", counter=1)))
    assert clash.status_code == 200 and clash.json()["conflicts"] == 1
    got = requests.get(
        f"{server.url}/uplink/events?site={SITE}&after=0",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()
    assert [e["seq"] for e in got["events"]] == [1, 2, 3, 4]
    assert got["events"][3]["type"] == "ticket_issued"  # the first one held stays
    sites = requests.get(
        f"{server.url}/uplink/sites", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert sites.json()["sites"][0]["conflicts"] == 1


def test_a_kiosk_url_with_its_own_prefix_still_reaches_the_server(server, cdb):
    token = cdb.add_site(SITE, "Nghĩa Tân")
    r = post(server, token, "events", batch(ev(1)), prefix="/kiosk/v1")
    assert r.status_code == 200 and r.json()["stored"] == 1


def test_every_refusal_has_its_status_and_a_message(make_server, cdb):
    server = make_server(rate=1000, burst=1000)
    token = cdb.add_site(SITE, "Nghĩa Tân")
    other = cdb.add_site("dich-vong", "Dịch Vọng")
    cases = [
        ("no token", None, batch(ev(1)), 401),
        ("unknown token", "nope", batch(ev(1)), 401),
        ("another site's token", other, batch(ev(1)), 403),
        ("schema 2", token, {**batch(ev(1)), "schema": 2}, 400),
        ("no events", token, batch(), 400),
        ("seqs not increasing", token, batch(ev(2), ev(1)), 400),
        ("a day that is no day", token, batch(ev(1, day="2026-13-45")), 400),
        ("seq as text", token, batch({**ev(1), "seq": "1"}), 400),
    ]
    for what, tok, doc, status in cases:
        headers = {"Content-Type": "application/json"}
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        r = requests.post(
            f"{server.url}/uplink/events", data=json.dumps(doc), headers=headers, timeout=5
        )
        assert r.status_code == status, (what, r.status_code, r.text)
        assert r.json()["ok"] is False and r.json()["error"], what
    r = requests.post(
        f"{server.url}/uplink/events",
        data=b"\xff\xfe not json",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    big = b'{"schema": 1, "pad": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    r = requests.post(
        f"{server.url}/uplink/events",
        data=big,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 413
    assert (
        requests.get(
            f"{server.url}/uplink/events",
            headers={"Authorization": f"Bearer {token}"},
            params={"after": "x"},
            timeout=5,
        ).status_code
        == 400
    )
    # Nothing was stored by any of them.
    assert cdb.events(SITE, 0, 10) == []


def test_a_site_over_its_rate_gets_429_with_retry_after_and_others_are_unaffected(make_server, cdb):
    server = make_server(rate=0.5, burst=3)
    token = cdb.add_site(SITE, "Nghĩa Tân")
    other = cdb.add_site("dich-vong", "Dịch Vọng")
    codes = [
        post(server, token, "heartbeat", {"schema": 1, "site": SITE}).status_code for _ in range(4)
    ]
    assert codes[:3] == [200, 200, 200]
    r = post(server, token, "heartbeat", {"schema": 1, "site": SITE})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert post(server, other, "heartbeat", {"schema": 1, "site": "dich-vong"}).status_code == 200


def test_a_database_restart_gives_503_then_the_server_carries_on_by_itself(server, cdb, pg):
    token = cdb.add_site(SITE, "Nghĩa Tân")
    assert post(server, token, "events", batch(ev(1))).status_code == 200
    pg.stop()
    try:
        r = post(server, token, "events", batch(ev(2)))
        assert r.status_code == 503 and r.headers["Retry-After"]
    finally:
        pg.start()
    for _ in range(50):
        r = post(server, token, "events", batch(ev(2)))
        if r.status_code == 200:
            break
    assert r.status_code == 200 and r.json()["stored"] == 1
    assert [e["seq"] for e in cdb.events(SITE, 0, 10)] == [1, 2]


def test_the_openapi_schema_is_published_with_the_uplink_routes(server):
    doc = requests.get(f"{server.url}/openapi.json", timeout=5).json()
    for path in ("/uplink/events", "/uplink/heartbeat", "/uplink/report", "/metrics", "/"):
        assert path in doc["paths"], path
    assert "bearer" in doc["components"]["securitySchemes"]


def test_todays_kiosk_sends_its_day_to_the_central_server_unchanged(server, cdb, tmp_path: Path):
    """The real `kiosk uplink` command, as deployed, against the central server."""
    token = cdb.add_site(SITE, "UBND phường Nghĩa Tân")
    site = EXAMPLE.read_text(encoding="utf-8")
    assert tomllib.loads(site)["site"]["id"] == SITE
    # The example's [uplink] section, switched on and pointed at the central server.
    site_file = tmp_path / "kiosk.toml"
    head, rest = site.split("[uplink]", 1)
    body, tail = (rest.split("\n[", 1) + [""])[:2]
    lines = [
        ln for ln in body.splitlines() if not ln.strip().startswith(("enabled", "url", "token"))
    ]
    body = "\n".join([f'enabled = true\nurl = "{server.url}/uplink"\ntoken = "{token}"', *lines])
    site_file.write_text(
        head + "[uplink]\n" + body + ("\n[" + tail if tail else ""), encoding="utf-8"
    )
    db = tmp_path / "q.db"

    def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiosk", *args, "--config", str(site_file), "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    for cmd in (
        ("init",),
        ("issue", "hotich"),
        ("issue", "hotich"),
        ("call", "1"),
        ("finish", "1"),
        ("rate", "1", "3"),
    ):
        r = kiosk(*cmd)
        assert r.returncode == 0 or cmd == ("init",), (cmd, r.stderr)
    r = kiosk("uplink", "--send", "--heartbeat")
    assert r.returncode == 0, r.stdout + r.stderr
    held = cdb.events(SITE, 0, 100)
    types = [e["type"] for e in held]
    assert (
        types.count("ticket_issued") == 2 and "ticket_served" in types and "ticket_rated" in types
    )
    r = kiosk("uplink", "--send")  # nothing new: nothing stored twice
    assert len(cdb.events(SITE, 0, 100)) == len(held)
    row = next(
        o
        for o in cdb.overview(__import__("datetime").date.fromisoformat(held[1]["day"]))
        if o["site"] == SITE
    )
    assert row["issued"] == 2 and row["served"] == 1 and row["waiting"] == 1 and row["rated"] == 1
