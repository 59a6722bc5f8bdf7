"""ESC/POS bytes: exact bytes on python-escpos's Dummy, and every raster band decoded
back into the image that was drawn, dot for dot."""

from __future__ import annotations

from datetime import datetime

import pytest
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from printer import raster
from printer.connection import open_link
from printer.job import TicketPrinter
from printer.layout import WIDTHS, TicketInfo, TicketLayout


def same(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


def test_exact_bytes_for_a_small_image_on_escpos_dummy() -> None:
    img = Image.new("1", (16, 2), 1)
    for x in range(0, 8):  # row 0: left half black
        img.putpixel((x, 0), 0)
    img.putpixel((15, 1), 0)  # row 1: last dot black
    d = Dummy()
    d._raw(raster.job(img, cut="partial", feed_lines=3))
    assert d.output == (
        b"\x1b@"  # ESC @ reset
        b"\x1dv0\x00\x02\x00\x02\x00"  # GS v 0, 2 bytes per row, 2 rows
        b"\xff\x00"  # row 0: 8 black dots, 8 white
        b"\x00\x01"  # row 1: last dot black
        b"\x1bd\x03"  # ESC d 3: feed 3 lines
        b"\x1dV\x01"  # GS V 1: partial cut
    )


@pytest.mark.parametrize(
    ("cut", "tail"),
    [("full", b"\x1bd\x04\x1dV\x00"), ("partial", b"\x1bd\x04\x1dV\x01"), ("none", b"\x1bd\x04")],
)
def test_cut_setting_chooses_the_cut_command(cut: str, tail: bytes) -> None:
    assert raster.finish(cut, 4) == tail


def test_tall_images_are_sent_in_bands_the_printer_can_buffer() -> None:
    img = Image.new("1", (576, 300), 1)
    cmds = list(raster.parse(raster.raster(img)))
    assert [c.arg for c in cmds] == [128, 128, 44]
    assert all(c.kind == "raster" and c.image is not None and c.image.width == 576 for c in cmds)


def test_images_that_are_not_1_bit_or_not_whole_bytes_wide_are_refused() -> None:
    with pytest.raises(ValueError, match="1-bit"):
        raster.raster(Image.new("L", (576, 10)))
    with pytest.raises(ValueError, match="multiple of 8"):
        raster.raster(Image.new("1", (570, 10)))


def test_the_decoder_names_what_is_wrong_with_foreign_bytes() -> None:
    with pytest.raises(raster.RasterError, match="unexpected byte 0x41 at 2"):
        raster.decode(b"\x1b@AB")
    with pytest.raises(raster.RasterError, match="promises 6 bytes"):
        raster.decode(b"\x1dv0\x00\x02\x00\x03\x00\xff")


@pytest.mark.parametrize("paper", [58, 80])
@pytest.mark.parametrize("priority", [False, True])
def test_every_raster_band_sent_decodes_to_the_rendered_ticket_dot_for_dot(
    paper: int, priority: bool
) -> None:
    layout = TicketLayout(
        WIDTHS[paper],
        ["UBND PHƯỜNG NGHĨA TÂN", "BỘ PHẬN TIẾP NHẬN VÀ TRẢ KẾT QUẢ"],
        ["Xin cảm ơn quý vị! Ấn, ỗ, ử, ỹ, ẫ, ặ, đ, ₫"],
    )
    t = TicketInfo(
        code="B107",
        service_id="datdai",
        service_name="Đất đai – Xây dựng: cấp giấy chứng nhận quyền sử dụng đất lần đầu",
        service_name_en="Land and construction",
        priority=priority,
        issued_at=datetime(2026, 11, 30, 14, 5),
        ahead=12,
        wait_minutes=37,
        qr_text="https://dichvucong.example.gov.vn/ve/B107",
    )
    link = open_link("dummy:")
    tp = TicketPrinter(link, layout, cut="full")
    sent = tp.print(t)
    out: bytes = link.printer.output  # type: ignore[attr-defined]
    assert len(out) == sent
    cmds = list(raster.parse(out))
    assert cmds[0].kind == "init" and [c.kind for c in cmds[-2:]] == ["feed", "cut"]
    assert cmds[-1].arg == 0  # full cut
    assert same(raster.decode(out), layout.render(t))
    # The same bytes again for the same ticket: nothing in a job depends on the moment.
    assert tp.job_bytes(t) == out


def test_the_png_printer_writes_what_the_raster_says(tmp_path) -> None:
    layout = TicketLayout(384, ["UBND PHƯỜNG"])
    t = TicketInfo(code="C003", service_id="x", service_name="Chứng thực")
    link = open_link(f"png:{tmp_path}")
    TicketPrinter(link, layout).print(t)
    (png,) = tmp_path.glob("*.png")
    assert png.name == "0001-C003.png"
    with Image.open(png) as im:
        assert same(im, layout.render(t))


@settings(max_examples=60, deadline=None)
@given(
    width_bytes=st.integers(1, 80),
    height=st.integers(1, 400),
    seed=st.integers(0, 2**32 - 1),
    band=st.integers(1, 300),
)
def test_any_1_bit_image_survives_the_raster_round_trip(
    width_bytes: int, height: int, seed: int, band: int
) -> None:
    import random

    rng = random.Random(seed)
    data = bytes(rng.getrandbits(8) for _ in range(width_bytes * height))
    img = Image.frombytes("1", (width_bytes * 8, height), data)
    encoded = raster.raster(img, band_rows=band)
    assert same(raster.decode(encoded), img)
    rows = [c.arg for c in raster.parse(encoded)]
    assert sum(rows) == height and max(rows) <= band
