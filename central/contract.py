"""The uplink contract of docs/uplink.md, as checks on request bodies.

The kiosks send three kinds of request (a batch of events, a heartbeat, a daily
report), all UTF-8 JSON with ``"schema": 1`` and the site's id. These functions
turn a body into checked values or raise :class:`BadRequest` with the status and a
message the kiosk logs. The central server and the reference receiver both use
them, so the contract is written once.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

SITE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Largest request body accepted; a 5000-event batch is about 1.5 MB.
MAX_BODY = 16 * 1024 * 1024
SCHEMA = 1


def is_day(value: object) -> bool:
    """A real calendar day written YYYY-MM-DD."""
    if not isinstance(value, str) or not DAY_RE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


class BadRequest(Exception):
    """A request that breaks the contract; the message goes back to the kiosk."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def document(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body, with schema 1 and a valid ``site``."""
    if len(body) > MAX_BODY:
        raise BadRequest(413, f"body over {MAX_BODY} bytes; send smaller batches")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest(400, f"the body is not UTF-8 JSON: {e}") from None
    if not isinstance(doc, dict):
        raise BadRequest(400, "the body must be a JSON object")
    if doc.get("schema") != SCHEMA:
        raise BadRequest(400, f"unknown schema {doc.get('schema')!r}; this server reads {SCHEMA}")
    site = doc.get("site")
    if not isinstance(site, str) or not SITE_RE.match(site):
        raise BadRequest(400, "site must be the kiosk's [site] id (letters, digits, -, _)")
    return doc


def events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch's events: objects with a positive, strictly increasing ``seq``, ``type``, ``at``."""
    evs = doc.get("events")
    if not isinstance(evs, list) or not evs:
        raise BadRequest(400, "events must be a non-empty list")
    prev = 0
    for i, e in enumerate(evs):
        if not isinstance(e, dict):
            raise BadRequest(400, f"events[{i}] is not an object")
        seq = e.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq <= 0 or seq >= 2**62:
            raise BadRequest(400, f"events[{i}].seq must be a positive whole number")
        if seq <= prev:
            raise BadRequest(400, f"events[{i}].seq {seq} is not after {prev}; send in order")
        if not isinstance(e.get("type"), str) or not isinstance(e.get("at"), str):
            raise BadRequest(400, f"events[{i}] needs text fields type and at")
        day = e.get("day")
        if day is not None and not is_day(day):
            raise BadRequest(400, f"events[{i}].day must be a day like 2026-11-30 or null")
        prev = seq
    return evs


def report(doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(day, report) of a daily report."""
    day, rep = doc.get("day"), doc.get("report")
    if not is_day(day):
        raise BadRequest(400, "day must be a business day like 2026-11-30")
    if not isinstance(rep, dict):
        raise BadRequest(400, "report must be an object")
    return str(day), rep


def bearer(headers: Any) -> str | None:
    """The bearer token of a request's Authorization header, or None."""
    value = headers.get("authorization") or ""
    if not value.startswith("Bearer "):
        return None
    token = value[7:].strip()
    return token or None
