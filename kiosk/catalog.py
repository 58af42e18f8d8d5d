"""The procedure catalog: administrative procedures (TTHC) read from config/procedures/*.json.

Each file holds one procedure and is checked at load against ``procedure.schema.json`` (JSON
Schema 2020-12), then for what a schema cannot say: unique procedure codes and document ids,
the form's ``required`` and ``ui:order`` naming real fields, the form itself a valid JSON
Schema, one field (lĩnh vực) per queue service code, every text in Unicode NFC. All mistakes
of all files are reported at once, each with its file and JSON path, e.g.
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
PREFILL_SOURCES = (
    "identity.full_name",
    "identity.id_number",
    "identity.date_of_birth",
    "identity.residence",
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
    """A document (thành phần hồ sơ) the dossier needs."""

    id: str
    title_vi: str
    title_en: str
    required: bool
    usually_on_file: bool
    copies: int

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

    Treat ``form`` as read-only: ``form_schema`` and ``ui_schema`` return copies.
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
    source: Path | None = field(default=None, compare=False)

    def title(self, lang: str) -> str:
        """The procedure's name in ``lang`` ("vi" or "en")."""
        return _pick(lang, self.name_vi, self.name_en)

    def field_title(self, lang: str) -> str:
        """The field (lĩnh vực) in ``lang``."""
        return _pick(lang, self.field_vi, self.field_en)

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

    form_schema = data["form"]["schema"]
    ui = data["form"]["ui_schema"]
    fields = form_schema["properties"]
    try:
        Draft202012Validator.check_schema(form_schema)
    except SchemaError as e:
        where = ["form", "schema", *e.absolute_path]
        yield f"{json_path(where)}: not a valid JSON Schema: {e.message}"
    for i, name in enumerate(form_schema["required"]):
        if name not in fields:
            yield f"{json_path(['form', 'schema', 'required', i])}: {name!r} is not a field"
    for name, spec in fields.items():
        where = ["form", "schema", "properties", name]
        lo, hi = spec.get("minLength"), spec.get("maxLength")
        if lo is not None and hi is not None and lo > hi:
            yield f"{json_path([*where, 'minLength'])}: minLength {lo} is above maxLength {hi}"
        lo, hi = spec.get("minimum"), spec.get("maximum")
        if lo is not None and hi is not None and lo > hi:
            yield f"{json_path([*where, 'minimum'])}: minimum {lo} is above maximum {hi}"
        consts = [c["const"] for c in spec.get("oneOf", [])]
        if len(consts) != len(set(consts)):
            yield f"{json_path([*where, 'oneOf'])}: two choices have the same value"
        if spec.get("x-prefill") and spec["type"] != "string":
            yield f"{json_path([*where, 'x-prefill'])}: only text or date fields can be prefilled"
    order = ui["ui:order"]
    for i, name in enumerate(order):
        if name != "*" and name not in fields:
            yield f"{json_path(['form', 'ui_schema', 'ui:order', i])}: {name!r} is not a field"
    if "*" not in order:
        for name in fields:
            if name not in order:
                yield f"{json_path(['form', 'ui_schema', 'ui:order'])}: field {name!r} is missing"
    for name in ui:
        if name != "ui:order" and name not in fields:
            yield f"{json_path(['form', 'ui_schema', name])}: {name!r} is not a field of the form"


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
            )
            for d in data["documents"]
        ),
        form=copy.deepcopy(dict(data["form"])),
        notes=data.get("notes", ""),
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
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    problems += [f"{path}: {json_path(e.absolute_path)}: {e.message}" for e in errors]
    if not errors:
        problems += [f"{path}: {p}" for p in _semantic_problems(data)]
    if problems:
        return None, problems
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
