"""The kiosk's configuration: a TOML file plus ``KIOSK_<SECTION>_<KEY>`` overrides, checked
against one declared schema and turned into frozen dataclasses.

``SCHEMA`` is data: per section, per key, its type, default (or REQUIRED), allowed values and a
one-line description. The validator, ``describe_schema()``, the environment variable names and
the dataclasses' constructor calls all come from it (tests check that the dataclasses' fields
match it). Validation never stops at the first problem: every problem in the file and in the
environment becomes one ``ConfigIssue``, a single line that names the file (or the variable),
the key, what is wrong and what is allowed::

    config/kiosk.toml: [kiosk] idle_timeout_s: expected an integer, got "abc" (allowed: ...)
    env KIOSK_PRINTER_PORT: [printer] port: 70000 is out of range (allowed: ...)

Relative paths in the file are taken from the folder that holds the file; relative paths in
environment variables from the current folder. Every path in the result is absolute. Reading
the file, checking each value and the issues are the engine's (kiosk/config/toml_engine.py).

Exceptions::

    KioskError                  (kiosk/errors.py)
     └── ConfigError            the file or an override is wrong; ``issues`` lists every problem
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from kiosk import paths
from kiosk.config.toml_engine import (
    REQUIRED as REQUIRED,
)
from kiosk.config.toml_engine import (
    Check,
    ConfigError,
    ConfigIssue,
    Field,
    Kind,
    check_table,
    read_toml,
    show,
    suggest,
    unknown,
)

ENV_PREFIX: Final = "KIOSK_"
ENV_CONFIG: Final = "KIOSK_CONFIG"  # names the config file; not a setting
ENV_TEST_PREFIX: Final = "KIOSK_TEST_"  # reserved for the test suite; ignored here
_FILE_FIX: Final = f"a readable TOML config file; pass its path or set {ENV_CONFIG}"

# ---------------------------------------------------------------------------------------------
# The settings objects (one per section; field names and types follow SCHEMA)


@dataclass(frozen=True)
class KioskSettings:
    """[kiosk]: who this kiosk is and how its screen behaves."""

    id: str
    agency_name: str
    agency_code: str
    place: str
    language: str
    data_dir: Path
    orientation: str
    fullscreen: bool
    touch: bool
    idle_timeout_s: int
    idle_warning_s: int
    large_text: bool
    high_contrast: bool
    tracking_url: str = ""


@dataclass(frozen=True)
class BackofficeSettings:
    """[backoffice]: where dossiers go; ``url == ""`` runs the reference back office on loopback."""

    url: str
    token: str
    timeout_s: float
    ca_file: Path | None


@dataclass(frozen=True)
class CardReaderSettings:
    """[card_reader]: the chip reader, real (PC/SC) or simulated."""

    mode: str
    reader: str
    profile: str
    trust_dir: Path
    master_list: Path | None
    untrusted_signer: str
    test_pki_dir: Path


@dataclass(frozen=True)
class CameraSettings:
    """[camera]: the document camera, real (OpenCV) or simulated (plays images)."""

    mode: str
    device: int
    width: int
    height: int
    frames: Path | None


@dataclass(frozen=True)
class PrinterSettings:
    """[printer]: the receipt printer (ESC/POS) and how to reach it."""

    mode: str
    host: str
    port: int
    usb_vendor_id: int
    usb_product_id: int
    serial_device: str
    width_mm: int
    timeout_s: float
    out_dir: Path | None
    baudrate: int = 115200
    code_page: str = ""
    code_page_table: int = 0
    qr: str = "image"


@dataclass(frozen=True)
class CatalogSettings:
    """[catalog]: where the procedures (TTHC) and the public holidays are."""

    procedures_dir: Path
    holidays_file: Path
    agencies_file: Path


@dataclass(frozen=True)
class OutboxConfig:
    """[outbox]: the durable, encrypted store of dossiers on their way to the back office."""

    key: str
    key_file: Path | None
    retry_base_s: float
    retry_cap_s: float
    purge_after_hours: float
    keep_codes_days: float
    max_mb: int
    wait_for_code_s: float


@dataclass(frozen=True)
class QueueConfigFile:
    """[queue]: where the queue's services, counters and calling policy are."""

    file: Path


@dataclass(frozen=True)
class TelemetrySettings:
    """[telemetry]: the kiosk's Prometheus metrics, served on a local port (0 = off)."""

    metrics_port: int
    metrics_host: str


@dataclass(frozen=True)
class FleetSettings:
    """[fleet]: heartbeats to the back office, which answer with staff's commands (0 = off)."""

    heartbeat_s: int


@dataclass(frozen=True)
class StaffSettings:
    """[staff]: maintenance mode at the kiosk."""

    session_timeout_s: int


@dataclass(frozen=True)
class KioskConfig:
    """The whole configuration; ``source`` is the absolute path of the file it came from."""

    kiosk: KioskSettings
    backoffice: BackofficeSettings
    card_reader: CardReaderSettings
    camera: CameraSettings
    printer: PrinterSettings
    catalog: CatalogSettings
    outbox: OutboxConfig
    queue: QueueConfigFile
    telemetry: TelemetrySettings
    fleet: FleetSettings
    staff: StaffSettings
    source: Path


# ---------------------------------------------------------------------------------------------
# The schema


#: Slowest serial line on which a raster receipt (about 100 KB) prints in under 10 s.
RASTER_MIN_BAUD = 115200


KeySpec = Field  # one key of SCHEMA (the engine's Field)


@dataclass(frozen=True)
class SectionSpec:
    """One ``[section]``: its keys, in the order of the dataclass fields."""

    name: str
    settings: type
    description: str
    keys: tuple[KeySpec, ...]

    def key(self, name: str) -> KeySpec | None:
        return next((spec for spec in self.keys if spec.name == name), None)

    @property
    def key_names(self) -> list[str]:
        return [spec.name for spec in self.keys]


def _pattern(regex: str, what: str) -> Check:
    compiled = re.compile(regex)

    def check(value: str) -> str | None:
        return None if compiled.fullmatch(value) else f"{show(value)} is not {what}"

    return check


def _not_blank(value: str) -> str | None:
    return "must not be blank" if not value.strip() else None


def _check_url(value: str) -> str | None:
    if value == "":
        return None
    shown = show(value)
    if any(ch.isspace() for ch in value):
        return f"{shown} contains spaces"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:  # a bad port or IPv6 literal
        return f"{shown} is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"{shown} is not an http:// or https:// URL"
    if not parts.hostname:
        return f"{shown} has no host name"
    if parts.username is not None or parts.password is not None:
        return "contains a user name or password; put the credential in [backoffice] token"
    if parts.query or parts.fragment:
        return f"{shown} has a query or fragment; give only the base address"
    if port == 0:
        return f"{shown} has port 0"
    return None


def _check_token(value: str) -> str | None:
    return "contains spaces" if any(ch.isspace() for ch in value) else None


def _check_tracking_url(value: str) -> str | None:
    if value == "":
        return None
    if not value.startswith(("https://", "http://")) or any(ch.isspace() for ch in value):
        return f"{show(value)} is not an http(s) address"
    if value.count("{code}") != 1 or value.replace("{code}", "").count("{") > 0:
        return f"{show(value)} must contain {{code}} once (where the dossier code goes)"
    return None


def _check_host(value: str) -> str | None:
    if "://" in value or "/" in value:
        return f"{show(value)} looks like a URL; give only the host name or IP address"
    if any(ch.isspace() for ch in value):
        return f"{show(value)} contains spaces"
    return None


def _check_bind_host(value: str) -> str | None:
    return _not_blank(value) or _check_host(value)


def _check_heartbeat_s(value: int) -> str | None:
    if 0 < value < 10:
        return f"{value} s is too often for a heartbeat"
    return None


_NAME_REGEX: Final = r"[A-Za-z0-9._-]{1,64}"
_NAME_ALLOWED: Final = "1 to 64 characters from A-Z a-z 0-9 . _ -"

SCHEMA: Final[tuple[SectionSpec, ...]] = (
    SectionSpec(
        "kiosk",
        KioskSettings,
        "who this kiosk is and how its screen behaves",
        (
            KeySpec(
                "id",
                Kind.STR,
                'a kiosk identifier such as "KIOSK-01"',
                allowed_text=_NAME_ALLOWED,
                check=_pattern(_NAME_REGEX, "a valid kiosk id"),
            ),
            KeySpec(
                "agency_name",
                Kind.STR,
                "the receiving agency's name as printed on receipts",
                allowed_text="any single-line text, not blank",
                check=_not_blank,
            ),
            KeySpec(
                "agency_code",
                Kind.STR,
                "the receiving agency's QCVN 102:2016 code, the start of every dossier code",
                allowed_text="a QCVN 102:2016 agency code like 000.00.08.H21",
                check=_pattern(r"\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}", "a QCVN 102:2016 agency code"),
            ),
            KeySpec(
                "place",
                Kind.STR,
                "the place name written on declarations (địa danh), e.g. Huế",
                "Huế",
                allowed_text="a place name in quotes, e.g. Huế",
            ),
            KeySpec("language", Kind.STR, "the language a session starts in", "vi", ("vi", "en")),
            KeySpec(
                "data_dir",
                Kind.PATH,
                "where the kiosk keeps its outbox, logs and working files",
                "../var",
            ),
            KeySpec(
                "orientation",
                Kind.STR,
                "how the screen is mounted",
                "portrait",
                ("portrait", "landscape"),
            ),
            KeySpec("fullscreen", Kind.BOOL, "fill the whole screen, no window frame", True),
            KeySpec("touch", Kind.BOOL, "a touch screen: hide the mouse cursor", True),
            KeySpec(
                "idle_timeout_s",
                Kind.INT,
                "seconds without a touch before a session ends and is wiped",
                90,
                minimum=30,
                maximum=600,
            ),
            KeySpec(
                "idle_warning_s",
                Kind.INT,
                "the last seconds of idle_timeout_s that show a warning with a continue button",
                20,
                minimum=5,
                maximum=60,
                allowed_text="whole number from 5 to 60, less than idle_timeout_s",
            ),
            KeySpec("large_text", Kind.BOOL, "start sessions with large text", False),
            KeySpec("high_contrast", Kind.BOOL, "start sessions in high contrast", False),
            KeySpec(
                "tracking_url",
                Kind.STR,
                "the public page where a citizen tracks a dossier, with {code}; the receipt's "
                'QR then opens it on a phone ("" = the QR holds the dossier facts, for kiosks)',
                "",
                allowed_text='"" or an address such as https://dichvucong.example.gov.vn/tra-cuu?ma={code}',
                check=_check_tracking_url,
            ),
        ),
    ),
    SectionSpec(
        "backoffice",
        BackofficeSettings,
        "the back-office API that receives dossiers",
        (
            KeySpec(
                "url",
                Kind.STR,
                'the back office\'s base URL; "" runs the reference back office on loopback',
                "",
                allowed_text='"" (the reference back office on loopback) or an http(s):// URL',
                check=_check_url,
            ),
            KeySpec(
                "token",
                Kind.STR,
                "this kiosk's credential for the back office (better set by environment)",
                "",
                allowed_text='text without spaces; "" for none',
                check=_check_token,
                secret=True,
            ),
            KeySpec(
                "timeout_s",
                Kind.FLOAT,
                "seconds to wait for the back office to answer",
                10.0,
                minimum=1,
                maximum=120,
            ),
            KeySpec(
                "ca_file",
                Kind.OPTIONAL_PATH,
                'a PEM file of CA certificates to trust for https; "" uses the system\'s',
                "",
            ),
        ),
    ),
    SectionSpec(
        "card_reader",
        CardReaderSettings,
        "the chip reader for the CCCD / Căn cước card",
        (
            KeySpec(
                "mode",
                Kind.STR,
                "a simulated card, or a real PC/SC reader",
                "simulated",
                ("simulated", "pcsc"),
            ),
            KeySpec(
                "reader",
                Kind.STR,
                'part of the PC/SC reader\'s name to use; "" takes the first reader',
                "",
            ),
            KeySpec(
                "profile",
                Kind.STR,
                "which simulated card the simulated reader holds",
                "demo",
                allowed_text=_NAME_ALLOWED,
                check=_pattern(_NAME_REGEX, "a valid profile name"),
            ),
            KeySpec(
                "trust_dir",
                Kind.PATH,
                "folder of trusted CSCA certificates (PEM or DER) for passive authentication",
                "trust",
            ),
            KeySpec(
                "master_list",
                Kind.OPTIONAL_PATH,
                'a CSCA master list (CMS) to trust as well; "" for none',
                "",
            ),
            KeySpec(
                "untrusted_signer",
                Kind.STR,
                "a card signed by a CSCA not in the trust folder: accept with a warning, or refuse",
                "warn",
                ("warn", "refuse"),
            ),
            KeySpec(
                "test_pki_dir",
                Kind.PATH,
                "the generated TEST CSCA of the simulated cards; trusted only in simulated mode",
                "../var/test-pki",
            ),
        ),
    ),
    SectionSpec(
        "camera",
        CameraSettings,
        "the document camera",
        (
            KeySpec(
                "mode",
                Kind.STR,
                "a simulated camera that plays images, or a real one through OpenCV",
                "simulated",
                ("simulated", "opencv"),
            ),
            KeySpec("device", Kind.INT, "the OpenCV camera index", 0, minimum=0),
            KeySpec(
                "width",
                Kind.INT,
                "the frame width to ask for, in pixels",
                1920,
                minimum=320,
                maximum=8000,
            ),
            KeySpec(
                "height",
                Kind.INT,
                "the frame height to ask for, in pixels",
                1080,
                minimum=240,
                maximum=8000,
            ),
            KeySpec(
                "frames",
                Kind.OPTIONAL_PATH,
                'an image file or folder for the simulated camera; "" uses assets/samples',
                "",
            ),
        ),
    ),
    SectionSpec(
        "printer",
        PrinterSettings,
        "the receipt printer (ESC/POS)",
        (
            KeySpec(
                "mode",
                Kind.STR,
                "simulated (a virtual printer on host:port), network, usb, serial, or none",
                "simulated",
                ("simulated", "network", "usb", "serial", "none"),
            ),
            KeySpec(
                "host",
                Kind.STR,
                "the printer's host name or IP address (network; simulated listens there)",
                "127.0.0.1",
                allowed_text="a host name or IP address",
                check=_check_host,
            ),
            KeySpec(
                "port",
                Kind.INT,
                "the printer's TCP port (network; simulated listens there, 0 = a free port)",
                9100,
                minimum=0,
                maximum=65535,
            ),
            KeySpec(
                "usb_vendor_id",
                Kind.INT,
                "the USB vendor id (usb), e.g. 0x04b8",
                0,
                minimum=0,
                maximum=0xFFFF,
                allowed_text="whole number from 0 to 65535, e.g. 0x04b8 (0 = not set)",
            ),
            KeySpec(
                "usb_product_id",
                Kind.INT,
                "the USB product id (usb), e.g. 0x0e15",
                0,
                minimum=0,
                maximum=0xFFFF,
                allowed_text="whole number from 0 to 65535, e.g. 0x0e15 (0 = not set)",
            ),
            KeySpec(
                "serial_device",
                Kind.STR,
                "the serial device (serial), e.g. /dev/ttyUSB0",
                "",
                allowed_text='a device path such as /dev/ttyUSB0; "" = not set',
            ),
            KeySpec("width_mm", Kind.INT, "the paper width in millimetres", 80, (58, 80)),
            KeySpec(
                "timeout_s",
                Kind.FLOAT,
                "seconds to wait for the printer",
                3.0,
                minimum=0.2,
                maximum=30,
            ),
            KeySpec(
                "out_dir",
                Kind.OPTIONAL_PATH,
                'where the simulated printer writes its PNGs; "" = data_dir/printer',
                "",
            ),
            KeySpec(
                "baudrate",
                Kind.INT,
                "the serial line's speed (serial)",
                115200,
                (9600, 19200, 38400, 57600, 115200),
            ),
            KeySpec(
                "code_page",
                Kind.STR,
                'the printer\'s Vietnamese code page for text; "" prints text as images (safe '
                "on any printer)",
                "",
                ("", "cp1258", "tcvn3"),
            ),
            KeySpec(
                "code_page_table",
                Kind.INT,
                "the printer's ESC t number of that code page (0 = Epson's: 52 for cp1258, 30 "
                "and 31 for tcvn3; tcvn3 uses this number and the next)",
                0,
                minimum=0,
                maximum=254,
            ),
            KeySpec(
                "qr",
                Kind.STR,
                "how QR codes are printed: as part of the image, or by the printer's own command",
                "image",
                ("image", "native"),
            ),
        ),
    ),
    SectionSpec(
        "catalog",
        CatalogSettings,
        "the administrative procedures (TTHC) and the public holidays",
        (
            KeySpec(
                "procedures_dir",
                Kind.PATH,
                "the folder of procedure files (*.json)",
                "procedures",
            ),
            KeySpec(
                "holidays_file",
                Kind.PATH,
                "the public holidays, skipped when counting working days",
                "holidays.toml",
            ),
            KeySpec(
                "agencies_file",
                Kind.PATH,
                "which agency handles each field of procedures (agencies merge, procedures move)",
                "agencies.toml",
            ),
        ),
    ),
    SectionSpec(
        "outbox",
        OutboxConfig,
        "the durable outbox: dossiers kept encrypted until the back office has them",
        (
            KeySpec(
                "key",
                Kind.STR,
                "the outbox key (base64 of 32 bytes); better set by KIOSK_OUTBOX_KEY",
                "",
                secret=True,
                allowed_text='base64 of 32 random bytes, or "" to use key_file',
            ),
            KeySpec(
                "key_file",
                Kind.OPTIONAL_PATH,
                'the file holding the key, created (mode 0600) on first run; "" = data_dir',
                "",
            ),
            KeySpec("retry_base_s", Kind.FLOAT, "first retry delay", 2.0, minimum=0.1, maximum=60),
            KeySpec(
                "retry_cap_s", Kind.FLOAT, "longest retry delay", 300.0, minimum=1, maximum=3600
            ),
            KeySpec(
                "purge_after_hours",
                Kind.FLOAT,
                "hours after which a delivered dossier is purged even if no receipt was printed",
                24.0,
                minimum=0.1,
                maximum=720,
            ),
            KeySpec(
                "keep_codes_days",
                Kind.FLOAT,
                "days a provisional reference still finds its final dossier code",
                90.0,
                minimum=1,
                maximum=3650,
            ),
            KeySpec("max_mb", Kind.INT, "largest size of the outbox file", 2048, minimum=16),
            KeySpec(
                "wait_for_code_s",
                Kind.FLOAT,
                "seconds the submit screen waits for the final code before a provisional receipt",
                8.0,
                minimum=0,
                maximum=60,
            ),
        ),
    ),
    SectionSpec(
        "queue",
        QueueConfigFile,
        "the queue of the one-stop-shop: services, counters, priority and calling policy",
        (KeySpec("file", Kind.PATH, "the queue file", "queue.toml"),),
    ),
    SectionSpec(
        "telemetry",
        TelemetrySettings,
        "the kiosk's Prometheus metrics for fleet monitoring",
        (
            KeySpec(
                "metrics_port",
                Kind.INT,
                "the TCP port serving Prometheus metrics at /metrics (0 = off)",
                0,
                minimum=0,
                maximum=65535,
                allowed_text="whole number from 0 to 65535 (0 = no metrics), e.g. 9464",
            ),
            KeySpec(
                "metrics_host",
                Kind.STR,
                "the address the metrics port listens on (127.0.0.1: this machine only)",
                "127.0.0.1",
                allowed_text='a host name or IP address, e.g. "127.0.0.1" or "0.0.0.0" (all)',
                check=_check_bind_host,
            ),
        ),
    ),
    SectionSpec(
        "fleet",
        FleetSettings,
        "heartbeats to the back office and the commands staff send back",
        (
            KeySpec(
                "heartbeat_s",
                Kind.INT,
                "seconds between two heartbeats to the back office (0 = none)",
                60,
                minimum=0,
                maximum=3600,
                allowed_text="0 (no heartbeats), or a whole number of seconds from 10 to 3600",
                check=_check_heartbeat_s,
            ),
        ),
    ),
    SectionSpec(
        "staff",
        StaffSettings,
        "maintenance mode: staff signed in at the kiosk",
        (
            KeySpec(
                "session_timeout_s",
                Kind.INT,
                "seconds without a touch after which a staff member's maintenance session ends",
                120,
                minimum=30,
                maximum=3600,
            ),
        ),
    ),
)

_SECTIONS: Final = {section.name: section for section in SCHEMA}


def env_var_name(section: str, key: str) -> str:
    """The environment variable that overrides ``[section] key``."""
    return f"{ENV_PREFIX}{section}_{key}".upper()


def _env_map() -> dict[str, tuple[SectionSpec, KeySpec]]:
    table: dict[str, tuple[SectionSpec, KeySpec]] = {}
    for section in SCHEMA:
        for spec in section.keys:
            name = env_var_name(section.name, spec.name)
            if name in table or name == ENV_CONFIG or name.startswith(ENV_TEST_PREFIX):
                raise RuntimeError(f"config schema: {name} is ambiguous")
            table[name] = (section, spec)
    return table


_ENV_VARS: Final = _env_map()


# ---------------------------------------------------------------------------------------------
# The file's structure


def _owner(key: str) -> str | None:
    """The section a key belongs to (for a key at the top level or in another section)."""
    return next((s.name for s in SCHEMA if s.key(key) is not None), None)


def _elsewhere(key: str) -> str | None:
    owner = _owner(key)
    return f"[{owner}] {key}" if owner else None


def _suggest_env(var: str) -> str | None:
    """The known variable an unknown ``KIOSK_*`` name was probably meant to be."""
    rest = var[len(ENV_PREFIX) :]
    for section in SCHEMA:
        head = f"{section.name.upper()}_"
        if rest.startswith(head):  # the section is right: compare the key only
            close = suggest(rest[len(head) :].lower(), section.key_names)
            return env_var_name(section.name, close) if close else None
    close = suggest(rest, [name[len(ENV_PREFIX) :] for name in _ENV_VARS])
    return ENV_PREFIX + close if close else None


def _file_structure_issues(data: dict[str, Any], where: str, issues: list[ConfigIssue]) -> None:
    """Unknown sections, top-level keys outside any section, and sections that are not tables."""
    known_sections = ", ".join(_SECTIONS)
    for name, value in data.items():
        if name in _SECTIONS:
            if not isinstance(value, dict):
                problem = f"expected a section [{name}], got {show(value)}"
                fix = f'write "[{name}]" on its own line, then its keys'
                issues.append(ConfigIssue(where, problem, fix, section=name))
            continue
        if isinstance(value, dict):
            problem = unknown("section", name, list(_SECTIONS), '"[{}]"')
            fix = f"known sections: {known_sections}"
            issues.append(ConfigIssue(where, problem, fix, section=name))
            continue
        owner = _owner(name)
        problem = "unknown top-level key; settings belong in a section"
        if owner:
            problem += f", did you mean to put it under [{owner}]?"
        issues.append(ConfigIssue(where, problem, f"known sections: {known_sections}", key=name))


# ---------------------------------------------------------------------------------------------
# Putting it together


_Slot = tuple[str, str]  # (section, key)


def _cross_issues(
    values: dict[_Slot, Any], origins: dict[_Slot, str], issues: list[ConfigIssue]
) -> None:
    """Rules that involve more than one key; each is checked only when its keys are valid."""

    def add(slot: _Slot, problem: str, fix: str) -> None:
        issues.append(ConfigIssue(origins[slot], problem, fix, section=slot[0], key=slot[1]))

    warning, timeout = ("kiosk", "idle_warning_s"), ("kiosk", "idle_timeout_s")
    if warning in values and timeout in values and values[warning] >= values[timeout]:
        add(
            warning,
            f"{values[warning]} is not less than idle_timeout_s ({values[timeout]})",
            "allowed: fewer seconds than [kiosk] idle_timeout_s, so the warning comes first",
        )

    mode = values.get(("printer", "mode"))
    needs: list[tuple[str, bool, str]] = []
    if mode == "network":
        needs += [
            ("host", values.get(("printer", "host")) == "", "the printer's host name or IP"),
            ("port", values.get(("printer", "port")) == 0, "the printer's port, 1 to 65535"),
        ]
    elif mode == "usb":
        needs += [
            (
                "usb_vendor_id",
                values.get(("printer", "usb_vendor_id")) == 0,
                "a USB vendor id such as 0x04b8",
            ),
            (
                "usb_product_id",
                values.get(("printer", "usb_product_id")) == 0,
                "a USB product id such as 0x0e15",
            ),
        ]
    elif mode == "serial":
        device = values.get(("printer", "serial_device"))
        needs.append(("serial_device", device == "", "a serial device such as /dev/ttyUSB0"))
    for key, missing, example in needs:
        slot = ("printer", key)
        if missing and slot in values:
            add(slot, f'must be set when [printer] mode = "{mode}"', f"allowed: {example}")
    baud = ("printer", "baudrate")
    if (
        mode == "serial"
        and values.get(("printer", "code_page")) == ""
        and baud in values
        and values[baud] < RASTER_MIN_BAUD
    ):
        add(
            baud,
            f"{values[baud]} baud is too slow for receipts printed as images (about 100 KB: "
            f"{100_000 * 10 // values[baud]} s a receipt)",
            f"allowed: {RASTER_MIN_BAUD} (set the printer to it), or a code_page the printer has",
        )


def _collect(
    path: Path | str | None, env: Mapping[str, str] | None
) -> tuple[KioskConfig | None, list[ConfigIssue]]:
    env = os.environ if env is None else env
    file_path = Path(path) if path is not None else default_config_path(env)
    where = str(file_path)
    try:
        source = file_path.expanduser().resolve()
    except (OSError, RuntimeError):  # a symlink loop: report it when the file is read
        source = file_path.expanduser().absolute()
    base = source.parent
    issues: list[ConfigIssue] = []
    values: dict[_Slot, Any] = {}
    origins: dict[_Slot, str] = {}
    bad: set[_Slot] = set()

    try:
        data: dict[str, Any] | None = read_toml(source, where, _FILE_FIX)
    except ConfigError as exc:
        data = None
        issues += exc.issues
    if data is not None:
        _file_structure_issues(data, where, issues)
        for section in SCHEMA:
            table = data.get(section.name, {})
            if not isinstance(table, dict):
                continue  # already reported
            found, problems = check_table(
                table, section.keys, where, section.name, base, elsewhere=_elsewhere
            )
            issues += problems
            for key in section.key_names:
                if key in found:
                    values[(section.name, key)], origins[(section.name, key)] = found[key], where
                elif key in table:
                    bad.add((section.name, key))

    cwd = Path.cwd()
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var == ENV_CONFIG or var.startswith(ENV_TEST_PREFIX):
            continue
        origin = f"env {var}"
        if var not in _ENV_VARS:
            close = _suggest_env(var)
            said = f", did you mean {close}?" if close else ""
            fix = f"{ENV_PREFIX}<SECTION>_<KEY> for a key of the schema, or {ENV_CONFIG}"
            issues.append(ConfigIssue(origin, f"unknown variable{said}", fix))
            continue
        section, spec = _ENV_VARS[var]
        slot = (section.name, spec.name)
        parsed, problem = spec.parse_env(env[var])
        if problem is None:
            value, problem = spec.validate(parsed, cwd)
        if problem:
            fix = f"allowed: {spec.allowed(from_env=True)}"
            issues.append(ConfigIssue(origin, problem, fix, section.name, spec.name))
            bad.add(slot)
            values.pop(slot, None)
        else:
            bad.discard(slot)  # the override replaces a wrong value of the file
            values[slot], origins[slot] = value, origin

    for section in SCHEMA:
        for spec in section.keys:
            slot = (section.name, spec.name)
            if slot in values or slot in bad:
                continue
            if spec.required:
                if data is not None:  # an unreadable file is reported once, not per key
                    fix = f"{spec.description}; allowed: {spec.allowed()}"
                    issue = ConfigIssue(where, "missing required key", fix, *slot)
                    issues.append(issue)
                continue
            value, problem = spec.validate(spec.default, base)
            if problem:  # a mistake in SCHEMA itself
                raise RuntimeError(f"config schema: bad default for {slot}: {problem}")
            values[slot], origins[slot] = value, where

    _cross_issues(values, origins, issues)
    if issues:
        return None, issues
    built = {
        section.name: section.settings(
            **{spec.name: values[(section.name, spec.name)] for spec in section.keys}
        )
        for section in SCHEMA
    }
    return KioskConfig(source=source, **built), []


# ---------------------------------------------------------------------------------------------
# Public API


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$KIOSK_CONFIG`` when set and not empty, else the shipped config/kiosk.toml."""
    env = os.environ if env is None else env
    named = env.get(ENV_CONFIG, "")
    return Path(named).expanduser() if named else paths.DEFAULT_CONFIG_FILE


def load_config(
    path: Path | str | None = None, env: Mapping[str, str] | None = None
) -> KioskConfig:
    """Read, override and validate; raises ConfigError listing every problem."""
    config, issues = _collect(path, env)
    if config is None:
        raise ConfigError(issues)
    return config


def check_config(
    path: Path | str | None, env: Mapping[str, str] | None = None
) -> list[ConfigIssue]:
    """Every problem of the config file and of the ``KIOSK_*`` overrides; [] when fine."""
    return _collect(path, env)[1]


def describe_schema() -> list[dict[str, Any]]:
    """One JSON-able row per key: section, key, type, required, default, allowed, description,
    env (the overriding variable)."""
    return [
        {
            "section": section.name,
            "key": spec.name,
            "type": spec.kind.value,
            "required": spec.required,
            "default": None if spec.required else spec.default,
            "allowed": spec.allowed(),
            "description": spec.description,
            "env": env_var_name(section.name, spec.name),
        }
        for section in SCHEMA
        for spec in section.keys
    ]


def config_as_dict(cfg: KioskConfig) -> dict[str, Any]:
    """JSON-able: one table per section plus ``source``; paths as text, secrets as "***"."""
    out: dict[str, Any] = {}
    for section in SCHEMA:
        settings = getattr(cfg, section.name)
        table: dict[str, Any] = {}
        for spec in section.keys:
            value = getattr(settings, spec.name)
            if spec.secret:
                value = "***" if value else ""
            elif isinstance(value, Path):
                value = str(value)
            table[spec.name] = value
        out[section.name] = table
    out["source"] = str(cfg.source)
    return out
