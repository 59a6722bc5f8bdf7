"""Reading a citizen ID card's QR text: both layouts, damaged reads, other codes.

Every card here is made up by the tests (kiosk.inputs.idcard.synthetic); none is a
real person's.
"""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.inputs.idcard import (
    DAMAGED,
    NOT_CARD,
    IdCard,
    initials,
    looks_like_card,
    read,
    synthetic,
    synthetic_id,
)

TODAY = date(2026, 11, 30)


def test_the_2021_layout_gives_id_name_birth_and_issue_date() -> None:
    card = read(synthetic("001099012345", "Nguyễn Văn An", "01011999", old="012345678"), TODAY)
    assert isinstance(card, IdCard)
    assert (card.id_number, card.name, card.birth, card.issued, card.layout) == (
        "001099012345",
        "Nguyễn Văn An",
        date(1999, 1, 1),
        date(2021, 6, 15),
        "2021",
    )
    assert card.initials == "N.V.A."
    assert card.age_on(TODAY) == 27


def test_the_2024_layout_with_more_fields_is_recognised() -> None:
    text = synthetic(
        synthetic_id(date(1960, 3, 2), female=True),
        "Trần Thị Bích",
        "02031960",
        sex="Nữ",
        issued="01072024",
        extra=("Hà Nội", "01072039", "Trần Văn Cha", "Lê Thị Mẹ", ""),
    )
    card = read(text, TODAY)
    assert isinstance(card, IdCard) and card.layout == "2024"
    assert card.birth == date(1960, 3, 2) and card.age_on(TODAY) == 66
    assert card.initials == "T.T.B."


def test_an_unknown_order_is_read_by_what_each_field_looks_like() -> None:
    # No old-ID field at all: the name is still the first field of letters after the ID.
    card = read("001099012345|Lê Văn Bình|01011999|Nam|Một địa chỉ|02022022", TODAY)
    assert isinstance(card, IdCard) and card.layout == "other" and card.initials == "L.V.B."


def test_a_birthday_not_yet_reached_this_year_counts_one_year_less() -> None:
    card = read(synthetic(synthetic_id(date(1966, 12, 1)), birth="01121966"), TODAY)
    assert isinstance(card, IdCard) and card.age_on(TODAY) == 59


def test_a_truncated_code_is_a_damaged_read_not_a_crash() -> None:
    full = synthetic()
    for cut in (12, 20, 25, 30, 37, 60, len(full) - 4):
        assert read(full[:cut], TODAY) == DAMAGED, cut


def test_a_misread_digit_in_the_id_or_the_birth_date_is_caught() -> None:
    assert read(synthetic("001299012345"), TODAY) == DAMAGED  # century digit 2: 20xx
    assert read(synthetic("001098012345"), TODAY) == DAMAGED  # year 98 ≠ 1999
    assert read(synthetic(birth="01011998"), TODAY) == DAMAGED
    assert read(synthetic(birth="31021999"), TODAY) == DAMAGED  # no 31 February
    assert read(synthetic(issued="01011990"), TODAY) == DAMAGED  # issued before birth
    assert read(synthetic("00109901234"), TODAY) == DAMAGED  # a digit dropped


def test_other_codes_are_not_cards() -> None:
    for text in ("", "BK001", "https://dichvucong.gov.vn/p/123", "hello|world", "A" * 5000):
        assert read(text, TODAY) == NOT_CARD, text
    assert "không phải thẻ căn cước" in NOT_CARD.vi and "not a citizen ID card" in NOT_CARD.en


def test_looks_like_card_tells_cards_from_booking_codes() -> None:
    assert looks_like_card(synthetic()) and looks_like_card("001099012345")
    assert not looks_like_card("BK001") and not looks_like_card("HB-0012")


def test_initials_keep_vietnamese_letters_and_drop_the_rest() -> None:
    assert initials("đặng  thị   ánh") == "Đ.T.Á."
    assert initials("") == ""


def test_the_card_never_shows_personal_data_in_its_repr() -> None:
    card = read(synthetic(), TODAY)
    assert "001099012345" not in repr(card) and "Nguyễn" not in repr(card)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_card_or_a_refusal_never_an_exception(text: str) -> None:
    assert isinstance(read(text, TODAY), IdCard | type(NOT_CARD))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(synthetic()) - 1), st.characters())
def test_one_changed_character_never_crashes(at: int, ch: str) -> None:
    text = synthetic()
    read(text[:at] + ch + text[at + 1 :], TODAY)
