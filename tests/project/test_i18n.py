"""Every message the kiosk shows has a Vietnamese translation, in NFC, with its placeholders."""

from __future__ import annotations

import re
import string
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from kiosk.i18n import LANGUAGES, catalog, translate

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from list_msgids import all_msgids  # noqa: E402

MSGIDS = sorted(all_msgids())


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_there_are_messages_to_check() -> None:
    assert len(MSGIDS) > 80


@pytest.mark.parametrize("msgid", MSGIDS)
def test_vietnamese_translation_exists(msgid: str) -> None:
    vi = catalog("vi").gettext(msgid)
    assert vi != msgid or not re.search(r"[A-Za-z]{3}", msgid), f"untranslated: {msgid!r}"
    assert unicodedata.is_normalized("NFC", vi)
    assert placeholders(vi) == placeholders(msgid)


def test_english_is_the_message_id() -> None:
    assert translate("Continue", "en") == "Continue"
    assert translate("Continue", "vi") == "Tiếp tục"
    assert LANGUAGES == ("vi", "en")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        catalog("fr")


def test_compiled_catalogs_match_their_sources() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compile_locale.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_catalog_check_compares_messages_not_bytes(tmp_path: Path) -> None:
    from compile_locale import LOCALE, compiled, differences

    po_source = LOCALE / "vi" / "LC_MESSAGES" / "kiosk.po"
    po = tmp_path / "kiosk.po"
    mo = tmp_path / "kiosk.mo"
    po.write_bytes(po_source.read_bytes())
    # Another Babel may lay the file out differently (hash table, padding): the same messages pass.
    mo.write_bytes(compiled(po) + b"\0" * 16)
    assert differences(po, mo) == []
    # A changed translation is a difference, named.
    text = po.read_text(encoding="utf-8")
    assert 'msgstr "Tiếp tục"' in text
    po.write_text(text.replace('msgstr "Tiếp tục"', 'msgstr "Đi tiếp"', 1), encoding="utf-8")
    found = differences(po, mo)
    assert any("'Continue'" in line and "Đi tiếp" in line for line in found), found
    mo.unlink()
    assert differences(po, mo) == [f"{mo} is missing"]
