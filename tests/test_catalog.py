"""The procedure catalog: the shipped procedures, and bad procedure files named file and path."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from kiosk.catalog import (
    PREFILL_SOURCES,
    Catalog,
    CatalogError,
    CatalogFileError,
    Service,
    UnknownProcedure,
    load_catalog,
    vietnamese_sort_key,
)
from kiosk.paths import CONFIG_DIR

PROCEDURES = CONFIG_DIR / "procedures"
PRINTING_LICENCE = "cap-giay-phep-hoat-dong-in.json"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(PROCEDURES)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of the shipped procedures (without the schema: the shipped one is the fallback)."""
    folder = tmp_path / "procedures"
    folder.mkdir()
    for path in PROCEDURES.glob("*.json"):
        if path.name != "procedure.schema.json":
            shutil.copy(path, folder / path.name)
    return folder


def edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def problems_of(folder: Path) -> list[str]:
    with pytest.raises(CatalogFileError) as e:
        load_catalog(folder)
    assert isinstance(e.value, CatalogError)
    return e.value.problems


# --- the shipped catalog ---


def test_three_procedures_sorted_by_vietnamese_name(catalog: Catalog) -> None:
    names = [p.name_vi for p in catalog.procedures()]
    assert names == [
        "Cấp giấy phép hoạt động in",
        "Cấp giấy phép xuất bản bản tin",
        "Xác nhận đăng ký hoạt động cơ sở in",
    ]
    assert len(catalog) == 3
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
    assert p.fee_vnd == 0
    assert p.accepts("citizen") and p.accepts("organisation")
    assert any("60/2014/NĐ-CP" in law for law in p.legal_basis)
    doc = p.documents[0]
    assert doc.required and doc.copies == 1
    assert doc.title("vi").startswith("Tờ khai") and doc.title("en").startswith("Registration")
    assert p.requirement("to_khai") is doc and p.requirement("nope") is None

    licence = catalog.get("LOCAL-IN-01")
    assert not licence.code_is_national
    assert licence.applicant_types == ("organisation",)
    assert any("25/2018/NĐ-CP" in law for law in licence.legal_basis)
    assert licence.fee_vnd == 0 and "Phí, lệ phí" in licence.notes  # the 0 is explained
    newsletter = catalog.get("LOCAL-BC-01")
    assert newsletter.field_vi == "Báo chí"
    assert any("Luật Báo chí" in law for law in newsletter.legal_basis)


def test_services_are_distinct_fields(catalog: Catalog) -> None:
    assert catalog.services() == [
        Service("BC", "Báo chí", "Press"),
        Service("IN", "Xuất bản, In và Phát hành", "Publishing, printing and distribution"),
    ]
    assert catalog.services()[0].title("en") == "Press"
    assert [p.code for p in catalog.procedures_of_service("IN")] == ["LOCAL-IN-01", "2.001740"]


def test_forms_are_simple_valid_schemas_with_prefill(catalog: Catalog) -> None:
    prefills: set[str] = set()
    kinds: set[str] = set()
    for p in catalog.procedures():
        schema = p.form_schema
        Draft202012Validator.check_schema(schema)
        assert 3 <= len(schema["properties"]) <= 6
        assert set(schema["required"]) <= set(schema["properties"])
        assert p.ui_schema["ui:order"] == list(schema["properties"])
        for spec in schema["properties"].values():
            assert spec["title"] and spec["x-title-en"]
            prefills.add(spec.get("x-prefill", ""))
            if spec.get("format") == "date":
                kinds.add("date")
            elif "oneOf" in spec:
                kinds.add("choice")
            else:
                kinds.add(spec["type"])
    assert prefills - {""} == set(PREFILL_SOURCES)
    assert kinds == {"string", "integer", "boolean", "date", "choice"}


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


def test_copy_of_shipped_files_loads_with_the_fallback_schema(workdir: Path) -> None:
    assert len(load_catalog(workdir)) == 3


def test_bad_value_names_file_and_path(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(path, lambda d: d["documents"][1].update(copies=0))
    before = path.read_bytes()
    problems = problems_of(workdir)
    assert problems == [f"{path}: $.documents[1].copies: 0 is less than the minimum of 1"]
    assert path.read_bytes() == before  # nothing rewritten


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
    edit(path, lambda d: d.update(name_vi=unicodedata.normalize("NFD", d["name_vi"])))
    problems = problems_of(workdir)
    assert problems == [f"{path}: $.name_vi: text is not in Unicode NFC form; save the file as NFC"]


def test_unknown_key_and_typo_in_a_field(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        d["fees"] = 10
        field = d["form"]["schema"]["properties"]["ten_co_so"]
        field["maxlength"] = field.pop("maxLength")

    edit(path, change)
    problems = problems_of(workdir)
    assert any(
        p.startswith(f"{path}: $: Additional properties") and "'fees'" in p for p in problems
    )
    field_path = f"{path}: $.form.schema.properties.ten_co_so"
    assert any(p.startswith(field_path) and "'maxlength'" in p for p in problems)
    assert any(
        p.startswith(field_path) and "'maxLength' is a required property" in p for p in problems
    )


def test_national_code_must_look_national(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(path, lambda d: d.update(code_is_national=True))
    problems = problems_of(workdir)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: $.code: 'LOCAL-IN-01' does not match")


def test_too_many_form_fields(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        d["form"]["schema"]["properties"]["extra"] = {
            "type": "boolean",
            "title": "Thêm",
            "x-title-en": "Extra",
        }
        d["form"]["ui_schema"]["ui:order"].append("extra")

    edit(path, change)
    problems = problems_of(workdir)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: $.form.schema.properties: ")
    assert "too many properties" in problems[0]


def test_wrong_keyword_for_the_type(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(path, lambda d: d["form"]["schema"]["properties"]["so_thiet_bi_in"].update(maxLength=3))
    problems = problems_of(workdir)
    assert problems == [
        f"{path}: $.form.schema.properties.so_thiet_bi_in.type: 'string' was expected"
    ]


def test_ui_order_and_required_must_name_fields(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE

    def change(d: dict[str, Any]) -> None:
        d["form"]["schema"]["required"].append("ho_ten")
        d["form"]["ui_schema"]["ui:order"][0] = "ten_coso"
        d["form"]["ui_schema"]["ghi_chu"] = {"ui:widget": "textarea"}

    edit(path, change)
    problems = problems_of(workdir)
    assert f"{path}: $.form.schema.required[5]: 'ho_ten' is not a field" in problems
    assert f"{path}: $.form.ui_schema['ui:order'][0]: 'ten_coso' is not a field" in problems
    assert f"{path}: $.form.ui_schema['ui:order']: field 'ten_co_so' is missing" in problems
    assert f"{path}: $.form.ui_schema.ghi_chu: 'ghi_chu' is not a field of the form" in problems
    assert len(problems) == 4


def test_bad_pattern_in_form_is_caught(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(path, lambda d: d["form"]["schema"]["properties"]["so_dinh_danh"].update(pattern="[0-9"))
    problems = problems_of(workdir)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: $.form.schema.properties.so_dinh_danh.pattern: ")


def test_help_needs_both_languages(workdir: Path) -> None:
    path = workdir / PRINTING_LICENCE
    edit(path, lambda d: d["form"]["ui_schema"]["ten_co_so"].pop("x-help-en"))
    problems = problems_of(workdir)
    assert problems == [
        f"{path}: $.form.ui_schema.ten_co_so: 'x-help-en' is a dependency of 'ui:help'"
    ]


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
