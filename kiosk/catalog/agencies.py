"""Which agency handles which procedure: config/agencies.toml, apart from the procedure files.

Agencies merge and procedures move between them (the 2025 reorganisation moved printing and
publishing from the Sở Thông tin và Truyền thông to the Sở Văn hóa, Thể thao và Du lịch, and
merged the rest into the Sở Khoa học và Công nghệ), so a procedure file never names its agency:
each ``[[agency]]`` lists the queue services (fields) it handles, and may claim single
procedures by code. ``Agencies.for_procedure`` answers with the procedure's own claim first,
then its service's.

``load_agencies(path, catalog)`` checks the file and that every service of the catalog has
exactly one agency; every mistake is reported at once with the file and the key.

Exceptions::

    KioskError
     └── AgencyFileError     (operator) the file is missing or wrong; ``problems`` lists each
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError

AGENCY_CODE = re.compile(r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2}$")


class AgencyFileError(KioskError):
    """config/agencies.toml is missing or wrong; ``problems`` lists each mistake."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the agencies file:\n  " + "\n  ".join(problems)
        )


@dataclass(frozen=True)
class Agency:
    """An agency that decides on procedures (cơ quan giải quyết)."""

    code: str
    name_vi: str
    name_en: str
    services: tuple[str, ...]
    procedures: tuple[str, ...] = ()

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_vi


class Agencies:
    """The agencies of the province, by service and by claimed procedure."""

    def __init__(self, agencies: Iterable[Agency]) -> None:
        self.all = tuple(agencies)
        self._by_service = {s: a for a in self.all for s in a.services}
        self._by_procedure = {p: a for a in self.all for p in a.procedures}

    def for_procedure(self, procedure: Any) -> Agency | None:
        """The agency handling ``procedure`` (a catalog Procedure), or None if unassigned."""
        return self._by_procedure.get(procedure.code) or self._by_service.get(
            procedure.service_code
        )


def _text(entry: dict[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}.{key}: missing; write it as text in quotes")
        return ""
    if not unicodedata.is_normalized("NFC", value):
        problems.append(f"{where}.{key}: not in Unicode NFC form; save the file as NFC")
    return value.strip()


def _codes(entry: dict[str, Any], key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f'{where}.{key}: must be a list of codes in quotes, e.g. ["IN", "XB"]')
        return ()
    return tuple(value)


def load_agencies(path: Path, catalog: Any | None = None) -> Agencies:
    """Read the agencies file; with ``catalog``, check every service has one agency."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AgencyFileError([f"{path}: the agencies file does not exist"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise AgencyFileError([f"{path}: cannot be read: {e}"]) from e
    except tomllib.TOMLDecodeError as e:
        raise AgencyFileError([f"{path}: not valid TOML: {e}"]) from e
    problems: list[str] = []
    entries = data.get("agency")
    if not isinstance(entries, list) or not entries:
        raise AgencyFileError([f"{path}: no [[agency]] tables"])
    agencies: list[Agency] = []
    for i, entry in enumerate(entries):
        where = f"{path}: agency[{i}]"
        code = _text(entry, "code", where, problems)
        if code and not AGENCY_CODE.match(code):
            problems.append(
                f"{where}.code: {code!r} is not a QCVN 102:2016 code like 000.00.12.H21"
            )
        agency = Agency(
            code=code,
            name_vi=_text(entry, "name_vi", where, problems),
            name_en=_text(entry, "name_en", where, problems),
            services=_codes(entry, "services", where, problems),
            procedures=_codes(entry, "procedures", where, problems),
        )
        unknown = set(entry) - {"code", "name_vi", "name_en", "services", "procedures"}
        problems += [f"{where}.{k}: unknown key" for k in sorted(unknown)]
        agencies.append(agency)
    seen: dict[str, str] = {}
    for agency in agencies:
        for service in agency.services:
            if service in seen:
                problems.append(
                    f"{path}: service {service} is given to both {seen[service]} and {agency.code}"
                )
            seen[service] = agency.code
    if catalog is not None:
        for service in catalog.services():
            if service.code not in seen:
                problems.append(
                    f"{path}: no agency handles the service {service.code} ({service.name_vi}); "
                    f'add "{service.code}" to the services of one [[agency]]'
                )
        for agency in agencies:
            for code in agency.procedures:
                if code not in catalog:
                    problems.append(f"{path}: {agency.code} claims {code}, not in the catalog")
    if problems:
        raise AgencyFileError(problems)
    return Agencies(agencies)
