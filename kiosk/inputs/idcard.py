"""The QR code of a Vietnamese citizen ID card (CCCD, thẻ căn cước), read as text.

Pure functions, no I/O: a scanner (keyboard wedge through SDL, or a serial port)
hands over the text it read and :func:`read` says what it is.

The 2021 CCCD (front) carries seven fields separated by ``|``::

    ID (12 digits) | old CMND (9 digits, may be empty) | full name |
    date of birth DDMMYYYY | sex | permanent address | date of issue DDMMYYYY

The 2024 thẻ căn cước (back) carries more fields after these. Its layout is not
published; the reader does not rely on positions beyond the ID: the ID is the first
field, the name the first field of letters after it, the date of birth the first
DDMMYYYY date after the name, the date of issue the next one (required: a read
without it was cut short). Whatever else is
there is ignored (and never kept: see docs/privacy.md).

Checks that catch a damaged read: the 12-digit ID's 4th digit (century and sex)
and 5th-6th digits (year of birth) must agree with the date of birth (Decree
137/2015, art. 7), dates must exist, and the date of issue must not be before the
birth. A read that starts like a card but fails is ``damaged`` (scan again); text
that is nothing like a card is ``not_card``. Nothing here raises on any input.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

#: Longer text than this is no ID card (the 2024 card's QR is well under 1 KB).
MAX_TEXT = 2000
ID_RE = re.compile(r"^\d{12}$")
OLD_ID_RE = re.compile(r"^(\d{9}|\d{12})?$")
DATE_RE = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
#: 4th digit of the ID → first two digits of the birth year (men even, women odd).
CENTURY = {0: 19, 1: 19, 2: 20, 3: 20, 4: 21, 5: 21, 6: 22, 7: 22, 8: 18, 9: 18}

Layout = Literal["2021", "2024", "other"]


@dataclass(frozen=True)
class IdCard:
    """What the kiosk may use from a card. The raw text and the address are not kept;
    callers hash :attr:`id_number` at once (kiosk.core.citizen) and drop the rest."""

    id_number: str
    name: str
    birth: date
    issued: date
    layout: Layout

    def __repr__(self) -> str:  # never print personal data into a log by accident
        return f"IdCard(layout={self.layout!r}, …)"

    def age_on(self, day: date) -> int:
        """Whole years of age on ``day``."""
        before = (day.month, day.day) < (self.birth.month, self.birth.day)
        return day.year - self.birth.year - before

    @property
    def initials(self) -> str:
        """``Nguyễn Văn An`` → ``N.V.A.`` (what the ticket may show; never the name)."""
        return initials(self.name)


@dataclass(frozen=True)
class NotCard:
    """A code that is not (or no longer) a readable ID card, with the screen's words."""

    kind: Literal["not_card", "damaged"]
    vi: str
    en: str


NOT_CARD = NotCard(
    "not_card",
    "Mã vừa quét không phải thẻ căn cước. Vui lòng quét mã QR trên thẻ căn cước.",
    "This code is not a citizen ID card. Please scan the QR code on your ID card.",
)
DAMAGED = NotCard(
    "damaged",
    "Không đọc được đầy đủ mã QR trên thẻ. Vui lòng quét lại.",
    "The ID card's QR code was not read completely. Please scan it again.",
)


def initials(name: str) -> str:
    """First letter of each word, capitalised, each followed by a dot."""
    words = [w for w in re.split(r"[\s\-]+", unicodedata.normalize("NFC", name)) if w]
    return "".join(w[0].upper() + "." for w in words if w[0].isalpha())


def parse_date(text: str) -> date | None:
    """``DDMMYYYY`` → a date that exists, or None."""
    m = DATE_RE.match(text.strip())
    if not m:
        return None
    d, mo, y = (int(x) for x in m.groups())
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def _is_name(text: str) -> bool:
    t = text.strip()
    return bool(t) and any(c.isalpha() for c in t) and not any(c.isdigit() for c in t)


def read(text: str, today: date | None = None) -> IdCard | NotCard:
    """What a scanned code is: an :class:`IdCard`, or :class:`NotCard` saying why not.

    ``today`` bounds the dates (no birth or issue in the future); default: no bound.
    """
    try:
        return _read(text, today)
    except Exception:  # noqa: BLE001 - a scanner's bytes must never stop the kiosk
        return DAMAGED


def _read(text: str, today: date | None) -> IdCard | NotCard:
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return NOT_CARD
    s = unicodedata.normalize("NFC", text.strip().strip("\x00"))
    fields = [f.strip() for f in s.split("|")]
    if not ID_RE.match(fields[0]):
        # Something else with the card's shape (a scanner that dropped a digit) is a
        # bad read; anything else is another code (a booking, a web link).
        return DAMAGED if len(fields) >= 5 and fields[0].isdigit() else NOT_CARD
    if len(fields) < 4:
        return DAMAGED  # the ID and little else: cut short
    id_number = fields[0]
    if not OLD_ID_RE.match(fields[1]) and not _is_name(fields[1]):
        return DAMAGED
    at = next((i for i in range(1, min(4, len(fields))) if _is_name(fields[i])), None)
    if at is None:
        return DAMAGED
    name = " ".join(fields[at].split())
    dates = [(i, parse_date(f)) for i, f in enumerate(fields) if i > at]
    dated = [(i, d) for i, d in dates if d is not None]
    if not dated:
        return DAMAGED
    if len(dated) < 2:
        return DAMAGED  # every layout has a date of issue after the birth: cut short
    (birth_at, birth), (_, issued) = dated[0], dated[1]
    if issued < birth:
        return DAMAGED
    if today is not None and (birth > today or issued > today):
        return DAMAGED
    if CENTURY[int(id_number[3])] * 100 + int(id_number[4:6]) != birth.year:
        return DAMAGED  # a digit of the ID or of the birth date was misread
    if len(fields) == 7 and at == 2 and birth_at == 3 and parse_date(fields[6]) is not None:
        layout: Layout = "2021"
    elif len(fields) > 7 and at == 2 and birth_at == 3:
        layout = "2024"
    else:
        layout = "other"
    return IdCard(id_number, name, birth, issued, layout)


def looks_like_card(text: str) -> bool:
    """Whether text should be handled as an ID card at all (a card or a damaged one),
    rather than as a booking code: it begins with digits and has ``|`` separators, or
    is a 12-digit ID."""
    s = text.strip()
    return ("|" in s and s[:1].isdigit()) or bool(ID_RE.match(s))


def synthetic(
    id_number: str = "001099012345",
    name: str = "Nguyễn Văn An",
    birth: str = "01011999",
    *,
    old: str = "",
    sex: str = "Nam",
    address: str = "Số 1 Phố Giả Định, Phường Mẫu, Hà Nội",
    issued: str = "15062021",
    extra: tuple[str, ...] = (),
) -> str:
    """A made-up card's QR text in the 2021 layout (``extra`` fields: the 2024 card's).

    For tests, the simulator and the benchmark: never real people's data.
    """
    return "|".join((id_number, old, name, birth, sex, address, issued, *extra))


def synthetic_id(birth: date, female: bool = False, province: int = 1, serial: int = 12345) -> str:
    """A made-up 12-digit ID consistent with ``birth`` (province, century/sex, year, serial)."""
    century = {18: 8, 19: 0, 20: 2, 21: 4, 22: 6}[birth.year // 100] + int(female)
    return f"{province:03d}{century}{birth.year % 100:02d}{serial:06d}"
