"""The queue's configuration (config/queue.toml): counters, priority classes, calling policy,
estimates, the ticket store, the display board and the voice, read by a small validated loader.

Every problem becomes one ``kiosk.config.settings.ConfigIssue`` line naming the file, the
table, the key, what is wrong and what is allowed, e.g.::

    config/queue.toml: [policy] max_wait_min: 0 is out of range (allowed: whole number ...)
    config/queue.toml: [counters #2] services: "XB" is not a service of the catalog (...)


and all of them are raised together as ``kiosk.config.settings.ConfigError``. A missing key
takes its default (``describe_queue_schema()`` lists them); unknown keys and tables are errors,
with a suggestion when one is close. Vietnamese labels are normalised to NFC.

``queue_config_path(cfg)`` finds the file for a kiosk config: ``[queue] file`` when the kiosk
config has it, else ``queue.toml`` next to the kiosk config file.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.config.settings import ConfigError, ConfigIssue
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


@dataclass(frozen=True)
class _Key:
    name: str
    kind: type  # int, float, bool, str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    description: str = ""

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        if self.kind is bool:
            return "true or false, without quotes"
        if self.kind in (int, float):
            noun = "whole number" if self.kind is int else "number"
            return f"{noun} from {self.low:g} to {self.high:g}"
        return "any single-line text"


_TABLES: dict[str, tuple[_Key, ...]] = {
    "policy": (
        _Key(
            "mode",
            str,
            "bounded",
            choices=tuple(m.value for m in Mode),
            description="bounded (priority in proportion, wait bounded), strict, fcfs",
        ),
        _Key(
            "priority_calls", int, 3, 1, 20, description="priority calls in a row while both wait"
        ),
        _Key("normal_calls", int, 1, 1, 20, description="then this many ordinary calls"),
        _Key(
            "max_wait_min",
            float,
            30.0,
            1,
            480,
            description="a ticket waiting this long is called next, whatever its class",
        ),
    ),
    "estimate": (
        _Key(
            "default_service_min",
            float,
            8.0,
            0.5,
            240,
            description="mean service time before any has been measured",
        ),
        _Key("alpha", float, 0.2, 0.01, 1, description="weight of the newest service time"),
        _Key(
            "min_service_s",
            float,
            20.0,
            0,
            3600,
            description="shorter services (a mis-tap) are not measured",
        ),
        _Key(
            "max_service_s",
            float,
            3600.0,
            60,
            28800,
            description="longer services (a forgotten complete) are not measured",
        ),
    ),
    "store": (
        _Key(
            "busy_timeout_s",
            float,
            5.0,
            0.05,
            120,
            description="seconds to wait for another process's write lock",
        ),
        _Key("lock_retries", int, 3, 0, 50, description="tries after a timed-out lock"),
        _Key("keep_days", int, 90, 1, 3650, description="days of tickets kept for statistics"),
    ),
    "board": (
        _Key("host", str, "127.0.0.1", description="address the board listens on"),
        _Key("port", int, 8088, 0, 65535, description="TCP port; 0 takes any free port"),
        _Key("refresh_s", int, 2, 1, 60, description="seconds between board refreshes"),
        _Key("recent_calls", int, 6, 1, 50, description="recent calls listed on the board"),
    ),
    "voice": (
        _Key("enabled", bool, True, description="announce calls by voice"),
        _Key("command", str, "espeak-ng", description="the speech synthesiser"),
        _Key("voice", str, "vi", description="espeak-ng voice (vi, vi-vn-x-central, ...)"),
        _Key("speed_wpm", int, 140, 80, 400, description="words per minute"),
        _Key("repeat", int, 2, 1, 5, description="times each announcement is said"),
    ),
}
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


def _show(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:37] + "..."


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f', did you mean "{close[0]}"?' if close else ""


def _value(spec: _Key, raw: object, table: str, issues: _Issues) -> Any:
    """The validated value, or the default after recording the problem."""
    ok_type = isinstance(raw, spec.kind) and not (spec.kind is not bool and isinstance(raw, bool))
    if spec.kind is float and isinstance(raw, int) and not isinstance(raw, bool):
        ok_type = True  # 30 for 30.0: checked as written, stored as a float
    if not ok_type:
        noun = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}
        problem = f"expected {noun[spec.kind]}, got {_show(raw)}"
        issues.add(table, spec.name, problem, f"allowed: {spec.allowed()}")
        return spec.default
    if spec.choices and raw not in spec.choices:
        issues.add(table, spec.name, f"{_show(raw)} is not allowed", f"allowed: {spec.allowed()}")
        return spec.default
    if spec.low is not None and spec.high is not None and not spec.low <= raw <= spec.high:  # type: ignore[operator]
        issues.add(table, spec.name, f"{_show(raw)} is out of range", f"allowed: {spec.allowed()}")
        return spec.default
    if spec.kind is str and (not raw.strip() or "\n" in raw):  # type: ignore[union-attr]
        issues.add(table, spec.name, "must be one line, not blank", f"allowed: {spec.allowed()}")
        return spec.default
    return float(raw) if spec.kind is float else raw  # type: ignore[arg-type]


def _table(data: dict[str, Any], name: str, issues: _Issues) -> dict[str, Any]:
    keys = _TABLES[name]
    table = data.get(name, {})
    if not isinstance(table, dict):
        issues.add(name, None, f"expected a table [{name}], got {_show(table)}")
        return {k.name: k.default for k in keys}
    known = [k.name for k in keys]
    for key in table:
        if key not in known:
            fix = f"known keys in [{name}]: {', '.join(known)}"
            issues.add(name, key, "unknown key" + _suggest(key, known), fix)
    return {
        k.name: _value(k, table[k.name], name, issues) if k.name in table else k.default
        for k in keys
    }


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
    for i, entry in enumerate(raw, 1):
        where = f"priority_classes #{i}"
        if not isinstance(entry, dict):
            issues.add(where, None, f"expected a table, got {_show(entry)}")
            continue
        _unknown(entry, _CLASS_KEYS, where, issues)
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


def _unknown(entry: dict[str, Any], known: tuple[str, ...], where: str, issues: _Issues) -> None:
    for key in entry:
        if key not in known:
            fix = f"known keys: {', '.join(known)}"
            issues.add(where, key, "unknown key" + _suggest(key, known), fix)


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
    for i, entry in enumerate(raw, 1):
        where = f"counters #{i}"
        if not isinstance(entry, dict):
            issues.add(where, None, f"expected a table, got {_show(entry)}")
            continue
        _unknown(entry, _COUNTER_KEYS, where, issues)
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
        is_open = entry.get("open", True)
        if not isinstance(is_open, bool):
            issues.add(
                where,
                "open",
                f"expected true or false, got {_show(is_open)}",
                "allowed: true or false, without quotes",
            )
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
            issues.add(name, None, "unknown table" + _suggest(name, [*_TABLES, *_ARRAYS]), fix)
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
    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(where, "file not found", "a queue.toml file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [ConfigIssue(where, f"cannot read the file: {exc}", "UTF-8 TOML")]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            [ConfigIssue(where, f"TOML syntax error: {exc}", "see https://toml.io")]
        ) from None
    return parse_queue_config(data, where, known_services, source=path.resolve())


def queue_config_path(kiosk_config: Any) -> Path:
    """The queue file of a kiosk config: ``[queue] file`` if set, else queue.toml beside it."""
    section = getattr(kiosk_config, "queue", None)
    named = getattr(section, "file", None)
    if named:
        return Path(named)
    source = getattr(kiosk_config, "source", None)
    return Path(source).parent / "queue.toml" if source else DEFAULT_QUEUE_FILE
