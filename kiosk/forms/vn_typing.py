"""Vietnamese typing: tone placement, vowel forms and a composer for on-screen and Telex input.

Pure Python (no Kivy): the on-screen keyboard (``screens/keyboard.py``) feeds a ``Composer`` and
shows its ``text``. Everything returned is Unicode NFC; input may be NFD (pasted text) and is
normalised first. Written from the rules of the orthography, not from any other input method.

Letters. A Vietnamese letter is a base letter, at most one vowel form (the breve of ă, the
circumflex of â ê ô, the horn of ơ ư; đ is d with a stroke) and, on vowels, at most one tone:
sắc (á), huyền (à), hỏi (ả), ngã (ã), nặng (ạ). Vowels are a ă â e ê i o ô ơ u ư y.

Syllables. A word is split into its last vowel group (consecutive vowels), the consonants before
it (the initial, taken back to the previous vowel group) and the letters after it (the final).
A Vietnamese word is one syllable; in longer runs of letters ("Pleiku") the last group is used.
The nucleus is the vowel group less the i of gi- and the u of qu- when a vowel follows them:
their i/u belong to the consonant (già, giữ, giếng, quả, quý, quyển, quốc); "gì", "gìn" keep the
i as their vowel.

Where the tone goes (``style="modern"``, the "kiểu mới" of the Ministry of Education's spelling
rules and of most Unicode-era text; ``style="traditional"`` is "kiểu cũ"), in order:

1. A vowel with a vowel form (ă â ê ô ơ ư) takes it; in ươ the ơ (the last such vowel):
   mặt, tiếng, người, rượu, thuở, khuyến, quốc, giữa.
2. Otherwise, when the syllable ends in a consonant, the last vowel of the nucleus:
   toán, hoàng, huỳnh, xoong, giúp.
3. Otherwise, in an open syllable:
   - one vowel takes it: má, kỷ, Mỹ, ý, gì;
   - oa, oe, uy (o/u are the glide): the second vowel in the modern style (hoà, khoẻ, thuỷ), the
     first in the traditional one (hòa, khỏe, thủy); this is the only difference of the styles;
   - any other pair takes it on the first vowel: mái, sáo, mùa, kìa, túi, giáo (gi + ao);
   - three vowels take it on the middle one: ngoài, khuỷu, xoáy, ngoẹo (with a vowel form, rule 1
     applies first: yêu, uôi, ươi, uyê).

Composer. Keeps the text being typed; the current word is the run of letters at its end. Letter
and vowel-form keys (ă â ê ô ơ ư đ) insert their letter; tone keys (``tone()``) put the tone on
the right vowel of the current word wherever it was typed, and pressing the same tone again
removes it. After every letter the word's tone is moved to where the rules put it, so a tone typed
early ends up right (hò + a → hoà; "qú" + y → quý; gì + a → già).

Telex (``telex=True``): aa â, aw ă, ee ê, oo ô, ow ơ, uw ư, w alone ư, dd đ, uow / uwo ươ
(an open syllable gets uơ as in thuở, and the next letter turns it into ươ: nguow + i → ngươi);
s f r x j = sắc huyền hỏi ngã nặng, z removes the tone. Vowel forms and tones may be typed anywhere
in the word (nguyeenx, nguyenex, tieengs, tiengse). A tone key is a plain letter when the word has
no vowel yet (s, x, r as initials) and when it cannot go with the word's final consonant (after c,
ch, p, t, k only sắc and nặng exist: "hocf" stays as typed). A vowel-form key applies only when it
makes a Vietnamese vowel cluster ("oa" + a stays "oaa"; "mua" + w is "mưa", "hoa" + w "hoă").

Words that are not Vietnamese (English, e-mail, brand names) are typed by pressing the key that
made the unwanted change once more: the change is undone, the key is typed as a letter, and Telex
is off for the rest of that word ("ass" → "as", "aaa" → "aa", "ddd" → "dd", "ww" → "w",
"www" → "ww", "classs" → "class", "cofffee" → "coffee"). Backspace removes the last character (a
precomposed letter is one character) and starts the word's Telex afresh.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from enum import Enum
from typing import Literal

from kiosk.infra.text import nfc

Style = Literal["modern", "traditional"]
STYLES: tuple[Style, ...] = ("modern", "traditional")


class Tone(Enum):
    """The six tones; the value is the combining mark Unicode composes with the vowel."""

    NONE = ""
    SAC = "\u0301"  # sắc, acute
    HUYEN = "\u0300"  # huyền, grave
    HOI = "\u0309"  # hỏi, hook above
    NGA = "\u0303"  # ngã, tilde
    NANG = "\u0323"  # nặng, dot below


class Mark(Enum):
    """The vowel forms and đ; the value is the combining mark (đ has none: U+0111 is atomic)."""

    NONE = ""
    BREVE = "\u0306"  # ă
    CIRCUMFLEX = "\u0302"  # â ê ô
    HORN = "\u031b"  # ơ ư
    STROKE = "stroke"  # đ


TONE_NAMES: dict[Tone, str] = {
    Tone.SAC: "sắc",
    Tone.HUYEN: "huyền",
    Tone.HOI: "hỏi",
    Tone.NGA: "ngã",
    Tone.NANG: "nặng",
}

TELEX_TONES: dict[str, Tone] = {
    "s": Tone.SAC,
    "f": Tone.HUYEN,
    "r": Tone.HOI,
    "x": Tone.NGA,
    "j": Tone.NANG,
}

VOWELS = frozenset("aeiouy")
_MARKS_OF: dict[str, frozenset[Mark]] = {
    "a": frozenset({Mark.BREVE, Mark.CIRCUMFLEX}),
    "e": frozenset({Mark.CIRCUMFLEX}),
    "o": frozenset({Mark.CIRCUMFLEX, Mark.HORN}),
    "u": frozenset({Mark.HORN}),
    "d": frozenset({Mark.STROKE}),
}
_VOWEL_FORMS = (Mark.BREVE, Mark.CIRCUMFLEX, Mark.HORN)
_TONE_BY_CHAR = {t.value: t for t in Tone if t is not Tone.NONE}
_MARK_BY_CHAR = {m.value: m for m in _VOWEL_FORMS}
_STOP_FINALS = frozenset({"c", "ch", "p", "t", "k"})

# Every vowel nucleus of Vietnamese (after the i of gi- and the u of qu-), without tones. Telex's
# vowel-form keys only act when the result is one of these.
VALID_NUCLEI = frozenset(
    "a ă â e ê i o ô ơ u ư y "
    "ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ uy ưa ưi ươ ưu yê "
    "iêu yêu oai oao oay oeo uây uôi uya uyê uyu ươi ươu".split()
)


@dataclass(frozen=True)
class _Letter:
    """One letter: a lowercase base, its vowel form, its tone and its case.

    Anything that is not a Vietnamese letter (digits never get here; "ñ", "ü", a stray combining
    mark) is ``opaque``: kept as written and treated as a consonant.
    """

    base: str
    mark: Mark = Mark.NONE
    tone: Tone = Tone.NONE
    upper: bool = False
    opaque: bool = False

    @property
    def vowel(self) -> bool:
        return not self.opaque and self.base in VOWELS

    def render(self) -> str:
        if self.opaque:
            return self.base
        if self.mark is Mark.STROKE:
            text = "đ"
        else:
            text = nfc(self.base + self.mark.value + self.tone.value)
        return text.upper() if self.upper else text

    def plain(self) -> str:
        """The letter without tone and case: what a vowel-form key shows."""
        return replace(self, tone=Tone.NONE, upper=False).render()


def _parse(cluster: str) -> _Letter:
    """A letter from one character cluster (a base character and its combining marks)."""
    if cluster in ("đ", "Đ"):
        return _Letter("d", Mark.STROKE, upper=cluster == "Đ")
    decomposed = unicodedata.normalize("NFD", cluster)
    base, rest = decomposed[0], decomposed[1:]
    lower = base.lower()
    if not ("a" <= lower <= "z"):
        return _Letter(nfc(cluster), opaque=True)
    mark, tone = Mark.NONE, Tone.NONE
    for ch in rest:
        if ch in _TONE_BY_CHAR and tone is Tone.NONE and lower in VOWELS:
            tone = _TONE_BY_CHAR[ch]
        elif (
            ch in _MARK_BY_CHAR
            and mark is Mark.NONE
            and _MARK_BY_CHAR[ch] in _MARKS_OF.get(lower, ())
        ):
            mark = _MARK_BY_CHAR[ch]
        else:
            return _Letter(nfc(cluster), opaque=True)
    return _Letter(lower, mark, tone, base.isupper())


def _clusters(text: str) -> list[str]:
    """``text`` cut into base characters each with the combining marks that follow it."""
    out: list[str] = []
    for ch in text:
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _letters(word: str) -> list[_Letter]:
    return [_parse(c) for c in _clusters(nfc(word))]


def _render(letters: list[_Letter]) -> str:
    return nfc("".join(letter.render() for letter in letters))


def _is_letter(cluster: str) -> bool:
    return unicodedata.category(cluster[0])[0] == "L"


@dataclass(frozen=True)
class _Syllable:
    """Where the parts of the last syllable of a run of letters are (indices into it)."""

    start: int  # its first letter (the initial consonant, if any)
    group: tuple[int, ...]  # the vowel group, gi-/qu- letters included
    nucleus: tuple[int, ...]  # the vowels that carry the tone (gi-/qu- letters excluded)
    final: str  # the letters after the vowel group, lowercase bases


def _groups(letters: list[_Letter]) -> list[tuple[int, int]]:
    """The vowel groups as (start, end) index ranges."""
    groups: list[tuple[int, int]] = []
    i = 0
    while i < len(letters):
        if letters[i].vowel:
            j = i
            while j < len(letters) and letters[j].vowel:
                j += 1
            groups.append((i, j))
            i = j
        else:
            i += 1
    return groups


def _syllable(letters: list[_Letter]) -> _Syllable | None:
    """The last syllable's parts, or None when there is no vowel."""
    groups = _groups(letters)
    if not groups:
        return None
    gs, ge = groups[-1]
    start = groups[-2][1] if len(groups) > 1 else 0
    group = tuple(range(gs, ge))
    nucleus = group
    initial = "".join(letter.base for letter in letters[start:gs])
    if len(group) > 1 and (
        (initial == "g" and letters[gs].base == "i") or (initial == "q" and letters[gs].base == "u")
    ):
        nucleus = group[1:]
    final = "".join(letter.base for letter in letters[ge:])
    return _Syllable(start, group, nucleus, final)


def _syllable_start(letters: list[_Letter]) -> int:
    syl = _syllable(letters)
    return 0 if syl is None else syl.start


def _tone_target(letters: list[_Letter], syl: _Syllable, style: Style) -> int:
    """The index of the vowel that carries the tone (the rules of the module docstring)."""
    nucleus = syl.nucleus
    formed = [i for i in nucleus if letters[i].mark in _VOWEL_FORMS]
    if formed:
        return formed[-1]
    if syl.final:
        return nucleus[-1]
    if len(nucleus) == 1:
        return nucleus[0]
    if len(nucleus) == 2:
        pair = letters[nucleus[0]].base + letters[nucleus[1]].base
        if pair in ("oa", "oe", "uy"):
            return nucleus[1] if style == "modern" else nucleus[0]
        return nucleus[0]
    return nucleus[1]


def _check_style(style: str) -> Style:
    if style not in STYLES:
        raise ValueError(f"unknown tone style {style!r} (use 'modern' or 'traditional')")
    return style  # type: ignore[return-value]


def _with_tone(letters: list[_Letter], tone: Tone, style: Style) -> list[_Letter]:
    """``letters`` with the last syllable's tone removed and ``tone`` put where it belongs."""
    syl = _syllable(letters)
    if syl is None:
        return list(letters)
    out = [
        replace(letter, tone=Tone.NONE) if i >= syl.start and not letter.opaque else letter
        for i, letter in enumerate(letters)
    ]
    if tone is not Tone.NONE:
        target = _tone_target(out, syl, style)
        out[target] = replace(out[target], tone=tone)
    return out


def _tone_of(letters: list[_Letter]) -> Tone:
    syl = _syllable(letters)
    if syl is None:
        return Tone.NONE
    return next(
        (letter.tone for letter in letters[syl.start :] if letter.tone is not Tone.NONE),
        Tone.NONE,
    )


def _retoned(letters: list[_Letter], style: Style) -> list[_Letter]:
    """Move a word's one tone to where the rules put it (words of one vowel group only)."""
    toned = [letter.tone for letter in letters if letter.tone is not Tone.NONE]
    if len(toned) != 1 or len(_groups(letters)) != 1:
        return list(letters)
    return _with_tone(letters, toned[0], style)


def _nucleus_text(letters: list[_Letter], nucleus: tuple[int, ...]) -> str:
    return "".join(letters[i].plain() for i in nucleus)


# ---------------------------------------------------------------------------------- public API
def place_tone(word: str, tone: Tone, style: Style = "modern") -> str:
    """``word`` with ``tone`` on the vowel the rules choose (``Tone.NONE`` removes the tone).

    An existing tone of the (last) syllable is replaced; case is kept (Nguyễn, NGUYỄN). A word
    without a vowel is returned unchanged. Setting, not toggling: ``Composer.tone`` toggles.
    """
    style = _check_style(style)
    return _render(_with_tone(_letters(word), tone, style))


def get_tone(word: str) -> Tone:
    """The tone of the word's (last) syllable."""
    return _tone_of(_letters(word))


def strip_tone(word: str) -> str:
    """``word`` without the tone of its (last) syllable."""
    return place_tone(word, Tone.NONE)


def tone_index(word: str, style: Style = "modern") -> int | None:
    """The index in the NFC word of the vowel that carries (or would carry) its tone."""
    style = _check_style(style)
    letters = _letters(word)
    syl = _syllable(letters)
    if syl is None:
        return None
    target = _tone_target(letters, syl, style)
    return len(_render(letters[:target]))


def restyle(text: str, style: Style = "modern") -> str:
    """``text`` with every word's tone where ``style`` puts it (Thủy ↔ Thuỷ, Hòa ↔ Hoà).

    For comparing names typed in one style with records written in the other.
    """
    style = _check_style(style)
    out: list[str] = []
    run: list[str] = []
    for cluster in [*_clusters(nfc(text)), ""]:
        if cluster and _is_letter(cluster):
            run.append(cluster)
            continue
        if run:
            out.append(_render(_retoned([_parse(c) for c in run], style)))
            run = []
        out.append(cluster)
    return nfc("".join(out))


def _horn_options(
    letters: list[_Letter], nucleus: tuple[int, ...], *, breve: bool
) -> list[tuple[list[_Letter], bool]]:
    """The ways a horn (and, with ``breve``, a breve) can go on the nucleus, best first.

    Each option is (letters, is_the_uo_pair). Only options that change something and make a
    Vietnamese vowel cluster are returned.
    """
    candidates: list[tuple[dict[int, Mark], bool]] = []
    for a, b in zip(nucleus, nucleus[1:], strict=False):
        if letters[a].base == "u" and letters[b].base == "o":
            candidates.append(({a: Mark.HORN, b: Mark.HORN}, True))
    for base, mark in (("o", Mark.HORN), ("a", Mark.BREVE), ("u", Mark.HORN)):
        if mark is Mark.BREVE and not breve:
            continue
        found = [i for i in nucleus if letters[i].base == base]
        if found:
            candidates.append(({found[-1]: mark}, False))
    options: list[tuple[list[_Letter], bool]] = []
    for change, pair in candidates:
        if all(letters[i].mark is m for i, m in change.items()):
            continue
        new = list(letters)
        for i, m in change.items():
            new[i] = replace(new[i], mark=m)
        if _nucleus_text(new, nucleus) in VALID_NUCLEI:
            options.append((new, pair))
    return options


def _marked(letters: list[_Letter], mark: Mark, base: str | None = None) -> list[_Letter] | None:
    """``letters`` with ``mark`` added by the rules of ``add_mark``, or None if it cannot go."""
    if mark is Mark.STROKE:
        start = _syllable_start(letters)
        if start < len(letters) and letters[start].base == "d" and not letters[start].opaque:
            if letters[start].mark is Mark.STROKE:
                return None
            new = list(letters)
            new[start] = replace(new[start], mark=Mark.STROKE)
            return new
        return None
    syl = _syllable(letters)
    if syl is None or mark is Mark.NONE:
        return None
    if mark is Mark.HORN:
        options = _horn_options(letters, syl.nucleus, breve=False)
        return options[0][0] if options else None
    bases = {Mark.BREVE: "a", Mark.CIRCUMFLEX: "aeo"}[mark] if base is None else base
    for i in reversed(syl.nucleus):
        if letters[i].base in bases and mark in _MARKS_OF[letters[i].base]:
            if letters[i].mark is mark:
                return None
            new = list(letters)
            new[i] = replace(new[i], mark=mark)
            if _nucleus_text(new, syl.nucleus) in VALID_NUCLEI:
                return new
    return None


def add_mark(word: str, mark: Mark, style: Style = "modern") -> str:
    """``word`` with a vowel form (or đ) added to the last letter it fits, tone moved to suit.

    BREVE: a → ă; CIRCUMFLEX: the last a/e/o → â/ê/ô; HORN: "uo" → "ươ", else the last o → ơ,
    else u → ư; STROKE: an initial d → đ. A form replaces another (ă → â). The result must be a
    Vietnamese vowel cluster ("oa" takes no circumflex); otherwise the word comes back unchanged.
    """
    style = _check_style(style)
    letters = _letters(word)
    new = _marked(letters, mark)
    return nfc(word) if new is None else _render(_retoned(new, style))


# ---------------------------------------------------------------------------------- composer
class Composer:
    """The text being typed, one key at a time; ``text`` is always NFC.

    ``key(ch)`` takes letters, vowel-form letters, space, digits, punctuation and "\\b"
    (backspace); ``tone(t)`` is a tone key; ``telex`` turns Telex on. Setting ``text`` (a field's
    current value, a paste) starts a new word state.
    """

    def __init__(self, text: str = "", *, telex: bool = False, style: Style = "modern") -> None:
        self.telex = telex
        self.style: Style = _check_style(style)
        self._head = ""
        self._word: list[_Letter] = []
        self.text = text

    # -------------------------------------------------------------------------- state
    @property
    def text(self) -> str:
        return nfc(self._head + _render(self._word))

    @text.setter
    def text(self, value: str) -> None:
        clusters = _clusters(nfc(value))
        cut = len(clusters)
        while cut > 0 and _is_letter(clusters[cut - 1]):
            cut -= 1
        self._head = "".join(clusters[:cut])
        self._word = [_parse(c) for c in clusters[cut:]]
        self._new_word()

    @property
    def word(self) -> str:
        """The word being typed (the letters at the end of the text)."""
        return _render(self._word)

    def _new_word(self) -> None:
        self._literal = False  # an undo made this word "not Vietnamese": Telex is off for it
        self._w_alone: tuple[int, str] | None = None  # an ư typed by a lone w (index, the key)
        self._open_uo = False  # "uo"+w gave uơ in an open syllable; the next letter makes ươ
        self._absorb_w = False  # "uw"+"o" already made ươ: a following w changes nothing

    def clear(self) -> None:
        self.text = ""

    # -------------------------------------------------------------------------- keys
    def key(self, keys: str) -> str:
        """Type ``keys`` (usually one key); returns the new text."""
        for cluster in _clusters(nfc(keys)):
            self._key(cluster)
        return self.text

    def type(self, keys: str) -> str:
        """Type every key of ``keys`` in turn (same as ``key``; reads better for many)."""
        return self.key(keys)

    def insert(self, text: str) -> str:
        """Insert ``text`` as it is, with no Telex or tone moves (a paste)."""
        self.text = self.text + text
        return self.text

    def backspace(self) -> str:
        """Remove the last character (a precomposed letter is one character)."""
        clusters = _clusters(self.text)
        self.text = "".join(clusters[:-1])
        self._word = _retoned(self._word, self.style)
        return self.text

    def tone(self, tone: Tone) -> str:
        """A tone key: put ``tone`` on the current word, or remove it if it is already there."""
        self._absorb_w = False
        if _syllable(self._word) is None:
            return self.text
        if tone is not Tone.NONE and _tone_of(self._word) is tone:
            tone = Tone.NONE
        self._word = _with_tone(self._word, tone, self.style)
        return self.text

    def _key(self, cluster: str) -> None:
        absorb, self._absorb_w = self._absorb_w, False
        if cluster == "\b":
            self.backspace()
            return
        if not _is_letter(cluster):
            self._head = self.text + cluster
            self._word = []
            self._new_word()
            return
        letter = _parse(cluster)
        if self.telex and not self._literal and self._telex(cluster, letter, absorb):
            return
        self._append(letter)

    def _append(self, letter: _Letter) -> None:
        open_uo, self._open_uo = self._open_uo, False
        word = self._word
        if self.telex and not self._literal:
            if open_uo:
                syl = _syllable(word)
                if syl is not None and len(syl.nucleus) >= 2:
                    u = syl.nucleus[-2]
                    if word[u].base == "u" and word[syl.nucleus[-1]].mark is Mark.HORN:
                        word[u] = replace(word[u], mark=Mark.HORN)
            last = word[-1] if word else None
            if (
                letter.base == "o"
                and letter.mark is Mark.NONE
                and not letter.opaque
                and last is not None
                and last.base == "u"
                and last.mark is Mark.HORN
            ):
                letter = replace(letter, mark=Mark.HORN)  # uwo → ươ
                self._absorb_w = True
        word.append(letter)
        self._word = _retoned(word, self.style)

    # -------------------------------------------------------------------------- Telex
    def _telex(self, key: str, letter: _Letter, absorb: bool) -> bool:
        """Apply ``key`` as a Telex key; False when it is to be typed as a letter."""
        if letter.opaque or letter.mark is not Mark.NONE or letter.tone is not Tone.NONE:
            return False
        base = letter.base
        if base == "w" and absorb:
            return True
        if base in TELEX_TONES:
            return self._telex_tone(key, TELEX_TONES[base])
        if base == "z":
            if _tone_of(self._word) is Tone.NONE:
                return False
            self._word = _with_tone(self._word, Tone.NONE, self.style)
            return True
        if base in "aeo":
            return self._telex_circumflex(key, base)
        if base == "w":
            return self._telex_horn(key)
        if base == "d":
            return self._telex_stroke(key)
        return False

    def _undo(self, letters: list[_Letter], key: str) -> bool:
        """Take back a Telex change, type ``key`` as a letter, and leave Telex off for the word."""
        self._word = [*letters, _parse(key)]
        self._word = _retoned(self._word, self.style)
        self._literal = True
        self._open_uo = False
        return True

    def _telex_tone(self, key: str, tone: Tone) -> bool:
        syl = _syllable(self._word)
        if syl is None:
            return False
        if _tone_of(self._word) is tone:
            return self._undo(_with_tone(self._word, Tone.NONE, self.style), key)
        if syl.final in _STOP_FINALS and tone not in (Tone.SAC, Tone.NANG):
            return False
        self._word = _with_tone(self._word, tone, self.style)
        return True

    def _telex_circumflex(self, key: str, base: str) -> bool:
        syl = _syllable(self._word)
        if syl is None:
            return False
        found = [i for i in syl.nucleus if self._word[i].base == base]
        if not found:
            return False
        i = found[-1]
        if self._word[i].mark is Mark.CIRCUMFLEX:
            undone = list(self._word)
            undone[i] = replace(undone[i], mark=Mark.NONE)
            return self._undo(undone, key)
        new = _marked(self._word, Mark.CIRCUMFLEX, base)
        if new is None:
            return False
        self._word = _retoned(new, self.style)
        return True

    def _telex_horn(self, key: str) -> bool:
        word = self._word
        syl = _syllable(word)
        if syl is None:  # w alone: ư
            self._word = [*word, _Letter("u", Mark.HORN, upper=key.isupper())]
            self._w_alone = (len(word), key)
            return True
        if self._w_alone is not None and self._w_alone[0] == len(word) - 1:
            index, first = self._w_alone
            if word[index].base == "u" and word[index].mark is Mark.HORN:  # ww → w
                self._literal = True
                self._word = [*word[:index], _parse(first)]
                return True
        if self._open_uo:  # uơ + w → uow
            return self._undo(
                [
                    replace(x, mark=Mark.NONE) if i in syl.nucleus and x.mark is Mark.HORN else x
                    for i, x in enumerate(word)
                ],
                key,
            )
        options = _horn_options(word, syl.nucleus, breve=True)
        if options:
            new, pair = options[0]
            if pair and not syl.final and syl.nucleus[-1] == syl.group[-1]:
                o = syl.nucleus[-1]
                if new[o - 1].base == "u" and word[o - 1].mark is Mark.NONE:
                    new[o - 1] = replace(new[o - 1], mark=Mark.NONE)  # thuở: uơ until a letter
                    self._open_uo = True
            self._word = _retoned(new, self.style)
            return True
        if any(word[i].mark in (Mark.HORN, Mark.BREVE) for i in syl.nucleus):
            return self._undo(
                [
                    replace(x, mark=Mark.NONE)
                    if i in syl.nucleus and x.mark in (Mark.HORN, Mark.BREVE)
                    else x
                    for i, x in enumerate(word)
                ],
                key,
            )
        return False

    def _telex_stroke(self, key: str) -> bool:
        word = self._word
        start = _syllable_start(word)
        if start >= len(word) or word[start].base != "d" or word[start].opaque:
            return False
        if word[start].mark is Mark.STROKE:
            undone = list(word)
            undone[start] = replace(undone[start], mark=Mark.NONE)
            return self._undo(undone, key)
        new = _marked(word, Mark.STROKE)
        if new is None:
            return False
        self._word = new
        return True
