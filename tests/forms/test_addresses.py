"""The 2025 administrative map (assets/data/admin-units-2025.json) and kiosk/forms/addresses.py:
counts,
known units and codes, Vietnamese order, search as typed on the kiosk's keyboard, exact-ish
look-ups, the form engine's address contract, and what a broken data file gives."""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

import pytest

from kiosk.catalog.procedures import vietnamese_sort_key
from kiosk.errors import KioskError
from kiosk.forms import addresses
from kiosk.forms.addresses import (
    MSG_COMMUNE_NOT_LISTED,
    MSG_COMMUNE_REQUIRED,
    MSG_PROVINCE,
    MSG_TOO_LONG,
    AddressDataError,
    AdminUnits,
    Commune,
    Province,
    UnknownProvince,
    fold,
)

# Nghị quyết 202/2025/QH15: 6 centrally-run cities and 28 provinces from 1 July 2025.
CITIES = {"Hà Nội", "Hải Phòng", "Huế", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ"}
PROVINCES = {
    "An Giang", "Bắc Ninh", "Cà Mau", "Cao Bằng", "Đắk Lắk", "Điện Biên", "Đồng Nai", "Đồng Tháp",
    "Gia Lai", "Hà Tĩnh", "Hưng Yên", "Khánh Hòa", "Lai Châu", "Lạng Sơn", "Lào Cai", "Lâm Đồng",
    "Nghệ An", "Ninh Bình", "Phú Thọ", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sơn La",
    "Tây Ninh", "Thái Nguyên", "Thanh Hóa", "Tuyên Quang", "Vĩnh Long",
}  # fmt: skip
# 3,321 communes on 1 July 2025 (2,621 xã, 687 phường, 13 đặc khu). Later re-arrangements move
# the count a little; a refresh outside this range deserves a look before it ships.
COMMUNE_RANGE = range(3200, 3401)


@pytest.fixture(scope="module")
def units() -> AdminUnits:
    return addresses.units()


def names(units_list: list[Province] | list[Commune]) -> list[str]:
    return [u.name for u in units_list]


# --- the data ------------------------------------------------------------------------------


def test_34_provinces_6_cities_28_provinces(units: AdminUnits) -> None:
    found = units.provinces()
    assert len(found) == 34
    assert {p.short_name for p in found if p.type == "thành phố"} == CITIES
    assert {p.short_name for p in found if p.type == "tỉnh"} == PROVINCES
    for p in found:
        assert p.name == ("Thành phố " if p.type == "thành phố" else "Tỉnh ") + p.short_name


def test_commune_counts_and_types(units: AdminUnits) -> None:
    all_communes = [c for p in units.provinces() for c in units.communes(p.code)]
    assert len(all_communes) in COMMUNE_RANGE
    assert units.commune_count() == len(all_communes) == len({c.code for c in all_communes})
    by_type = {t: sum(c.type == t for c in all_communes) for t in addresses.COMMUNE_TYPES}
    assert by_type["đặc khu"] == 13
    assert by_type["xã"] > by_type["phường"] > 600
    for c in all_communes:
        assert c.name == c.type.capitalize() + " " + c.short_name
    # Every province has communes; Thành phố Hồ Chí Minh has the most (168).
    counts = {p.short_name: len(units.communes(p.code)) for p in units.provinces()}
    assert min(counts.values()) > 0
    assert max(counts, key=counts.__getitem__) == "Hồ Chí Minh"
    assert counts["Hồ Chí Minh"] == 168 and counts["Hà Nội"] == 126 and counts["Huế"] == 40


@pytest.mark.parametrize(
    ("code", "name", "unit_type"),
    [
        ("01", "Thành phố Hà Nội", "thành phố"),
        ("46", "Thành phố Huế", "thành phố"),
        ("48", "Thành phố Đà Nẵng", "thành phố"),
        ("56", "Tỉnh Khánh Hòa", "tỉnh"),
        ("66", "Tỉnh Đắk Lắk", "tỉnh"),
        ("68", "Tỉnh Lâm Đồng", "tỉnh"),
        ("79", "Thành phố Hồ Chí Minh", "thành phố"),
        ("96", "Tỉnh Cà Mau", "tỉnh"),
    ],
)
def test_known_provinces(units: AdminUnits, code: str, name: str, unit_type: str) -> None:
    province = units.province(code)
    assert (province.name, province.type) == (name, unit_type)


# Codes that the source (vietnamadminunits 1.0.4) and the June 2025 draft list agree on.
@pytest.mark.parametrize(
    ("province_code", "code", "name", "unit_type"),
    [
        ("01", "00004", "Phường Ba Đình", "phường"),
        ("01", "00070", "Phường Hoàn Kiếm", "phường"),
        ("79", "26740", "Phường Sài Gòn", "phường"),
        ("79", "26732", "Đặc khu Côn Đảo", "đặc khu"),
        ("91", "31078", "Đặc khu Phú Quốc", "đặc khu"),
        ("56", "22366", "Phường Nha Trang", "phường"),
        ("48", "20242", "Phường Hải Châu", "phường"),
        ("68", "24781", "Phường Xuân Hương - Đà Lạt", "phường"),
        ("68", "24718", "Xã Đắk Song", "xã"),
        ("66", "24184", "Xã Ea H'Leo", "xã"),
    ],
)
def test_known_communes(
    units: AdminUnits, province_code: str, code: str, name: str, unit_type: str
) -> None:
    commune = units.find_commune(province_code, code)
    assert commune == Commune(code, name, unit_type, province_code)


def test_special_zones_and_merged_provinces(units: AdminUnits) -> None:
    zones = {c.short_name for p in units.provinces() for c in units.communes(p.code)}
    assert {"Phú Quốc", "Côn Đảo", "Hoàng Sa", "Trường Sa", "Lý Sơn", "Vân Đồn"} <= zones
    assert units.province("79").former == ("Tỉnh Bà Rịa - Vũng Tàu", "Tỉnh Bình Dương")
    assert units.province("68").former == ("Tỉnh Bình Thuận", "Tỉnh Đắk Nông")
    assert units.province("01").former == ()
    assert sum(len(p.former) for p in units.provinces()) == 63 - 34


def test_every_name_is_nfc_and_clean(units: AdminUnits) -> None:
    texts = [p.name for p in units.provinces()] + [f for p in units.provinces() for f in p.former]
    texts += [c.name for p in units.provinces() for c in units.communes(p.code)]
    for text in texts:
        assert unicodedata.normalize("NFC", text) == text
        assert text == " ".join(text.split())


def test_vietnamese_order(units: AdminUnits) -> None:
    short = [p.short_name for p in units.provinces()]
    assert short[:5] == ["An Giang", "Bắc Ninh", "Cà Mau", "Cao Bằng", "Cần Thơ"]
    assert short.index("Đà Nẵng") > short.index("Cần Thơ")  # đ after d, after c
    assert short == sorted(short, key=vietnamese_sort_key)
    hue = [c.short_name for c in units.communes("46")]
    assert hue == sorted(hue, key=vietnamese_sort_key)


def test_unknown_province_code(units: AdminUnits) -> None:
    with pytest.raises(UnknownProvince) as info:
        units.communes("99")
    assert isinstance(info.value, KioskError)
    assert info.value.user_message() == MSG_PROVINCE
    with pytest.raises(UnknownProvince):
        units.search_communes("99", "an")


def test_shipped_licence_and_source() -> None:
    data = json.loads(addresses.DATA_FILE.read_text(encoding="utf-8"))
    assert data["source"]["package"] == "vietnamadminunits" and data["source"]["licence"] == "MIT"
    licence = addresses.DATA_FILE.parent / data["source"]["licence_file"]
    assert "MIT License" in licence.read_text(encoding="utf-8")
    assert addresses.units() is addresses.units()  # loaded once


# --- search --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("dak lak", "Tỉnh Đắk Lắk"),
        ("Đắk Lắk", "Tỉnh Đắk Lắk"),
        ("DAK LAK", "Tỉnh Đắk Lắk"),
        ("daklak", "Tỉnh Đắk Lắk"),
        ("dak", "Tỉnh Đắk Lắk"),
        ("tinh dak lak", "Tỉnh Đắk Lắk"),
        ("hcm", "Thành phố Hồ Chí Minh"),
        ("HCM", "Thành phố Hồ Chí Minh"),
        ("tp hcm", "Thành phố Hồ Chí Minh"),
        ("TP.HCM", "Thành phố Hồ Chí Minh"),
        ("tphcm", "Thành phố Hồ Chí Minh"),
        ("ho chi minh", "Thành phố Hồ Chí Minh"),
        ("Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
        ("sai gon", "Thành phố Hồ Chí Minh"),
        ("hue", "Thành phố Huế"),
        ("tp hue", "Thành phố Huế"),
        ("thua thien hue", "Thành phố Huế"),
        ("khanh hoa", "Tỉnh Khánh Hòa"),
        ("Khánh Hoà", "Tỉnh Khánh Hòa"),  # the old tone placement
        ("lam d", "Tỉnh Lâm Đồng"),
        ("binh duong", "Thành phố Hồ Chí Minh"),  # merged into it in 2025
    ],
)
def test_search_provinces_as_typed(units: AdminUnits, typed: str, expected: str) -> None:
    assert names(units.search_provinces(typed))[0] == expected


def test_search_provinces_order(units: AdminUnits) -> None:
    # Names starting with what was typed, then a word starting with it, then former provinces.
    assert [p.short_name for p in units.search_provinces("quang")] == [
        "Quảng Ngãi",
        "Quảng Ninh",
        "Quảng Trị",
        "Tuyên Quang",
        "Đà Nẵng",  # Quảng Nam
    ]
    assert [p.short_name for p in units.search_provinces("ha")][:3] == [
        "Hà Nội",
        "Hà Tĩnh",
        "Hải Phòng",
    ]
    # Tones typed are preferred; without tones, alphabetical.
    assert [p.short_name for p in units.search_provinces("hóa")][:2] == ["Thanh Hóa", "Khánh Hòa"]
    assert [p.short_name for p in units.search_provinces("hòa")][:2] == ["Khánh Hòa", "Thanh Hóa"]
    assert [p.short_name for p in units.search_provinces("hoa")][:2] == ["Khánh Hòa", "Thanh Hóa"]
    assert {p.short_name for p in units.search_provinces("thanh pho")} == CITIES
    assert units.search_provinces("xyz") == [] and units.search_provinces("hc") == []
    assert units.search_provinces("  ") == units.provinces()
    assert len(units.search_provinces("", limit=5)) == 5


def test_search_communes_in_a_province(units: AdminUnits) -> None:
    hue = units.province("46")
    for typed in ("thuan hoa", "Thuận Hóa", "THUẬN HOÁ", "p thuan hoa", "phuong thuan hoa",
                  "phuongthuanhoa", "thuanhoa", "P. Thuận Hóa"):  # fmt: skip
        assert names(units.search_communes(hue.code, typed))[0] == "Phường Thuận Hóa", typed
    phu = names(units.search_communes(hue.code, "phu"))
    # Names starting with "Phú" first (alphabetical), then "Phong Phú" (a later word).
    assert phu[:6] == [
        "Phường Phú Bài",
        "Xã Phú Hồ",
        "Xã Phú Lộc",
        "Xã Phú Vang",
        "Xã Phú Vinh",
        "Phường Phú Xuân",
    ]
    assert phu.index("Phường Phong Phú") > phu.index("Phường Phú Xuân")
    assert phu.index("Phường Phong Phú") == len(phu) - 1
    # A type word typed first brings that type first.
    assert names(units.search_communes(hue.code, "xa phu"))[:4] == [
        "Xã Phú Hồ",
        "Xã Phú Lộc",
        "Xã Phú Vang",
        "Xã Phú Vinh",
    ]
    assert all(c.type == "phường" for c in units.search_communes(hue.code, "phuong", None))
    assert len(units.search_communes(hue.code, "", limit=None)) == 40
    assert len(units.search_communes(hue.code, "a", limit=3)) == 3
    assert units.search_communes(hue.code, "zzz") == []
    # Apostrophes and tones of the highlands' names.
    assert names(units.search_communes("66", "ea hleo"))[0] == "Xã Ea H'Leo"
    assert names(units.search_communes("66", "Ea H’Leo"))[0] == "Xã Ea H'Leo"
    # Substring of 3 characters or more, after everything else.
    assert "Xã Ea H'Leo" in names(units.search_communes("66", "hleo"))


def test_search_communes_tones_decide_between_near_names(units: AdminUnits) -> None:
    assert names(units.search_communes("51", "ba to"))[:2] == ["Xã Ba Tô", "Xã Ba Tơ"]
    assert names(units.search_communes("51", "Ba Tơ"))[0] == "Xã Ba Tơ"
    assert names(units.search_communes("51", "Ba Tô"))[0] == "Xã Ba Tô"


def test_search_communes_nationwide(units: AdminUnits) -> None:
    found = units.search_communes(None, "hoan kiem")
    assert [(c.name, c.province_code) for c in found] == [("Phường Hoàn Kiếm", "01")]
    assert names(units.search_communes(None, "phu quoc"))[0] == "Đặc khu Phú Quốc"
    zones = units.search_communes(None, "dac khu", limit=None)
    assert len(zones) == 13 and all(c.type == "đặc khu" for c in zones)
    assert len(units.search_communes(None, "xa")) == addresses.DEFAULT_LIMIT


def test_nationwide_index_agrees_with_a_full_scan(units: AdminUnits) -> None:
    """The nationwide search looks only at candidates; it must find what a scan of every
    commune finds, in the same order."""
    rng = random.Random(20250701)
    communes = [c for p in units.provinces() for c in units.communes(p.code)]
    texts = ["xa", "xã", "phuong", "dackhu", "p", "al", "xa a", "xaphu", "xaa", "xan", "phuongh"]
    texts += ["tp", "1", "h'", "Xã N", "dac khu c", "phuong1"]
    for _ in range(400):
        c = rng.choice(communes)
        form = rng.choice([c.short_name, fold(c.name), fold(c.short_name).replace(" ", "")])
        start = rng.choice([0, 0, rng.randrange(len(form))])
        texts.append(form[start : rng.randint(start + 1, len(form))])
    entries = units._all_commune_entries
    for text in texts:
        for limit in (10, None):
            expected = AdminUnits._search(entries, text, addresses._COMMUNE_WORDS, limit)
            assert units.search_communes(None, text, limit) == expected, (text, limit)


# --- exact-ish look-ups --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("46", "46"),
        ("1", "01"),
        ("079", "79"),
        ("Thành phố Huế", "46"),
        ("thành phố huế", "46"),
        ("Huế", "46"),
        ("hue", "46"),
        ("TP. Hồ Chí Minh", "79"),
        ("Tp Ho Chi Minh", "79"),
        ("hcm", "79"),
        ("Tỉnh Đắk Lắk", "66"),
        ("Dak Lak", "66"),
        ("Đà Nẵng", "48"),
        ("Thừa Thiên Huế", "46"),
    ],
)
def test_find_province(units: AdminUnits, given: str, code: str) -> None:
    found = units.find_province(given)
    assert found is not None and found.code == code
    assert units.find_province(found) == found


@pytest.mark.parametrize("given", ["", "   ", "99", "Atlantis", "Bình Dương", "Quảng", None])
def test_find_province_unknown(units: AdminUnits, given: str | None) -> None:
    assert units.find_province(given) is None


def test_find_commune(units: AdminUnits) -> None:
    hue = units.province("46")
    thuan_hoa = units.find_commune(hue, "Phường Thuận Hóa")
    assert thuan_hoa is not None and thuan_hoa.province_code == "46"
    for given in ("Thuận Hóa", "thuận hóa", "Thuận Hoá", "thuan hoa", "P. Thuận Hóa",
                  thuan_hoa.code, str(int(thuan_hoa.code)), thuan_hoa):  # fmt: skip
        assert units.find_commune("Huế", given) == thuan_hoa, given
        assert units.find_commune("46", given) == thuan_hoa, given
    assert units.find_commune(None, thuan_hoa.code) == thuan_hoa
    # Another province's commune, an unknown province, an unknown name: None.
    assert units.find_commune("01", thuan_hoa.code) is None
    assert units.find_commune("01", thuan_hoa) is None
    assert units.find_commune("Atlantis", "Thuận Hóa") is None
    assert units.find_commune(hue, "Vĩ Dạ cũ") is None
    assert units.find_commune(hue, "") is None
    # Tone-insensitive only when that names one unit.
    assert units.find_commune("51", "ba to") is None
    assert units.find_commune("51", "Ba Tơ").code == "21484"
    assert units.find_commune("51", "Ba Tô").code == "21523"
    assert units.find_commune(None, "Xã Bình An") is None  # in five provinces
    assert units.find_commune("Tuyên Quang", "Xã Bình An").province_code == "08"


# --- formatting and the form engine's contract ---------------------------------------------


def test_format_address(units: AdminUnits) -> None:
    assert (
        units.format_address("Số 12 đường Lê Lợi", "Phường Thuận Hóa", "Thành phố Huế")
        == "Số 12 đường Lê Lợi, Phường Thuận Hóa, Thành phố Huế"
    )
    # Listed units in their official names, whatever was typed; free text kept, cleaned.
    assert (
        units.format_address("  Số 12   đường Lê Lợi, ", "thuan hoa", "hue")
        == "Số 12 đường Lê Lợi, Phường Thuận Hóa, Thành phố Huế"
    )
    assert (
        units.format_address("Thôn 3", "Thôn Vĩ Dạ cũ", "46")
        == "Thôn 3, Thôn Vĩ Dạ cũ, Thành phố Huế"
    )
    commune = units.find_commune("01", "00070")
    assert units.format_address(None, commune, None) == "Phường Hoàn Kiếm, Thành phố Hà Nội"
    assert units.format_address("", None, units.province("79")) == "Thành phố Hồ Chí Minh"
    decomposed = unicodedata.normalize("NFD", "Số 5 Hùng Vương")
    assert units.format_address(decomposed, None, None) == "Số 5 Hùng Vương"


def test_check_address_contract(units: AdminUnits) -> None:
    assert units.check_address("Huế", "Thuận Hóa") == []
    assert units.check_address(units.province("46"), units.find_commune("46", "19789")) == []
    assert units.check_address("Atlantis", "Thuận Hóa") == [MSG_PROVINCE]
    assert units.check_address("", "Thuận Hóa") == [MSG_PROVINCE]
    assert units.check_address(None, None) == [MSG_PROVINCE, MSG_COMMUNE_REQUIRED]
    assert units.check_address("Huế", "  ") == [MSG_COMMUNE_REQUIRED]
    assert units.check_address("Huế", "x" * (addresses.MAX_COMMUNE_CHARS + 1)) == [MSG_TOO_LONG]
    # Free text is allowed for the commune: no error, a flag and a soft notice.
    assert units.check_address("Huế", "Vĩ Dạ cũ") == []
    resolved = units.resolve_address("Huế", " Vĩ  Dạ cũ ")
    assert resolved.errors == () and not resolved.commune_listed
    assert resolved.commune_text == "Vĩ Dạ cũ" and resolved.notice == MSG_COMMUNE_NOT_LISTED
    # A commune of another province is not listed for this one.
    hoan_kiem = units.find_commune("01", "00070")
    elsewhere = units.resolve_address("Huế", hoan_kiem)
    assert elsewhere.errors == () and elsewhere.notice == MSG_COMMUNE_NOT_LISTED
    listed = units.resolve_address("hue", "p thuan hoa")
    assert listed.commune_listed and listed.notice is None
    assert listed.commune_text == "Phường Thuận Hóa" and listed.province.code == "46"


def test_module_functions_use_the_shipped_data() -> None:
    assert len(addresses.provinces()) == 34
    assert addresses.find_province("hcm").code == "79"
    assert addresses.search_provinces("daklak")[0].code == "66"
    assert addresses.search_communes("46", "thuan hoa")[0].name == "Phường Thuận Hóa"
    assert addresses.find_commune("46", "thuan hoa").name == "Phường Thuận Hóa"
    assert addresses.communes("46")[0].province_code == "46"
    assert addresses.check_address("Huế", "Thuận Hóa") == []
    assert addresses.resolve_address("Huế", "x").notice == MSG_COMMUNE_NOT_LISTED
    assert addresses.format_address("1 Lê Lợi", "thuan hoa", "hue").endswith("Thành phố Huế")


# --- broken data files ---------------------------------------------------------------------


def small_data() -> dict:
    return {
        "format": addresses.DATA_FORMAT,
        "effective": "2025-07-01",
        "counts": {"provinces": 2, "communes": 3},
        "provinces": [
            {
                "code": "46",
                "name": "Thành phố Huế",
                "type": "thành phố",
                "former": [],
                "communes": [
                    ["19753", "Phường Phú Xuân", "phường"],
                    ["19789", "Phường Thuận Hóa", "phường"],
                ],
            },
            {
                "code": "56",
                "name": "Tỉnh Khánh Hòa",
                "type": "tỉnh",
                "former": ["Tỉnh Ninh Thuận"],
                "communes": [["22736", "Đặc khu Trường Sa", "đặc khu"]],
            },
        ],
    }


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_small_valid_file_loads(tmp_path: Path) -> None:
    units = addresses.load(write(tmp_path / "units.json", small_data()))
    assert names(units.provinces()) == ["Thành phố Huế", "Tỉnh Khánh Hòa"]
    assert names(units.search_communes(None, "truong sa")) == ["Đặc khu Trường Sa"]
    assert names(units.search_provinces("ninh thuan")) == ["Tỉnh Khánh Hòa"]


STRAY = ["19753", "Xã  A", "xã"]


def broken(mutate) -> dict:  # noqa: ANN001 - a function changing the data in place
    data = small_data()
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("{not json", "not valid JSON"),
        ([], "expected"),
        (broken(lambda d: d.update(format="other/1")), "'other/1'"),
        (broken(lambda d: d.update(provinces=[])), "no provinces"),
        (broken(lambda d: d["provinces"][0].update(code="4")), "$.provinces[0].code"),
        (broken(lambda d: d["provinces"][1].update(code="46")), "$.provinces[1].code"),
        (
            broken(lambda d: d["provinces"][0].update(name=unicodedata.normalize("NFD", "Huế"))),
            "not Unicode NFC",
        ),
        (broken(lambda d: d["provinces"][0].update(type="quận")), "type 'quận'"),
        (broken(lambda d: d["provinces"][1].update(type="thành phố")), "does not start"),
        (
            broken(lambda d: d["provinces"][0]["communes"].append(["19789", "Phường X", "phường"])),
            "$.provinces[0].communes[2]",
        ),
        (
            broken(lambda d: d["provinces"][0]["communes"].__setitem__(0, ["1975", "Xã A"])),
            "not [code, name, type]",
        ),
        (
            broken(
                lambda d: d["provinces"][0]["communes"].__setitem__(0, ["19753", "Xã  A", "xã"])
            ),
            "stray spaces",
        ),
        (broken(lambda d: d["provinces"][1].update(communes=[])), "no communes"),
        (broken(lambda d: d["counts"].update(communes=3321)), "says 2 provinces and 3321"),
    ],
)
def test_a_broken_file_names_itself(tmp_path: Path, data: object, says: str) -> None:
    path = tmp_path / "admin-units.json"
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        write(path, data)
    with pytest.raises(AddressDataError) as info:
        addresses.load(path)
    assert str(path) in str(info.value)
    assert says in str(info.value)
    assert isinstance(info.value, KioskError)


def test_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(AddressDataError, match="missing") as info:
        addresses.load(missing)
    assert str(missing) in str(info.value)
    latin = tmp_path / "latin.json"
    latin.write_bytes("Huế".encode("utf-16"))
    with pytest.raises(AddressDataError, match="cannot be read") as info:
        addresses.load(latin)
    assert str(latin) in str(info.value)
