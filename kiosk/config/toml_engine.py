"""The one engine under the kiosk's TOML files: reading a file, typed keys, and one error type
whose every line names the file, the section, the key (or the line) and what is allowed::

    config/kiosk.toml: [kiosk] idle_timeout_s: expected an integer, got "abc" (allowed: ...)
    config/kiosk.toml: line 5, column 18: TOML syntax error: Invalid value (TOML: key = ...)

    read_toml(path, where)      the file's tables; a missing or unreadable file, one larger
                                than ``MAX_BYTES``, one that is not UTF-8 (a BOM is tolerated)
                                and a TOML syntax error (its line and column) are ConfigErrors
    Field                       one key: its Kind, default (or REQUIRED), choices, bounds, a
                                check; ``validate`` takes a TOML value, ``parse_env`` the text
                                of an environment variable
    Kind                        text, whole number, number, boolean, path, optional path, and
                                a list or a table whose elements are another Field
    check_table, unknown_keys   every key of a table validated; unknown keys with "did you mean"
    Wording                     how a file words values and wrong types (kiosk.toml's by default)

kiosk/config/settings.py (kiosk.toml) and kiosk/tickets/config.py (queue.toml) are built on it.

Exceptions::

    KioskError                  (kiosk/errors.py)
     └── ConfigError            a file is wrong; ``issues`` lists every problem, one line each
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path
from typing import Any, Final

from kiosk.errors import KioskError

#: A config file is a few KB; anything past this is the wrong file (a log, an image, a device).
MAX_BYTES: Final = 1024 * 1024

# ---------------------------------------------------------------------------------------------
# Issues and the error


@dataclass(frozen=True)
class ConfigIssue:
    """One problem: ``where`` is the file as given or ``env VARIABLE``; ``fix`` says what is
    allowed (or which keys exist). ``str()`` is exactly one line."""

    where: str
    problem: str
    fix: str = ""
    section: str | None = None
    key: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def location(self) -> str:
        """``[section] key``, ``[section]``, ``key`` (top level), ``line L, column C`` or ""."""
        if self.section is not None and self.key is not None:
            return f"[{self.section}] {self.key}"
        if self.section is not None:
            return f"[{self.section}]"
        if self.key is not None:
            return self.key
        if self.line is not None:
            return f"line {self.line}, column {self.column}"
        return ""

    def __str__(self) -> str:
        parts = [self.where]
        if self.location:
            parts.append(self.location)
        text = ": ".join([*parts, self.problem])
        text = f"{text} ({self.fix})" if self.fix else text
        return " ".join(text.splitlines())  # one line, whatever a message contained

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for ``kiosk config check --json``."""
        return {
            "where": self.where,
            "section": self.section,
            "key": self.key,
            "line": self.line,
            "column": self.column,
            "problem": self.problem,
            "fix": self.fix,
            "message": str(self),
        }


class ConfigError(KioskError):
    """The configuration is wrong; ``issues`` holds every problem found, in order."""

    msgid = "This kiosk is not set up correctly. Please ask the staff at the counter for help."

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues: list[ConfigIssue] = list(issues)
        count = len(self.issues)
        head = f"invalid configuration ({count} problem{'' if count == 1 else 's'})"
        super().__init__("\n".join([f"{head}:", *(str(issue) for issue in self.issues)]))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.issues,))


# ---------------------------------------------------------------------------------------------
# Reading a file


_TOML_POSITION: Final = re.compile(
    r"^(?P<msg>.*?)\s*\((?:at line (?P<line>\d+), column (?P<col>\d+)|at end of document)\)$"
)
TOML_FIX: Final = "TOML: key = value, text in double quotes, [section] headers; see https://toml.io"


def read_toml(
    path: Path | str, where: str | None = None, fix: str = "a readable TOML file"
) -> dict[str, Any]:
    """The file's tables; ConfigError with one issue naming ``where`` (the file as the operator
    gave it) when the file cannot be read, is larger than MAX_BYTES, is not UTF-8, or is not
    TOML (then with the line and column). ``fix`` is what to give instead of an unreadable file.
    """
    path = Path(path)
    where = str(path) if where is None else where

    def refuse(
        problem: str, fix: str = fix, line: int | None = None, col: int | None = None
    ) -> ConfigError:
        return ConfigError([ConfigIssue(where, problem, fix, line=line, column=col)])

    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)  # bounded: never a whole log or device into memory
    except FileNotFoundError:
        raise refuse("file not found") from None
    except IsADirectoryError:
        raise refuse("is a folder, not a file") from None
    except PermissionError:
        raise refuse("cannot read the file: permission denied") from None
    except OSError as exc:
        raise refuse(f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        problem = f"larger than {MAX_BYTES // 1024} KB, too large for a config file"
        raise refuse(problem, "a config file of a few KB; is this the right file?")
    try:
        text = data.decode("utf-8-sig")  # tolerate the BOM some Windows editors write
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (bad byte at offset {exc.start})"
        raise refuse(problem, "save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line, column = str(exc), None, None
        match = _TOML_POSITION.match(message)
        if match:
            message = match["msg"]
            if match["line"]:
                line, column = int(match["line"]), int(match["col"])
        if line is None:  # "at end of document": point at the end
            lines = text.splitlines() or [""]
            line, column = len(lines), len(lines[-1]) + 1
        raise refuse(f"TOML syntax error: {message}", TOML_FIX, line, column) from None


# ---------------------------------------------------------------------------------------------
# Words


class Kind(Enum):
    """A key's type; the value is the name shown in a schema's description."""

    STR = "string"
    INT = "integer"
    FLOAT = "number"
    BOOL = "boolean"
    PATH = "path"
    OPTIONAL_PATH = "optional path"
    LIST = "list"  # each element checked by the Field's ``item``
    TABLE = "table"  # each value checked by the Field's ``item``


EXPECTED: Final[Mapping[Kind, str]] = {
    Kind.STR: "text in quotes",
    Kind.INT: "an integer",
    Kind.FLOAT: "a number",
    Kind.BOOL: "true or false",
    Kind.PATH: "a path in quotes",
    Kind.OPTIONAL_PATH: "a path in quotes",
    Kind.LIST: "a list",
    Kind.TABLE: "a table",
}


def show(value: object, secret: bool = False) -> str:
    """A value as the operator wrote it, short; secrets are never shown."""
    if secret:
        return "a hidden value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime | date | time):
        return f"a date/time ({value.isoformat()})"
    return type(value).__name__


@dataclass(frozen=True)
class Wording:
    """How a file's problems show a value, name the type expected and refuse a value that is
    not one of the choices (each file keeps the words its operators know)."""

    show: Callable[[object, bool], str]
    expected: Mapping[Kind, str]
    not_a_choice: str


WORDING: Final = Wording(show, EXPECTED, "is not one of the allowed values")


def suggest(word: str, choices: Sequence[str]) -> str | None:
    """The choice ``word`` was probably meant to be, or None."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not found:
        found = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown(what: str, word: str, known: Sequence[str], shape: str = '"{}"') -> str:
    """``unknown key, did you mean "close"?``, or ``unknown key`` when nothing is close."""
    close = suggest(word, known)
    return f"unknown {what}, did you mean {shape.format(close)}?" if close else f"unknown {what}"


def _literal(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text)


def _resolve(text: str, base: Path) -> Path:
    path = Path(text).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else base / path))


# ---------------------------------------------------------------------------------------------
# A key


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final = _Required()

Check = Callable[[Any], "str | None"]  # a validated value → the problem, or None when fine

_TRUE: Final = {"true", "1", "yes", "on"}
_FALSE: Final = {"false", "0", "no", "off"}
_INT_TEXT: Final = re.compile(r"[+-]?(?:0[xX](?P<hex>[0-9A-Fa-f]+)|(?P<dec>[0-9]+))")


@dataclass(frozen=True)
class Field:
    """One key: ``default`` is written as in TOML (paths relative to the file's folder) and is
    validated like a value from the file; ``item`` is the Field of each element of a LIST or a
    TABLE (its name is not used)."""

    name: str
    kind: Kind
    description: str = ""
    default: object = REQUIRED
    choices: tuple[object, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    allowed_text: str = ""  # replaces the generated description of the allowed values
    check: Check | None = None
    secret: bool = False  # never echo the value in a message
    item: Field | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def allowed(self, from_env: bool = False) -> str:
        """What values are allowed, in words."""
        if self.allowed_text:
            return self.allowed_text
        if self.choices:
            return "one of " + ", ".join(_literal(c) for c in self.choices)
        if self.kind is Kind.BOOL:
            return "true or false, or 1/0, yes/no" if from_env else "true or false, without quotes"
        if self.kind in (Kind.INT, Kind.FLOAT):
            noun = "whole number" if self.kind is Kind.INT else "number"
            if self.minimum is not None and self.maximum is not None:
                return f"{noun} from {self.minimum:g} to {self.maximum:g}"
            if self.minimum is not None:
                return f"{noun}, at least {self.minimum:g}"
            return noun
        if self.kind in (Kind.PATH, Kind.OPTIONAL_PATH):
            base = "the current folder" if from_env else "the config file's folder"
            text = f"a file or folder path, relative to {base} unless absolute"
            return text + ('; "" for none' if self.kind is Kind.OPTIONAL_PATH else "")
        if self.item is not None:
            each = "each" if self.kind is Kind.LIST else "each value"
            return f"{EXPECTED[self.kind]}, {each} {self.item.allowed()}"
        return "any single-line text"

    def validate(
        self, raw: object, base: Path | None = None, wording: Wording = WORDING
    ) -> tuple[Any, str | None]:
        """A TOML-typed value → (the setting's value, None) or (None, the problem); relative
        paths are taken from ``base`` (the current folder when None)."""
        shown = wording.show(raw, self.secret)
        wrong_type = f"expected {wording.expected[self.kind]}, got {shown}"
        value: Any
        if self.kind is Kind.BOOL:
            if not isinstance(raw, bool):
                return None, wrong_type
            value = raw
        elif self.kind is Kind.INT:
            if isinstance(raw, bool) or not isinstance(raw, int):
                return None, wrong_type
            value = raw
        elif self.kind is Kind.FLOAT:
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                return None, wrong_type
            if not math.isfinite(raw):
                return None, f"{shown} is not a finite number"
            value = float(raw)
        elif self.kind in (Kind.LIST, Kind.TABLE):
            if not isinstance(raw, list if self.kind is Kind.LIST else dict):
                return None, wrong_type
            return self._elements(raw, base, wording)
        else:  # text and paths
            if not isinstance(raw, str):
                return None, wrong_type
            if _has_control(raw):
                return None, "contains a control character such as a line break or a tab"
            if self.kind is Kind.STR:
                value = unicodedata.normalize("NFC", raw)
            elif raw == "":
                if self.kind is Kind.PATH:
                    return None, "the path is empty"
                value = None
            else:
                try:
                    value = _resolve(raw, Path.cwd() if base is None else base)
                except RuntimeError as exc:  # "~" with no home folder
                    return None, f"{shown} cannot be resolved ({exc})"
        if self.choices and value not in self.choices:
            return None, f"{shown} {wording.not_a_choice}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = self.minimum, self.maximum
            if (low is not None and value < low) or (high is not None and value > high):
                return None, f"{shown} is out of range"
        return self._checked(value)

    def _elements(
        self, raw: list[Any] | dict[str, Any], base: Path | None, wording: Wording
    ) -> tuple[Any, str | None]:
        """A list → a tuple, a table → a dict, each element validated by ``item``; the first
        wrong element names its position (``item 2``) or its key."""
        if self.item is None:
            raise TypeError(f"Field {self.name!r}: a {self.kind.value} needs an item Field")
        pairs = raw.items() if isinstance(raw, dict) else enumerate(raw, 1)
        out: dict[Any, Any] = {}
        for at, element in pairs:
            out[at], problem = self.item.validate(element, base, wording)
            if problem:
                return None, f"{'item ' if isinstance(raw, list) else ''}{at}: {problem}"
        return self._checked(tuple(out.values()) if isinstance(raw, list) else out)

    def _checked(self, value: Any) -> tuple[Any, str | None]:
        problem = self.check(value) if self.check is not None and value is not None else None
        return (None, problem) if problem else (value, None)

    def parse_env(self, text: str) -> tuple[object, str | None]:
        """An environment variable's text → a TOML-typed value for ``validate``, or the problem."""
        shown = show(text, self.secret)
        stripped = text.strip()
        if self.kind is Kind.BOOL:
            if stripped.lower() in _TRUE:
                return True, None
            if stripped.lower() in _FALSE:
                return False, None
            return None, f"expected true/false, 1/0 or yes/no, got {shown}"
        if self.kind is Kind.INT:
            match = _INT_TEXT.fullmatch(stripped)
            if not match:
                return None, f"expected an integer, got {shown}"
            number = int(match["hex"], 16) if match["hex"] else int(match["dec"], 10)
            return (-number if stripped.startswith("-") else number), None
        if self.kind is Kind.FLOAT:
            try:
                return float(stripped), None
            except ValueError:
                return None, f"expected a number, got {shown}"
        if self.kind in (Kind.LIST, Kind.TABLE):
            return None, f"{EXPECTED[self.kind]} cannot be given by a variable; set it in the file"
        return text, None


# ---------------------------------------------------------------------------------------------
# A table


def unknown_keys(
    table: Mapping[str, Any],
    known: Sequence[str],
    where: str,
    section: str | None = None,
    fix: str | None = None,
    elsewhere: Callable[[str], str | None] | None = None,
) -> list[ConfigIssue]:
    """An issue for each key of ``table`` not in ``known``, suggesting the closest known key or,
    when none is close, ``elsewhere(key)`` (where else the key belongs, e.g. "[printer] port")."""
    fix = f"known keys in [{section}]: " + ", ".join(known) if fix is None else fix
    issues = []
    for key in table:
        if key in known:
            continue
        problem = unknown("key", key, known)
        other = elsewhere(key) if elsewhere is not None and problem == "unknown key" else None
        if other:
            problem += f", did you mean {other}?"
        issues.append(ConfigIssue(where, problem, fix, section=section, key=key))
    return issues


def check_table(
    table: Mapping[str, Any],
    fields: Sequence[Field],
    where: str,
    section: str | None = None,
    base: Path | None = None,
    wording: Wording = WORDING,
    elsewhere: Callable[[str], str | None] | None = None,
) -> tuple[dict[str, Any], list[ConfigIssue]]:
    """The validated value of each key of ``table`` that is right (missing and wrong keys are
    left out: the caller knows its defaults), and an issue for each unknown key and wrong value,
    in the order of the table then of ``fields``."""
    issues = unknown_keys(table, [f.name for f in fields], where, section, elsewhere=elsewhere)
    values: dict[str, Any] = {}
    for spec in fields:
        if spec.name not in table:
            continue
        value, problem = spec.validate(table[spec.name], base, wording)
        if problem:
            fix = f"allowed: {spec.allowed()}"
            issues.append(ConfigIssue(where, problem, fix, section, spec.name))
        else:
            values[spec.name] = value
    return values, issues
