"""Declaration forms: a procedure's JSON Schema (2020-12) + UI schema turned into fields, prefill
from the identity, conversion of what was typed, validation with Vietnamese/English messages.

This is the foundation's form engine: flat forms of text, number, date, choice, yes/no and
multiline fields. Issue 5 deepens it (repeatable groups, money, addresses, tax codes, pages).

A field's title is the schema's ``title`` (Vietnamese) and ``x-title-en``; its help is the UI
schema's ``ui:help`` and ``x-help-en``; ``x-prefill`` names the identity attribute that fills it
(``identity.full_name``, ``identity.id_number``, ``identity.date_of_birth``,
``identity.residence``, ``identity.sex``). Choices come from ``oneOf`` of ``const``/``title``
(with ``x-title-en``) or from a plain ``enum``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from kiosk.identity import Identity

MSG_REQUIRED = "This field is required."
MSG_NUMBER = "Enter a whole number."
MSG_DATE = "Enter a date as dd/mm/yyyy."
MSG_TOO_LONG = "This answer is too long."
MSG_TOO_SHORT = "This answer is too short."
MSG_FORMAT = "This answer is not in the expected format."
MSG_CHOICE = "Choose one of the options."
MSG_RANGE = "This number is out of the allowed range."
MSG_INVALID = "This answer is not valid."

_VALIDATOR_MESSAGES = {
    "required": MSG_REQUIRED,
    "type": MSG_INVALID,
    "maxLength": MSG_TOO_LONG,
    "minLength": MSG_TOO_SHORT,
    "pattern": MSG_FORMAT,
    "format": MSG_FORMAT,
    "enum": MSG_CHOICE,
    "const": MSG_CHOICE,
    "oneOf": MSG_CHOICE,
    "minimum": MSG_RANGE,
    "maximum": MSG_RANGE,
    "exclusiveMinimum": MSG_RANGE,
    "exclusiveMaximum": MSG_RANGE,
}

_DATE_INPUT = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


@dataclass(frozen=True)
class Choice:
    value: Any
    title_vi: str
    title_en: str

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi


@dataclass(frozen=True)
class FormField:
    """One row of the form as the screen shows it."""

    name: str
    kind: str  # text | multiline | number | date | choice | yesno
    title_vi: str
    title_en: str
    required: bool
    help_vi: str = ""
    help_en: str = ""
    prefill: str | None = None
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_vi

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_vi


@dataclass
class FormSpec:
    """A declaration form: its fields in display order and its schema for validation."""

    schema: dict[str, Any]
    fields: list[FormField] = field(default_factory=list)

    @classmethod
    def from_definition(cls, definition: dict[str, Any]) -> FormSpec:
        schema = definition["schema"]
        ui = definition.get("ui_schema", {})
        props: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        order = [n for n in ui.get("ui:order", []) if n in props]
        order += [n for n in props if n not in order]
        fields = [_field(name, props[name], ui.get(name, {}), name in required) for name in order]
        return cls(schema=schema, fields=fields)

    def field(self, name: str) -> FormField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def prefill(self, identity: Identity | None, earlier: dict[str, Any]) -> dict[str, str]:
        """Text to show in each field: what the citizen typed earlier, else the identity's."""
        values: dict[str, str] = {}
        for f in self.fields:
            if f.name in earlier:
                values[f.name] = display_value(f, earlier[f.name])
            elif identity is not None and f.prefill:
                attr = f.prefill.removeprefix("identity.")
                raw = getattr(identity, attr, None)
                if raw not in (None, ""):
                    values[f.name] = display_value(f, raw)
        return values

    def convert_and_validate(self, typed: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Turn the typed text into JSON values and check them against the schema.

        Returns (answers, errors): errors maps a field name to an English msgid.
        """
        answers: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for f in self.fields:
            raw = typed.get(f.name)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if f.required and f.kind != "yesno":
                    errors[f.name] = MSG_REQUIRED
                elif f.kind == "yesno":
                    answers[f.name] = bool(raw)
                continue
            try:
                answers[f.name] = _convert(f, raw)
            except ValueError as exc:
                errors[f.name] = str(exc)
        validator = Draft202012Validator(self.schema, format_checker=FormatChecker())
        for error in validator.iter_errors(answers):
            name = error.path[0] if error.path else _missing_property(error)
            if isinstance(name, str) and name not in errors:
                errors[name] = _VALIDATOR_MESSAGES.get(str(error.validator), MSG_INVALID)
        return ({k: v for k, v in answers.items() if k not in errors}, errors)


def _missing_property(error: Any) -> str | None:
    if error.validator == "required":
        match = re.match(r"'([^']+)' is a required property", error.message)
        return match.group(1) if match else None
    return None


def _field(name: str, prop: dict[str, Any], ui: dict[str, Any], required: bool) -> FormField:
    kind = _kind(prop, ui)
    choices: tuple[Choice, ...] = ()
    if "oneOf" in prop:
        choices = tuple(
            Choice(o["const"], o.get("title", str(o["const"])), o.get("x-title-en", o.get("title")))
            for o in prop["oneOf"]
            if "const" in o
        )
    elif "enum" in prop:
        names_vi = ui.get("ui:enumNames", [str(v) for v in prop["enum"]])
        names_en = ui.get("x-enumNames-en", names_vi)
        rows = zip(prop["enum"], names_vi, names_en, strict=True)
        choices = tuple(Choice(v, vi, en) for v, vi, en in rows)
    title_vi = prop.get("title", name)
    return FormField(
        name=name,
        kind=kind,
        title_vi=title_vi,
        title_en=prop.get("x-title-en", title_vi),
        required=required,
        help_vi=ui.get("ui:help", ""),
        help_en=ui.get("x-help-en", ui.get("ui:help", "")),
        prefill=prop.get("x-prefill"),
        choices=choices,
        max_length=prop.get("maxLength"),
    )


def _kind(prop: dict[str, Any], ui: dict[str, Any]) -> str:
    if "oneOf" in prop or "enum" in prop:
        return "choice"
    typ = prop.get("type")
    if typ == "boolean":
        return "yesno"
    if typ in ("integer", "number"):
        return "number"
    if prop.get("format") == "date":
        return "date"
    if ui.get("ui:widget") == "textarea":
        return "multiline"
    return "text"


def _convert(f: FormField, raw: Any) -> Any:
    if f.kind == "yesno":
        return bool(raw)
    if f.kind == "choice":
        for c in f.choices:
            if raw == c.value or str(raw) == str(c.value):
                return c.value
        raise ValueError(MSG_CHOICE)
    text = unicodedata.normalize("NFC", str(raw)).strip()
    if f.kind == "number":
        cleaned = text.replace(".", "").replace(" ", "")
        if not re.fullmatch(r"-?\d+", cleaned):
            raise ValueError(MSG_NUMBER)
        return int(cleaned)
    if f.kind == "date":
        return parse_date_input(text).isoformat()
    return text


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


def display_value(f: FormField, value: Any) -> str:
    """How a stored answer is shown back in its input (dates as dd/mm/yyyy)."""
    if f.kind == "date":
        if isinstance(value, date):
            return value.strftime("%d/%m/%Y")
        try:
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if f.kind == "yesno":
        return "1" if value else ""
    return str(value)


def answer_text(f: FormField, value: Any, lang: str) -> str:
    """An answer as the review screen shows it."""
    if f.kind == "choice":
        for c in f.choices:
            if c.value == value:
                return c.title(lang)
    if f.kind == "yesno":
        return ("Yes" if value else "No") if lang == "en" else ("Có" if value else "Không")
    return display_value(f, value)
