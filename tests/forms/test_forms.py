"""The form engine: kinds, conversion, validation messages, prefill and locks, pages."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

import pytest

from kiosk.forms import field_checks
from kiosk.forms import spec as forms
from kiosk.forms.spec import FormSpec, Kind
from kiosk.identity.model import Authenticity, Identity, IdentitySource

TODAY = date(2026, 11, 24)

FORM: dict[str, Any] = {
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "title": "Tờ khai thử",
        "x-title-en": "Test declaration",
        "x-form-number": "Mẫu số 01",
        "additionalProperties": False,
        "required": ["ho_ten", "ngay_sinh", "so_dinh_danh", "dien_thoai", "dia_chi"],
        "properties": {
            "ho_ten": {
                "type": "string",
                "title": "Họ và tên",
                "x-title-en": "Full name",
                "maxLength": 100,
                "x-prefill": "identity.full_name",
                "x-prefill-locked": True,
            },
            "ngay_sinh": {
                "type": "string",
                "format": "date",
                "title": "Ngày sinh",
                "x-title-en": "Date of birth",
                "x-not-after": "today",
                "x-prefill": "identity.date_of_birth",
                "x-prefill-locked": True,
            },
            "gioi_tinh": {
                "type": "string",
                "title": "Giới tính",
                "x-title-en": "Sex",
                "oneOf": [
                    {"const": "Nam", "title": "Nam", "x-title-en": "Male"},
                    {"const": "Nữ", "title": "Nữ", "x-title-en": "Female"},
                ],
                "x-prefill": "identity.sex",
            },
            "so_dinh_danh": {
                "type": "string",
                "format": "vn-personal-id",
                "maxLength": 12,
                "title": "Số định danh cá nhân",
                "x-title-en": "ID number",
                "x-prefill": "identity.id_number",
            },
            "dien_thoai": {
                "type": "string",
                "format": "vn-phone",
                "maxLength": 15,
                "title": "Điện thoại",
                "x-title-en": "Phone",
                "x-prefill": "session.phone",
            },
            "email": {
                "type": "string",
                "format": "email",
                "maxLength": 254,
                "title": "Thư điện tử",
                "x-title-en": "E-mail",
            },
            "ma_so_thue": {
                "type": "string",
                "format": "vn-tax-code",
                "maxLength": 14,
                "title": "Mã số thuế",
                "x-title-en": "Tax code",
            },
            "von": {
                "type": "integer",
                "minimum": 0,
                "x-unit": "VND",
                "title": "Vốn",
                "x-title-en": "Capital",
            },
            "ngay_bat_dau": {
                "type": "string",
                "format": "date",
                "title": "Ngày dự kiến hoạt động",
                "x-title-en": "Planned start",
                "x-not-before": "today",
            },
            "mo_ta": {
                "type": "string",
                "maxLength": 2000,
                "title": "Mô tả",
                "x-title-en": "Description",
            },
            "dia_chi": {
                "type": "object",
                "title": "Địa chỉ",
                "x-title-en": "Address",
                "additionalProperties": False,
                "required": ["province", "street"],
                "properties": {
                    "province": {"type": "string", "maxLength": 100, "title": "Tỉnh"},
                    "commune": {"type": "string", "maxLength": 100, "title": "Xã"},
                    "street": {"type": "string", "maxLength": 200, "title": "Số nhà"},
                },
                "x-prefill": "identity.residence",
            },
            "thiet_bi": {
                "type": "array",
                "title": "Thiết bị",
                "x-title-en": "Equipment",
                "minItems": 1,
                "maxItems": 5,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["ten", "so_luong"],
                    "properties": {
                        "ten": {"type": "string", "maxLength": 100, "title": "Tên"},
                        "so_luong": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 100,
                            "title": "Số lượng",
                        },
                    },
                },
            },
            "cam_ket": {"type": "boolean", "title": "Cam kết", "x-title-en": "Commitment"},
        },
    },
    "ui_schema": {
        "ui:order": ["*"],
        "mo_ta": {"ui:widget": "textarea", "ui:help": "Viết ngắn gọn", "x-help-en": "Be brief"},
        "dia_chi": {"ui:field": "address"},
    },
}


def spec() -> FormSpec:
    return FormSpec.from_definition(FORM, today=lambda: TODAY)


def huế() -> tuple[str, str]:
    from kiosk.forms import addresses

    province = next(p for p in addresses.provinces() if p.name.endswith("Huế"))
    return province.name, addresses.communes(province.code)[0].name


def good_draft() -> dict[str, Any]:
    province, commune = huế()
    return {
        "ho_ten": "Nguyễn Thị Thuỷ",
        "ngay_sinh": "14/03/1985",
        "gioi_tinh": "Nữ",
        "so_dinh_danh": "001185012345",
        "dien_thoai": "091 234 5678",
        "email": "thuy@Example.VN",
        "ma_so_thue": "0100109106",
        "von": "1.500.000",
        "ngay_bat_dau": "01/12/2026",
        "mo_ta": "Dòng một\nDòng hai",
        "dia_chi": {"province": province, "commune": commune, "street": "Số 12 Lê Lợi"},
        "thiet_bi": [{"ten": "Máy in offset", "so_luong": "2"}, {"ten": "", "so_luong": ""}],
        "cam_ket": True,
    }


def test_kinds_are_read_from_schema_and_ui() -> None:
    kinds = {f.name: f.kind for f in spec().fields}
    assert kinds == {
        "ho_ten": Kind.TEXT,
        "ngay_sinh": Kind.DATE,
        "gioi_tinh": Kind.CHOICE,
        "so_dinh_danh": Kind.ID_NUMBER,
        "dien_thoai": Kind.PHONE,
        "email": Kind.EMAIL,
        "ma_so_thue": Kind.TAX_CODE,
        "von": Kind.MONEY,
        "ngay_bat_dau": Kind.DATE,
        "mo_ta": Kind.MULTILINE,
        "dia_chi": Kind.ADDRESS,
        "thiet_bi": Kind.GROUP,
        "cam_ket": Kind.YESNO,
    }
    assert spec().field("dien_thoai").keyboard == "phone"
    assert spec().form_number == "Mẫu số 01"


def test_a_good_draft_converts_to_json_answers() -> None:
    answers, problems = spec().convert_and_validate(good_draft())
    assert problems == {}
    assert answers["ngay_sinh"] == "1985-03-14"
    assert answers["dien_thoai"] == "0912345678"
    assert answers["email"] == "thuy@example.vn"
    assert answers["von"] == 1500000
    assert answers["mo_ta"] == "Dòng một\nDòng hai"
    assert answers["thiet_bi"] == [{"ten": "Máy in offset", "so_luong": 2}]  # blank row dropped
    assert answers["dia_chi"]["street"] == "Số 12 Lê Lợi"
    assert answers["cam_ket"] is True


@pytest.mark.parametrize(
    ("name", "typed", "msgid", "params"),
    [
        ("ngay_sinh", "01/01/2030", forms.MSG_DATE_FUTURE, {}),
        ("ngay_sinh", "31/02/1990", forms.MSG_DATE, {}),
        ("ngay_bat_dau", "01/01/2020", forms.MSG_DATE_PAST, {}),
        ("so_dinh_danh", "001185012", field_checks.MSG_ID_LENGTH, {"count": 9}),
        ("so_dinh_danh", "999185012345", field_checks.MSG_ID_INVALID, {}),
        ("dien_thoai", "091234567", field_checks.MSG_PHONE_LENGTH, {"count": 9}),
        ("dien_thoai", "0612345678", field_checks.MSG_PHONE, {}),
        ("email", "thuy@", field_checks.MSG_EMAIL, {}),
        ("ma_so_thue", "0100109107", field_checks.MSG_TAX_CHECK, {}),
        ("ma_so_thue", "01001091", field_checks.MSG_TAX_FORMAT, {}),
        ("mo_ta", "x" * 5000, forms.MSG_TOO_LONG, {"max": 2000, "count": 5000}),
        ("von", "một triệu", forms.MSG_MONEY, {}),
        ("von", "-5", forms.MSG_MIN, {"min": 0}),
        ("gioi_tinh", "Khác", forms.MSG_CHOICE, {}),
    ],
)
def test_each_bad_input_gets_its_message_on_its_field(
    name: str, typed: str, msgid: str, params: dict[str, Any]
) -> None:
    draft = good_draft()
    draft[name] = typed
    answers, problems = spec().convert_and_validate(draft)
    assert set(problems) == {name}
    assert problems[name].msgid == msgid
    assert problems[name].params == params
    assert name not in answers


def test_messages_are_translated_with_their_numbers() -> None:
    from kiosk.i18n import translator

    draft = good_draft()
    draft["so_dinh_danh"] = "001185012"
    problem = spec().convert_and_validate(draft)[1]["so_dinh_danh"]
    assert problem.text(translator("en")) == "An ID number has 12 digits; this one has 9."
    vi = problem.text(translator("vi"))
    assert "12" in vi and "9" in vi and vi != problem.text(translator("en"))


def test_missing_required_fields_and_group_cells_point_at_their_paths() -> None:
    draft = good_draft()
    draft["dien_thoai"] = "  "
    draft["dia_chi"] = {"province": "", "commune": "", "street": "Số 1"}
    draft["thiet_bi"] = [{"ten": "Máy cắt", "so_luong": "abc"}, {"ten": "", "so_luong": "3"}]
    _, problems = spec().convert_and_validate(draft)
    assert problems["dien_thoai"].msgid == forms.MSG_REQUIRED
    assert problems["dia_chi.province"].msgid == forms.MSG_REQUIRED
    assert problems["thiet_bi[0].so_luong"].msgid == forms.MSG_NUMBER
    assert problems["thiet_bi[1].ten"].msgid == forms.MSG_REQUIRED


def test_group_bounds() -> None:
    draft = good_draft()
    draft["thiet_bi"] = [{"ten": f"Máy {i}", "so_luong": "1"} for i in range(6)]
    assert spec().convert_and_validate(draft)[1]["thiet_bi"].msgid == forms.MSG_MANY_ROWS
    draft["thiet_bi"] = []
    assert spec().convert_and_validate(draft)[1]["thiet_bi"].msgid == forms.MSG_FEW_ROWS


def test_unknown_province_is_refused_but_a_free_text_commune_is_kept() -> None:
    draft = good_draft()
    draft["dia_chi"] = {"province": "Tỉnh Không Có", "commune": "", "street": "Số 1"}
    assert spec().convert_and_validate(draft)[1]["dia_chi.province"].msgid == forms.MSG_PROVINCE
    province, _ = huế()
    draft["dia_chi"] = {"province": province.lower(), "commune": "Thôn Mới", "street": "Số 1"}
    answers, problems = spec().convert_and_validate(draft)
    assert problems == {}
    assert answers["dia_chi"] == {"province": province, "commune": "Thôn Mới", "street": "Số 1"}


def test_pasted_nfd_and_invisible_characters_are_cleaned() -> None:
    draft = good_draft()
    draft["ho_ten"] = unicodedata.normalize("NFD", "Nguyễn Thị Thuỷ") + "\u200b\x07"
    answers, problems = spec().convert_and_validate(draft)
    assert problems == {}
    assert answers["ho_ten"] == "Nguyễn Thị Thuỷ"
    assert unicodedata.is_normalized("NFC", answers["ho_ten"])


def chip_identity(authentic: bool = True) -> Identity:
    return Identity(
        id_number="001185012345",
        source=IdentitySource.CHIP,
        authenticity=Authenticity.AUTHENTIC if authentic else Authenticity.TAMPERED,
        full_name="Nguyễn Thị Thuỷ",
        date_of_birth=date(1985, 3, 14),
        sex="F",
        residence="Số 7 Trần Hưng Đạo, Phường Không Rõ, Thành phố Huế",
    )


def test_prefill_from_the_chip_with_sources_and_locks() -> None:
    prefill = spec().prefill(chip_identity(), {}, {"phone": "0912345678"})
    assert prefill.values["ho_ten"] == "Nguyễn Thị Thuỷ"
    assert prefill.values["ngay_sinh"] == "14/03/1985"
    assert prefill.values["gioi_tinh"] == "Nữ"
    assert prefill.values["dien_thoai"] == "0912345678"
    assert prefill.values["dia_chi"]["province"] == huế()[0]
    assert prefill.sources["ho_ten"] == "chip" and prefill.sources["dien_thoai"] == "session"
    assert prefill.locked == {"ho_ten": "Nguyễn Thị Thuỷ", "ngay_sinh": "1985-03-14"}
    # whatever the screen sends, the chip's values stand
    draft = good_draft()
    draft["ho_ten"] = "Người Khác"
    answers, _ = spec().convert_and_validate(draft, locked=prefill.locked)
    assert answers["ho_ten"] == "Nguyễn Thị Thuỷ"


def test_a_chip_that_failed_authentication_locks_nothing() -> None:
    prefill = spec().prefill(chip_identity(authentic=False))
    assert prefill.values["ho_ten"] == "Nguyễn Thị Thuỷ"
    assert prefill.locked == {}


def test_earlier_answers_win_over_prefill_and_session_values_are_remembered() -> None:
    form = spec()
    prefill = form.prefill(chip_identity(), {"dien_thoai": "0987654321", "von": 2000})
    assert prefill.values["dien_thoai"] == "0987654321"
    assert prefill.values["von"] == "2.000"
    answers, _ = form.convert_and_validate(good_draft())
    assert form.remembered(answers) == {"phone": "0912345678"}


def test_pages_keep_one_field_per_row_within_the_budget() -> None:
    pages = spec().pages()
    assert [f.name for page in pages for f in page] == [f.name for f in spec().fields]
    for page in pages:
        assert sum(f.weight for f in page) <= forms.PAGE_BUDGET or len(page) == 1


def test_validate_answers_names_unknown_fields() -> None:
    answers, _ = spec().convert_and_validate(good_draft())
    assert spec().validate_answers(answers) == {}
    answers["la"] = 1
    answers["so_dinh_danh"] = "123"
    problems = spec().validate_answers(answers)
    assert problems["la"].msgid == forms.MSG_UNKNOWN_FIELD
    assert problems["so_dinh_danh"].msgid == field_checks.MSG_ID_LENGTH


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("0100109106", True),  # a real company's tax code
        ("0100109106-001", True),
        ("0100109106001", True),
        ("0100109106-000", False),
        ("0100109107", False),
        ("001185012345", True),  # an individual's ID number, since 07/2025
    ],
)
def test_tax_code_check_digit(code: str, ok: bool) -> None:
    assert (field_checks.tax_code_problem(code, TODAY) is None) is ok


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("0912345678", True),
        ("+84 912 345 678", True),
        ("02343822222", True),
        ("0412345678", False),
        ("09123456789", False),
    ],
)
def test_phone_numbers(phone: str, ok: bool) -> None:
    assert (field_checks.phone_problem(phone) is None) is ok
