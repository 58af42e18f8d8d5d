"""The kiosk's HTTP client for the back-office API (``/api/v1``), behind ``BackOffice``.

``HttpBackOffice(url, kiosk_id, secret, timeout_s, ca_file)`` implements ``submit``, ``lookup``
and ``health`` of kiosk/delivery/backoffice.py, plus the citizen's papers on file
(``presence_challenge``, ``prove_presence``, ``documents_on_file``, ``document_pdf``) and the
fleet calls (``heartbeat``, ``commands``, ``ack``, ``mac_is_valid``, ``upload_screenshot``:
kiosk/fleet/ uses them). The API is described by
backoffice/openapi.json; the reference server is backoffice/.

- One ``requests.Session``; a connect timeout (at most 5 s) and a read timeout (``timeout_s``);
  TLS verified against the system's CAs, or only against ``ca_file`` when it is set (pinned).
  Proxies come from the environment (``HTTPS_PROXY``, ``NO_PROXY``); ``~/.netrc`` is ignored.
- No retries here: the outbox retries (with backoff) what ``BackOfficeUnavailable`` says may
  succeed later.
- Every request is signed (``signed_headers``): ``X-Kiosk-Id``, ``X-Timestamp``, ``X-Nonce``,
  ``X-Content-SHA256`` and ``Authorization: KIOSK-HMAC-SHA256 <hex>``, the HMAC-SHA256 with the
  kiosk's secret of ``method \\n path+query \\n timestamp \\n nonce \\n content-sha256``.
- A dossier is one multipart/form-data request: a ``dossier`` JSON part (the submission's
  ``to_dict()`` with each page path replaced by its part name, and ``parts``: name → SHA-256
  and size) and one ``application/pdf`` part per page. The body is streamed from the files
  (never held in memory) with a known Content-Length; the files are read three times (their
  hashes, the body's hash for the signature, the upload).

Failures become the errors of kiosk/delivery/backoffice.py, each logged with the server's message::

    connection refused, timeout, TLS failure, 5xx      BackOfficeUnavailable
    404                                                DossierNotFound
    422 idempotency_conflict                           IdempotencyConflict
    422 presence_refused                               PresenceRefused (below)
    422 other, 413                                     SubmissionRejected (``problems``)
    401, 403                                           BackOfficeAuthError (below)
    other 4xx, an answer that is not the API's         BackOfficeError

Exceptions added here::

    KioskError
     └── BackOfficeError
          ├── BackOfficeAuthError   (staff) the back office refuses this kiosk's credential
          │                         (wrong secret, unknown kiosk, clock off, replay) or right
          └── PresenceRefused       the chip's proof of presence does not hold (wrong card,
                                    spent or expired challenge, failed authentication)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from devices.base import Health
from kiosk.delivery.backoffice import (
    BackOfficeError,
    BackOfficeUnavailable,
    DossierNotFound,
    IdempotencyConflict,
    SubmissionRejected,
)
from kiosk.delivery.signing import EMPTY_SHA256, signed_headers
from kiosk.dossier.model import (
    DossierStatus,
    DossierSubmission,
    SubmissionResult,
    parse_dossier_code,
)

log = logging.getLogger(__name__)


API_PREFIX = "/api/v1"


MAX_CONNECT_TIMEOUT_S = 5.0


_CHUNK = 1 << 20


_ID_IN_PATH = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


def redact(path: str) -> str:
    """A request path fit for the log: a citizen's 12-digit ID number shows its last 3 digits
    only (Nghị định 13/2023/NĐ-CP: personal data stays out of logs)."""
    return _ID_IN_PATH.sub(lambda m: "*********" + m.group(0)[-3:], path)


class BackOfficeAuthError(BackOfficeError):
    """The back office refuses this kiosk's credential or right (a staff matter)."""


class PresenceRefused(BackOfficeError):
    """The chip's proof of the citizen's presence does not hold (papers on file stay hidden)."""

    msgid = (
        "Your papers on file cannot be shown because your card could not be verified. "
        "You can scan your papers instead."
    )


@dataclass(frozen=True)
class _FileSegment:
    path: Path
    size: int


class MultipartBody:
    """A multipart/form-data body from byte strings and files, streamed in 1 MiB chunks.

    ``len()`` is its exact size (requests sends it as Content-Length); iterating reads the
    files again, so a file must not change between ``sha256()`` and the upload (if it does,
    the server's hash check refuses the dossier).
    """

    def __init__(self) -> None:
        self.boundary = "motcua-" + secrets.token_hex(16)
        self._segments: list[bytes | _FileSegment] = []

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self, name: str, content_type: str, filename: str | None = None) -> bytes:
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        return (
            f"--{self.boundary}\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()

    def add_bytes(self, name: str, data: bytes, content_type: str) -> None:
        self._segments += [self._head(name, content_type), data, b"\r\n"]

    def add_file(self, name: str, path: Path, size: int, filename: str, content_type: str) -> None:
        self._segments += [
            self._head(name, content_type, filename),
            _FileSegment(path, size),
            b"\r\n",
        ]

    def _closing(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    def __len__(self) -> int:
        total = len(self._closing())
        for seg in self._segments:
            total += seg.size if isinstance(seg, _FileSegment) else len(seg)
        return total

    def __iter__(self) -> Iterator[bytes]:
        for seg in self._segments:
            if not isinstance(seg, _FileSegment):
                yield seg
                continue
            left = seg.size
            with seg.path.open("rb") as f:
                while left > 0:
                    chunk = f.read(min(_CHUNK, left))
                    if not chunk:
                        raise OSError(f"{seg.path} became shorter while it was being sent")
                    left -= len(chunk)
                    yield chunk
        yield self._closing()

    def sha256(self) -> str:
        h = hashlib.sha256()
        for chunk in self:
            h.update(chunk)
        return h.hexdigest()


def _hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def dossier_upload(dossier: DossierSubmission) -> tuple[MultipartBody, dict[str, Any]]:
    """The multipart body of ``dossier`` and its ``dossier`` JSON part (for tests and logs).

    Raises SubmissionRejected when a page cannot be read.
    """
    body = dossier.to_dict()
    parts: dict[str, dict[str, Any]] = {}
    files: list[tuple[str, Path, int]] = []
    problems: list[str] = []
    for i, (attachment, entry) in enumerate(
        zip(dossier.attachments, body["attachments"], strict=True)
    ):
        names = []
        for n, page in enumerate(attachment.pages):
            name = f"a{i}p{n}"
            try:
                digest, size = _hash_file(page)
            except OSError as e:
                problems.append(f"attachments[{i}].pages[{n}]: cannot read {page}: {e.strerror}")
                continue
            parts[name] = {"sha256": digest, "size": size}
            files.append((name, page, size))
            names.append(name)
        entry["pages"] = names
    if problems:
        raise SubmissionRejected(problems)
    body["parts"] = parts
    multipart = MultipartBody()
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    multipart.add_bytes("dossier", text, "application/json; charset=utf-8")
    for name, path, size in files:
        multipart.add_file(name, path, size, f"{name}.pdf", "application/pdf")
    return multipart, body


@dataclass(frozen=True)
class PresenceChallenge:
    """8 random bytes for the chip to sign (INTERNAL AUTHENTICATE), valid until ``expires_at``."""

    challenge: bytes
    expires_at: datetime


@dataclass(frozen=True)
class PresenceProof:
    """A token proving the citizen's card was at this kiosk; ``assurance`` is "active" (the
    chip signed the challenge) or "passive" (the card's signed data only)."""

    token: str = field(repr=False)
    expires_at: datetime
    assurance: str


@dataclass(frozen=True)
class PaperOnFile:
    """A paper the administration already holds for the citizen (reusable as ``on_file_ref``)."""

    id: str
    kind: str
    title: str
    dossier_code: str | None
    date: str
    sha256: str
    size: int
    source: str

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PaperOnFile:
        return cls(
            d["id"],
            d["kind"],
            d["title"],
            d.get("dossier_code"),
            d["date"],
            d["sha256"],
            int(d["size"]),
            d.get("source", ""),
        )


@dataclass(frozen=True)
class KioskCommand:
    """A command staff queued for this kiosk (reload-catalog, enter-maintenance, …).

    ``created_at_text`` is the time as the server wrote it and ``mac`` the server's MAC over
    the command (kiosk/fleet/command_mac.py; "" from a server that sends none): kiosk/fleet/
    checks it before running anything."""

    id: int
    command: str
    args: dict[str, Any]
    created_at: datetime
    created_at_text: str = ""
    mac: str = field(default="", repr=False)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else b64encode(bytes(data)).decode()


class HttpBackOffice:
    """The back office over HTTP(S); safe to share between threads (one requests Session per
    thread, as a Session is not guaranteed thread-safe)."""

    def __init__(
        self,
        url: str,
        kiosk_id: str,
        secret: str,
        timeout_s: float = 10.0,
        ca_file: Path | str | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BackOfficeError(f"back-office url {url!r} is not an http(s) URL")
        if not secret:
            raise BackOfficeError(
                f"no secret for kiosk {kiosk_id}: set [backoffice] token (KIOSK_BACKOFFICE_TOKEN) "
                "to the secret `kiosk backoffice add-kiosk` printed"
            )
        self.url = url.rstrip("/")
        self.kiosk_id = kiosk_id
        self._secret = secret
        self.timeout = (min(MAX_CONNECT_TIMEOUT_S, timeout_s), timeout_s)
        self.verify: str | bool = str(ca_file) if ca_file else True
        self._clock = clock
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._proxies = requests.utils.get_environ_proxies(self.url)

    @property
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no ~/.netrc Authorization over ours
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close every thread's connections."""
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
        self._local = threading.local()

    def __enter__(self) -> HttpBackOffice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ---

    def _request(
        self,
        method: str,
        path: str,
        *,
        payload: Any = None,
        body: MultipartBody | None = None,
        raw: tuple[bytes, str] | None = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        quiet: bool = False,
    ) -> requests.Response:
        """One signed request. ``raw`` is a body given whole, with its content type; ``quiet``
        logs failures at DEBUG only (the caller says once per outage what went wrong)."""
        url = self.url + API_PREFIX + quote(path)
        all_headers = dict(headers or {})
        level = logging.DEBUG if quiet else logging.WARNING
        data: Any
        if body is not None:
            data = body
            content_sha = body.sha256()
            all_headers["Content-Type"] = body.content_type
        elif raw is not None:
            data, all_headers["Content-Type"] = raw
            content_sha = hashlib.sha256(data).hexdigest()
        elif payload is not None:
            data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            content_sha = hashlib.sha256(data).hexdigest()
            all_headers["Content-Type"] = "application/json"
        else:
            data, content_sha = None, EMPTY_SHA256
        prepared = self._session.prepare_request(
            requests.Request(method, url, headers=all_headers, data=data)
        )
        prepared.headers.update(
            signed_headers(
                self.kiosk_id,
                self._secret,
                method,
                prepared.path_url,
                content_sha,
                timestamp=int(self._clock()),
            )
        )
        try:
            response = self._session.send(
                prepared,
                timeout=self.timeout,
                verify=self.verify,
                proxies=self._proxies,
                stream=stream,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as e:
            log.log(level, "back office %s %s: TLS failure: %s", method, redact(path), e)
            raise BackOfficeUnavailable(f"TLS failure talking to {self.url}: {e}") from e
        except requests.exceptions.Timeout as e:
            log.log(
                level,
                "back office %s %s: no answer within %s s",
                method,
                redact(path),
                self.timeout,
            )
            raise BackOfficeUnavailable(
                f"{self.url} did not answer within {self.timeout[1]:g} s"
            ) from e
        except (requests.exceptions.RequestException, OSError) as e:
            log.log(level, "back office %s %s: %s", method, redact(path), e)
            raise BackOfficeUnavailable(f"cannot reach {self.url}: {e}") from e
        if response.status_code >= 300:
            self._raise_for(method, path, response, level)
        return response

    def _raise_for(
        self, method: str, path: str, response: requests.Response, level: int = logging.WARNING
    ) -> None:
        status = response.status_code
        try:
            error = response.json()
            if not isinstance(error, dict):
                raise ValueError
        except (ValueError, requests.exceptions.RequestException):
            error = {"error": "", "message": response.text[:200].strip()}
        finally:
            response.close()
        code = str(error.get("error", ""))
        message = str(error.get("message", "")) or response.reason or str(status)
        problems = error.get("problems")
        log.log(level, "back office %s %s: %s %s: %s", method, redact(path), status, code, message)
        detail = f"back office {status} {code}: {message}".replace("  ", " ")
        if status >= 500:
            raise BackOfficeUnavailable(detail)
        if status in (401, 403):
            raise BackOfficeAuthError(detail)
        if status == 404:
            raise DossierNotFound(detail)
        if status == 422 and code == "idempotency_conflict":
            raise IdempotencyConflict(detail)
        if status == 422 and code == "presence_refused":
            raise PresenceRefused(detail)
        if status in (413, 422):
            if not isinstance(problems, list) or not problems:
                problems = [message]
            raise SubmissionRejected([str(p) for p in problems])
        raise BackOfficeError(detail)

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as e:
            raise BackOfficeError(f"the back office answered something not JSON: {e}") from e

    # --- the BackOffice protocol ---

    def submit(self, dossier: DossierSubmission) -> SubmissionResult:
        """Send the dossier with its attachments (idempotent on its key); the receipt's data."""
        if dossier.kiosk_id != self.kiosk_id:
            raise SubmissionRejected(
                [f"kiosk_id: {dossier.kiosk_id!r} is not this kiosk ({self.kiosk_id!r})"]
            )
        body, _ = dossier_upload(dossier)
        try:
            response = self._request(
                "POST",
                "/dossiers",
                body=body,
                headers={"Idempotency-Key": dossier.idempotency_key},
            )
        except OSError as e:  # a page vanished between hashing and sending
            raise SubmissionRejected([f"an attachment cannot be read: {e}"]) from e
        try:
            return SubmissionResult.from_dict(self._json(response))
        except (KeyError, TypeError, ValueError) as e:
            raise BackOfficeError(f"unexpected answer to a submission: {e}") from e

    def lookup(self, code: str) -> DossierStatus:
        """Status and history of a dossier (DossierCodeError for a malformed code)."""
        canonical = str(parse_dossier_code(code))
        data = self._json(self._request("GET", f"/dossiers/{canonical}"))
        try:
            return DossierStatus.from_dict(data)
        except (KeyError, TypeError, ValueError) as e:
            raise BackOfficeError(f"unexpected answer to a look-up: {e}") from e

    def health(self) -> Health:
        """Whether the back office answers and accepts this kiosk's credential."""
        try:
            data = self._json(self._request("GET", "/health"))
        except BackOfficeError as e:
            return Health("backoffice", False, f"{self.url}: {e}")
        return Health(
            "backoffice",
            data.get("kiosk") == self.kiosk_id,
            f"{self.url}: reachable, kiosk {data.get('kiosk')} authenticated",
        )

    # --- the citizen's papers on file ---

    def presence_challenge(self) -> PresenceChallenge:
        """A fresh challenge for the citizen's chip to sign (single use, 2 minutes)."""
        data = self._json(self._request("POST", "/citizens/presence-challenges", payload={}))
        return PresenceChallenge(
            b64decode(data["challenge"]), datetime.fromisoformat(data["expires_at"])
        )

    def prove_presence(
        self,
        citizen_id: str,
        *,
        challenge: bytes,
        sod: bytes,
        dg13: bytes,
        aa_signature: bytes | None = None,
        dg15: bytes | None = None,
        dg14: bytes | None = None,
    ) -> PresenceProof:
        """Send the chip's proof (EF.SOD, DG13, and the challenge signed with the DG15 key);
        a presence token for ``documents_on_file``. Refused → PresenceRefused."""
        payload = {
            "challenge": _b64(challenge),
            "aa_signature": _b64(aa_signature),
            "dg15": _b64(dg15),
            "dg14": _b64(dg14),
            "sod": _b64(sod),
            "dg13": _b64(dg13),
        }
        data = self._json(
            self._request("POST", f"/citizens/{citizen_id}/presence", payload=payload)
        )
        return PresenceProof(
            data["presence_token"], datetime.fromisoformat(data["expires_at"]), data["assurance"]
        )

    def documents_on_file(self, citizen_id: str, presence_token: str) -> list[PaperOnFile]:
        """The citizen's papers already digitised."""
        data = self._json(
            self._request(
                "GET",
                f"/citizens/{citizen_id}/documents",
                headers={"X-Presence-Token": presence_token},
            )
        )
        return [PaperOnFile.from_dict(d) for d in data["documents"]]

    def document_pdf(
        self, citizen_id: str, document_id: str, presence_token: str, dest: Path
    ) -> Path:
        """Download one paper on file to ``dest`` (streamed, its SHA-256 checked)."""
        response = self._request(
            "GET",
            f"/citizens/{citizen_id}/documents/{document_id}",
            headers={"X-Presence-Token": presence_token},
            stream=True,
        )
        expected = response.headers.get("X-Content-SHA256", "")
        h = hashlib.sha256()
        dest = Path(dest)
        tmp = dest.with_name(dest.name + ".part")
        try:
            with response, tmp.open("wb") as f:
                for chunk in response.iter_content(_CHUNK):
                    h.update(chunk)
                    f.write(chunk)
        except requests.exceptions.RequestException as e:
            tmp.unlink(missing_ok=True)
            raise BackOfficeUnavailable(f"download of document {document_id} failed: {e}") from e
        if expected and h.hexdigest() != expected:
            tmp.unlink(missing_ok=True)
            raise BackOfficeError(f"document {document_id} arrived damaged (SHA-256 mismatch)")
        tmp.replace(dest)
        return dest

    # --- the fleet ---

    # Failures of these calls are logged at DEBUG only: kiosk/fleet/agent.py says once per
    # outage that the back office is out of reach, not at every heartbeat.

    def heartbeat(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Report this kiosk's status (kiosk/fleet/status.py); the server's answer
        (``pending_commands``, ``audit_received_through``, …)."""
        answer = self._json(
            self._request("POST", f"/kiosks/{self.kiosk_id}/heartbeat", payload=payload, quiet=True)
        )
        if not isinstance(answer, dict):
            raise BackOfficeError("the back office answered a heartbeat with something else")
        return answer

    def commands(self) -> list[KioskCommand]:
        """Commands staff queued for this kiosk and not yet acknowledged, oldest first (their
        MAC not checked here: see ``mac_is_valid``)."""
        data = self._json(self._request("GET", f"/kiosks/{self.kiosk_id}/commands", quiet=True))
        try:
            return [
                KioskCommand(
                    int(c["id"]),
                    str(c["command"]),
                    dict(c.get("args") or {}),
                    datetime.fromisoformat(c["created_at"]),
                    str(c["created_at"]),
                    str(c.get("mac") or ""),
                )
                for c in data["commands"]
            ]
        except (KeyError, TypeError, ValueError) as e:
            raise BackOfficeError(f"unexpected answer to the commands request: {e}") from e

    def ack(self, command_id: int, ok: bool = True, detail: str = "") -> None:
        """Tell the back office a command was carried out (or why not)."""
        self._request(
            "POST",
            f"/kiosks/{self.kiosk_id}/commands/{int(command_id)}/ack",
            payload={"ok": ok, "detail": detail},
            quiet=True,
        )

    def mac_is_valid(self, message: bytes, mac: str) -> bool:
        """Whether ``mac`` is the hex HMAC-SHA256 of ``message`` under this kiosk's secret
        (constant-time): how kiosk/fleet/ checks a command without holding the secret."""
        expected = hmac.new(self._secret.encode(), message, hashlib.sha256).hexdigest()
        return hmac.compare_digest(
            expected.encode(), mac.strip().lower().encode("utf-8", "replace")
        )

    def upload_screenshot(self, png: bytes) -> None:
        """Send a PNG of what the kiosk shows now (the server keeps the last one, 2 MiB at most)."""
        self._request(
            "POST", f"/kiosks/{self.kiosk_id}/screenshot", raw=(png, "image/png"), quiet=True
        )
