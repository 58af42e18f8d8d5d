"""Build assets/data/admin-units-2025.json, Vietnam's two-level administrative map of 1 July 2025
(34 provinces, 3,321 communes), from the dataset of the PyPI package ``vietnamadminunits``.

    python scripts/build_address_data.py                   # pip-download the pinned wheel, build
    python scripts/build_address_data.py --wheel F.whl     # build from a wheel already here
    python scripts/build_address_data.py --version 1.0.5 --sha256 HEX   # refresh to a new release

The wheel is fetched with ``pip download`` (no install: the kiosk does not depend on the package
at run time) and checked against its pinned SHA-256. The script reads the SQLite file the wheel
carries (table ``admin_units``: one row per commune with its province) and the 63 → 34 province
mapping (``converter_2025.json`` + table ``admin_units_legacy``), checks every row (codes, types,
NFC names, type prefixes, uniqueness), and writes one JSON file with one commune per line, so a
refresh shows as a readable diff. The package's MIT licence is copied next to it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "assets" / "data"
OUT_FILE = OUT_DIR / "admin-units-2025.json"
LICENCE_FILE = OUT_DIR / "vietnamadminunits-LICENSE.txt"

PACKAGE = "vietnamadminunits"
PINNED_VERSION = "1.0.4"
PINNED_SHA256 = "737ee3662e877290386c1c45ed4d71f2e5fae34ab6fb9c64bfb4cb74b216ea35"
FORMAT = "motcua-kiosk/admin-units/1"
EFFECTIVE = "2025-07-01"

PROVINCE_TYPES = {"Tỉnh": "tỉnh", "Thành phố": "thành phố"}
COMMUNE_TYPES = {"Xã": "xã", "Phường": "phường", "Đặc khu": "đặc khu"}
PROVINCE_CODE = re.compile(r"^\d{2}$")
COMMUNE_CODE = re.compile(r"^\d{5}$")


class BuildError(Exception):
    """The source does not look as expected; the message says what and where."""


def clean(text: str) -> str:
    """NFC, single spaces, no spaces at the ends."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def split_type(name: str, types: dict[str, str], what: str) -> str:
    """The unit type ("tỉnh", "xã", ...) named by the prefix of ``name``."""
    for prefix, unit_type in types.items():
        if name.startswith(prefix + " ") and len(name) > len(prefix) + 1:
            return unit_type
    raise BuildError(f"{what} {name!r} does not start with one of {', '.join(types)}")


def fetch_wheel(version: str, into: Path) -> Path:
    """``pip download`` the wheel of ``version`` (no dependencies, binary only) into ``into``."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary",
        ":all:",
        f"{PACKAGE}=={version}",
        "-d",
        str(into),
    ]
    subprocess.run(cmd, check=True)
    wheels = sorted(into.glob(f"{PACKAGE}-{version}-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"pip download gave {len(wheels)} wheels of {PACKAGE} {version}")
    return wheels[0]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_wheel(wheel: Path, workdir: Path) -> tuple[Path, dict[str, list[str]], str]:
    """Extract the SQLite dataset, return it with the province mapping and the licence text."""
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        try:
            db_name = next(n for n in names if n.endswith(f"{PACKAGE}/data/dataset.db"))
            conv_name = next(n for n in names if n.endswith(f"{PACKAGE}/data/converter_2025.json"))
            lic_name = next(n for n in names if n.endswith("licenses/LICENSE"))
        except StopIteration:
            raise BuildError(
                f"{wheel.name}: dataset.db, converter_2025.json or LICENSE missing"
            ) from None
        db_path = workdir / "dataset.db"
        db_path.write_bytes(zf.read(db_name))
        mapping = json.loads(zf.read(conv_name))["DICT_PROVINCE"]
        licence = zf.read(lic_name).decode("utf-8")
    return db_path, mapping, licence


def build(db_path: Path, mapping: dict[str, list[str]]) -> tuple[list[dict], list[str]]:
    """Provinces sorted by code, each with its communes sorted by code and its former provinces;
    and the communes whose type column disagrees with their name (the name's prefix is used)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT provinceCode, province, provinceKey, wardCode, ward, wardType FROM admin_units"
        ).fetchall()
        legacy = dict(con.execute("SELECT DISTINCT provinceKey, province FROM admin_units_legacy"))
    finally:
        con.close()

    provinces: dict[str, dict] = {}
    key_to_code: dict[str, str] = {}
    seen_communes: set[str] = set()
    disagreements: list[str] = []
    for p_code, p_name, p_key, c_code, c_name, c_type in rows:
        p_code, c_code = str(p_code).strip(), str(c_code).strip()
        p_name, c_name = clean(p_name), clean(c_name)
        if not PROVINCE_CODE.match(p_code):
            raise BuildError(f"province {p_name!r}: code {p_code!r} is not 2 digits")
        if not COMMUNE_CODE.match(c_code):
            raise BuildError(f"commune {c_name!r}: code {c_code!r} is not 5 digits")
        if c_code in seen_communes:
            raise BuildError(f"commune code {c_code} appears twice")
        seen_communes.add(c_code)
        unit_type = split_type(c_name, COMMUNE_TYPES, "commune")
        if clean(c_type).casefold() != unit_type:
            # The package's author corrected a few names by hand (xã ↔ phường) and left the
            # type column behind; the name is the corrected fact. Said aloud, never silent.
            disagreements.append(f"{c_code} {c_name!r} (type column: {c_type!r})")
        province = provinces.setdefault(
            p_code,
            {
                "code": p_code,
                "name": p_name,
                "type": split_type(p_name, PROVINCE_TYPES, "province"),
                "former": [],
                "communes": [],
            },
        )
        if province["name"] != p_name:
            raise BuildError(f"province {p_code} is named {province['name']!r} and {p_name!r}")
        if key_to_code.setdefault(p_key, p_code) != p_code:
            raise BuildError(f"province key {p_key!r} has two codes")
        province["communes"].append([c_code, c_name, unit_type])

    for new_key, old_keys in mapping.items():
        if new_key not in key_to_code:
            raise BuildError(f"converter_2025.json names an unknown province {new_key!r}")
        province = provinces[key_to_code[new_key]]
        for old_key in old_keys:
            if old_key not in legacy:
                raise BuildError(f"converter_2025.json names an unknown former province {old_key}")
            old_name = clean(legacy[old_key])
            if old_name != province["name"]:
                split_type(old_name, PROVINCE_TYPES, "former province")
                province["former"].append(old_name)

    out = sorted(provinces.values(), key=lambda p: p["code"])
    for province in out:
        province["communes"].sort()
        province["former"].sort()
    return out, disagreements


def render(provinces: list[dict], source: dict) -> str:
    """The JSON text: a header, then one province per block and one commune per line."""
    dump = lambda value: json.dumps(value, ensure_ascii=False)  # noqa: E731
    total = sum(len(p["communes"]) for p in provinces)
    lines = [
        "{",
        f'  "format": {dump(FORMAT)},',
        f'  "effective": {dump(EFFECTIVE)},',
        f'  "source": {dump(source)},',
        f'  "counts": {dump({"provinces": len(provinces), "communes": total})},',
        '  "provinces": [',
    ]
    for i, p in enumerate(provinces):
        head = {k: p[k] for k in ("code", "name", "type", "former")}
        lines.append("    " + dump(head)[:-1] + ', "communes": [')
        communes = p["communes"]
        for j, row in enumerate(communes):
            lines.append("      " + dump(row) + ("," if j < len(communes) - 1 else ""))
        lines.append("    ]}" + ("," if i < len(provinces) - 1 else ""))
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded wheel of vietnamadminunits")
    parser.add_argument("--version", default=PINNED_VERSION)
    parser.add_argument("--sha256", help="expected SHA-256 of the wheel (required off the pin)")
    parser.add_argument("--out", type=Path, default=OUT_FILE)
    args = parser.parse_args(argv)

    expected = args.sha256 or (PINNED_SHA256 if args.version == PINNED_VERSION else None)
    if expected is None:
        parser.error(f"--sha256 is required for a version other than {PINNED_VERSION}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            wheel = args.wheel or fetch_wheel(args.version, work)
            digest = sha256_of(wheel)
            if digest != expected.lower():
                raise BuildError(f"{wheel.name}: SHA-256 {digest}, expected {expected}")
            db_path, mapping, licence = read_wheel(wheel, work)
            provinces, disagreements = build(db_path, mapping)
    except (BuildError, subprocess.CalledProcessError, OSError, sqlite3.Error, KeyError) as exc:
        print(f"build_address_data: {exc}", file=sys.stderr)
        return 1

    source = {
        "package": PACKAGE,
        "version": args.version,
        "wheel": wheel.name,
        "sha256": digest,
        "licence": "MIT",
        "licence_file": LICENCE_FILE.name,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(provinces, source), encoding="utf-8")
    (args.out.parent / LICENCE_FILE.name).write_text(licence, encoding="utf-8")

    for item in disagreements:
        print(f"note: type taken from the name for {item}")
    types = Counter(row[2] for p in provinces for row in p["communes"])
    total = sum(types.values())
    p_types = Counter(p["type"] for p in provinces)
    print(
        f"wrote {args.out}: {len(provinces)} provinces "
        f"({', '.join(f'{n} {t}' for t, n in sorted(p_types.items()))}), {total} communes "
        f"({', '.join(f'{n} {t}' for t, n in sorted(types.items()))})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
