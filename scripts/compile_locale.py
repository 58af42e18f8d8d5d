"""Compile assets/locale/*/LC_MESSAGES/kiosk.po into kiosk.mo (run after editing a .po file).

Uses Babel (a test/dev dependency). ``--check`` exits 1 when a committed .mo says something other
than its .po: a message missing, extra or translated differently. It compares messages, not bytes,
so a Babel release that lays the file out differently does not count as a change.
"""

from __future__ import annotations

import gettext
import io
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent.parent / "assets" / "locale"


def compiled(po_path: Path) -> bytes:
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def messages(mo_data: bytes) -> dict[object, str]:
    """The messages of a compiled catalog as Python's gettext reads them (header left out)."""
    table = gettext.GNUTranslations(io.BytesIO(mo_data))._catalog  # type: ignore[attr-defined]
    return {key: text for key, text in table.items() if key != ""}


def differences(po: Path, mo: Path) -> list[str]:
    """What the committed .mo says differently from its .po, one line per message."""
    if not mo.exists():
        return [f"{mo} is missing"]
    want = messages(compiled(po))
    have = messages(mo.read_bytes())
    lines = [f"missing: {key!r}" for key in want.keys() - have.keys()]
    lines += [f"not in the .po: {key!r}" for key in have.keys() - want.keys()]
    lines += [
        f"translated differently: {key!r}: {have[key]!r} (the .po says {want[key]!r})"
        for key in want.keys() & have.keys()
        if want[key] != have[key]
    ]
    return sorted(lines)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = 0
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if check:
            found = differences(po, mo)
            for line in found:
                print(f"{mo}: {line}", file=sys.stderr)
            if found:
                stale += 1
                print(f"out of date: {mo} (run python scripts/compile_locale.py)", file=sys.stderr)
        else:
            mo.write_bytes(compiled(po))
            print(f"wrote {mo}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
