"""The shipped font has every Vietnamese letter, in both cases and with every tone, and ₫."""

from __future__ import annotations

import unicodedata

import pytest
from fontTools.ttLib import TTFont

from printer import fonts

VOWELS = "aăâeêioôơuưy"
#: Tone marks: huyền, sắc, hỏi, ngã, nặng (ngang is the bare vowel).
TONES = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")


def vietnamese_letters() -> list[str]:
    letters = set("bcdđghklmnpqrstvx")
    for v in VOWELS:
        letters.add(v)
        for tone in TONES:
            composed = unicodedata.normalize("NFC", v + tone)
            assert len(composed) == 1, f"{v}+{tone!r} has no precomposed letter"
            letters.add(composed)
    return sorted(letters | {c.upper() for c in letters})


def test_the_letter_list_is_the_whole_vietnamese_alphabet_with_tones() -> None:
    letters = vietnamese_letters()
    # 12 vowels x 6 tones = 72 vowel forms + 17 consonants (with đ), both cases.
    assert len(letters) == (12 * 6 + 17) * 2
    assert {"ệ", "Ệ", "ỗ", "Ỗ", "ử", "Ử", "ỹ", "Ỹ", "đ", "Đ"} <= set(letters)


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
def test_shipped_font_maps_every_vietnamese_letter_and_the_dong_sign(bold: bool) -> None:
    cmap = TTFont(fonts.font_path(bold)).getBestCmap()
    missing = [c for c in vietnamese_letters() + ["₫"] if ord(c) not in cmap]
    assert missing == [], f"{fonts.font_path(bold).name} lacks {''.join(missing)}"


def test_font_files_and_their_licence_are_inside_the_package() -> None:
    for p in (fonts.REGULAR, fonts.BOLD, fonts.LICENSE):
        assert p.is_file() and p.parent == fonts.FONT_DIR
    assert "Bitstream Vera" in fonts.LICENSE.read_text(encoding="utf-8")
    assert fonts.font(30, True).size == 30


def test_the_font_files_exist_once_in_the_source_tree() -> None:
    root = fonts.FONT_DIR.parents[2]
    found = sorted(
        p.relative_to(root).as_posix()
        for pkg in ("kiosk", "printer", "display", "central")
        for p in (root / pkg).rglob("*.ttf")
    )
    assert found == ["printer/data/fonts/DejaVuSans-Bold.ttf", "printer/data/fonts/DejaVuSans.ttf"]


def test_screen_hall_display_charts_and_doctor_draw_with_the_same_file() -> None:
    import pygame

    from display.render import Renderer
    from kiosk.doctor.checks import ui_font
    from kiosk.office.report import _font
    from kiosk.ui import fonts as ui_fonts

    assert ui_font() == fonts.font_path()
    assert Renderer(pygame.Surface((320, 180))).paths == {
        False: str(fonts.REGULAR),
        True: str(fonts.BOLD),
    }
    assert _font(20, True).path == str(fonts.BOLD)
    assert ui_fonts.font(20, True).name == "DejaVu Sans"


def test_without_the_packaged_files_the_system_dejavu_is_used_or_the_fix_is_named(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(fonts, "REGULAR", tmp_path / "gone" / "DejaVuSans.ttf")
    monkeypatch.setattr(fonts, "SYSTEM_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="apt-get install fonts-dejavu-core"):
        fonts.font_path()
    (tmp_path / "DejaVuSans.ttf").write_bytes(fonts.BOLD.read_bytes())
    assert fonts.font_path() == tmp_path / "DejaVuSans.ttf"
