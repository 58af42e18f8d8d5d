"""The procedure catalog: the shipped procedures, and bad procedure files named file and path."""

from __future__ import annotations

import json
import shutil
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from kiosk.catalog.procedures import (
    FIELD_KINDS,
    ON_FILE_KINDS,
    PREFILL_SOURCES,
    Catalog,
    CatalogError,
    CatalogFileError,
    Procedure,
    Service,
    UnknownProcedure,
    form_fields,
    form_problems,
    load_catalog,
    vietnamese_sort_key,
)
from kiosk.paths import CONFIG_DIR

PROCEDURES = CONFIG_DIR / "procedures"
SCHEMA = PROCEDURES / "procedure.schema.json"
PRINTING_LICENCE = "cap-giay-phep-hoat-dong-in.json"
POSTAL_LICENCE = "cap-giay-phep-buu-chinh.json"
FIELDS = "$.form.schema.properties"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(PROCEDURES)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of the shipped procedures (without the schema: the shipped one is the fallback)."""
    folder = tmp_path / "procedures"
    folder.mkdir()
    for path in PROCEDURES.glob("*.json"):
        if path.name != SCHEMA.name:
            shutil.copy(path, folder / path.name)
    return folder


def edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def props(d: dict[str, Any]) -> dict[str, Any]:
    return d["form"]["schema"]["properties"]


def ui(d: dict[str, Any]) -> dict[str, Any]:
    return d["form"]["ui_schema"]


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(CatalogFileError) as e:
        load_catalog(folder)
    assert isinstance(e.value, CatalogError)
    return e.value.problems


def field_spec(p: Procedure, path: tuple[str, ...]) -> dict[str, Any]:
    spec = p.form["schema"]["properties"][path[0]]
    return spec["items"]["properties"][path[1]] if len(path) == 2 else spec


def all_fields(catalog: Catalog) -> list[tuple[Procedure, tuple[str, ...], str | None]]:
    return [(p, path, kind) for p in catalog.procedures() for path, kind in form_fields(p.form)]


# --- the shipped catalog ---


def test_every_file_loads(catalog: Catalog) -> None:
    files = [p for p in PROCEDURES.glob("*.json") if p.name != SCHEMA.name]
    assert len(catalog) == len(files) >= 10
    assert {p.source for p in catalog.procedures()} == set(files)


def test_sorted_by_vietnamese_name(catalog: Catalog) -> None:
    names = [p.name_vi for p in catalog.procedures()]
    assert names == sorted(names, key=vietnamese_sort_key)
    assert names[0] == "Cấp giấy phép bưu chính (phạm vi nội tỉnh)"
    assert names[-1] == "Xác nhận đăng ký hoạt động cơ sở in"
    english = [p.title("en") for p in catalog.procedures("en")]
    assert english == sorted(english)


def test_procedure_fields(catalog: Catalog) -> None:
    p = catalog.get("2.001740")
    assert p.code_is_national
    assert p.title("vi") == "Xác nhận đăng ký hoạt động cơ sở in"
    assert p.title("en") == "Confirmation of registration of a printing establishment"
    assert p.field_title("vi") == "Xuất bản, In và Phát hành"
    assert p.field_title("en") == "Publishing, printing and distribution"
    assert p.service_code == "IN"
    assert p.processing_days == 3
    assert p.fee_vnd == 0 and p.fee_note("vi") == ""
    assert p.accepts("citizen") and p.accepts("organisation")
    assert any("60/2014/NĐ-CP" in law for law in p.legal_basis)
    assert p.form_number == "Mẫu số 11"
    assert p.form_title("vi") == "Tờ khai đăng ký hoạt động cơ sở in"
    doc = p.documents[0]
    assert doc.required and doc.copies == 1 and doc.on_file_kind is None
    assert doc.title("vi").startswith("Tờ khai") and doc.title("en").startswith("Registration")
    assert p.requirement("to_khai") is doc and p.requirement("nope") is None

    licence = catalog.get("LOCAL-IN-01")
    assert not licence.code_is_national and licence.form_number == ""
    assert licence.applicant_types == ("organisation",)
    assert any("72/2022/NĐ-CP" in law for law in licence.legal_basis)
    assert licence.fee_vnd == 0 and "Phí, lệ phí" in licence.notes  # the 0 is explained
    registration = licence.requirement("dang_ky_doanh_nghiep")
    assert registration is not None and registration.usually_on_file
    assert registration.on_file_kind == "dang_ky_doanh_nghiep"

    newsletter = catalog.get("LOCAL-BC-01")
    assert newsletter.field_vi == "Báo chí"
    assert any("Luật Báo chí" in law for law in newsletter.legal_basis)


def test_fees(catalog: Catalog) -> None:
    assert catalog.get("1.005442").fee_vnd == 500_000
    assert catalog.get("1.003725").fee_vnd == 50_000
    document = catalog.get("1.003868")  # the fee depends on the pages: explained in both languages
    assert document.fee_vnd == 0
    assert "15.000 đồng/trang" in document.fee_note("vi")
    assert "15,000 đồng per standard page" in document.fee_note("en")
    for p in catalog.procedures():
        assert bool(p.fee_note_vi) == bool(p.fee_note_en), p.code


def test_services_are_distinct_fields(catalog: Catalog) -> None:
    assert [s.code for s in catalog.services()] == ["BAO", "BC", "TT", "IN"]
    assert catalog.services()[0] == Service("BAO", "Báo chí", "Press")
    assert catalog.services()[1].title("en") == "Postal services"
    codes = [p.code for p in catalog.procedures_of_service("BC")]
    assert codes == ["LOCAL-BCH-01", "1.005442", "LOCAL-BCH-02", "1.010902"]
    assert len(catalog.procedures_of_service("IN")) == 6


def test_codes_national_or_local_with_a_note(catalog: Catalog) -> None:
    national = {p.code for p in catalog.procedures() if p.code_is_national}
    assert national == {"2.001740", "1.003725", "1.003868", "1.010902", "1.005442"}
    for p in catalog.procedures():
        if not p.code_is_national:
            assert "chưa được đối chiếu" in p.notes, p.code


def test_each_kind_is_used_at_least_twice(catalog: Catalog) -> None:
    kinds = Counter(kind for _, _, kind in all_fields(catalog))
    assert set(kinds) == set(FIELD_KINDS)
    assert min(kinds.values()) >= 2, kinds
    dates = Counter(
        "after" if "x-not-after" in field_spec(p, path) else "before"
        for p, path, kind in all_fields(catalog)
        if kind == "date"
    )
    assert dates["after"] >= 2 and dates["before"] >= 2


def test_forms_are_valid_schemas_in_the_grammar(catalog: Catalog) -> None:
    for p in catalog.procedures():
        schema = p.form_schema
        Draft202012Validator.check_schema(schema)
        assert list(form_problems(p.form)) == []
        assert 1 <= len(schema["properties"]) <= 40
        assert set(schema["required"]) <= set(schema["properties"])
        assert p.ui_schema["ui:order"] == list(schema["properties"])
        assert sum(1 for v in p.ui_schema.values() if "ui:autofocus" in v) == 1


def test_strings_are_bounded_and_names_short(catalog: Catalog) -> None:
    for p, path, kind in all_fields(catalog):
        spec = field_spec(p, path)
        if spec["type"] == "string" and kind not in ("choice", "date"):
            assert 0 < spec["maxLength"] <= 2000, (p.code, path)
        if kind == "address":
            assert {k: v["maxLength"] for k, v in spec["properties"].items()} == {
                "province": 100,
                "commune": 100,
                "street": 200,
            }
        if spec.get("x-prefill") == "identity.full_name":
            assert spec["maxLength"] <= 100
        if path[-1].startswith("ten_") and kind == "text":
            assert spec["maxLength"] <= 300, (p.code, path)


def test_prefill_and_locks(catalog: Catalog) -> None:
    used: Counter[str] = Counter()
    for p, path, _ in all_fields(catalog):
        spec = field_spec(p, path)
        if "x-prefill" in spec:
            used[spec["x-prefill"]] += 1
        if spec.get("x-prefill-locked"):
            assert spec["x-prefill"] in (
                "identity.full_name",
                "identity.id_number",
                "identity.date_of_birth",
            )
    assert set(used) == set(PREFILL_SOURCES)
    # the schema's list is the module's list
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    field_def = schema["$defs"]["field"]["properties"]
    assert field_def["x-prefill"]["enum"] == list(PREFILL_SOURCES)
    assert schema["$defs"]["document"]["properties"]["on_file_kind"]["enum"] == list(ON_FILE_KINDS)


def test_citizens_can_file_some_procedures_with_their_own_identity(catalog: Catalog) -> None:
    for_citizens = [p for p in catalog.procedures() if p.accepts("citizen")]
    assert len(for_citizens) >= 2
    for p in for_citizens:
        locked = {
            field_spec(p, path)["x-prefill"]
            for path, _ in form_fields(p.form)
            if field_spec(p, path).get("x-prefill-locked")
        }
        assert locked == {
            "identity.full_name",
            "identity.id_number",
            "identity.date_of_birth",
        }, p.code
        residence = [
            path
            for path, _ in form_fields(p.form)
            if field_spec(p, path).get("x-prefill") == "identity.residence"
        ]
        assert residence, p.code


def test_documents_on_file(catalog: Catalog) -> None:
    kinds = set()
    for p in catalog.procedures():
        for d in p.documents:
            assert (d.on_file_kind is not None) == d.usually_on_file, (p.code, d.id)
            kinds.add(d.on_file_kind)
    assert {"can_cuoc", "dang_ky_doanh_nghiep", "quyet_dinh_thanh_lap", "giay_phep"} <= kinds


def test_help_on_the_fields_that_need_it(catalog: Catalog) -> None:
    for p in catalog.procedures():
        kinds = dict(form_fields(p.form))
        for name in p.form_schema["properties"]:
            kind = kinds[(name,)]
            help_ui = p.ui_schema.get(name, {})
            if kind in ("text", "multiline", "tax_code", "id_number", "money", "group"):
                assert help_ui.get("ui:help") and help_ui.get("x-help-en"), (p.code, name)


def test_the_postal_licence_has_the_longest_form(catalog: Catalog) -> None:
    sizes = sorted(
        ((len(p.form_schema["properties"]), p.code) for p in catalog.procedures()), reverse=True
    )
    (longest, code), (second, _) = sizes[0], sizes[1]
    assert code == "LOCAL-BCH-01"
    assert 20 <= longest <= 30 and longest > second
    kinds = {kind for path, kind in form_fields(catalog.get(code).form) if len(path) == 1}
    assert {"address", "group", "money", "choice", "yesno", "date"} <= kinds


def test_form_copies_cannot_change_the_catalog(catalog: Catalog) -> None:
    p = catalog.get("2.001740")
    p.form_schema["properties"].clear()
    assert p.form_schema["properties"]


def test_all_shipped_text_is_nfc() -> None:
    for path in PROCEDURES.glob("*.json"):
        assert unicodedata.is_normalized("NFC", path.read_text(encoding="utf-8")), path


def test_unknown_code_raises_catalog_error_not_key_error(catalog: Catalog) -> None:
    with pytest.raises(UnknownProcedure) as e:
        catalog.get("9.999999")
    assert isinstance(e.value, CatalogError)
    assert not isinstance(e.value, KeyError)
    assert e.value.user_message() == (
        "This procedure is not offered at this kiosk. Please ask the staff at the counter."
    )
    assert "9.999999" in str(e.value)
    assert "9.999999" not in catalog


def test_vietnamese_collation() -> None:
    words = ["Đà", "Da", "Ân", "Ăn", "An", "Ê", "E", "Ơ", "Ô", "O", "Ư", "U", "Z"]
    assert sorted(words, key=vietnamese_sort_key) == [
        "An", "Ăn", "Ân", "Da", "Đà", "E", "Ê", "O", "Ô", "Ơ", "U", "Ư", "Z",
    ]  # fmt: skip
    tones = ["mạ", "má", "mã", "mả", "mà", "ma"]
    assert sorted(tones, key=vietnamese_sort_key) == ["ma", "mà", "mả", "mã", "má", "mạ"]
    nfd = unicodedata.normalize("NFD", "Đà")
    assert vietnamese_sort_key(nfd)[:2] == vietnamese_sort_key("Đà")[:2]


# --- bad files: every problem names its file and JSON path ---


def test_copy_of_shipped_files_loads_with_the_fallback_schema(
    workdir: Path, catalog: Catalog
) -> None:
    assert len(load_catalog(workdir)) == len(catalog)


def test_bad_value_names_file_and_path(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(path, lambda d: d["documents"][1].update(copies=0))
    before = path.read_bytes()
    problems = problems_of(workdir)
    assert problems == [f"{path}: $.documents[1].copies: 0 is less than the minimum of 1"]
    assert path.read_bytes() == before  # nothing rewritten


def test_missing_field(workdir: Path) -> None:
    path = workdir / POSTAL_LICENCE
    edit(path, lambda d: d.pop("form"))
    assert problems_of(workdir) == [f"{path}: $: 'form' is a required property"]


def test_every_bad_file_is_listed(workdir: Path) -> None:
    a = workdir / PRINTING_LICENCE
    b = workdir / "xac-nhan-dang-ky-hoat-dong-co-so-in.json"
    edit(a, lambda d: d.pop("fee_vnd"))
    edit(b, lambda d: d.update(applicant_types=["company"], processing_days=-1))
    problems = problems_of(workdir)
    assert f"{a}: $: 'fee_vnd' is a required property" in problems
    assert any(
        p.startswith(f"{b}: $.applicant_types[0]: 'company' is not one of") for p in problems
    )
    assert any(p.startswith(f"{b}: $.processing_days: -1 is less than") for p in problems)
    assert len(problems) == 3


def test_invalid_json_names_file_line_and_column(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    path.write_text('{\n  "code": "LOCAL-IN-01",\n  "name_vi": \n}\n', encoding="utf-8")
    problems = problems_of(workdir)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: line 4 column 1: not valid JSON")


def test_not_utf8(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    path.write_bytes(b'{"name_vi": "C\xe1p"}')
    assert problems_of(workdir) == [f"{path}: is not UTF-8 text"]


def test_non_nfc_text_is_refused(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        d.update(name_vi=unicodedata.normalize("NFD", d["name_vi"]))
        field = props(d)["thiet_bi"]["items"]["properties"]["ten_thiet_bi"]
        field["title"] = unicodedata.normalize("NFD", field["title"])

    edit(path, change)
    problems = problems_of(workdir)
    nfc = "text is not in Unicode NFC form; save the file as NFC"
    assert problems == [
        f"{path}: $.name_vi: {nfc}",
        f"{path}: {FIELDS}.thiet_bi.items.properties.ten_thiet_bi.title: {nfc}",
    ]


def test_unknown_key_and_typo_in_a_field(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        d["fees"] = 10
        field = props(d)["ten_co_so"]
        field["maxlength"] = field.pop("maxLength")

    edit(path, change)
    problems = problems_of(workdir)
    assert any(
        p.startswith(f"{path}: $: Additional properties") and "'fees'" in p for p in problems
    )
    field_path = f"{path}: {FIELDS}.ten_co_so"
    assert any(p.startswith(field_path) and "'maxlength'" in p for p in problems)
    assert f"{field_path}: 'maxLength' is a required property" in problems


def test_national_code_must_look_national(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(path, lambda d: d.update(code_is_national=True))
    problems = problems_of(workdir)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: $.code: 'LOCAL-IN-01' does not match")


def test_up_to_forty_fields(workdir: Path) -> None:
    path = workdir / POSTAL_LICENCE

    def grow(to: int) -> Any:
        def change(d: dict[str, Any]) -> None:
            while len(props(d)) < to:
                name = f"them_{len(props(d))}"
                props(d)[name] = {"type": "boolean", "title": "Thêm", "x-title-en": "More"}
                ui(d)["ui:order"].append(name)

        return change

    edit(path, grow(40))
    assert len(load_catalog(workdir).get("LOCAL-BCH-01").form_schema["properties"]) == 40
    edit(path, grow(41))
    assert problems_of(workdir) == [f"{path}: {FIELDS}: too many properties: 41, at most 40"]


def test_wrong_keyword_for_the_type(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(
        path, lambda d: props(d)["thiet_bi"]["items"]["properties"]["so_luong"].update(pattern="x")
    )
    assert problems_of(workdir) == [
        f"{path}: {FIELDS}.thiet_bi.items.properties.so_luong.type: 'string' was expected"
    ]


def test_bad_form_schema(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        props(d)["ten_co_so"]["type"] = "number"
        props(d)["ma_so_thue"]["$ref"] = "#/$defs/taxCode"
        d["form"]["schema"]["$defs"] = {}

    edit(path, change)
    problems = problems_of(workdir)
    assert (
        f"{path}: $.form.schema: Additional properties are not allowed ('$defs' was unexpected)"
        in problems
    )
    assert any(
        p.startswith(f"{path}: {FIELDS}.ma_so_thue: Additional properties") and "'$ref'" in p
        for p in problems
    )
    assert any(
        p.startswith(f"{path}: {FIELDS}.ten_co_so.type: 'number' is not one of") for p in problems
    )


def test_no_ref_even_with_a_lax_schema() -> None:
    """The grammar check does not rely on the JSON Schema for $ref, allOf and friends."""
    form = {
        "schema": {
            "type": "object",
            "required": [],
            "properties": {
                "a": {"type": "string", "title": "A", "x-title-en": "A", "$ref": "#/$defs/x"},
                "b": {"type": "string", "title": "B", "x-title-en": "B", "maxLength": 5},
            },
            "allOf": [{"required": ["b"]}],
        },
        "ui_schema": {"ui:order": ["a", "b"]},
    }
    problems = list(form_problems(form))
    assert "$.form.schema.allOf: forms do not use allOf; write each field in full" in problems
    assert (
        "$.form.schema.properties.a['$ref']: forms do not use $ref; write each field in full"
        in problems
    )


def test_unbounded_strings_are_refused(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        props(d)["thiet_bi"]["items"]["properties"]["ten_thiet_bi"].pop("maxLength")
        props(d)["dien_thoai"]["maxLength"] = 20

    edit(path, change)
    assert problems_of(workdir) == [
        f"{path}: {FIELDS}.thiet_bi.items.properties.ten_thiet_bi: 'maxLength' is a required "
        "property"
    ]
    edit(
        path,
        lambda d: props(d)["thiet_bi"]["items"]["properties"]["ten_thiet_bi"].update(maxLength=9),
    )
    assert problems_of(workdir) == [
        f"{path}: {FIELDS}.dien_thoai.maxLength: a phone field has maxLength 15, not 20"
    ]


def test_bad_prefill(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        props(d)["ten_co_so"]["x-prefill"] = "identity.sex"
        props(d)["email"]["x-prefill-locked"] = True
        props(d)["cong_doan"]["x-prefill"] = "identity.sex"  # a choice without Nam / Nữ
        props(d)["dia_chi_san_xuat"]["x-prefill"] = "identity.full_name"

    edit(path, change)
    problems = problems_of(workdir)
    assert problems == [
        f"{path}: {FIELDS}.ten_co_so['x-prefill']: identity.sex cannot fill a text field "
        "(it fills: choice)",
        f"{path}: {FIELDS}.dia_chi_san_xuat['x-prefill']: identity.full_name cannot fill an "
        "address field (it fills: text)",
        f"{path}: {FIELDS}.email['x-prefill-locked']: only a value from the ID card "
        "(x-prefill identity.*) can be locked",
        f"{path}: {FIELDS}.cong_doan.oneOf: a field prefilled with identity.sex needs the "
        "choices 'Nam' and 'Nữ'",
    ]


def test_unknown_prefill_and_lock_without_prefill(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        props(d)["ten_co_so"]["x-prefill"] = "identity.photo"
        props(d)["van_bang_nghiep_vu"]["x-prefill-locked"] = True
        props(d)["thiet_bi"]["items"]["properties"]["ten_thiet_bi"]["x-prefill"] = (
            "identity.full_name"
        )

    edit(path, change)
    problems = problems_of(workdir)
    assert any(
        p.startswith(f"{path}: {FIELDS}.ten_co_so['x-prefill']: 'identity.photo' is not one of")
        for p in problems
    )
    assert (
        f"{path}: {FIELDS}.van_bang_nghiep_vu: 'x-prefill' is a dependency of 'x-prefill-locked'"
        in problems
    )
    assert any(
        p.startswith(f"{path}: {FIELDS}.thiet_bi.items.properties.ten_thiet_bi: Additional")
        and "'x-prefill'" in p
        for p in problems
    )
    assert len(problems) == 3


def test_ui_order_and_required_must_name_fields(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        d["form"]["schema"]["required"].append("ho_ten")
        ui(d)["ui:order"][0] = "ten_coso"
        ui(d)["ghi_chu"] = {"ui:widget": "textarea"}

    edit(path, change)
    problems = problems_of(workdir)
    n = len(json.loads((PROCEDURES / PRINTING_LICENCE).read_text())["form"]["schema"]["required"])
    assert f"{path}: $.form.schema.required[{n}]: 'ho_ten' is not a field" in problems
    assert f"{path}: $.form.ui_schema['ui:order'][0]: 'ten_coso' is not a field" in problems
    assert f"{path}: $.form.ui_schema['ui:order']: field 'ten_co_so' is missing" in problems
    assert f"{path}: $.form.ui_schema.ghi_chu: 'ghi_chu' is not a field of the form" in problems
    assert len(problems) == 4


def test_group_rows_name_real_fields(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        props(d)["thiet_bi"]["items"]["required"].append("gia")
        ui(d)["thiet_bi"]["items"]["ui:order"].remove("so_luong")
        ui(d)["thiet_bi"]["items"]["ui:order"].append("gia")
        ui(d)["thiet_bi"]["items"]["mau"] = {"ui:widget": "text"}

    edit(path, change)
    rows = f"{path}: $.form.ui_schema.thiet_bi.items"
    assert problems_of(workdir) == [
        f"{path}: {FIELDS}.thiet_bi.items.required[3]: 'gia' is not a field",
        f"{rows}['ui:order'][3]: 'gia' is not a field",
        f"{rows}['ui:order']: field 'so_luong' is missing",
        f"{rows}.mau: 'mau' is not a field of the group's rows",
    ]


def test_widgets_fit_the_kind(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        ui(d)["ten_co_so"]["ui:widget"] = "radio"
        ui(d)["tru_so"].pop("ui:field")
        ui(d)["ma_so_thue"]["items"] = {"ui:order": []}

    edit(path, change)
    assert problems_of(workdir) == [
        f"{path}: $.form.ui_schema.ten_co_so['ui:widget']: 'radio' does not fit a text field "
        "(allowed: text)",
        f"{path}: $.form.ui_schema.ma_so_thue.items: only groups take items",
        f'{path}: $.form.ui_schema.tru_so: an address field needs "ui:field": "address"',
    ]


def test_grammar_details(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        props(d)["cong_doan"]["default"] = "nope"
        props(d)["ngay_du_kien"]["x-not-after"] = "today"
        props(d)["thiet_bi"]["maxItems"] = 21

    edit(path, change)
    assert problems_of(workdir) == [
        f"{path}: {FIELDS}.thiet_bi.maxItems: 21 is greater than the maximum of 20"
    ]
    edit(path, lambda d: props(d)["thiet_bi"].update(maxItems=20))
    assert problems_of(workdir) == [
        f"{path}: {FIELDS}.cong_doan.default: 'nope' is not one of the choices",
        f"{path}: {FIELDS}.ngay_du_kien: a date is either not after or not before today, not both",
    ]


def test_bad_pattern_in_form_is_caught(workdir: Path) -> None:
    path = workdir / "cap-giay-phep-thiet-lap-trang-thong-tin-dien-tu-tong-hop.json"
    edit(path, lambda d: props(d)["ten_mien"].update(pattern="[a-z"))
    problems = problems_of(workdir)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: {FIELDS}.ten_mien.pattern: ")


def test_help_needs_both_languages(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(path, lambda d: ui(d)["ten_co_so"].pop("x-help-en"))
    problems = problems_of(workdir)
    assert problems == [
        f"{path}: $.form.ui_schema.ten_co_so: 'x-help-en' is a dependency of 'ui:help'"
    ]


def test_documents_on_file_kind(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        d["documents"][1].pop("on_file_kind")
        d["documents"][0]["on_file_kind"] = "can_cuoc"

    edit(path, change)
    assert problems_of(workdir) == [
        f"{path}: $.documents[1]: 'on_file_kind' is a required property"
    ]
    edit(path, lambda d: d["documents"][1].update(on_file_kind="dang_ky_doanh_nghiep"))
    assert problems_of(workdir) == [
        f"{path}: $.documents[0].on_file_kind: only a document usually on file has an on_file_kind"
    ]


def test_fee_note_needs_both_languages(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(path, lambda d: d.update(fee_note_vi="Phí tính theo trang."))
    assert problems_of(workdir) == [f"{path}: $: 'fee_note_en' is a dependency of 'fee_note_vi'"]


def test_duplicate_document_ids(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(path, lambda d: d["documents"][2].update(id="don_de_nghi"))
    assert problems_of(workdir) == [
        f"{path}: $.documents[2].id: document id 'don_de_nghi' is used twice"
    ]


def test_duplicate_codes_and_service_with_two_fields(workdir: Path) -> None:
    src = workdir / PRINTING_LICENCE
    copy = workdir / "z-copy.json"
    shutil.copy(src, copy)
    edit(workdir / "cap-giay-phep-xuat-ban-ban-tin.json", lambda d: d.update(service_code="IN"))
    problems = problems_of(workdir)
    assert f"{copy}: $.code: LOCAL-IN-01 is also the code in {src}" in problems
    assert any("$.service_code: IN is the service of the field" in p for p in problems)
    assert len(problems) == 2


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: no procedure files (*.json) in this folder"]
    missing = tmp_path / "nope"
    assert problems_of(missing) == [f"{missing}: the procedures folder does not exist"]


def test_unusable_schema_in_the_folder(workdir: Path) -> None:
    (workdir / "procedure.schema.json").write_text("{", encoding="utf-8")
    problems = problems_of(workdir)
    assert len(problems) == 1 and "the procedure schema is unusable" in problems[0]
