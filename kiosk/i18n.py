"""Translations: gettext catalogs under assets/locale, English message ids, Vietnamese by default.

Message ids are English sentences; ``assets/locale/vi/LC_MESSAGES/kiosk.po`` holds the Vietnamese
(NFC). English needs no catalog: a missing translation falls back to the id. The compiled ``.mo``
files are committed; ``scripts/compile_locale.py`` rebuilds them and a test checks they match.
"""

from __future__ import annotations

import gettext
import unicodedata
from functools import cache

from kiosk.paths import LOCALE_DIR

DOMAIN = "kiosk"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


@cache
def catalog(lang: str) -> gettext.NullTranslations:
    """The gettext catalog of ``lang`` ("vi" or "en")."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r} (supported: {', '.join(LANGUAGES)})")
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])


def translate(msgid: str, lang: str) -> str:
    """``msgid`` in ``lang``, NFC-normalised."""
    return unicodedata.normalize("NFC", catalog(lang).gettext(msgid))


def translator(lang: str):  # noqa: ANN201 - a gettext-style function
    """A one-argument gettext function for ``lang`` (for ``KioskError.user_message``)."""
    return lambda msgid: translate(msgid, lang)
