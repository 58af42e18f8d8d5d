"""The reference back office's settings: config/backoffice.toml plus ``BACKOFFICE_<KEY>``.

Every key of the file can be overridden by an environment variable ``BACKOFFICE_<KEY>`` (upper
case), e.g. ``BACKOFFICE_DB_URL=postgresql+psycopg://…`` or ``BACKOFFICE_STAFF_TOKEN=…``;
``BACKOFFICE_CONFIG`` names another file. An unknown ``BACKOFFICE_*`` variable is an error, like
an unknown key in the file. Relative paths (and the path of a ``sqlite:///relative`` URL) in the
file are taken from the file's folder, in the environment from the current folder.

Keys (``describe()`` prints them with their defaults)::

    data_dir              the server's own folder (database, secrets key, files)
    db_url                SQLAlchemy URL; "" = sqlite:///<data_dir>/backoffice.sqlite
    storage_dir           attachments, content-addressed; "" = <data_dir>/files
    agency_code           QCVN 102:2016 code of the receiving agency (dossier codes)
    [agency_by_service]   optional table: queue service code → agency code
    procedures_dir        the procedure catalog (fees, processing days, documents)
    holidays_file         the holiday calendar (appointment dates)
    max_attachment_bytes  one attachment's limit (default 150 MB); larger → 413
    max_request_bytes     one request's limit (default 600 MB)
    clock_skew_s          how far a kiosk's X-Timestamp may be from the server's clock (300)
    require_active_auth   presence needs the chip's Active Authentication (true)
    trust_dir             CSCA certificates for passive authentication of citizens' cards
    master_list           a CSCA master list file, "" for none
    test_pki_dir          the TEST CSCA of the simulated cards, trusted only with
    allow_test_csca       = true (demo and tests; never in production)
    staff_token           the staff/admin Bearer token; "" disables the staff API and page
    secrets_key           base64 of 32 bytes that encrypts the kiosks' secrets; "" = the
                          key file <data_dir>/secrets.key, created (0600) on first use

Exceptions::

    KioskError
     └── BackofficeSettingsError   (operator) the file or an override is wrong; ``problems``
                                   lists each one with the file (or variable) and the key
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from kiosk import paths
from kiosk.dossier.model import is_agency_code
from kiosk.errors import KioskError

ENV_PREFIX = "BACKOFFICE_"
ENV_CONFIG = "BACKOFFICE_CONFIG"
DEFAULT_FILE = paths.CONFIG_DIR / "backoffice.toml"
MB = 1024 * 1024


class BackofficeSettingsError(KioskError):
    """The back office's settings are wrong; ``problems`` names file or variable and key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid back-office settings: " + "; ".join(problems))


@dataclass(frozen=True)
class Settings:
    """The settings of one back-office server; every path absolute."""

    data_dir: Path
    db_url: str
    storage_dir: Path
    agency_code: str
    procedures_dir: Path
    holidays_file: Path
    agency_by_service: Mapping[str, str] = field(default_factory=dict)
    max_attachment_bytes: int = 150 * MB
    max_request_bytes: int = 600 * MB
    clock_skew_s: int = 300
    require_active_auth: bool = True
    trust_dir: Path | None = None
    master_list: Path | None = None
    test_pki_dir: Path | None = None
    allow_test_csca: bool = False
    staff_token: str = ""
    secrets_key: str = ""
    challenge_ttl_s: int = 120
    presence_ttl_s: int = 600
    source: Path | None = None

    def agency_for(self, service_code: str) -> str:
        """The agency that receives dossiers of this queue service."""
        return self.agency_by_service.get(service_code, self.agency_code)

    @property
    def secrets_key_file(self) -> Path:
        return self.data_dir / "secrets.key"

    @classmethod
    def for_folder(cls, data_dir: Path, **overrides: Any) -> Settings:
        """Settings for a server whose state lives in ``data_dir`` (tests, demo mode), with the
        shipped catalog and holidays unless overridden."""
        data_dir = Path(data_dir).resolve()
        base = cls(
            data_dir=data_dir,
            db_url=f"sqlite:///{data_dir / 'backoffice.sqlite'}",
            storage_dir=data_dir / "files",
            agency_code="000.00.08.H21",
            procedures_dir=paths.CONFIG_DIR / "procedures",
            holidays_file=paths.CONFIG_DIR / "holidays.toml",
            trust_dir=paths.CONFIG_DIR / "trust",
        )
        settings = replace(base, **overrides)
        problems = _check(settings, "settings")
        if problems:
            raise BackofficeSettingsError(problems)
        return settings


# --- loading ---------------------------------------------------------------------------------

_PATH_KEYS = {"data_dir", "procedures_dir", "holidays_file"}
_OPTIONAL_PATH_KEYS = {"storage_dir", "trust_dir", "master_list", "test_pki_dir"}
_INT_KEYS = {
    "max_attachment_bytes": (1, None),
    "max_request_bytes": (1, None),
    "clock_skew_s": (5, 3600),
    "challenge_ttl_s": (10, 3600),
    "presence_ttl_s": (30, 86400),
}
_BOOL_KEYS = {"require_active_auth", "allow_test_csca"}
_STR_KEYS = {"db_url", "agency_code", "staff_token", "secrets_key"}
_TABLE_KEYS = {"agency_by_service"}
_KEYS = _PATH_KEYS | _OPTIONAL_PATH_KEYS | set(_INT_KEYS) | _BOOL_KEYS | _STR_KEYS | _TABLE_KEYS
_REQUIRED = {"data_dir", "agency_code", "procedures_dir", "holidays_file"}


def describe() -> list[str]:
    """One line per key, for ``kiosk backoffice serve --help`` and the docs."""
    defaults = {f.name: f.default for f in fields(Settings)}
    out = []
    for key in sorted(_KEYS):
        default = defaults.get(key)
        text = "(required)" if key in _REQUIRED else f"default {default!r}"
        out.append(f"{key} ({ENV_PREFIX}{key.upper()}): {text}")
    return out


def _parse_bool(text: str) -> bool | None:
    return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(
        text.strip().lower()
    )


def _resolve(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _sqlite_url(url: str, base: Path) -> str:
    """``sqlite:///relative.sqlite`` taken from ``base``; other URLs as they are."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix:
        rest = url[len(prefix) :]
        if rest != ":memory:" and not rest.startswith("file:"):
            return prefix + str(_resolve(rest, base))
    return url


def _value(key: str, raw: Any, base: Path, where: str, problems: list[str], from_env: bool) -> Any:
    if key in _PATH_KEYS or key in _OPTIONAL_PATH_KEYS:
        if not isinstance(raw, str):
            problems.append(f"{where}: {key}: expected a path as text")
            return None
        if raw == "" and key in _OPTIONAL_PATH_KEYS:
            return None
        if raw == "":
            problems.append(f"{where}: {key}: must not be empty")
            return None
        return _resolve(raw, base)
    if key in _INT_KEYS:
        if from_env and isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            raw = int(raw.strip())
        lo, hi = _INT_KEYS[key]
        if isinstance(raw, bool) or not isinstance(raw, int):
            problems.append(f"{where}: {key}: expected a whole number, got {raw!r}")
            return None
        if raw < lo or (hi is not None and raw > hi):
            bound = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
            problems.append(f"{where}: {key}: {raw} is out of range ({bound})")
            return None
        return raw
    if key in _BOOL_KEYS:
        if from_env and isinstance(raw, str):
            parsed = _parse_bool(raw)
            if parsed is None:
                problems.append(f"{where}: {key}: expected true/false, 1/0 or yes/no")
            return parsed
        if not isinstance(raw, bool):
            problems.append(f"{where}: {key}: expected true or false, without quotes")
            return None
        return raw
    if key in _TABLE_KEYS:
        if from_env:
            problems.append(f"{where}: {key}: a table; set it in the file")
            return None
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
        ):
            problems.append(f"{where}: {key}: expected a table of service code = agency code")
            return None
        return dict(raw)
    if not isinstance(raw, str):
        problems.append(f"{where}: {key}: expected text")
        return None
    if key == "db_url":
        return _sqlite_url(raw, base)
    if key == "agency_code" and not is_agency_code(raw):
        problems.append(
            f"{where}: {key}: {raw!r} is not a QCVN 102:2016 agency code like 000.00.08.H21"
        )
        return None
    return raw


def _check(settings: Settings, where: str) -> list[str]:
    problems = []
    for name, code in [("agency_code", settings.agency_code), *settings.agency_by_service.items()]:
        if not is_agency_code(code):
            problems.append(
                f"{where}: {name}: {code!r} is not a QCVN 102:2016 agency code like 000.00.08.H21"
            )
    if settings.max_request_bytes < settings.max_attachment_bytes:
        problems.append(f"{where}: max_request_bytes is below max_attachment_bytes")
    if settings.allow_test_csca and settings.test_pki_dir is None:
        problems.append(f"{where}: allow_test_csca: set test_pki_dir as well")
    return problems


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the file (``path``, else ``$BACKOFFICE_CONFIG``, else config/backoffice.toml) and
    apply the ``BACKOFFICE_*`` overrides; BackofficeSettingsError lists every problem."""
    env = os.environ if env is None else env
    file = Path(path or env.get(ENV_CONFIG) or DEFAULT_FILE).resolve()
    problems: list[str] = []
    try:
        with file.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise BackofficeSettingsError([f"{file}: file not found"]) from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise BackofficeSettingsError([f"{file}: cannot be read: {e}"]) from None

    values: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in _KEYS:
            problems.append(f"{file}: {key}: unknown key (known: {', '.join(sorted(_KEYS))})")
            continue
        values[key] = _value(key, raw, file.parent, str(file), problems, from_env=False)
    cwd = Path.cwd()
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == ENV_CONFIG:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        if key not in _KEYS:
            problems.append(f"env {name}: unknown setting (known: {', '.join(sorted(_KEYS))})")
            continue
        values[key] = _value(key, raw, cwd, f"env {name}", problems, from_env=True)
    for key in sorted(_REQUIRED - set(values)):
        problems.append(f"{file}: {key}: missing")
    if problems:
        raise BackofficeSettingsError(problems)

    values = {k: v for k, v in values.items() if v is not None or k in _OPTIONAL_PATH_KEYS}
    data_dir: Path = values["data_dir"]
    values.setdefault("db_url", "")
    if not values["db_url"]:
        values["db_url"] = f"sqlite:///{data_dir / 'backoffice.sqlite'}"
    if values.get("storage_dir") is None:
        values["storage_dir"] = data_dir / "files"
    settings = Settings(**values, source=file)
    problems = _check(settings, str(file))
    if problems:
        raise BackofficeSettingsError(problems)
    return settings


def with_db_url(settings: Settings, db_url: str | None) -> Settings:
    """``settings`` with another database (the ``--db`` option); relative SQLite paths from
    the current folder."""
    if not db_url:
        return settings
    return replace(settings, db_url=_sqlite_url(db_url, Path.cwd()))
