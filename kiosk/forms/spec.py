"""Declaration forms: a procedure's JSON Schema (2020-12) and UI schema turned into fields and
pages, prefill from the identity and the session, conversion of what was typed, and validation
with the ``jsonschema`` library and a format checker, each problem a Vietnamese/English message
pointing at its field.

The grammar (what a catalog form may say; ``config/procedures/procedure.schema.json`` checks it):

| kind | schema | ui_schema |
|---|---|---|
| text | ``type: string`` with ``maxLength`` | |
| multiline | as text | ``ui:widget: textarea`` |
| number | ``type: integer`` (``minimum``/``maximum``) | |
| money (VND) | ``type: integer``, ``x-unit: VND`` | |
| date | ``type: string, format: date``; ``x-not-after``/``x-not-before: today`` | |
| choice | ``type: string`` + ``oneOf`` of ``const``/``title``/``x-title-en`` | radio/select |
| yes/no | ``type: boolean`` | |
| phone, e-mail | ``format``: ``vn-phone``, ``email`` | |
| ID number, tax code | ``format``: ``vn-personal-id``, ``vn-tax-code`` | |
| address | object of ``province``, ``commune``, ``street`` | ``ui:field: address`` |
| group | ``type: array`` of objects of the simple kinds, ``minItems``/``maxItems`` | ``items`` |

``x-prefill`` names where a field's first value comes from: ``identity.<attribute>`` (the
card's chip, QR or MRZ, or the typed ID number) or ``session.<key>`` (what the citizen typed
earlier in this session into a field with the same key, e.g. the phone number).
``x-prefill-locked`` marks the values the law ties to the ID card (name, ID number, date of
birth of the applicant): when they come from a chip that passed passive authentication the
field is shown but cannot be changed, and validation keeps the chip's value whatever is sent.

Values move through three forms: the *draft* (what the screen holds: text as typed, the chosen
value, a dict for an address, a list of dicts for a group), the *answers* (JSON values, as the
dossier stores them: ISO dates, integers, normalised phone numbers, canonical place names) and
the *display* (text shown back in an input or on the review screen).

Errors are keyed by a path: ``name``, ``name.province``, ``name[2].so_luong``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from kiosk.forms import field_checks
from kiosk.forms.field_checks import Problem
from kiosk.identity.model import Authenticity, Identity, IdentitySource
from kiosk.infra.text import format_date, format_vnd, group_thousands

MSG_REQUIRED = "This field is required."
MSG_NUMBER = "Enter a whole number, digits only."
MSG_MONEY = "Enter an amount in đồng, digits only, such as 1500000."
MSG_DATE = "Enter a date as dd/mm/yyyy."
MSG_DATE_FUTURE = "This date cannot be in the future."
MSG_DATE_PAST = "This date cannot be in the past."
MSG_TOO_LONG = "This answer is too long: at most {max} characters (now {count})."
MSG_TOO_SHORT = "This answer is too short: at least {min} characters."
MSG_FORMAT = "This answer is not in the expected format."
MSG_CHOICE = "Choose one of the options."
MSG_MIN = "The number must be at least {min}."
MSG_MAX = "The number must be at most {max}."
MSG_FEW_ROWS = "Add at least {min} row(s)."
MSG_MANY_ROWS = "At most {max} rows."
MSG_PROVINCE = "Choose a province from the list."
MSG_INVALID = "This answer is not valid."
MSG_UNKNOWN_FIELD = "This form has no such field."
MSG_YES = "Yes"
MSG_NO = "No"

_DATE_INPUT = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
_GROUPING = re.compile(r"[\s.,_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060\ufeff]")
FORMAT_KINDS = {
    "vn-phone": "phone",
    "email": "email",
    "vn-personal-id": "id_number",
    "vn-tax-code": "tax_code",
}
SEX_CHOICES = {"M": "Nam", "F": "Nữ"}
PAGE_BUDGET = 5


class Kind(StrEnum):
    TEXT = "text"
    MULTILINE = "multiline"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"
    YESNO = "yesno"
    PHONE = "phone"
    EMAIL = "email"
    ID_NUMBER = "id_number"
    TAX_CODE = "tax_code"
    ADDRESS = "address"
    GROUP = "group"


# Which on-screen keyboard layout a typed field wants.
KEYBOARDS = {
    Kind.NUMBER: "number",
    Kind.MONEY: "number",
    Kind.DATE: "date",
    Kind.PHONE: "phone",
    Kind.ID_NUMBER: "number",
    Kind.TAX_CODE: "tax",
    Kind.EMAIL: "email",
}
ADDRESS_PARTS = ("province", "commune", "street")


@dataclass(frozen=True)
class Choice:
    value: Any
    title_vi: str
    title_en: str

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi


@dataclass(frozen=True)
class FormField:
    """One field as the screen shows it (an address's and a group's parts are fields too)."""

    name: str
    kind: Kind
    title_vi: str
    title_en: str
    required: bool
    help_vi: str = ""
    help_en: str = ""
    placeholder_vi: str = ""
    placeholder_en: str = ""
    prefill: str | None = None
    prefill_locked: bool = False
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    not_after_today: bool = False
    not_before_today: bool = False
    default: Any = None
    parts: tuple[FormField, ...] = ()
    min_items: int = 0
    max_items: int = 0

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_vi

    def placeholder(self, lang: str) -> str:
        return self.placeholder_en if lang == "en" else self.placeholder_vi

    @property
    def keyboard(self) -> str:
        """The keyboard layout for a typed field: text, number, date, phone, tax or email."""
        return KEYBOARDS.get(self.kind, "text")

    def part(self, name: str) -> FormField:
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def weight(self) -> int:
        """Room the field takes on a page, in rows."""
        if self.kind is Kind.GROUP:
            return 4
        if self.kind is Kind.ADDRESS:
            return 3
        if self.kind is Kind.MULTILINE or (self.kind is Kind.CHOICE and len(self.choices) > 4):
            return 2
        return 1


@dataclass
class Prefill:
    """First values of a form: the draft, where each value came from, what may not change."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # chip, qr, mrz, typed, session
    locked: dict[str, Any] = field(default_factory=dict)  # name -> the chip's answer


# --- reading a form definition ---------------------------------------------------------------


def _choices(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> tuple[Choice, ...]:
    if "oneOf" in prop:
        return tuple(
            Choice(o["const"], o.get("title", str(o["const"])), o.get("x-title-en", o.get("title")))
            for o in prop["oneOf"]
            if "const" in o
        )
    if "enum" in prop:
        names_vi = ui.get("ui:enumNames", [str(v) for v in prop["enum"]])
        names_en = ui.get("x-enumNames-en", names_vi)
        rows = zip(prop["enum"], names_vi, names_en, strict=True)
        return tuple(Choice(v, vi, en) for v, vi, en in rows)
    return ()


def _kind(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> Kind:
    typ = prop.get("type")
    if ui.get("ui:field") == "address" or (
        typ == "object" and set(prop.get("properties", {})) == set(ADDRESS_PARTS)
    ):
        return Kind.ADDRESS
    if typ == "array":
        return Kind.GROUP
    if "oneOf" in prop or "enum" in prop:
        return Kind.CHOICE
    if typ == "boolean":
        return Kind.YESNO
    if typ in ("integer", "number"):
        return Kind.MONEY if prop.get("x-unit") == "VND" else Kind.NUMBER
    fmt = prop.get("format")
    if fmt == "date":
        return Kind.DATE
    if fmt in FORMAT_KINDS:
        return Kind(FORMAT_KINDS[fmt])
    if ui.get("ui:widget") == "textarea":
        return Kind.MULTILINE
    return Kind.TEXT


def read_field(
    name: str, prop: Mapping[str, Any], ui: Mapping[str, Any], required: bool
) -> FormField:
    """The field of one schema property and its UI schema entry."""
    kind = _kind(prop, ui)
    parts: tuple[FormField, ...] = ()
    if kind is Kind.ADDRESS:
        inner = set(prop.get("required", []))
        props = prop.get("properties", {})
        parts = tuple(
            read_field(p, props.get(p, {}), ui.get(p, {}), p in inner)
            for p in ADDRESS_PARTS
            if p in props
        )
    elif kind is Kind.GROUP:
        items = prop.get("items", {})
        items_ui = ui.get("items", {})
        parts = _ordered_fields(items, items_ui)
    title_vi = prop.get("title", name)
    return FormField(
        name=name,
        kind=kind,
        title_vi=title_vi,
        title_en=prop.get("x-title-en", title_vi),
        required=required,
        help_vi=ui.get("ui:help", ""),
        help_en=ui.get("x-help-en", ui.get("ui:help", "")),
        placeholder_vi=ui.get("ui:placeholder", ""),
        placeholder_en=ui.get("x-placeholder-en", ui.get("ui:placeholder", "")),
        prefill=prop.get("x-prefill"),
        prefill_locked=bool(prop.get("x-prefill-locked", False)),
        choices=_choices(prop, ui),
        max_length=prop.get("maxLength"),
        min_length=prop.get("minLength"),
        pattern=prop.get("pattern"),
        minimum=prop.get("minimum"),
        maximum=prop.get("maximum"),
        not_after_today=prop.get("x-not-after") == "today",
        not_before_today=prop.get("x-not-before") == "today",
        default=prop.get("default"),
        parts=parts,
        min_items=int(prop.get("minItems", 0)),
        max_items=int(prop.get("maxItems", 0)),
    )


def _ordered_fields(schema: Mapping[str, Any], ui: Mapping[str, Any]) -> tuple[FormField, ...]:
    props: dict[str, Any] = dict(schema.get("properties", {}))
    required = set(schema.get("required", []))
    order = [n for n in ui.get("ui:order", []) if n in props]
    order += [n for n in props if n not in order]
    return tuple(read_field(n, props[n], ui.get(n, {}), n in required) for n in order)


# --- validation with jsonschema --------------------------------------------------------------


def _format_checker(today: Callable[[], date]) -> FormatChecker:
    checker = FormatChecker(formats=("date",))

    @checker.checks("vn-phone")
    def _phone(value: object) -> bool:
        return not isinstance(value, str) or field_checks.phone_problem(value) is None

    @checker.checks("email")
    def _email(value: object) -> bool:
        return not isinstance(value, str) or field_checks.email_problem(value) is None

    @checker.checks("vn-personal-id")
    def _id(value: object) -> bool:
        return not isinstance(value, str) or field_checks.id_number_problem(value, today()) is None

    @checker.checks("vn-tax-code")
    def _tax(value: object) -> bool:
        return not isinstance(value, str) or field_checks.tax_code_problem(value, today()) is None

    return checker


def _validator_class(today: Callable[[], date]) -> Any:
    """Draft 2020-12 with the two date bounds of the grammar as keywords."""

    def _bound(after: bool) -> Callable[..., Iterator[ValidationError]]:
        def check(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
            if value != "today" or not isinstance(instance, str):
                return
            try:
                day = date.fromisoformat(instance)
            except ValueError:
                return  # the format check reports it
            if (after and day > today()) or (not after and day < today()):
                yield ValidationError(f"{instance} is {'after' if after else 'before'} today")

        return check

    return validators.extend(
        Draft202012Validator, {"x-not-after": _bound(True), "x-not-before": _bound(False)}
    )


def path_key(parts: Any) -> str:
    """``name``, ``name.province`` or ``name[2].field`` for a path of keys and indexes."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --- the form --------------------------------------------------------------------------------


class FormSpec:
    """A declaration form: its fields in display order, its pages, prefill and validation."""

    def __init__(
        self,
        schema: dict[str, Any],
        fields: tuple[FormField, ...],
        *,
        today: Callable[[], date] | None = None,
        title_vi: str = "",
        title_en: str = "",
        form_number: str = "",
    ) -> None:
        self.schema = schema
        self.fields = list(fields)
        self.title_vi = title_vi
        self.title_en = title_en or title_vi
        self.form_number = form_number
        self._today = today or _today_vietnam
        self._validator = _validator_class(self._today)(
            schema, format_checker=_format_checker(self._today)
        )

    @classmethod
    def from_definition(
        cls, definition: Mapping[str, Any], *, today: Callable[[], date] | None = None
    ) -> FormSpec:
        schema = dict(definition["schema"])
        ui = definition.get("ui_schema", {})
        return cls(
            schema,
            _ordered_fields(schema, ui),
            today=today,
            title_vi=schema.get("title", ""),
            title_en=schema.get("x-title-en", ""),
            form_number=schema.get("x-form-number", ""),
        )

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi

    def field(self, name: str) -> FormField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def pages(self, budget: int = PAGE_BUDGET) -> list[list[FormField]]:
        """The fields split into pages of at most ``budget`` rows (a big field alone is fine)."""
        pages: list[list[FormField]] = []
        room = 0
        for f in self.fields:
            if not pages or room + f.weight > budget:
                pages.append([])
                room = 0
            pages[-1].append(f)
            room += f.weight
        return pages

    # --- prefill ---------------------------------------------------------------------------

    def prefill(
        self,
        identity: Identity | None,
        earlier: Mapping[str, Any] | None = None,
        remembered: Mapping[str, Any] | None = None,
    ) -> Prefill:
        """The draft a citizen starts from.

        ``earlier``: answers this citizen already gave to this form (coming back to it);
        ``remembered``: values kept in the session by ``session.*`` key. Earlier answers win;
        a locked field always shows the chip's value.
        """
        earlier = earlier or {}
        remembered = remembered or {}
        out = Prefill()
        for f in self.fields:
            source, raw = self._prefill_source(f, identity, remembered)
            if raw is not None and source is not None:
                out.values[f.name] = raw
                out.sources[f.name] = source
                if f.prefill_locked and source == "chip" and _authentic(identity):
                    answers, errors = self._convert_field(f, raw)
                    if not errors:
                        out.locked[f.name] = answers
            if f.name in earlier and f.name not in out.locked:
                out.values[f.name] = draft_value(f, earlier[f.name])
                out.sources.pop(f.name, None)
            elif f.name not in out.values and f.default is not None:
                out.values[f.name] = draft_value(f, f.default)
        return out

    def _prefill_source(
        self, f: FormField, identity: Identity | None, remembered: Mapping[str, Any]
    ) -> tuple[str | None, Any]:
        if not f.prefill:
            return None, None
        where, _, key = f.prefill.partition(".")
        if where == "session":
            value = remembered.get(key)
            return ("session", draft_value(f, value)) if value not in (None, "") else (None, None)
        if where != "identity" or identity is None:
            return None, None
        raw = getattr(identity, key, None)
        if raw in (None, ""):
            return None, None
        if key == "sex":
            raw = SEX_CHOICES.get(str(raw), raw)
        if key == "nationality" and str(raw).upper() in ("VNM", "VN"):
            raw = "Việt Nam"
        source = identity.source.value if isinstance(identity.source, IdentitySource) else "typed"
        if f.kind is Kind.ADDRESS:
            return source, address_draft_from_text(str(raw))
        return source, draft_value(f, raw)

    def remembered(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """The ``session.*`` values of these answers, to offer again later in the session."""
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.prefill and f.prefill.startswith("session.") and f.name in answers:
                out[f.prefill.removeprefix("session.")] = answers[f.name]
        return out

    # --- conversion and validation ---------------------------------------------------------

    def convert_and_validate(
        self, draft: Mapping[str, Any], locked: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Problem]]:
        """Turn the draft into answers and check them against the schema.

        Returns (answers, problems): each problem keyed by its path. ``locked`` values (from
        ``Prefill.locked``) replace whatever the draft says for those fields.
        """
        answers: dict[str, Any] = {}
        problems: dict[str, Problem] = {}
        for f in self.fields:
            if locked and f.name in locked:
                answers[f.name] = locked[f.name]
                continue
            value, errors = self._convert_field(f, draft.get(f.name))
            problems.update(errors)
            if value is not None and not any(k == f.name for k in errors):
                answers[f.name] = value
        for error in self._validator.iter_errors(answers):
            for key, problem in self._describe(error):
                head = re.split(r"[.\[]", key, maxsplit=1)[0]
                if key not in problems and head not in problems:
                    problems[key] = problem
        valid = {k: v for k, v in answers.items() if not _has_problem(k, problems)}
        return valid, problems

    def _convert_field(self, f: FormField, raw: Any) -> tuple[Any, dict[str, Problem]]:
        if f.kind is Kind.ADDRESS:
            return _convert_address(f, raw)
        if f.kind is Kind.GROUP:
            return self._convert_group(f, raw)
        try:
            return convert_value(f, raw), {}
        except FieldProblem as exc:
            return None, {f.name: exc.problem}

    def _convert_group(self, f: FormField, raw: Any) -> tuple[Any, dict[str, Problem]]:
        rows = [r for r in (raw or []) if isinstance(r, Mapping) and not _blank_row(r)]
        if not rows:
            return ([] if f.required or f.min_items else None), {}
        out: list[dict[str, Any]] = []
        problems: dict[str, Problem] = {}
        for i, row in enumerate(rows):
            item: dict[str, Any] = {}
            for part in f.parts:
                try:
                    value = convert_value(part, row.get(part.name))
                except FieldProblem as exc:
                    problems[f"{f.name}[{i}].{part.name}"] = exc.problem
                    continue
                if value is not None:
                    item[part.name] = value
            out.append(item)
        return out, problems

    def _describe(self, error: ValidationError) -> Iterator[tuple[str, Problem]]:
        path = list(error.absolute_path)
        keyword = str(error.validator)
        if keyword == "required":
            for missing in error.validator_value:
                if isinstance(error.instance, Mapping) and missing not in error.instance:
                    yield path_key([*path, missing]), Problem(MSG_REQUIRED)
            return
        f = self._field_at(path)
        key = path_key(path)
        if keyword == "maxLength":
            count = len(error.instance) if isinstance(error.instance, str) else 0
            yield key, Problem(MSG_TOO_LONG, {"max": error.validator_value, "count": count})
        elif keyword == "minLength":
            yield key, Problem(MSG_TOO_SHORT, {"min": error.validator_value})
        elif keyword in ("minimum", "exclusiveMinimum"):
            yield key, Problem(MSG_MIN, {"min": error.validator_value})
        elif keyword in ("maximum", "exclusiveMaximum"):
            yield key, Problem(MSG_MAX, {"max": error.validator_value})
        elif keyword == "minItems":
            yield key, Problem(MSG_FEW_ROWS, {"min": error.validator_value})
        elif keyword == "maxItems":
            yield key, Problem(MSG_MANY_ROWS, {"max": error.validator_value})
        elif keyword == "x-not-after":
            yield key, Problem(MSG_DATE_FUTURE)
        elif keyword == "x-not-before":
            yield key, Problem(MSG_DATE_PAST)
        elif keyword in ("oneOf", "enum", "const"):
            yield key, Problem(MSG_CHOICE)
        elif keyword == "format":
            yield key, _format_problem(f, error.instance, self._today())
        elif keyword == "pattern":
            yield key, Problem(MSG_FORMAT)
        else:
            yield key, Problem(MSG_INVALID)

    def _field_at(self, path: list[Any]) -> FormField | None:
        fields: list[FormField] | tuple[FormField, ...] = self.fields
        found: FormField | None = None
        for part in path:
            if isinstance(part, int):
                continue
            found = next((f for f in fields if f.name == part), None)
            if found is None:
                return None
            fields = found.parts
        return found

    def validate_answers(self, answers: Mapping[str, Any]) -> dict[str, Problem]:
        """Problems of answers given as JSON (a dossier's declaration, ``kiosk forms
        validate``): the same schema, formats and place names as the screen's."""
        problems: dict[str, Problem] = {}
        if not isinstance(answers, Mapping):
            return {"": Problem(MSG_INVALID)}
        known = {f.name for f in self.fields}
        for name in answers:
            if name not in known:
                problems[str(name)] = Problem(MSG_UNKNOWN_FIELD)
        for f in self.fields:
            if f.kind is Kind.ADDRESS and isinstance(answers.get(f.name), Mapping):
                problems.update(_convert_address(f, answers[f.name])[1])
        for error in self._validator.iter_errors(dict(answers)):
            if str(error.validator) == "additionalProperties":
                continue  # named above, one by one
            for key, problem in self._describe(error):
                problems.setdefault(key, problem)
        return problems


def _has_problem(name: str, problems: Mapping[str, Problem]) -> bool:
    return any(k == name or k.startswith((name + ".", name + "[")) for k in problems)


def _authentic(identity: Identity | None) -> bool:
    return (
        identity is not None
        and identity.source is IdentitySource.CHIP
        and identity.authenticity is Authenticity.AUTHENTIC
    )


def _blank_row(row: Mapping[str, Any]) -> bool:
    return all(v in (None, "") or (isinstance(v, str) and not v.strip()) for v in row.values())


def _today_vietnam() -> date:
    from kiosk.infra.clock import now_vietnam

    return now_vietnam().date()


class FieldProblem(ValueError):
    """A typed value that cannot be turned into an answer."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.msgid)
        self.problem = problem


def clean_text(raw: Any, multiline: bool = False) -> str:
    """NFC, invisible and control characters removed, trimmed (line breaks kept if multiline)."""
    text = unicodedata.normalize("NFC", str(raw))
    text = text.replace("\r\n", "\n").replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    text = _CONTROL.sub("", text)
    return text.strip()


def convert_value(f: FormField, raw: Any) -> Any:
    """One simple field's answer from its draft value; None when left empty."""
    if f.kind is Kind.YESNO:
        return None if raw is None else bool(raw)
    if f.kind is Kind.CHOICE:
        if raw in (None, ""):
            return None
        for c in f.choices:
            if raw == c.value or str(raw) == str(c.value):
                return c.value
        raise FieldProblem(Problem(MSG_CHOICE))
    if raw is None:
        return None
    text = clean_text(raw, multiline=f.kind is Kind.MULTILINE)
    if not text:
        return None
    if f.kind in (Kind.NUMBER, Kind.MONEY):
        cleaned = _GROUPING.sub("", text)
        if f.kind is Kind.MONEY:
            cleaned = re.sub(r"(?i)(đồng|đ|vnd)$", "", cleaned)
        if not re.fullmatch(r"-?\d{1,15}", cleaned):
            raise FieldProblem(Problem(MSG_MONEY if f.kind is Kind.MONEY else MSG_NUMBER))
        return int(cleaned)
    if f.kind is Kind.DATE:
        try:
            return parse_date_input(text).isoformat()
        except ValueError:
            raise FieldProblem(Problem(MSG_DATE)) from None
    if f.kind is Kind.PHONE:
        return field_checks.normalise_phone(text)
    if f.kind is Kind.EMAIL:
        return field_checks.normalise_email(text)
    if f.kind is Kind.ID_NUMBER:
        return field_checks.normalise_id(text)
    if f.kind is Kind.TAX_CODE:
        return field_checks.normalise_tax_code(text)
    return text


def _format_problem(f: FormField | None, value: Any, today: date) -> Problem:
    text = str(value)
    kind = f.kind if f is not None else None
    check: Problem | None = None
    if kind is Kind.PHONE:
        check = field_checks.phone_problem(text)
    elif kind is Kind.EMAIL:
        check = field_checks.email_problem(text)
    elif kind is Kind.ID_NUMBER:
        check = field_checks.id_number_problem(text, today)
    elif kind is Kind.TAX_CODE:
        check = field_checks.tax_code_problem(text, today)
    elif kind is Kind.DATE:
        check = Problem(MSG_DATE)
    return check or Problem(MSG_FORMAT)


def _convert_address(f: FormField, raw: Any) -> tuple[Any, dict[str, Problem]]:
    from kiosk.forms import addresses

    parts = (
        {p: clean_text(raw.get(p, "")) for p in ADDRESS_PARTS} if isinstance(raw, Mapping) else {}
    )
    if not any(parts.values()):
        return None, {}
    out: dict[str, str] = {}
    problems: dict[str, Problem] = {}
    province = addresses.find_province(parts["province"]) if parts.get("province") else None
    if parts.get("province"):
        if province is None:
            problems[f"{f.name}.province"] = Problem(MSG_PROVINCE)
        else:
            out["province"] = province.name
    if parts.get("commune"):
        commune = addresses.find_commune(province, parts["commune"]) if province else None
        out["commune"] = commune.name if commune is not None else parts["commune"]
    if parts.get("street"):
        out["street"] = parts["street"]
    return out, problems


def address_draft_from_text(text: str) -> dict[str, str]:
    """An address typed as one line ("Số 5 Lê Lợi, Phường Thuận Hóa, Thành phố Huế") split into
    its parts where the last two name a current province and one of its communes; otherwise the
    whole text is the street part (a card issued before the 2025 merger names old units)."""
    from kiosk.forms import addresses

    text = clean_text(text)
    pieces = [p.strip() for p in text.split(",") if p.strip()]
    if len(pieces) >= 2:
        province = addresses.find_province(pieces[-1])
        if province is not None:
            commune = addresses.find_commune(province, pieces[-2]) if len(pieces) >= 3 else None
            if commune is not None:
                return {
                    "province": province.name,
                    "commune": commune.name,
                    "street": ", ".join(pieces[:-2]),
                }
            return {"province": province.name, "commune": "", "street": ", ".join(pieces[:-1])}
    return {"province": "", "commune": "", "street": text}


def parse_date_input(text: str) -> date:
    """A date typed as dd/mm/yyyy (also with . or -), or ISO yyyy-mm-dd."""
    match = _DATE_INPUT.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ValueError(MSG_DATE) from None


def draft_value(f: FormField, value: Any) -> Any:
    """How an answer (or a prefill value) is put back in its input."""
    if value is None:
        return None
    if f.kind is Kind.DATE:
        if isinstance(value, date):
            return format_date(value)
        try:
            return format_date(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if f.kind is Kind.MONEY and isinstance(value, int):
        return group_thousands(value)
    if f.kind in (Kind.YESNO, Kind.CHOICE):
        return value
    if f.kind is Kind.ADDRESS:
        if isinstance(value, Mapping):
            return {p: str(value.get(p, "")) for p in ADDRESS_PARTS}
        return address_draft_from_text(str(value))
    if f.kind is Kind.GROUP:
        return [
            {p.name: draft_value(p, row.get(p.name)) for p in f.parts}
            for row in value
            if isinstance(row, Mapping)
        ]
    return str(value)


def display_value(f: FormField, value: Any) -> str:
    """An answer as text in an input (dates as dd/mm/yyyy, money grouped)."""
    shown = draft_value(f, value)
    return "" if shown is None else str(shown)


def answer_text(f: FormField, value: Any, lang: str) -> str:
    """An answer as the review screen and the declaration PDF show it."""
    from kiosk.i18n import translate

    if value is None:
        return ""
    if f.kind is Kind.CHOICE:
        for c in f.choices:
            if c.value == value:
                return c.title(lang)
    if f.kind is Kind.YESNO:
        return translate(MSG_YES if value else MSG_NO, lang)
    if f.kind is Kind.MONEY and isinstance(value, int):
        return format_vnd(value, lang, in_words=True)
    if f.kind is Kind.ADDRESS and isinstance(value, Mapping):
        return ", ".join(str(value[p]) for p in ("street", "commune", "province") if value.get(p))
    if f.kind is Kind.GROUP and isinstance(value, list):
        return "; ".join(
            ", ".join(answer_text(p, row.get(p.name), lang) for p in f.parts if p.name in row)
            for row in value
        )
    return display_value(f, value)
