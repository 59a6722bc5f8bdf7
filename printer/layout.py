"""The ticket, drawn with Pillow into a 1-bit image as wide as the paper's print head.

A ticket is three strips stacked top to bottom:

* **head** (site header lines, optional logo, the service name in Vietnamese and
  English): the same for every ticket of a service, drawn once and cached;
* **body** (the number, very large and in outline so the print head does not
  have to blacken a solid block; the priority mark; date and time; people
  ahead and the estimated wait; an optional QR code): drawn per ticket;
* **foot** (footer lines): drawn once.

Text is NFC-normalised (a decomposed "ệ" from a Windows editor prints the same as
a composed one) and wrapped to the width. Each strip is drawn in greyscale and
thresholded here, at 50 %, so python-escpos and the printer never dither text.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from printer.fonts import font

log = logging.getLogger(__name__)

#: Dots across the print head: 58 mm paper prints 48 mm, 80 mm prints 72 mm, at 8 dots/mm.
WIDTHS = {58: 384, 80: 576}
#: Greyscale → 1-bit at 50 %: no dithering of text edges.
THRESHOLD = [0] * 128 + [255] * 128
#: Nobody ahead: the words the kiosk screen shows then (kiosk/ui/text.py "wait_none").
CALLED_SOON = ("Bạn sắp được gọi", "You will be called shortly")
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")

FontT = ImageFont.FreeTypeFont


def nfc(text: str) -> str:
    """Composed Unicode (NFC): one code point per Vietnamese letter, as the font maps them."""
    return unicodedata.normalize("NFC", text)


#: A space the ticket never breaks at. In the site file write it as ``\u00A0`` inside
#: a quoted string: ``name = "Cấp đổi giấy\u00A0phép"`` (docs/printers.md).
NBSP = "\u00a0"
#: Where a name's parts meet; a long name breaks here first, the mark ending the line.
SEPARATORS = re.compile(r"(?<=\S)( [–—-]|[,;:])(?= )")
#: Compound words of administrative names that a line never splits (lower case, NFC).
#: Longer ones are tried first, so "hộ kinh doanh" wins over "kinh doanh".
COMPOUNDS = frozenset(
    nfc(c)
    for c in (
        # fields and offices
        "tư pháp",
        "hộ tịch",
        "chứng thực",
        "đất đai",
        "xây dựng",
        "lao động",
        "thương binh",
        "xã hội",
        "kinh tế",
        "hộ kinh doanh",
        "kinh doanh",
        "doanh nghiệp",
        "hợp tác xã",
        "trả kết quả",
        "kết quả",
        "tra cứu",
        "hồ sơ",
        "hành chính",
        "công dân",
        "người có công",
        "bảo hiểm",
        "y tế",
        "giáo dục",
        "đào tạo",
        "tài nguyên",
        "môi trường",
        "văn hóa",
        "thể thao",
        "du lịch",
        "nông nghiệp",
        "giao thông",
        "vận tải",
        "tài chính",
        "nội vụ",
        "quy hoạch",
        "nhà ở",
        "cư trú",
        "quốc tịch",
        "lý lịch",
        "tư pháp",
        "chính sách",
        "bảo trợ",
        "trẻ em",
        "gia đình",
        "cá nhân",
        "tổ chức",
        "tôn giáo",
        "dân tộc",
        "an ninh",
        "quốc phòng",
        "thuế",
        "công thương",
        "khoa học",
        "công nghệ",
        "thông tin",
        "truyền thông",
        "phòng cháy",
        "chữa cháy",
        # acts and documents
        "đăng ký",
        "cấp đổi",
        "cấp lại",
        "cấp mới",
        "giấy phép",
        "giấy tờ",
        "giấy chứng nhận",
        "chứng nhận",
        "quyền sử dụng",
        "sử dụng",
        "khai sinh",
        "khai tử",
        "kết hôn",
        "ly hôn",
        "giám hộ",
        "nhận con",
        "thay đổi",
        "cải chính",
        "bản sao",
        "bản chính",
        "văn bản",
        "hợp đồng",
        "giao dịch",
        "thừa kế",
        "tiếp nhận",
        "trả lời",
        "khiếu nại",
        "tố cáo",
        "phản ánh",
        "kiến nghị",
        "thủ tục",
        "dịch vụ",
        "trực tuyến",
        "hỗ trợ",
        "hướng dẫn",
        "tư vấn",
        "thanh toán",
        "lệ phí",
        "ưu tiên",
        "người cao tuổi",
        "khuyết tật",
        "phụ nữ",
        "mang thai",
        # places and bodies
        "ủy ban",
        "ủy ban nhân dân",
        "nhân dân",
        "trung tâm",
        "phục vụ",
        "bộ phận",
        "một cửa",
        "tỉnh",
        "thành phố",
        "phường",
        "thị trấn",
        "việt nam",
        "cơ quan",
        "thẩm quyền",
        "đường dây nóng",
        "xin cảm ơn",
        "vui lòng",
        "thời gian",
        "dự kiến",
        "số thứ tự",
    )  # fmt: skip
    if " " in c
)
_LONGEST = max(c.count(" ") + 1 for c in COMPOUNDS)
_PUNCT = ".,;:!?()\"'“”–—-"


def _shown(s: str) -> str:
    return s.replace(NBSP, " ")


def _units(words: list[str], longest: int = _LONGEST) -> list[str]:
    """Words with compounds of up to ``longest`` words (and words already joined by
    :data:`NBSP`) as one unit, joined by NBSP; a lone dash sticks to the word before."""
    keys = [w.strip(_PUNCT).lower() for w in words]
    units: list[str] = []
    i = 0
    while i < len(words):
        n = 1
        for k in range(min(longest, len(words) - i), 1, -1):
            if " ".join(keys[i : i + k]) in COMPOUNDS:
                n = k
                break
        unit = NBSP.join(words[i : i + n])
        if units and not keys[i]:  # punctuation only ("–"): never the start of a line
            units[-1] += NBSP + unit
        else:
            units.append(unit)
        i += n
    return units


def _fill(pieces: list[str], f: FontT, width: int, sep: str = " ") -> list[str]:
    """Greedy lines of whole pieces; a piece wider than a line is split at its own
    spaces, then inside a word (a word longer than a whole line)."""
    lines: list[str] = []
    line = ""
    for piece in pieces:
        trial = f"{line}{sep}{piece}" if line else piece
        if f.getlength(_shown(trial)) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = ""
        if f.getlength(_shown(piece)) <= width:
            line = piece
        elif NBSP in piece:
            # A compound wider than a line: split at the break that keeps the most
            # (its shorter compounds: "Hộ | kinh doanh" before "Hộ kinh | doanh").
            words = piece.split(NBSP)
            shorter = _units(words, len(words) - 1)
            if len(shorter) == 1:  # no shorter compound inside: plain words, dash kept
                shorter = _units(words, 1)
            *full, line = _fill(shorter if len(shorter) > 1 else words, f, width)
            lines += full
        else:
            while f.getlength(piece) > width:
                cut = len(piece)
                while cut > 1 and f.getlength(piece[:cut]) > width:
                    cut -= 1
                lines.append(piece[:cut])
                piece = piece[cut:]
            line = piece
    lines.append(line)
    return lines


def wrap(text: str, f: FontT, width: int) -> list[str]:
    """Lines of ``text`` no wider than ``width`` dots.

    Vietnamese words are syllables, so a break at any space can split a word
    ("Thương / binh"). A line breaks, in order of preference: after a separator of
    the name's parts (" – ", ","), then at a space that is not inside a compound of
    :data:`COMPOUNDS` nor a :data:`NBSP`, then inside a compound, and inside a word
    only when the word is longer than a whole line.
    """
    lines: list[str] = []
    for para in nfc(text).splitlines() or [""]:
        para = re.sub(r"[ \t]+", " ", para).strip(" ")
        if f.getlength(_shown(para)) <= width:
            lines.append(_shown(para))
            continue
        # Segments end with their separator: "Lao động –" | "Thương binh và Xã hội".
        cuts = [m.end(1) for m in SEPARATORS.finditer(para)]
        bounds = zip([0, *[c + 1 for c in cuts]], [*cuts, len(para)], strict=True)
        segments = [para[a:b] for a, b in bounds]
        out: list[str] = []
        for seg in segments:
            if out and f.getlength(_shown(f"{out[-1]} {seg}")) <= width:
                out[-1] = f"{out[-1]} {seg}"
            elif f.getlength(_shown(seg)) <= width:
                out.append(seg)
            else:
                out += _fill(_units(seg.split(" ")), f, width)
        lines += [_shown(x) for x in out]
    return lines


@dataclass(frozen=True)
class TicketInfo:
    """What varies from ticket to ticket (the head is per service, the foot per site)."""

    code: str
    service_id: str
    service_name: str
    service_name_en: str = ""
    priority: bool = False
    issued_at: datetime | None = None  # local time of the office
    ahead: int | None = None
    wait_minutes: int | None = None
    qr_text: str = ""
    reprint_at: datetime | None = None  # set on a reprint: printed under the number
    #: Initials of the citizen's name from a scanned ID card ("N.V.A."), never the name.
    initials: str = ""
    #: Documents to bring, from the kiosk's procedure guide (at most
    #: :data:`CHECKLIST_LINES` printed lines), under the procedure's name.
    checklist: tuple[str, ...] = ()
    checklist_title: str = ""


#: Printed lines of a ticket's checklist at most: the ticket stays a ticket.
CHECKLIST_LINES = 8
CHECKLIST_MORE = "… xem đủ qua mã QR · more via the QR code"


def checklist_lines(items: Sequence[str], f: FontT, width: int) -> list[str]:
    """The checklist wrapped to ``width`` dots, one "• " per document, at most
    :data:`CHECKLIST_LINES` lines; when more would not fit, the last line says the
    QR code has the rest."""
    out: list[str] = []
    for item in items:
        lines = wrap(f"• {item}", f, width)
        out.extend(lines)
    if len(out) <= CHECKLIST_LINES:
        return out
    return [*out[: CHECKLIST_LINES - 1], CHECKLIST_MORE]


class Canvas:
    """A greyscale strip that grows downwards; :meth:`done` thresholds it to 1-bit."""

    def __init__(self, width: int, height: int):
        self.width = width
        self.img = Image.new("L", (width, height), 255)
        self.draw = ImageDraw.Draw(self.img)
        self.y = 0

    def gap(self, dots: float) -> None:
        self.y += int(dots)

    def text(self, lines: Sequence[str], f: FontT, margin: int, align: str = "center") -> None:
        ascent, descent = f.getmetrics()
        # Stacked marks on capitals (Ấ, Ỗ) rise above the font's ascent.
        pad = max(1, f.size // 7)
        for line in lines:
            w = f.getlength(line)
            x = (self.width - w) / 2 if align == "center" else margin
            self.draw.text((x, self.y + pad), line, font=f, fill=0, anchor="la")
            self.y += int(pad + ascent + descent)

    def rule(self, margin: int, thickness: int = 2) -> None:
        self.draw.rectangle(
            (margin, self.y, self.width - margin - 1, self.y + thickness - 1), fill=0
        )
        self.y += thickness

    def paste(self, img: Image.Image) -> None:
        self.img.paste(img, ((self.width - img.width) // 2, self.y))
        self.y += img.height

    def done(self) -> Image.Image:
        return self.img.crop((0, 0, self.width, self.y)).point(THRESHOLD, "1")


class TicketLayout:
    """Draws tickets for one site and paper width; caches the fixed strips."""

    def __init__(
        self,
        width: int = 576,
        header: Sequence[str] = (),
        footer: Sequence[str] = (),
        logo: str | Path | None = None,
    ):
        if width % 8 or not 128 <= width <= 2048:
            raise ValueError(
                f"ticket width must be a multiple of 8 dots from 128 to 2048, not {width}"
            )
        self.width = width
        self.header = [nfc(h) for h in header]
        self.footer = [nfc(f) for f in footer]
        self.logo = Path(logo) if logo else None
        self.s = width / 576  # sizes below are for 80 mm paper and scale down for 58 mm
        self.margin = max(4, round(8 * self.s))
        self._heads: dict[tuple[str, str, str], Image.Image] = {}
        self._foot: Image.Image | None = None

    def size(self, dots: float) -> int:
        return max(10, round(dots * self.s))

    @property
    def inner(self) -> int:
        return self.width - 2 * self.margin

    # ------------------------------------------------------------------ strips
    def head(self, service_id: str, name: str, name_en: str = "") -> Image.Image:
        """Site lines, logo and the service name; drawn once per service."""
        key = (service_id, name, name_en)
        img = self._heads.get(key)
        if img is None:
            img = self._heads[key] = self._draw_head(name, name_en)
        return img

    def _draw_head(self, name: str, name_en: str) -> Image.Image:
        c = Canvas(self.width, 1600)
        c.gap(self.size(6))
        logo = self._logo_image()
        if logo is not None:
            c.paste(logo)
            c.gap(self.size(6))
        hf = font(self.size(22), True)
        for line in self.header:
            c.text(wrap(line, hf, self.inner), hf, self.margin)
        if self.header:
            c.gap(self.size(8))
            c.rule(self.margin * 4, max(1, self.size(2) // 5))
            c.gap(self.size(10))
        nf = font(self.size(32), True)
        c.text(wrap(name, nf, self.inner), nf, self.margin)
        if name_en:
            ef = font(self.size(20))
            c.text(wrap(name_en, ef, self.inner), ef, self.margin)
        c.gap(self.size(4))
        return c.done()

    def _logo_image(self) -> Image.Image | None:
        if self.logo is None:
            return None
        try:
            with Image.open(self.logo) as src:
                im = src.convert("RGBA")
        except (OSError, ValueError) as e:
            # A ticket without the logo is better than no ticket.
            log.warning("ticket logo %s left out: %s", self.logo, e)
            return None
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, im).convert("L")
        box = (self.inner, self.size(110))
        im.thumbnail(box, Image.Resampling.LANCZOS)
        return im

    def foot(self) -> Image.Image:
        """The footer lines; drawn once."""
        if self._foot is None:
            c = Canvas(self.width, 800)
            c.gap(self.size(6))
            if self.footer:
                ff = font(self.size(20))
                for line in self.footer:
                    c.text(wrap(line, ff, self.inner), ff, self.margin)
            c.gap(self.size(8))
            self._foot = c.done()
        return self._foot

    def number_font(self, code: str) -> FontT:
        """The largest bold size at which the code fits the width (at most ~20 mm tall)."""
        size = self.size(180)
        while True:
            f = font(size, True)
            left, _, right, _ = f.getbbox(code, anchor="ls", stroke_width=self.stroke)
            if size <= 24 or right - left <= self.inner - 2 * self.margin:
                return f
            size = int(size * 0.94)

    @property
    def stroke(self) -> int:
        return max(3, round(5 * self.s))

    def number_image(self, code: str) -> Image.Image:
        """The code in outline (white inside a black stroke), cropped to its ink (greyscale)."""
        f = self.number_font(code)
        left, top, right, bottom = f.getbbox(code, anchor="ls", stroke_width=self.stroke)
        img = Image.new("L", (int(right - left), int(bottom - top)), 255)
        ImageDraw.Draw(img).text(
            (-left, -top),
            code,
            font=f,
            fill=255,
            anchor="ls",
            stroke_width=self.stroke,
            stroke_fill=0,
        )
        return img

    def body(self, t: TicketInfo) -> Image.Image:
        """The number, priority mark, date and time, people ahead and wait, QR code."""
        c = Canvas(self.width, 2000)
        c.gap(self.size(4))
        lf = font(self.size(20))
        c.text(["SỐ THỨ TỰ · YOUR NUMBER"], lf, self.margin)
        c.gap(self.size(6))
        c.paste(self.number_image(nfc(t.code)))
        c.gap(self.size(14))
        if t.priority:
            pf = font(self.size(26), True)
            label = "ƯU TIÊN · PRIORITY"
            left, top, right, bottom = pf.getbbox(label, anchor="ls")
            pad, line = self.size(8), max(2, self.size(3))
            x0 = (self.width - (right - left)) // 2 - pad - line
            x1 = x0 + (right - left) + 2 * (pad + line)
            c.draw.rectangle(
                (x0, c.y, x1, c.y + bottom - top + 2 * (pad + line)), outline=0, width=line
            )
            c.draw.text(
                (x0 + line + pad - left, c.y + line + pad - top),
                label,
                font=pf,
                fill=0,
                anchor="ls",
            )
            c.gap(bottom - top + 2 * (pad + line) + self.size(10))
        if t.reprint_at is not None:
            c.text(
                [f"IN LẠI · REPRINT {t.reprint_at:%H:%M}"], font(self.size(20), True), self.margin
            )
        if t.initials:
            c.text([nfc(t.initials[:12])], font(self.size(22), True), self.margin)
        if t.issued_at is not None:
            d = t.issued_at
            when = f"{d:%H:%M}  {WEEKDAYS_VI[d.weekday()]}, {d:%d/%m/%Y}"
            c.text([when], font(self.size(24)), self.margin)
        c.gap(self.size(6))
        if t.ahead is not None:
            vf, ef = font(self.size(24)), font(self.size(18))
            c.text(wrap(f"Số người chờ trước quý vị: {t.ahead}", vf, self.inner), vf, self.margin)
            c.text(wrap(f"People ahead of you: {t.ahead}", ef, self.inner), ef, self.margin)
            if t.wait_minutes is not None:
                vi = f"Thời gian chờ dự kiến: khoảng {t.wait_minutes} phút"
                en = f"Estimated wait: about {t.wait_minutes} min"
                if t.wait_minutes <= 0:
                    vi, en = CALLED_SOON  # not "khoảng 0 phút"
                c.text(wrap(vi, vf, self.inner), vf, self.margin)
                c.text(wrap(en, ef, self.inner), ef, self.margin)
        if t.checklist:
            c.gap(self.size(8))
            c.rule(self.margin * 2, max(1, self.size(2) // 5))
            c.gap(self.size(6))
            tf, cf = font(self.size(22), True), font(self.size(20))
            title = "CẦN MANG THEO · PLEASE BRING"
            if t.checklist_title:
                c.text(wrap(t.checklist_title, tf, self.inner)[:2], tf, self.margin)
            c.text([title], font(self.size(18)), self.margin)
            c.gap(self.size(4))
            c.text(checklist_lines(t.checklist, cf, self.inner), cf, self.margin, "left")
        if t.qr_text:
            c.gap(self.size(10))
            c.paste(self.qr(t.qr_text))
        c.gap(self.size(6))
        return c.done()

    def qr(self, text: str) -> Image.Image:
        """A QR code, whole dots per module, at most ~17 mm wide (greyscale, for a Canvas)."""
        # A fixed mask: choosing the best of eight costs ~3 ms of pure Python per ticket,
        # and any mask decodes (tests/printer/test_layout.py reads it back with zbar).
        q = qrcode.QRCode(
            border=2, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=0
        )
        q.add_data(text)
        q.make(fit=True)
        m = q.get_matrix()
        n = len(m)
        img = Image.frombytes("L", (n, n), bytes(0 if v else 255 for row in m for v in row))
        box = max(2, self.size(140) // n)
        return img.resize((n * box, n * box), Image.Resampling.NEAREST)

    # ------------------------------------------------------------------ whole
    def parts(self, t: TicketInfo) -> list[Image.Image]:
        """The ticket's three strips, head to foot."""
        return [
            self.head(t.service_id, t.service_name, t.service_name_en),
            self.body(t),
            self.foot(),
        ]

    def render(self, t: TicketInfo) -> Image.Image:
        """The whole ticket as one 1-bit image."""
        return stack(self.parts(t))


def stack(parts: Sequence[Image.Image]) -> Image.Image:
    """1-bit strips of equal width, one under the other."""
    out = Image.new("1", (parts[0].width, sum(p.height for p in parts)), 1)
    y = 0
    for p in parts:
        out.paste(p, (0, y))
        y += p.height
    return out
