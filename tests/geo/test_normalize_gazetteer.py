"""Vietnamese as residents type it: folding and place names."""

import pytest

from bot.geo.names import gazetteer
from bot.nlu.normalize import fold
from bot.vietnamese import strip_marks


@pytest.mark.parametrize(
    "typed, folded",
    [
        ("Chồng tôi đánh tôi", "chong toi danh toi"),
        ("chong toi danh toi", "chong toi danh toi"),
        ("ck t đánh e ko dc", "chong toi danh em khong duoc"),
        ("hoà giải", "hoa giai"),
        ("hòa giải", "hoa giai"),
        ("Đ\u0301", "d"),  # stray combining mark
        ("cha\u0300o", "chao"),  # NFD input from some keyboards
    ],
)
def test_accents_teencode_and_tone_placement_fold_to_the_same_words(typed, folded):
    assert fold(typed) == folded


def test_d_stroke_is_folded_unlike_sklearn_strip_accents():
    assert strip_marks("Đánh đập") == "danh dap"


@pytest.mark.parametrize(
    "text, unit",
    [
        ("tui o tu ha", "Phường Hương Trà"),
        ("Tôi ở P. Tứ Hạ ạ", "Phường Hương Trà"),
        ("Hương Vân", "Phường Hương Trà"),
        ("huong van", "Phường Hương Trà"),
        ("nhà tạm lánh ở hương chữ", "Phường Kim Trà"),
        ("HUONG TOAN", "Phường Kim Trà"),
        ("binh dien", "Xã Bình Điền"),
        ("binh dienn", "Xã Bình Điền"),  # one typo
        ("xã Hương Bình cũ", "Xã Bình Điền"),
        ("huog tra", "Phường Hương Trà"),
        ("an hoà", "Phường Hương An"),  # old tone placement
        ("Hương Vinh", "Phường Hóa Châu"),
    ],
)
def test_current_old_and_unaccented_names_resolve_to_the_current_unit(text, unit):
    found = gazetteer().find(text)
    assert [m.unit.name for m in found] == [unit]


@pytest.mark.parametrize("text", ["từ Hà Nội về", "kiểm tra", "kiem tra giup", "tôi rất buồn"])
def test_words_that_only_look_like_places_are_not_places(text):
    assert gazetteer().find(text) == []


def test_match_offsets_point_into_the_original_text():
    text = "Chị ơi, em ở Hương Chữ cũ"
    [match] = gazetteer().find(text)
    assert text[match.start:match.end] == "Hương Chữ"


def test_resolve_takes_canonical_or_typed_names():
    g = gazetteer()
    assert g.resolve("Xã Bình Điền").name == "Xã Bình Điền"
    assert g.resolve("tu ha").name == "Phường Hương Trà"
    assert g.resolve("Hà Nội") is None
