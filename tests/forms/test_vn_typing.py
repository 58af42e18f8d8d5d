"""The Vietnamese typing engine: every word of tests/data/vietnamese_words.txt typed by tone keys
and by Telex (tone at the end of the syllable and right after its vowel), in the tone style(s)
the word is spelled in, plus one test per rule, Telex's undo, backspace, case and NFD input.

The keystrokes of a word are derived here from Unicode decomposition alone (base letter, vowel
form, tone), independently of the engine under test.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.forms.vn_typing import (
    Composer,
    Mark,
    Style,
    Tone,
    add_mark,
    get_tone,
    place_tone,
    restyle,
    strip_tone,
    tone_index,
)

WORDS_FILE = Path(__file__).resolve().parents[1] / "data" / "vietnamese_words.txt"
STYLES: tuple[Style, ...] = ("modern", "traditional")

COMBINING_TONES = {
    "\u0301": Tone.SAC,
    "\u0300": Tone.HUYEN,
    "\u0309": Tone.HOI,
    "\u0303": Tone.NGA,
    "\u0323": Tone.NANG,
}
TELEX_TONE_KEYS = {Tone.SAC: "s", Tone.HUYEN: "f", Tone.HOI: "r", Tone.NGA: "x", Tone.NANG: "j"}
BREVE, CIRCUMFLEX, HORN = "\u0306", "\u0302", "\u031b"


def load_words() -> list[tuple[str, tuple[Style, ...]]]:
    """(entry, the styles it is spelled in) for every line of the word list."""
    entries: list[tuple[str, tuple[Style, ...]]] = []
    for raw in WORDS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, tag = (part.strip() for part in line.partition("|"))
        assert tag in ("", *STYLES), line
        entries.append((word, (tag,) if tag else STYLES))  # type: ignore[arg-type]
    return entries


WORDS = load_words()
CASES = [(word, style) for word, styles in WORDS for style in styles]


# ------------------------------------------------------------------------ keystroke derivation
def decompose(ch: str) -> tuple[str, str, str, Tone]:
    """(the letter without its tone, its base letter, the Telex key of its vowel form, tone)."""
    if ch in "đĐ":
        return ch, "D" if ch == "Đ" else "d", "d", Tone.NONE
    nfd = unicodedata.normalize("NFD", ch)
    base, marks = nfd[0], nfd[1:]
    tone = Tone.NONE
    form = ""
    for mark in marks:
        if mark in COMBINING_TONES:
            tone = COMBINING_TONES[mark]
        else:
            form += mark
    letter = unicodedata.normalize("NFC", base + form)
    key = {"": "", BREVE: "w", HORN: "w", CIRCUMFLEX: base.lower()}[form]
    return letter, base, key, tone


def pieces(entry: str) -> list[tuple[bool, str]]:
    """The entry cut into (is_word, text) runs: words and the separators between them."""
    out: list[tuple[bool, str]] = []
    for ch in entry:
        is_word = ch.isalpha()
        if out and out[-1][0] == is_word:
            out[-1] = (is_word, out[-1][1] + ch)
        else:
            out.append((is_word, ch))
    return out


def toned_position(word: str) -> int | None:
    tones = [i for i, ch in enumerate(word) if decompose(ch)[3] is not Tone.NONE]
    assert len(tones) <= 1, f"{word!r} has more than one tone"
    return tones[0] if tones else None


def tone_key_actions(entry: str, where: str) -> list[str | Tone]:
    """On-screen typing: letters and vowel-form keys, the tone key at the end or after its vowel."""
    actions: list[str | Tone] = []
    for is_word, text in pieces(entry):
        if not is_word:
            actions.extend(text)
            continue
        toned = toned_position(text)
        tone = Tone.NONE
        for i, ch in enumerate(text):
            letter, _, _, t = decompose(ch)
            actions.append(letter)
            if i == toned:
                tone = t
                if where == "after-vowel":
                    actions.append(t)
        if where == "end" and tone is not Tone.NONE:
            actions.append(tone)
    return actions


def telex_keys(entry: str, where: str) -> str:
    """Telex typing: each vowel form right after its letter, the tone at the end or after it."""
    keys = ""
    for is_word, text in pieces(entry):
        if not is_word:
            keys += text
            continue
        toned = toned_position(text)
        tone = Tone.NONE
        previous = ""
        for i, ch in enumerate(text):
            letter, base, key, t = decompose(ch)
            keys += base + key
            if not key and base.lower() in "aeo" and previous == letter.lower():
                keys += base  # xoong: a doubled plain vowel is typed three times (undo)
            previous = letter.lower() if not key else ""
            if i == toned:
                tone = t
                if where == "after-vowel":
                    keys += TELEX_TONE_KEYS[t]
        if where == "end" and tone is not Tone.NONE:
            keys += TELEX_TONE_KEYS[tone]
    return keys


def type_tone_keys(entry: str, style: Style, where: str) -> str:
    composer = Composer(style=style)
    for action in tone_key_actions(entry, where):
        if isinstance(action, Tone):
            composer.tone(action)
        else:
            composer.key(action)
    return composer.text


def type_telex(entry: str, style: Style, where: str) -> str:
    composer = Composer(telex=True, style=style)
    for key in telex_keys(entry, where):
        composer.key(key)
    return composer.text


def failures(typer: Callable[[str, Style, str], str], where: str, style: Style) -> list[str]:
    words = [word for word, styles in WORDS if style in styles]
    bad = []
    for word in words:
        got = typer(word, style, where)
        if got != word or not unicodedata.is_normalized("NFC", got):
            bad.append(f"{word!r} -> {got!r}")
    print(f"{typer.__name__} {where} {style}: {len(words) - len(bad)} of {len(words)} words")
    return bad


# ------------------------------------------------------------------------ the word list
def test_word_list_is_big_nfc_and_distinct() -> None:
    words = [word for word, _ in WORDS]
    assert len(set(words)) == len(words) >= 600
    assert all(unicodedata.is_normalized("NFC", w) for w in words)
    for tone in Tone:
        if tone is not Tone.NONE:
            assert any(get_tone(w) is tone for w in words), tone
    joined = " ".join(words).lower()
    for form in "ăâêôơưđ":
        assert form in joined
    for piece in ("gi", "qu", "oa", "oe", "uy", "uyê", "ươ", "uô", "iê", "yê", "ch", "nh", "ng"):
        assert piece in unicodedata.normalize("NFC", strip_all_tones(joined)), piece


def strip_all_tones(text: str) -> str:
    return "".join(
        unicodedata.normalize(
            "NFC", "".join(c for c in unicodedata.normalize("NFD", ch) if c not in COMBINING_TONES)
        )
        for ch in text
    )


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("where", ["end", "after-vowel"])
def test_every_word_by_tone_keys(where: str, style: Style) -> None:
    assert failures(type_tone_keys, where, style) == []


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("where", ["end", "after-vowel"])
def test_every_word_by_telex(where: str, style: Style) -> None:
    assert failures(type_telex, where, style) == []


@pytest.mark.parametrize("style", STYLES)
def test_engine_tone_position_agrees_with_every_word(style: Style) -> None:
    bad = []
    checked = 0
    for word, styles in WORDS:
        if style not in styles:
            continue
        for is_word, text in pieces(word):
            position = toned_position(text) if is_word else None
            if position is None:
                continue
            checked += 1
            if (
                tone_index(text, style) != position
                or tone_index(strip_tone(text), style) != position
            ):
                bad.append(text)
    print(f"tone position {style}: {checked - len(bad)} of {checked} toned syllables")
    assert bad == []


def test_style_tags_match_the_engine() -> None:
    """Untagged words read the same in both styles; each tagged word's twin is in the list."""
    tagged = {word: styles[0] for word, styles in WORDS if len(styles) == 1}
    for word, styles in WORDS:
        if len(styles) == 2:
            assert restyle(word, "modern") == word == restyle(word, "traditional"), word
    for word, style in tagged.items():
        other: Style = "traditional" if style == "modern" else "modern"
        twin = restyle(word, other)
        assert twin != word and tagged.get(twin) == other, (word, twin)


def test_keystroke_helpers_give_what_telex_users_type() -> None:
    assert telex_keys("Nguyễn", "end") == "Nguyeenx"
    assert telex_keys("Nguyễn", "after-vowel") == "Nguyeexn"
    assert telex_keys("người", "end") == "nguwowif"
    assert telex_keys("Đắk Lắk", "end") == "Ddawks Lawks"
    assert telex_keys("xoong", "end") == "xooong"
    assert tone_key_actions("hoà", "end") == ["h", "o", "a", Tone.HUYEN]
    assert tone_key_actions("Thuỷ", "after-vowel") == ["T", "h", "u", "y", Tone.HOI]


# ------------------------------------------------------------------------ rules, one by one
@pytest.mark.parametrize(
    "plain, tone, expected",
    [
        # a vowel form takes the tone; in ươ the ơ
        ("mat", Tone.NANG, "mạt"),
        ("tiêng", Tone.SAC, "tiếng"),
        ("người", Tone.NONE, "ngươi"),
        ("ngươi", Tone.HUYEN, "người"),
        ("rươu", Tone.NANG, "rượu"),
        ("thuơ", Tone.HOI, "thuở"),
        ("khuyên", Tone.SAC, "khuyến"),
        ("quôc", Tone.SAC, "quốc"),
        ("yêu", Tone.SAC, "yếu"),
        ("uôi", Tone.HOI, "uổi"),
        ("ươi", Tone.NGA, "ưỡi"),
        ("uyê", Tone.SAC, "uyế"),
        ("khuây", Tone.SAC, "khuấy"),
        # gi- and qu-
        ("gia", Tone.HUYEN, "già"),
        ("giư", Tone.NGA, "giữ"),
        ("giưa", Tone.NGA, "giữa"),
        ("gi", Tone.HUYEN, "gì"),
        ("gin", Tone.HUYEN, "gìn"),
        ("giao", Tone.SAC, "giáo"),
        ("gioi", Tone.HOI, "giỏi"),
        ("giup", Tone.SAC, "giúp"),
        ("qua", Tone.HOI, "quả"),
        ("quy", Tone.SAC, "quý"),
        ("quyên", Tone.HOI, "quyển"),
        ("quai", Tone.SAC, "quái"),
        # a final consonant: the last vowel of the nucleus
        ("toan", Tone.SAC, "toán"),
        ("hoang", Tone.HUYEN, "hoàng"),
        ("huynh", Tone.HUYEN, "huỳnh"),
        ("tuyêt", Tone.SAC, "tuyết"),
        ("nguyên", Tone.NGA, "nguyễn"),
        ("hoach", Tone.NANG, "hoạch"),
        # three vowels: the middle one
        ("ngoai", Tone.HUYEN, "ngoài"),
        ("khuyu", Tone.HOI, "khuỷu"),
        ("xoay", Tone.SAC, "xoáy"),
        ("ngoeo", Tone.NANG, "ngoẹo"),
        ("khuya", Tone.NONE, "khuya"),
        # single vowels, y as a vowel, other pairs on the first
        ("ma", Tone.SAC, "má"),
        ("My", Tone.NGA, "Mỹ"),
        ("ky", Tone.HOI, "kỷ"),
        ("y", Tone.SAC, "ý"),
        ("mua", Tone.HUYEN, "mùa"),
        ("kia", Tone.HUYEN, "kìa"),
        ("tui", Tone.SAC, "túi"),
        ("sao", Tone.SAC, "sáo"),
        ("mưa", Tone.NONE, "mưa"),
    ],
)
def test_rules_shared_by_both_styles(plain: str, tone: Tone, expected: str) -> None:
    assert place_tone(plain, tone) == expected
    assert place_tone(plain, tone, "traditional") == expected  # the styles agree here


@pytest.mark.parametrize(
    "plain, tone, modern, traditional",
    [
        ("hoa", Tone.HUYEN, "hoà", "hòa"),
        ("hoa", Tone.SAC, "hoá", "hóa"),
        ("khoe", Tone.HOI, "khoẻ", "khỏe"),
        ("thuy", Tone.HOI, "thuỷ", "thủy"),
        ("Thuy", Tone.HOI, "Thuỷ", "Thủy"),
        ("luy", Tone.NGA, "luỹ", "lũy"),
        ("HOA", Tone.HUYEN, "HOÀ", "HÒA"),
    ],
)
def test_open_oa_oe_uy_differ_by_style(
    plain: str, tone: Tone, modern: str, traditional: str
) -> None:
    assert place_tone(plain, tone) == modern
    assert place_tone(plain, tone, style="modern") == modern
    assert place_tone(plain, tone, style="traditional") == traditional
    assert tone_index(plain, "modern") != tone_index(plain, "traditional")
    assert restyle(traditional) == modern and restyle(modern, "traditional") == traditional


def test_closed_oa_uy_are_the_same_in_both_styles() -> None:
    for plain, tone, word in [("hoan", Tone.HUYEN, "hoàn"), ("tuyt", Tone.SAC, "tuýt")]:
        assert place_tone(plain, tone, "traditional") == word == place_tone(plain, tone)


def test_place_tone_replaces_removes_and_keeps_case() -> None:
    assert place_tone("hoá", Tone.HUYEN) == "hoà"
    assert place_tone("hóa", Tone.NONE) == "hoa"
    assert place_tone("Nguyên", Tone.NGA) == "Nguyễn"
    assert place_tone("NGUYÊN", Tone.NGA) == "NGUYỄN"
    assert place_tone("nGuYêN", Tone.NGA) == "nGuYễN"
    assert place_tone("Nguyễn", Tone.NGA) == "Nguyễn"  # setting, not toggling
    assert place_tone("thủy", Tone.HOI) == "thuỷ"  # moved to the modern place
    assert place_tone("brr", Tone.SAC) == "brr"  # no vowel: nothing to do
    assert place_tone("", Tone.SAC) == ""
    assert get_tone("Nguyễn") is Tone.NGA and get_tone("hoa") is Tone.NONE
    assert strip_tone("Thuỷ") == "Thuy"
    with pytest.raises(ValueError, match="style"):
        place_tone("hoa", Tone.SAC, "old")  # type: ignore[arg-type]


def test_place_tone_takes_nfd_and_returns_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyên")
    out = place_tone(nfd, Tone.NGA)
    assert out == "Nguyễn" and unicodedata.is_normalized("NFC", out)
    assert get_tone(unicodedata.normalize("NFD", "Thuỷ")) is Tone.HOI


@pytest.mark.parametrize(
    "word, mark, style, expected",
    [
        ("a", Mark.CIRCUMFLEX, "modern", "â"),
        ("a", Mark.BREVE, "modern", "ă"),
        ("ă", Mark.CIRCUMFLEX, "modern", "â"),
        ("tien", Mark.CIRCUMFLEX, "modern", "tiên"),
        ("ngon", Mark.CIRCUMFLEX, "modern", "ngôn"),
        ("ngon", Mark.HORN, "modern", "ngơn"),
        ("mua", Mark.HORN, "modern", "mưa"),
        ("nguoi", Mark.HORN, "modern", "ngươi"),
        ("dong", Mark.STROKE, "modern", "đong"),
        ("Dang", Mark.STROKE, "modern", "Đang"),
        ("tién", Mark.CIRCUMFLEX, "modern", "tiến"),
        ("thúo", Mark.HORN, "modern", "thướ"),  # the tone moves from u to ơ
        ("hòa", Mark.BREVE, "traditional", "hoằ"),  # moves from o to ă
        ("oa", Mark.CIRCUMFLEX, "modern", "oa"),  # "oâ" is not Vietnamese: unchanged
        ("bin", Mark.HORN, "modern", "bin"),
        ("tâm", Mark.CIRCUMFLEX, "modern", "tâm"),
        ("đa", Mark.STROKE, "modern", "đa"),
    ],
)
def test_add_mark(word: str, mark: Mark, style: Style, expected: str) -> None:
    assert add_mark(word, mark, style) == expected


# ------------------------------------------------------------------------ the composer
def typed(keys: str, *, telex: bool = True, style: Style = "modern") -> str:
    return Composer(telex=telex, style=style).type(keys)


@pytest.mark.parametrize(
    "keys, expected",
    [
        ("nguyeenx", "nguyễn"),
        ("nguyenex", "nguyễn"),
        ("nguyexen", "nguyễn"),
        ("nguyenxe", "nguyễn"),
        ("tiengse", "tiếng"),
        ("NGUYEENX", "NGUYỄN"),
        ("DDAWNGJ", "ĐẶNG"),
        ("Ddawngj", "Đặng"),
        ("nguowif", "người"),
        ("nguwoif", "người"),
        ("nguwowif", "người"),
        ("thuowr", "thuở"),
        ("huow", "huơ"),
        ("truowngf", "trường"),
        ("muaw", "mưa"),
        ("hoawcj", "hoặc"),
        ("w", "ư"),
        ("tw", "tư"),
        ("nhw", "như"),
        ("sachs", "sách"),
        ("xax", "xã"),
        ("rooif", "rồi"),
        ("gifa", "già"),
        ("qusy", "quý"),
        ("hocj", "học"),
        ("hocf", "hocf"),  # huyền cannot go with a final c: typed as a letter
        ("dod", "đo"),
        ("Hoaf Binhf", "Hoà Bình"),
    ],
)
def test_telex(keys: str, expected: str) -> None:
    assert typed(keys) == expected


@pytest.mark.parametrize(
    "keys, expected",
    [
        ("as", "á"),
        ("ass", "as"),
        ("asss", "ass"),
        ("aa", "â"),
        ("aaa", "aa"),
        ("aaaa", "aaa"),
        ("aw", "ă"),
        ("aww", "aw"),
        ("dd", "đ"),
        ("ddd", "dd"),
        ("dddd", "ddd"),
        ("ww", "w"),
        ("www", "ww"),
        ("uww", "uw"),
        ("thuoww", "thuow"),
        ("class", "clas"),
        ("classs", "class"),
        ("cofffee", "coffee"),
        ("xooong", "xoong"),
        ("oaa", "oaa"),  # no circumflex makes "oâ": typed as a letter
    ],
)
def test_telex_undo_by_doubling(keys: str, expected: str) -> None:
    assert typed(keys) == expected


def test_telex_z_removes_the_tone() -> None:
    assert typed("asz") == "a"
    assert typed("nguyeenxz") == "nguyên"
    assert typed("z") == "z" and typed("az") == "az"  # nothing to remove: a letter
    assert typed("ngz") == "ngz"


def test_tone_letters_are_letters_without_a_vowel() -> None:
    assert typed("s") == "s" and typed("x") == "x" and typed("tr") == "tr"
    assert typed("s x r f j") == "s x r f j"


def test_tone_keys_toggle_and_need_a_vowel() -> None:
    c = Composer()
    c.type("Nguyên")
    assert c.tone(Tone.NGA) == "Nguyễn"
    assert c.tone(Tone.NGA) == "Nguyên"  # the same tone again removes it
    assert c.tone(Tone.SAC) == "Nguyến"
    assert c.tone(Tone.NGA) == "Nguyễn"  # another tone replaces it
    assert c.tone(Tone.NONE) == "Nguyên"
    c.text = "Hà "
    assert c.tone(Tone.SAC) == "Hà "  # no current word: nothing happens
    c.type("ng")
    assert c.tone(Tone.SAC) == "Hà ng"


def test_tone_moves_as_the_word_grows() -> None:
    c = Composer()
    c.type("ho")
    c.tone(Tone.HUYEN)
    assert c.text == "hò"
    assert c.type("a") == "hoà"
    assert c.type("n") == "hoàn"
    t = Composer(style="traditional")
    t.type("hoa")
    t.tone(Tone.HUYEN)
    assert t.text == "hòa"
    assert t.type("n") == "hoàn"
    assert t.backspace() == "hòa"  # back to an open syllable: back to the first vowel


def test_vowel_form_keys_insert_their_letter() -> None:
    c = Composer()
    for key in ["n", "g", "ư", "ơ", "i"]:
        c.key(key)
    c.tone(Tone.HUYEN)
    assert c.text == "người"
    c.text = ""
    for key in ["Đ", "ă", "k", " ", "L", "ă", "k"]:
        c.key(key)
        if key == "k":
            c.tone(Tone.SAC)
    assert c.text == "Đắk Lắk"


def test_backspace_removes_one_precomposed_letter() -> None:
    c = Composer(telex=True)
    c.type("Nguyeenx")
    assert c.text == "Nguyễn"
    assert c.backspace() == "Nguyễ"
    assert c.backspace() == "Nguy"
    assert c.key("\b") == "Ngu"
    c.text = "a"
    assert c.backspace() == "" and c.backspace() == ""


def test_backspace_starts_telex_afresh() -> None:
    c = Composer(telex=True)
    c.type("ass")
    assert c.text == "as"
    c.backspace()
    assert c.type("s") == "á"


def test_words_are_separated_by_space_and_punctuation() -> None:
    c = Composer(telex=True)
    assert c.type("Hoaf, Binhf.") == "Hoà, Bình."
    assert c.type(" 12 nhaf") == "Hoà, Bình. 12 nhà"
    assert c.word == "nhà"


def test_nfd_input_is_normalised() -> None:
    nfd_name = unicodedata.normalize("NFD", "Nguyễn Thị Thuỷ")
    c = Composer(text=nfd_name)
    assert c.text == "Nguyễn Thị Thuỷ"
    assert c.backspace() == "Nguyễn Thị Thu"
    c = Composer()
    for cluster in ["N", "g", "u", "y", unicodedata.normalize("NFD", "ễ"), "n"]:
        c.key(cluster)
    assert c.text == "Nguyễn" and unicodedata.is_normalized("NFC", c.text)
    c = Composer()
    assert c.insert(unicodedata.normalize("NFD", "Thủy")) == "Thủy"  # a paste is kept as is


def test_setting_text_starts_a_new_word_state() -> None:
    c = Composer(telex=True)
    c.type("as")
    c.text = "Phạm Văn "
    assert c.type("Ddoongj") == "Phạm Văn Động"


@settings(max_examples=300, deadline=None)
@given(
    keys=st.text(alphabet="aăâeêioôơuưydđsfrxjzw qgnhtc\bAEOUDW,", max_size=30),
    telex=st.booleans(),
    style=st.sampled_from(STYLES),
)
def test_any_keys_give_nfc_text(keys: str, telex: bool, style: Style) -> None:
    c = Composer(telex=telex, style=style)
    for key in keys:
        c.key(key)
        assert unicodedata.is_normalized("NFC", c.text)
    for tone in Tone:
        c.tone(tone)
        assert unicodedata.is_normalized("NFC", c.text)


@settings(max_examples=300, deadline=None)
@given(word=st.sampled_from([w for w, _ in WORDS]), tone=st.sampled_from(list(Tone)))
def test_place_tone_sets_exactly_one_tone(word: str, tone: Tone) -> None:
    last = pieces(word)[-1][1]
    once = place_tone(last, tone)
    assert place_tone(once, tone) == once
    assert get_tone(once) is tone
    assert strip_tone(once) == strip_tone(last)
