"""The procedure catalog: administrative procedures (TTHC) read from config/procedures/*.json.

Each file holds one procedure and is checked at load against ``procedure.schema.json`` (JSON
Schema 2020-12), then for what a schema cannot say: unique procedure codes and document ids,
one field (lĩnh vực) per queue service code, every text in Unicode NFC, and the declaration
form's grammar (see ``field_kind`` and the table in kiosk/forms/spec.py): each field of a known
kind, ``x-prefill`` only on a kind that can hold its value, ``x-prefill-locked`` only with
``identity.*``, widgets that fit the kind, ``required`` and ``ui:order`` naming real fields at
both levels (the form and a group's rows), strings always bounded, no ``$ref``. All mistakes of
all files are reported at once, each with its file and JSON path, e.g.
``config/procedures/in.json: $.documents[2].copies: 0 is less than the minimum of 1``.

Exceptions::

    KioskError
     └── CatalogError              the catalog cannot answer
          ├── CatalogFileError     (operator) procedure files are missing or wrong;
          │                        ``problems`` lists each one with file and JSON path
          └── UnknownProcedure     (citizen) no procedure has this code at this kiosk
"""

from __future__ import annotations

import copy
import json
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from kiosk import paths
from kiosk.errors import KioskError

SCHEMA_FILE_NAME = "procedure.schema.json"

# Where a field's first value may come from, and the field kinds that can hold it.
PREFILL_KINDS: dict[str, frozenset[str]] = {
    "identity.full_name": frozenset({"text"}),
    "identity.id_number": frozenset({"id_number"}),
    "identity.date_of_birth": frozenset({"date"}),
    "identity.sex": frozenset({"choice"}),
    "identity.residence": frozenset({"address", "text", "multiline"}),
    "identity.nationality": frozenset({"text"}),
    "session.phone": frozenset({"phone"}),
    "session.email": frozenset({"email"}),
}
PREFILL_SOURCES = tuple(PREFILL_KINDS)
SEX_CONSTS = ("Nam", "Nữ")  # the engine maps the chip's M/F onto these

# The papers the back office may already hold for a citizen or an organisation.
ON_FILE_KINDS = (
    "can_cuoc",  # ID card
    "dang_ky_doanh_nghiep",  # business (or household business) registration certificate
    "quyet_dinh_thanh_lap",  # founding decision
    "van_bang",  # diploma or professional certificate
    "ly_lich_tu_phap",  # criminal record certificate
    "giay_phep",  # a licence previously issued in this field
)

FIELD_KINDS = (
    "text",
    "multiline",
    "number",
    "money",
    "date",
    "choice",
    "yesno",
    "phone",
    "email",
    "id_number",
    "tax_code",
    "address",
    "group",
)
_FORMAT_KINDS = {
    "date": "date",
    "vn-phone": "phone",
    "email": "email",
    "vn-personal-id": "id_number",
    "vn-tax-code": "tax_code",
}
# The exact maxLength of the formatted string kinds.
_FORMAT_MAX_LENGTH = {"phone": 15, "email": 254, "id_number": 12, "tax_code": 14}
_WIDGETS = {
    "text": {"text"},
    "multiline": {"textarea"},
    "number": {"updown", "text"},
    "money": {"updown", "text"},
    "date": {"date"},
    "choice": {"radio", "select"},
    "yesno": {"checkbox"},
    "phone": {"text"},
    "email": {"text"},
    "id_number": {"text"},
    "tax_code": {"text"},
    "address": set(),
    "group": set(),
}
_DEFAULT_KINDS = {"choice", "yesno", "number"}
_STRING_ONLY = ("minLength", "maxLength", "pattern")
# Schema keywords a form must not use: the engine reads the form field by field.
_FORBIDDEN_KEYWORDS = (
    "$ref",
    "$defs",
    "definitions",
    "$dynamicRef",
    "allOf",
    "anyOf",
    "if",
    "then",
    "else",
    "not",
    "dependentSchemas",
    "patternProperties",
)


class CatalogError(KioskError):
    """The catalog cannot answer."""


class CatalogFileError(CatalogError):
    """Procedure files are missing or wrong; ``problems`` lists each one with file and path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the procedure catalog:\n  " + "\n  ".join(problems)
        )


class UnknownProcedure(CatalogError):
    """No procedure of the catalog has this code."""

    msgid = "This procedure is not offered at this kiosk. Please ask the staff at the counter."

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"no procedure with code {code!r} in the catalog")


# --- the model -------------------------------------------------------------------------------


def _pick(lang: str, vi: str, en: str) -> str:
    """English for ``en``; Vietnamese, the official language, for anything else."""
    return en if lang == "en" else vi


@dataclass(frozen=True)
class DocumentRequirement:
    """A document (thành phần hồ sơ) the dossier needs.

    ``on_file_kind`` (one of ``ON_FILE_KINDS``) is set when the document is usually on file:
    the kiosk matches it with the papers the back office holds for the applicant.
    ``is_declaration`` marks the declaration itself, which the kiosk fills and attaches as PDF.
    """

    id: str
    title_vi: str
    title_en: str
    required: bool
    usually_on_file: bool
    copies: int
    on_file_kind: str | None = None
    is_declaration: bool = False

    def title(self, lang: str) -> str:
        """The title in ``lang`` ("vi" or "en")."""
        return _pick(lang, self.title_vi, self.title_en)


@dataclass(frozen=True)
class Service:
    """A queue service: one field (lĩnh vực) of procedures, with the letters on its tickets."""

    code: str
    name_vi: str
    name_en: str

    def title(self, lang: str) -> str:
        """The name in ``lang`` ("vi" or "en")."""
        return _pick(lang, self.name_vi, self.name_en)


@dataclass(frozen=True)
class Procedure:
    """One administrative procedure; ``form`` is ``{"schema": ..., "ui_schema": ...}``.

    Treat ``form`` as read-only: ``form_schema`` and ``ui_schema`` return copies. ``fee_vnd`` is
    what is known at filing; ``fee_note_vi``/``fee_note_en`` say how the fee depends on the
    dossier when it does.
    """

    code: str
    code_is_national: bool
    name_vi: str
    name_en: str
    field_vi: str
    field_en: str
    service_code: str
    legal_basis: tuple[str, ...]
    processing_days: int
    fee_vnd: int
    applicant_types: tuple[str, ...]
    documents: tuple[DocumentRequirement, ...]
    form: Mapping[str, Any]
    notes: str = ""
    fee_note_vi: str = ""
    fee_note_en: str = ""
    source: Path | None = field(default=None, compare=False)

    def title(self, lang: str) -> str:
        """The procedure's name in ``lang`` ("vi" or "en")."""
        return _pick(lang, self.name_vi, self.name_en)

    def field_title(self, lang: str) -> str:
        """The field (lĩnh vực) in ``lang``."""
        return _pick(lang, self.field_vi, self.field_en)

    def fee_note(self, lang: str) -> str:
        """How the fee depends on the dossier, in ``lang``; "" when the fee is fixed."""
        return _pick(lang, self.fee_note_vi, self.fee_note_en)

    @property
    def form_number(self) -> str:
        """The official form's number (e.g. "Mẫu số 11"), "" when not known."""
        return str(self.form["schema"].get("x-form-number", ""))

    def form_title(self, lang: str) -> str:
        """The declaration's official name in ``lang``."""
        schema = self.form["schema"]
        return _pick(lang, schema["title"], schema["x-title-en"])

    @property
    def form_schema(self) -> dict[str, Any]:
        """A copy of the declaration's JSON Schema."""
        return copy.deepcopy(dict(self.form["schema"]))

    @property
    def ui_schema(self) -> dict[str, Any]:
        """A copy of the declaration's UI schema (react-jsonschema-form convention)."""
        return copy.deepcopy(dict(self.form["ui_schema"]))

    def requirement(self, requirement_id: str) -> DocumentRequirement | None:
        """The document requirement with this id, or None."""
        return next((d for d in self.documents if d.id == requirement_id), None)

    def accepts(self, applicant_type: str) -> bool:
        """True if ``applicant_type`` ("citizen" or "organisation") may file this procedure."""
        return applicant_type in self.applicant_types


# --- Vietnamese collation --------------------------------------------------------------------

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {letter: i for i, letter in enumerate(_ALPHABET)}
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve (ă), circumflex (â ê ô), horn (ơ ư)
# Tone order of Vietnamese dictionaries: ngang, huyền, hỏi, ngã, sắc, nặng.
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _clusters(text: str) -> Iterator[tuple[str, list[str]]]:
    base = ""
    marks: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and base:
            marks.append(ch)
            continue
        if base:
            yield base, marks
        base, marks = ch, []
    if base:
        yield base, marks


def vietnamese_sort_key(text: str) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...], str]:
    """A key sorting text as Vietnamese dictionaries do: a ă â b c d đ e ê …, then by tone."""
    letters: list[tuple[int, int]] = []
    tones: list[int] = []
    for base, marks in _clusters(text.casefold()):
        letter = unicodedata.normalize(
            "NFC", base + "".join(m for m in marks if m in _LETTER_MARKS)
        )
        if letter in _LETTER_RANK:
            letters.append((1, _LETTER_RANK[letter]))
        else:
            letters.append((0 if not letter.isalpha() else 2, ord(letter[0])))
        tones.append(next((_TONE_RANK[m] for m in marks if m in _TONE_RANK), 0))
    return tuple(letters), tuple(tones), text


# --- the catalog -----------------------------------------------------------------------------


class Catalog:
    """The procedures a kiosk offers, by code."""

    def __init__(self, procedures: Iterable[Procedure]) -> None:
        self._by_code: dict[str, Procedure] = {}
        for p in procedures:
            if p.code in self._by_code:
                raise CatalogFileError([f"procedure code {p.code} is defined twice"])
            self._by_code[p.code] = p

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def procedures(self, lang: str = "vi") -> list[Procedure]:
        """Every procedure, sorted by name in ``lang`` (Vietnamese alphabetical order)."""
        return sorted(self._by_code.values(), key=lambda p: vietnamese_sort_key(p.title(lang)))

    def get(self, code: str) -> Procedure:
        """The procedure with this code; raises UnknownProcedure (a CatalogError) if none."""
        try:
            return self._by_code[code]
        except (KeyError, TypeError):
            raise UnknownProcedure(str(code)) from None

    def services(self) -> list[Service]:
        """The distinct queue services (one per field), sorted by Vietnamese name."""
        seen: dict[str, Service] = {}
        for p in self._by_code.values():
            seen.setdefault(p.service_code, Service(p.service_code, p.field_vi, p.field_en))
        return sorted(seen.values(), key=lambda s: vietnamese_sort_key(s.name_vi))

    def procedures_of_service(self, service_code: str, lang: str = "vi") -> list[Procedure]:
        """The procedures of one queue service, sorted by name."""
        return [p for p in self.procedures(lang) if p.service_code == service_code]


# --- the form grammar ------------------------------------------------------------------------


def field_kind(spec: Mapping[str, Any], ui: Mapping[str, Any] | None = None) -> str | None:
    """The kind of a form field (one of ``FIELD_KINDS``), or None if it has none."""
    ui = ui or {}
    typ = spec.get("type")
    if typ == "array":
        return "group"
    if typ == "object":
        return "address"
    if typ == "boolean":
        return "yesno"
    if typ == "integer":
        return "money" if spec.get("x-unit") == "VND" else "number"
    if typ != "string":
        return None
    if "oneOf" in spec:
        return "choice"
    if "format" in spec:
        return _FORMAT_KINDS.get(spec["format"])
    return "multiline" if ui.get("ui:widget") == "textarea" else "text"


def form_fields(form: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], str | None]]:
    """Every field of a form with its kind: ``(("name",), kind)`` for a top-level field,
    ``(("group", "name"), kind)`` for a field of a group's rows."""
    ui = form.get("ui_schema", {})
    for name, spec in form["schema"].get("properties", {}).items():
        kind = field_kind(spec, ui.get(name, {}))
        yield (name,), kind
        if kind == "group":
            items_ui = ui.get(name, {}).get("items", {})
            for inner, inner_spec in spec.get("items", {}).get("properties", {}).items():
                yield (name, inner), field_kind(inner_spec, items_ui.get(inner, {}))


def _a(kind: str) -> str:
    """ "a text field", "an address field": the kind with its article."""
    return ("an " if kind[0] in "aeiou" else "a ") + kind.replace("_", " ")


def _forbidden_keywords(node: Mapping[str, Any], where: list[str | int]) -> Iterator[str]:
    for key in _FORBIDDEN_KEYWORDS:
        if key in node:
            yield f"{json_path([*where, key])}: forms do not use {key}; write each field in full"


def _order_problems(
    order: list[Any], names: Iterable[str], where: list[str | int]
) -> Iterator[str]:
    names = list(names)
    for i, name in enumerate(order):
        if name != "*" and name not in names:
            yield f"{json_path([*where, i])}: {name!r} is not a field"
    if "*" not in order:
        for name in names:
            if name not in order:
                yield f"{json_path(where)}: field {name!r} is missing"


def _ui_problems(kind: str | None, ui: Mapping[str, Any], where: list[str | int]) -> Iterator[str]:
    widget = ui.get("ui:widget")
    if kind is not None and widget is not None and widget not in _WIDGETS[kind]:
        allowed = ", ".join(sorted(_WIDGETS[kind])) or "none"
        yield (
            f"{json_path([*where, 'ui:widget'])}: {widget!r} does not fit {_a(kind)} field "
            f"(allowed: {allowed})"
        )
    if kind == "address" and ui.get("ui:field") != "address":
        yield f'{json_path(where)}: an address field needs "ui:field": "address"'
    if kind != "address" and "ui:field" in ui:
        yield f"{json_path([*where, 'ui:field'])}: only address fields take ui:field"
    for key in ("items", "ui:options"):
        if kind != "group" and key in ui:
            yield f"{json_path([*where, key])}: only groups take {key}"


def _field_problems(
    spec: Mapping[str, Any], ui: Mapping[str, Any], where: list[str | int], top: bool
) -> Iterator[str]:
    """The grammar checks of one field (top-level when ``top``, else a group's column)."""
    kind = field_kind(spec, ui)
    yield from _forbidden_keywords(spec, where)
    if kind is None:
        yield f"{json_path(where)}: not a field kind of the form grammar"
        return
    lo, hi = spec.get("minLength"), spec.get("maxLength")
    if spec.get("type") == "string" and kind not in ("choice", "date") and hi is None:
        yield f"{json_path(where)}: {_a(kind)} field needs maxLength (free text is always bounded)"
    if lo is not None and hi is not None and lo > hi:
        yield f"{json_path([*where, 'minLength'])}: minLength {lo} is above maxLength {hi}"
    if kind in _FORMAT_MAX_LENGTH and hi is not None and hi != _FORMAT_MAX_LENGTH[kind]:
        yield (
            f"{json_path([*where, 'maxLength'])}: {_a(kind)} field has maxLength "
            f"{_FORMAT_MAX_LENGTH[kind]}, not {hi}"
        )
    if kind in ("date", "choice"):
        for key in _STRING_ONLY:
            if key in spec:
                yield f"{json_path([*where, key])}: {_a(kind)} field does not take {key}"
    if "x-not-after" in spec and "x-not-before" in spec:
        yield f"{json_path(where)}: a date is either not after or not before today, not both"
    lo, hi = spec.get("minimum"), spec.get("maximum")
    if lo is not None and hi is not None and lo > hi:
        yield f"{json_path([*where, 'minimum'])}: minimum {lo} is above maximum {hi}"
    if kind == "money" and (lo is None or lo < 0):
        yield f"{json_path(where)}: a money field needs minimum 0 or more"
    consts = [c["const"] for c in spec.get("oneOf", [])]
    if len(consts) != len(set(consts)):
        yield f"{json_path([*where, 'oneOf'])}: two choices have the same value"
    if "default" in spec:
        yield from _default_problems(kind, spec, consts, [*where, "default"])
    if kind == "group":
        lo, hi = spec.get("minItems", 0), spec.get("maxItems")
        if hi is not None and lo > hi:
            yield f"{json_path([*where, 'minItems'])}: minItems {lo} is above maxItems {hi}"
    prefill = spec.get("x-prefill")
    if prefill is not None:
        if not top:
            yield f"{json_path([*where, 'x-prefill'])}: only top-level fields are prefilled"
        elif prefill in PREFILL_KINDS and kind not in PREFILL_KINDS[prefill]:
            kinds = ", ".join(sorted(PREFILL_KINDS[prefill]))
            yield (
                f"{json_path([*where, 'x-prefill'])}: {prefill} cannot fill {_a(kind)} field "
                f"(it fills: {kinds})"
            )
        elif prefill == "identity.sex" and not set(SEX_CONSTS) <= set(consts):
            yield (
                f"{json_path([*where, 'oneOf'])}: a field prefilled with identity.sex needs "
                f"the choices {SEX_CONSTS[0]!r} and {SEX_CONSTS[1]!r}"
            )
    if spec.get("x-prefill-locked") and not str(prefill or "").startswith("identity."):
        yield (
            f"{json_path([*where, 'x-prefill-locked'])}: only a value from the ID card "
            "(x-prefill identity.*) can be locked"
        )


def _default_problems(
    kind: str, spec: Mapping[str, Any], consts: list[Any], where: list[str | int]
) -> Iterator[str]:
    value = spec["default"]
    if kind not in _DEFAULT_KINDS:
        yield f"{json_path(where)}: only choice, yes/no and number fields take a default"
    elif kind == "choice" and value not in consts:
        yield f"{json_path(where)}: {value!r} is not one of the choices"
    elif kind == "yesno" and not isinstance(value, bool):
        yield f"{json_path(where)}: a yes/no default is true or false"
    elif kind == "number" and (isinstance(value, bool) or not isinstance(value, int)):
        yield f"{json_path(where)}: a number default is a whole number"
    elif kind == "number":
        lo, hi = spec.get("minimum"), spec.get("maximum")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            yield f"{json_path(where)}: {value} is outside minimum/maximum"


def _group_problems(
    spec: Mapping[str, Any], ui: Mapping[str, Any], where: list[str | int], ui_where: list[Any]
) -> Iterator[str]:
    items = spec.get("items", {})
    yield from _forbidden_keywords(items, [*where, "items"])
    fields = items.get("properties", {})
    for i, name in enumerate(items.get("required", [])):
        if name not in fields:
            yield f"{json_path([*where, 'items', 'required', i])}: {name!r} is not a field"
    items_ui = ui.get("items", {})
    for name, inner in fields.items():
        inner_ui = items_ui.get(name, {})
        inner_where: list[str | int] = [*where, "items", "properties", name]
        if field_kind(inner, inner_ui) in ("address", "group"):
            yield f"{json_path(inner_where)}: a group's rows hold simple fields only"
            continue
        yield from _field_problems(inner, inner_ui, inner_where, False)
        yield from _ui_problems(field_kind(inner, inner_ui), inner_ui, [*ui_where, "items", name])
    if "items" in ui:
        order = items_ui.get("ui:order", [])
        yield from _order_problems(order, fields, [*ui_where, "items", "ui:order"])
        for name in items_ui:
            if name != "ui:order" and name not in fields:
                where_ui = json_path([*ui_where, "items", name])
                yield f"{where_ui}: {name!r} is not a field of the group's rows"


def form_problems(form: Mapping[str, Any]) -> Iterator[str]:
    """The grammar problems of a declaration form (``{"schema", "ui_schema"}``), each with its
    JSON path from the procedure file's root."""
    schema, ui = form["schema"], form["ui_schema"]
    where: list[str | int] = ["form", "schema"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        yield f"{json_path([*where, *e.absolute_path])}: not a valid JSON Schema: {e.message}"
    yield from _forbidden_keywords(schema, where)
    fields = schema.get("properties", {})
    for i, name in enumerate(schema.get("required", [])):
        if name not in fields:
            yield f"{json_path([*where, 'required', i])}: {name!r} is not a field"
    for name, spec in fields.items():
        field_ui = ui.get(name, {})
        field_where: list[str | int] = [*where, "properties", name]
        ui_where: list[str | int] = ["form", "ui_schema", name]
        yield from _field_problems(spec, field_ui, field_where, True)
        yield from _ui_problems(field_kind(spec, field_ui), field_ui, ui_where)
        if field_kind(spec, field_ui) == "group":
            yield from _group_problems(spec, field_ui, field_where, ui_where)
    yield from _order_problems(ui.get("ui:order", []), fields, ["form", "ui_schema", "ui:order"])
    for name in ui:
        if name != "ui:order" and name not in fields:
            yield f"{json_path(['form', 'ui_schema', name])}: {name!r} is not a field of the form"


# --- loading ---------------------------------------------------------------------------------


def json_path(parts: Iterable[str | int]) -> str:
    """A JSONPath such as ``$.form.ui_schema['ui:order'][2]`` for a sequence of keys."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + json.dumps(part, ensure_ascii=False).replace('"', "'") + "]"
    return out


def _non_nfc(value: Any, where: list[str | int]) -> Iterator[str]:
    if isinstance(value, str):
        if not unicodedata.is_normalized("NFC", value):
            yield f"{json_path(where)}: text is not in Unicode NFC form; save the file as NFC"
    elif isinstance(value, dict):
        for k, v in value.items():
            if not unicodedata.is_normalized("NFC", k):
                yield f"{json_path([*where, k])}: key is not in Unicode NFC form"
            yield from _non_nfc(v, [*where, k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _non_nfc(v, [*where, i])


def _semantic_problems(data: Mapping[str, Any]) -> Iterator[str]:
    """Checks that JSON Schema cannot express, on a file that passed the schema."""
    ids: set[str] = set()
    for i, doc in enumerate(data["documents"]):
        if doc["id"] in ids:
            yield f"{json_path(['documents', i, 'id'])}: document id {doc['id']!r} is used twice"
        ids.add(doc["id"])
        if "on_file_kind" in doc and not doc["usually_on_file"]:
            yield (
                f"{json_path(['documents', i, 'on_file_kind'])}: only a document usually on "
                "file has an on_file_kind"
            )
    declarations = [i for i, d in enumerate(data["documents"]) if d.get("is_declaration")]
    if len(declarations) != 1:
        yield (
            f"{json_path(['documents'])}: exactly one document must have is_declaration: true "
            f"(the form the kiosk fills in); found {len(declarations)}"
        )
    yield from form_problems(data["form"])


def _build(data: Mapping[str, Any], source: Path) -> Procedure:
    return Procedure(
        code=data["code"],
        code_is_national=data["code_is_national"],
        name_vi=data["name_vi"],
        name_en=data["name_en"],
        field_vi=data["field_vi"],
        field_en=data["field_en"],
        service_code=data["service_code"],
        legal_basis=tuple(data["legal_basis"]),
        processing_days=data["processing_days"],
        fee_vnd=data["fee_vnd"],
        applicant_types=tuple(data["applicant_types"]),
        documents=tuple(
            DocumentRequirement(
                id=d["id"],
                title_vi=d["title_vi"],
                title_en=d["title_en"],
                required=d["required"],
                usually_on_file=d["usually_on_file"],
                copies=d["copies"],
                on_file_kind=d.get("on_file_kind"),
                is_declaration=d.get("is_declaration", False),
            )
            for d in data["documents"]
        ),
        form=copy.deepcopy(dict(data["form"])),
        notes=data.get("notes", ""),
        fee_note_vi=data.get("fee_note_vi", ""),
        fee_note_en=data.get("fee_note_en", ""),
        source=source,
    )


def _load_validator(procedures_dir: Path) -> Draft202012Validator:
    schema_path = procedures_dir / SCHEMA_FILE_NAME
    if not schema_path.is_file():
        schema_path = paths.CONFIG_DIR / "procedures" / SCHEMA_FILE_NAME
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, SchemaError) as e:
        raise CatalogFileError([f"{schema_path}: the procedure schema is unusable: {e}"]) from e
    return Draft202012Validator(schema)


def _error_sort_key(error: Any) -> tuple[list[str], str]:
    return [str(p) for p in error.absolute_path], error.message


_COUNTED = {
    "maxProperties": "too many properties: {n}, at most {limit}",
    "minProperties": "too few properties: {n}, at least {limit}",
    "maxItems": "too many items: {n}, at most {limit}",
    "minItems": "too few items: {n}, at least {limit}",
}


def _message(error: Any) -> str:
    """The validator's message, without a dump of a large instance."""
    if error.validator in _COUNTED and hasattr(error.instance, "__len__"):
        n, limit = len(error.instance), error.validator_value
        return _COUNTED[error.validator].format(n=n, limit=limit)
    message = str(error.message)
    return message if len(message) <= 300 else message[:297] + "…"


def load_procedure_file(
    path: Path, validator: Draft202012Validator
) -> tuple[Procedure | None, list[str]]:
    """One procedure file: the procedure, or None and the problems (each naming the file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [f"{path}: is not UTF-8 text"]
    except OSError as e:
        return None, [f"{path}: cannot be read: {e.strerror or e}"]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return None, [f"{path}: line {e.lineno} column {e.colno}: not valid JSON: {e.msg}"]

    problems = [f"{path}: {p}" for p in _non_nfc(data, [])]
    errors = sorted(validator.iter_errors(data), key=_error_sort_key)
    problems += [f"{path}: {json_path(e.absolute_path)}: {_message(e)}" for e in errors]
    if not errors:
        problems += [f"{path}: {p}" for p in _semantic_problems(data)]
    if problems:
        return None, list(dict.fromkeys(problems))  # one line per distinct problem
    return _build(data, path), []


def load_catalog(procedures_dir: Path) -> Catalog:
    """Load every ``*.json`` procedure of the folder; CatalogFileError lists all mistakes."""
    procedures_dir = Path(procedures_dir)
    if not procedures_dir.is_dir():
        raise CatalogFileError([f"{procedures_dir}: the procedures folder does not exist"])
    files = sorted(p for p in procedures_dir.glob("*.json") if p.name != SCHEMA_FILE_NAME)
    if not files:
        raise CatalogFileError([f"{procedures_dir}: no procedure files (*.json) in this folder"])
    validator = _load_validator(procedures_dir)

    problems: list[str] = []
    loaded: list[Procedure] = []
    for path in files:
        procedure, file_problems = load_procedure_file(path, validator)
        problems += file_problems
        if procedure is not None:
            loaded.append(procedure)

    first_by_code: dict[str, Procedure] = {}
    field_by_service: dict[str, Procedure] = {}
    for p in loaded:
        other = first_by_code.setdefault(p.code, p)
        if other is not p:
            problems.append(f"{p.source}: $.code: {p.code} is also the code in {other.source}")
        first = field_by_service.setdefault(p.service_code, p)
        if (first.field_vi, first.field_en) != (p.field_vi, p.field_en):
            problems.append(
                f"{p.source}: $.service_code: {p.service_code} is the service of the field "
                f"{first.field_vi!r} in {first.source}; one service code per field"
            )
    if problems:
        raise CatalogFileError(problems)
    return Catalog(loaded)
