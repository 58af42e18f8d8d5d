"""The queue's configuration (config/queue.toml): counters, priority classes, calling policy,
estimates, the ticket store, the display board and the voice, read by a small validated loader.

The file is read and its plain tables checked by the config engine
(kiosk/config/toml_engine.py): every problem becomes one ``ConfigIssue`` line naming the file,
the table, the key, what is wrong and what is allowed, e.g.::

    config/queue.toml: [policy] max_wait_min: 0 is out of range (allowed: whole number ...)
    config/queue.toml: [counters #2] services: "XB" is not a service of the catalog (...)


and all of them are raised together as ``ConfigError``. A missing key
takes its default (``describe_queue_schema()`` lists them); unknown keys and tables are errors,
with a suggestion when one is close. Vietnamese labels are normalised to NFC.

``queue_config_path(cfg)`` finds the file for a kiosk config: ``[queue] file`` when the kiosk
config has it, else ``queue.toml`` next to the kiosk config file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.config.toml_engine import (
    EXPECTED,
    ConfigError,
    ConfigIssue,
    Field,
    Kind,
    Wording,
    check_table,
    read_toml,
    unknown,
    unknown_keys,
)
from kiosk.paths import CONFIG_DIR
from kiosk.tickets.policy import Mode, PolicyParams

DEFAULT_QUEUE_FILE = CONFIG_DIR / "queue.toml"

_SERVICE_RE = re.compile(r"[A-Z]{1,3}")
_CLASS_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
MIN_TOKEN_LENGTH = 16
MAX_COUNTER = 99


@dataclass(frozen=True)
class PriorityClass:
    """A group of people served first, with its labels."""

    code: str
    label_vi: str
    label_en: str

    def label(self, lang: str) -> str:
        """The label in ``lang`` ("en" for English, Vietnamese otherwise)."""
        return self.label_en if lang == "en" else self.label_vi


DEFAULT_PRIORITY_CLASSES: tuple[PriorityClass, ...] = (
    PriorityClass("elderly", "Người cao tuổi", "Older person"),
    PriorityClass("pregnant", "Phụ nữ mang thai", "Pregnant woman"),
    PriorityClass("disability", "Người khuyết tật", "Person with a disability"),
    PriorityClass("child_under_6", "Người đi cùng trẻ dưới 6 tuổi", "Person with a child under 6"),
    PriorityClass(
        "merit", "Người có công với cách mạng", "Person with meritorious service to the revolution"
    ),
)


@dataclass(frozen=True)
class CounterConfig:
    """A counter (quầy): its number, name, the services it serves, whether it opens by default,
    and the token its terminal sends to the board's endpoints ("" = no terminal access)."""

    number: int
    name: str
    services: tuple[str, ...]
    open: bool = True
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class EstimateConfig:
    """[estimate]: how waiting times are estimated from recent service times."""

    default_service_min: float = 8.0
    alpha: float = 0.2
    min_service_s: float = 20.0
    max_service_s: float = 3600.0


@dataclass(frozen=True)
class StoreConfig:
    """[store]: the SQLite ticket store's patience with a locked file, and how long it keeps."""

    busy_timeout_s: float = 5.0
    lock_retries: int = 3
    keep_days: int = 90


@dataclass(frozen=True)
class BoardConfig:
    """[board]: the display board's HTTP server."""

    host: str = "127.0.0.1"
    port: int = 8088
    refresh_s: int = 2
    recent_calls: int = 6


@dataclass(frozen=True)
class VoiceConfig:
    """[voice]: announcements with espeak-ng."""

    enabled: bool = True
    command: str = "espeak-ng"
    voice: str = "vi"
    speed_wpm: int = 140
    repeat: int = 2


@dataclass(frozen=True)
class QueueConfig:
    """The whole queue configuration; ``source`` is the file it came from (None: built-in)."""

    counters: tuple[CounterConfig, ...]
    policy: PolicyParams = PolicyParams()
    estimate: EstimateConfig = EstimateConfig()
    store: StoreConfig = StoreConfig()
    board: BoardConfig = BoardConfig()
    voice: VoiceConfig = VoiceConfig()
    priority_classes: tuple[PriorityClass, ...] = DEFAULT_PRIORITY_CLASSES
    source: Path | None = None

    def counter(self, number: int) -> CounterConfig | None:
        return next((c for c in self.counters if c.number == number), None)

    def priority_class(self, code: str) -> PriorityClass | None:
        return next((p for p in self.priority_classes if p.code == code), None)


# --------------------------------------------------------------------------- the schema


def _show(value: object, secret: bool = False) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:37] + "..."


def _not_blank(value: str) -> str | None:
    return "must be one line, not blank" if not value.strip() else None


#: queue.toml's own words (a Python-like value, "a whole number", "is not allowed")
_WORDING = Wording(
    _show, {**EXPECTED, Kind.INT: "a whole number", Kind.STR: "text"}, "is not allowed"
)


def _num(name: str, kind: Kind, default: float, low: float, high: float, what: str) -> Field:
    return Field(name, kind, what, default, minimum=low, maximum=high)


_TABLES: dict[str, tuple[Field, ...]] = {
    "policy": (
        Field(
            "mode",
            Kind.STR,
            "bounded (priority in proportion, wait bounded), strict, fcfs",
            "bounded",
            tuple(m.value for m in Mode),
        ),
        _num("priority_calls", Kind.INT, 3, 1, 20, "priority calls in a row while both wait"),
        _num("normal_calls", Kind.INT, 1, 1, 20, "then this many ordinary calls"),
        _num(
            "max_wait_min",
            Kind.FLOAT,
            30.0,
            1,
            480,
            "a ticket waiting this long is called next, whatever its class",
        ),
    ),
    "estimate": (
        _num(
            "default_service_min",
            Kind.FLOAT,
            8.0,
            0.5,
            240,
            "mean service time before any has been measured",
        ),
        _num("alpha", Kind.FLOAT, 0.2, 0.01, 1, "weight of the newest service time"),
        _num(
            "min_service_s",
            Kind.FLOAT,
            20.0,
            0,
            3600,
            "shorter services (a mis-tap) are not measured",
        ),
        _num(
            "max_service_s",
            Kind.FLOAT,
            3600.0,
            60,
            28800,
            "longer services (a forgotten complete) are not measured",
        ),
    ),
    "store": (
        _num(
            "busy_timeout_s",
            Kind.FLOAT,
            5.0,
            0.05,
            120,
            "seconds to wait for another process's write lock",
        ),
        _num("lock_retries", Kind.INT, 3, 0, 50, "tries after a timed-out lock"),
        _num("keep_days", Kind.INT, 90, 1, 3650, "days of tickets kept for statistics"),
    ),
    "board": (
        Field("host", Kind.STR, "address the board listens on", "127.0.0.1", check=_not_blank),
        _num("port", Kind.INT, 8088, 0, 65535, "TCP port; 0 takes any free port"),
        _num("refresh_s", Kind.INT, 2, 1, 60, "seconds between board refreshes"),
        _num("recent_calls", Kind.INT, 6, 1, 50, "recent calls listed on the board"),
    ),
    "voice": (
        Field("enabled", Kind.BOOL, "announce calls by voice", True),
        Field("command", Kind.STR, "the speech synthesiser", "espeak-ng", check=_not_blank),
        Field(
            "voice", Kind.STR, "espeak-ng voice (vi, vi-vn-x-central, ...)", "vi", check=_not_blank
        ),
        _num("speed_wpm", Kind.INT, 140, 80, 400, "words per minute"),
        _num("repeat", Kind.INT, 2, 1, 5, "times each announcement is said"),
    ),
}
_OPEN = Field("open", Kind.BOOL, "the counter opens by default", True)
_COUNTER_KEYS = ("number", "name", "services", "open", "token")
_CLASS_KEYS = ("code", "label_vi", "label_en")
_ARRAYS = {"counters": _COUNTER_KEYS, "priority_classes": _CLASS_KEYS}


def describe_queue_schema() -> list[dict[str, Any]]:
    """One row per key of the plain tables (for documentation and ``--json`` tools)."""
    return [
        {
            "table": table,
            "key": k.name,
            "default": k.default,
            "allowed": k.allowed(),
            "description": k.description,
        }
        for table, keys in _TABLES.items()
        for k in keys
    ]


# --------------------------------------------------------------------------- the loader


class _Issues:
    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[ConfigIssue] = []

    def add(self, table: str | None, key: str | None, problem: str, fix: str = "") -> None:
        self.items.append(ConfigIssue(self.where, problem, fix, section=table, key=key))


def _table(data: dict[str, Any], name: str, issues: _Issues) -> dict[str, Any]:
    """The table's values, each key's default where it is missing or wrong."""
    fields = _TABLES[name]
    table = data.get(name, {})
    if not isinstance(table, dict):
        issues.add(name, None, f"expected a table [{name}], got {_show(table)}")
        table = {}
    values, problems = check_table(table, fields, issues.where, name, wording=_WORDING)
    issues.items += problems
    return {spec.name: values.get(spec.name, spec.default) for spec in fields}


def _entries(
    raw: list[Any], name: str, known: tuple[str, ...], issues: _Issues
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each table of an array with its label ("counters #2"); unknown keys are reported."""
    for i, entry in enumerate(raw, 1):
        where = f"{name} #{i}"
        if not isinstance(entry, dict):
            issues.add(where, None, f"expected a table, got {_show(entry)}")
            continue
        fix = f"known keys: {', '.join(known)}"
        issues.items += unknown_keys(entry, known, issues.where, where, fix)
        yield where, entry


def _nfc_label(raw: object, where: str, key: str, issues: _Issues) -> str:
    if not isinstance(raw, str) or not raw.strip() or "\n" in raw:
        issues.add(where, key, f"expected one line of text, got {_show(raw)}", "allowed: a label")
        return ""
    return unicodedata.normalize("NFC", raw.strip())


def _priority_classes(data: dict[str, Any], issues: _Issues) -> tuple[PriorityClass, ...]:
    raw = data.get("priority_classes")
    if raw is None:
        return DEFAULT_PRIORITY_CLASSES
    if not isinstance(raw, list) or not raw:
        issues.add("priority_classes", None, "expected one or more [[priority_classes]] tables")
        return DEFAULT_PRIORITY_CLASSES
    out: list[PriorityClass] = []
    for where, entry in _entries(raw, "priority_classes", _CLASS_KEYS, issues):
        code = entry.get("code")
        if not isinstance(code, str) or not _CLASS_RE.fullmatch(code):
            fix = "allowed: a-z, 0-9 and _, starting with a letter, at most 32"
            issues.add(where, "code", f"{_show(code)} is not a class code", fix)
            continue
        if any(p.code == code for p in out):
            issues.add(where, "code", f'"{code}" is listed twice', "allowed: each code once")
            continue
        vi = _nfc_label(entry.get("label_vi"), where, "label_vi", issues)
        en = _nfc_label(entry.get("label_en"), where, "label_en", issues)
        out.append(PriorityClass(code, vi, en))
    if out and not any(p.code == "elderly" for p in out):
        fix = 'the kiosk marks citizens aged 60 or more from the chip as "elderly"; keep it'
        issues.add("priority_classes", None, 'no class with code "elderly"', fix)
    return tuple(out)


def _counters(
    data: dict[str, Any], known_services: frozenset[str] | None, issues: _Issues
) -> tuple[CounterConfig, ...]:
    raw = data.get("counters")
    if not isinstance(raw, list) or not raw:
        fix = "add [[counters]] tables with number, services (and name, open, token)"
        issues.add("counters", None, "no counter is configured: no ticket could be issued", fix)
        return ()
    out: list[CounterConfig] = []
    tokens: dict[str, int] = {}
    for where, entry in _entries(raw, "counters", _COUNTER_KEYS, issues):
        number = entry.get("number")
        if (
            isinstance(number, bool)
            or not isinstance(number, int)
            or not 1 <= number <= MAX_COUNTER
        ):
            issues.add(
                where,
                "number",
                f"{_show(number)} is not a counter number",
                f"allowed: whole number from 1 to {MAX_COUNTER}",
            )
            continue
        if any(c.number == number for c in out):
            issues.add(
                where, "number", f"counter {number} is listed twice", "allowed: each number once"
            )
            continue
        name = entry.get("name", f"Quầy {number}")
        name = _nfc_label(name, where, "name", issues) or f"Quầy {number}"
        services = entry.get("services")
        good: list[str] = []
        if not isinstance(services, list) or not services:
            issues.add(
                where,
                "services",
                f"expected a list of service codes, got {_show(services)}",
                'allowed: e.g. ["IN", "BC"]',
            )
        else:
            for code in services:
                if not isinstance(code, str) or not _SERVICE_RE.fullmatch(code):
                    issues.add(
                        where,
                        "services",
                        f"{_show(code)} is not a service code",
                        "allowed: 1 to 3 capital letters, as in the catalog",
                    )
                elif known_services is not None and code not in known_services:
                    known = ", ".join(sorted(known_services))
                    issues.add(
                        where,
                        "services",
                        f'"{code}" is not a service of the catalog',
                        f"allowed: {known}",
                    )
                elif code not in good:
                    good.append(code)
        is_open, problem = _OPEN.validate(entry.get("open", True), wording=_WORDING)
        if problem:
            issues.add(where, "open", problem, f"allowed: {_OPEN.allowed()}")
            is_open = True
        token = entry.get("token", "")
        if not isinstance(token, str) or (
            token and (len(token) < MIN_TOKEN_LENGTH or any(ch.isspace() for ch in token))
        ):
            issues.add(
                where,
                "token",
                "not a usable token",
                f'allowed: "" (no terminal) or {MIN_TOKEN_LENGTH}+ characters, no spaces',
            )
            token = ""
        elif token and token in tokens:
            issues.add(
                where,
                "token",
                f"the same token as counter {tokens[token]}",
                "allowed: a different token for each counter",
            )
        elif token:
            tokens[token] = number
        out.append(CounterConfig(number, name, tuple(good), is_open, token))
    return tuple(out)


def parse_queue_config(
    data: dict[str, Any],
    where: str = "queue.toml",
    known_services: Iterable[str] | None = None,
    source: Path | None = None,
) -> QueueConfig:
    """A QueueConfig from parsed TOML; ConfigError listing every problem."""
    issues = _Issues(where)
    known = frozenset(known_services) if known_services is not None else None
    for name in data:
        if name not in _TABLES and name not in _ARRAYS:
            fix = "known tables: " + ", ".join([*_TABLES, *(f"[[{a}]]" for a in _ARRAYS)])
            issues.add(name, None, unknown("table", name, [*_TABLES, *_ARRAYS]), fix)
    policy = _table(data, "policy", issues)
    estimate = _table(data, "estimate", issues)
    store = _table(data, "store", issues)
    board = _table(data, "board", issues)
    voice = _table(data, "voice", issues)
    if estimate["min_service_s"] >= estimate["max_service_s"]:
        issues.add(
            "estimate",
            "min_service_s",
            "is not less than max_service_s",
            "allowed: fewer seconds than [estimate] max_service_s",
        )
    classes = _priority_classes(data, issues)
    counters = _counters(data, known, issues)
    if issues.items:
        raise ConfigError(issues.items)
    return QueueConfig(
        counters=counters,
        policy=PolicyParams(
            Mode(policy["mode"]),
            policy["priority_calls"],
            policy["normal_calls"],
            policy["max_wait_min"] * 60.0,
        ),
        estimate=EstimateConfig(**estimate),
        store=StoreConfig(**store),
        board=BoardConfig(**board),
        voice=VoiceConfig(**voice),
        priority_classes=classes,
        source=source,
    )


def load_queue_config(
    path: Path | str = DEFAULT_QUEUE_FILE, known_services: Iterable[str] | None = None
) -> QueueConfig:
    """Read and validate a queue.toml; ConfigError naming the file, table and key."""
    path = Path(path)
    data = read_toml(path, str(path), "a queue.toml file")
    return parse_queue_config(data, str(path), known_services, source=path.resolve())


def queue_config_path(kiosk_config: Any) -> Path:
    """The queue file of a kiosk config: ``[queue] file`` if set, else queue.toml beside it."""
    section = getattr(kiosk_config, "queue", None)
    named = getattr(section, "file", None)
    if named:
        return Path(named)
    source = getattr(kiosk_config, "source", None)
    return Path(source).parent / "queue.toml" if source else DEFAULT_QUEUE_FILE
