"""Ticket layout: widths, Vietnamese text, wrapping, the outlined number, cached strips."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from printer import fonts
from printer.layout import WIDTHS, TicketInfo, TicketLayout, nfc, wrap

from .test_fonts import vietnamese_letters

HEADER = ["UBND PHƯỜNG NGHĨA TÂN", "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"]
LONG = (
    "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền "
    "của Việt Nam cấp hoặc chứng nhận"
)


def info(**kw: object) -> TicketInfo:
    base: dict[str, object] = dict(
        code="A012",
        service_id="hotich",
        service_name="Tư pháp – Hộ tịch",
        service_name_en="Justice – Civil status",
        issued_at=datetime(2026, 11, 30, 9, 41),
        ahead=5,
        wait_minutes=15,
    )
    base.update(kw)
    return TicketInfo(**base)  # type: ignore[arg-type]


def black(img: Image.Image, box: tuple[int, int, int, int] | None = None) -> int:
    part = img.crop(box) if box else img
    return part.histogram()[0]


@pytest.mark.parametrize("paper", [58, 80])
def test_ticket_is_a_1_bit_image_as_wide_as_the_print_head(paper: int) -> None:
    img = TicketLayout(WIDTHS[paper], HEADER, ["Xin cảm ơn!"]).render(info())
    assert img.mode == "1" and img.width == WIDTHS[paper]
    # Between 50 and 150 mm of paper at 8 dots/mm.
    assert 400 < img.height < 1200
    assert black(img) > 0


@pytest.mark.parametrize("paper", [58, 80])
def test_nothing_is_drawn_in_the_side_margins(paper: int) -> None:
    layout = TicketLayout(WIDTHS[paper], HEADER, ["Đường dây nóng: 024 3756 0000"])
    img = layout.render(info(code="CC9999", service_name=LONG, priority=True, qr_text="x" * 40))
    m = layout.margin
    assert black(img, (0, 0, m, img.height)) == 0
    assert black(img, (img.width - m, 0, img.width, img.height)) == 0


def test_every_vietnamese_letter_is_drawn_as_itself_not_a_missing_glyph_box() -> None:
    f = fonts.font(40, True)

    def glyph(c: str) -> bytes:
        im = Image.new("L", (80, 80), 255)
        from PIL import ImageDraw

        ImageDraw.Draw(im).text((10, 10), c, font=f, fill=0)
        return im.tobytes()

    missing = glyph("\ue000")  # private use: the font's .notdef box
    for c in vietnamese_letters():
        g = glyph(c)
        assert g != missing, f"{c} is drawn as a missing glyph"
        base = unicodedata.normalize("NFD", c)[0]
        if base != c:
            assert g != glyph(base), f"{c} is drawn without its marks"


def test_decomposed_text_prints_exactly_like_composed_text() -> None:
    name = "Đất đai – Xây dựng, Lao động – Thương binh và Xã hội"
    decomposed = unicodedata.normalize("NFD", name)
    assert decomposed != name
    a = TicketLayout(576, [unicodedata.normalize("NFD", h) for h in HEADER]).render(
        info(service_name=decomposed)
    )
    b = TicketLayout(576, HEADER).render(info(service_name=name))
    assert ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


@pytest.mark.parametrize("width", [384, 576])
def test_long_service_names_wrap_within_the_width_and_keep_every_word(width: int) -> None:
    f = fonts.font(32, True)
    lines = wrap(LONG, f, width - 16)
    assert len(lines) >= 3
    assert all(f.getlength(line) <= width - 16 for line in lines)
    assert " ".join(lines) == nfc(LONG)


def test_a_word_longer_than_the_line_is_broken_inside_the_word() -> None:
    f = fonts.font(30)
    lines = wrap("Nghiêngnghiêngnghiêngnghiêngnghiêngnghiêng", f, 200)
    assert len(lines) > 1 and all(f.getlength(x) <= 200 for x in lines)
    assert "".join(lines) == "Nghiêngnghiêngnghiêngnghiêngnghiêngnghiêng"


def test_a_longer_service_name_makes_a_longer_ticket() -> None:
    layout = TicketLayout(384, HEADER)
    short = layout.render(info(service_name="Hộ tịch"))
    long = layout.render(info(service_name=LONG))
    assert long.height > short.height + 60


@pytest.mark.parametrize("width", [384, 576])
def test_the_number_is_large_and_drawn_in_outline_not_solid(width: int) -> None:
    layout = TicketLayout(width, HEADER)
    num = layout.number_image("A888")
    # Readable at arm's length: over 10 mm tall (8 dots per mm) even on 58 mm paper.
    assert num.height > 10 * 8
    # Strokes, not blocks: the same glyphs filled solid would blacken far more dots.
    from PIL import ImageDraw

    f = layout.number_font("A888")
    solid = Image.new("L", num.size, 255)
    left, top, _, _ = f.getbbox("A888", anchor="ls", stroke_width=layout.stroke)
    ImageDraw.Draw(solid).text(
        (-left, -top),
        "A888",
        font=f,
        fill=0,
        anchor="ls",
        stroke_width=layout.stroke,
        stroke_fill=0,
    )
    outline, filled = black(num.point(lambda v: 255 if v > 127 else 0)), black(solid)
    assert outline < 0.6 * filled
    # ...and the outline is in the ticket, dot for dot.
    body = layout.body(info(code="A888"))
    assert body.width == width and black(body) > outline


def test_priority_mark_reprint_mark_and_qr_code_appear_only_when_asked() -> None:
    layout = TicketLayout(576, HEADER)
    plain = layout.body(info())
    assert layout.body(info(priority=True)).height > plain.height
    assert layout.body(info(reprint_at=datetime(2026, 11, 30, 10, 5))).height > plain.height
    qr = layout.body(info(qr_text="https://dichvucong.example.gov.vn/ve/A012"))
    assert qr.height > plain.height + 100


def test_head_and_foot_are_drawn_once_and_reused() -> None:
    layout = TicketLayout(576, HEADER, ["Xin cảm ơn!"])
    a = layout.parts(info(code="A001"))
    b = layout.parts(info(code="A002"))
    assert a[0] is b[0] and a[2] is b[2]
    assert a[1] is not b[1]
    other = layout.parts(info(service_id="datdai", service_name="Đất đai"))
    assert other[0] is not a[0]


def test_logo_is_scaled_into_the_head(tmp_path) -> None:
    logo = Image.new("RGBA", (1000, 400), (0, 0, 0, 0))
    from PIL import ImageDraw

    ImageDraw.Draw(logo).ellipse((0, 0, 999, 399), fill=(200, 0, 0, 255))
    logo.save(tmp_path / "logo.png")
    with_logo = TicketLayout(384, HEADER, logo=tmp_path / "logo.png").head("a", "A")
    without = TicketLayout(384, HEADER).head("a", "A")
    assert with_logo.width == 384 and with_logo.height > without.height + 40


def test_bad_widths_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        TicketLayout(500)


@pytest.mark.parametrize("paper", [58, 80])
def test_the_qr_code_on_the_printed_raster_reads_back_as_the_url(paper: int, tmp_path) -> None:
    import subprocess

    from printer import raster

    url = "https://dichvucong.example.gov.vn/ve/nghiatan/2026-11-30/A012"
    img = TicketLayout(WIDTHS[paper], HEADER).render(info(qr_text=url))
    # What the printer gets, decoded back, scaled like a phone camera sees paper.
    seen = raster.decode(raster.job(img)).convert("L")
    seen = seen.resize((seen.width * 2, seen.height * 2), Image.Resampling.NEAREST)
    seen.save(tmp_path / "t.png")
    r = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "t.png")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.stdout.strip() == url, r.stderr


# ---------------------------------------------------------------- Vietnamese line breaks

NAME_FONT = 32  # the service name's size on 80 mm paper (TicketLayout._draw_head)


def width_for(text: str, f) -> int:  # type: ignore[no-untyped-def]
    """The narrowest line ``text`` fits on, in dots."""
    return int(f.getlength(text)) + 1


def test_a_long_name_breaks_at_its_dash_before_splitting_a_word() -> None:
    f = fonts.font(NAME_FONT, True)
    name = "Lao động – Thương binh và Xã hội"
    # On 80 mm paper this name used to come out as "Lao động – Thương binh và Xã / hội".
    assert wrap(name, f, 560) == ["Lao động –", "Thương binh và Xã hội"]
    assert wrap("Kinh tế – Hộ kinh doanh", f, width_for("Kinh tế – Hộ kinh", f)) == [
        "Kinh tế –",
        "Hộ kinh doanh",
    ]
    assert wrap("Giấy tờ, văn bản", f, width_for("Giấy tờ, văn", f)) == ["Giấy tờ,", "văn bản"]


def test_compound_words_are_not_split_across_lines() -> None:
    f = fonts.font(NAME_FONT, True)
    # Room for "Thương binh và Xã" but not for "hội": "Xã hội" moves down whole.
    text = "Thương binh và Xã hội"
    assert wrap(text, f, width_for("Thương binh và Xã", f)) == ["Thương binh và", "Xã hội"]
    # Room for "Đăng ký Hộ": "Hộ kinh doanh" stays together.
    text = "Đăng ký Hộ kinh doanh"
    assert wrap(text, f, width_for("Đăng ký Hộ kinh", f)) == ["Đăng ký", "Hộ kinh doanh"]
    # Capitals too (site header lines).
    text = "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"
    assert wrap(text, f, width_for("BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT", f))[-1] == "TRẢ KẾT QUẢ"


def test_a_compound_wider_than_the_line_splits_where_it_keeps_the_most() -> None:
    f = fonts.font(NAME_FONT, True)
    assert wrap("Hộ kinh doanh", f, width_for("kinh doanh", f)) == ["Hộ", "kinh doanh"]
    # A dash never starts a line, even when a part must be split.
    lines = wrap("Trả kết quả – Tra cứu hồ sơ", f, width_for("Trả kết", f))
    assert not any(line.startswith("–") for line in lines)
    assert " ".join(lines) == "Trả kết quả – Tra cứu hồ sơ"


def test_the_site_file_can_mark_a_space_that_never_breaks() -> None:
    f = fonts.font(NAME_FONT, True)
    room = width_for("Cấp đổi giấy phép lái", f)
    assert wrap("Cấp đổi giấy phép lái xe", f, room) == ["Cấp đổi giấy phép lái", "xe"]
    text = "Cấp đổi giấy phép lái\u00a0xe"  # "lái xe" marked non-breaking in the site file
    lines = wrap(text, f, room)
    assert lines == ["Cấp đổi giấy phép", "lái xe"]
    assert "\u00a0" not in "".join(lines)  # printed as an ordinary space
    # The marked text draws exactly like the unmarked one when it fits on a line.
    layout = TicketLayout(576, HEADER)
    a = layout.render(info(service_name="Cấp đổi giấy phép"))
    b = TicketLayout(576, HEADER).render(info(service_name="Cấp đổi giấy\u00a0phép"))
    assert ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            ["Hộ", "kinh", "doanh", "Xã", "hội", "Thương", "binh", "và", "–", "giấy", "tờ,"]
            + ["Nghiêngnghiêngnghiêng", "đăng", "ký", "hồ", "sơ", "giấy\u00a0phép"]
        ),
        min_size=1,
        max_size=14,
    ),
    width=st.integers(min_value=60, max_value=560),
)
def test_wrapping_keeps_every_word_in_order_and_lines_fit(words: list[str], width: int) -> None:
    f = fonts.font(24, True)
    text = " ".join(words)
    lines = wrap(text, f, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\u00a0", "")
    for line in lines:
        assert f.getlength(line) <= width or len(line) == 1


def drawn_lines(layout: TicketLayout, t: TicketInfo, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    from printer.layout import Canvas

    seen: list[str] = []
    real = Canvas.text

    def spy(self, lines, f, margin, align="center"):  # type: ignore[no-untyped-def]
        seen.extend(lines)
        return real(self, lines, f, margin, align)

    monkeypatch.setattr(Canvas, "text", spy)
    layout.body(t)
    return seen


def test_nobody_ahead_says_what_the_screen_says_not_about_0_minutes(monkeypatch) -> None:
    from kiosk.ui.text import STRINGS

    lines = drawn_lines(TicketLayout(576), info(ahead=0, wait_minutes=0), monkeypatch)
    text = "\n".join(lines)
    assert "0 phút" not in text and "0 min" not in text
    assert STRINGS["wait_none"]["vi"] in text and STRINGS["wait_none"]["en"] in text
    lines = drawn_lines(TicketLayout(576), info(ahead=3, wait_minutes=9), monkeypatch)
    assert "Thời gian chờ dự kiến: khoảng 9 phút" in lines


# ---------------------------------------------------------------- procedure checklist


def test_a_checklist_is_printed_only_when_given_and_stays_short() -> None:
    from printer.fonts import font
    from printer.layout import CHECKLIST_LINES, CHECKLIST_MORE, checklist_lines

    layout = TicketLayout(576, HEADER)
    plain = layout.body(info())
    two = layout.body(info(checklist=("Tờ khai", "CCCD"), checklist_title="Đăng ký khai sinh"))
    assert two.height > plain.height + 60
    many = tuple(f"Giấy tờ số {i}: bản chính và một bản sao có chứng thực" for i in range(12))
    f = font(20)
    lines = checklist_lines(many, f, layout.inner)
    assert len(lines) == CHECKLIST_LINES and lines[-1] == CHECKLIST_MORE
    assert all(f.getlength(x) <= layout.inner for x in lines)
    assert lines[0].startswith("• ")
    long = layout.body(info(checklist=many))
    assert long.height < plain.height + 400  # ~8 lines, not 12 documents


@pytest.mark.parametrize("paper", [58, 80])
def test_a_checklist_wraps_within_the_paper_and_keeps_every_word(paper: int) -> None:
    from printer.fonts import font
    from printer.layout import checklist_lines

    width = WIDTHS[paper] - 16
    doc = "Giấy chứng sinh do cơ sở y tế cấp (hoặc văn bản người làm chứng)"
    lines = checklist_lines((doc,), font(20), width)
    assert len(lines) >= 2 if paper == 58 else len(lines) >= 1
    assert " ".join(lines).replace("• ", "").split() == doc.split()
