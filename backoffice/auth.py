"""Who is calling: kiosks by signed requests, staff by a Bearer token; the kiosks' secrets at rest.

Kiosk requests carry (the scheme is ``kiosk.delivery.http_client``'s, shared by both sides)::

    X-Kiosk-Id        the kiosk's id
    X-Timestamp       Unix seconds; refused beyond ±clock_skew_s of the server's clock
    X-Nonce           16–128 random characters [A-Za-z0-9_-]; refused when seen before
    X-Content-SHA256  hex SHA-256 of the body bytes as sent (of b"" without a body)
    Authorization     KIOSK-HMAC-SHA256 <hex HMAC-SHA256(secret,
                          method \\n path+query \\n timestamp \\n nonce \\n content-sha256)>

A captured request replayed within the window fails on its nonce (the nonces of the last
2 × clock_skew_s are kept in the database, so several server processes agree); replayed later,
on its timestamp. The path and query are the raw ones the server receives: a reverse proxy in
front must not rewrite them.

Secrets at rest: HMAC needs the secret itself, so it cannot be stored as a one-way hash. Each
kiosk's secret is stored encrypted with AES-256-GCM (associated data: the kiosk id, so a row
cannot be moved to another kiosk) under the server's secrets key (``BACKOFFICE_SECRETS_KEY``, or
``<data_dir>/secrets.key`` created 0600 on first use). A copy of the database alone does not
give away the kiosks' credentials; the key file must be backed up apart from it.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from backoffice.db import Kiosk, Nonce
from backoffice.errors import ApiError, unauthenticated
from backoffice.settings import Settings
from kiosk.delivery.signing import AUTH_SCHEME, request_signature
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from backoffice.context import Context

log = logging.getLogger(__name__)

KIOSK_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
_AUTH_RE = re.compile(rf"^{AUTH_SCHEME} ([0-9a-f]{{64}})$")


# --- the kiosks' secrets at rest -------------------------------------------------------------


class SecretBox:
    """AES-256-GCM for the kiosks' secrets; the kiosk id is the associated data."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise KioskError("the back-office secrets key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, secret: str, kiosk_id: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, secret.encode(), kiosk_id.encode())

    def open(self, sealed: bytes, kiosk_id: str) -> str:
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], kiosk_id.encode()).decode()
        except (InvalidTag, ValueError) as e:
            raise KioskError(
                f"the secret of kiosk {kiosk_id} cannot be decrypted: wrong secrets key?"
            ) from e


def load_secret_box(settings: Settings) -> SecretBox:
    """The box from ``secrets_key`` (base64), else from the key file (created when absent)."""
    if settings.secrets_key:
        try:
            key = base64.b64decode(settings.secrets_key, validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise KioskError("secrets_key (BACKOFFICE_SECRETS_KEY): not base64 of 32 bytes")
        return SecretBox(key)
    path: Path = settings.secrets_key_file
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != 32:
            raise KioskError(f"{path}: not a 32-byte secrets key") from None
        return SecretBox(key)
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    log.warning(
        "created the secrets key %s (it encrypts the kiosks' secrets: back it up apart from "
        "the database, or set BACKOFFICE_SECRETS_KEY)",
        path,
    )
    return SecretBox(key)


def new_kiosk_secret() -> str:
    """A fresh kiosk secret: 32 random bytes, base64url (43 characters)."""
    return secrets.token_urlsafe(32)


# --- kiosk requests --------------------------------------------------------------------------


@dataclass(frozen=True)
class KioskCaller:
    """An authenticated kiosk and the body hash its signature covers."""

    kiosk_id: str
    content_sha256: str


def _header(headers: dict[str, str], name: str) -> str:
    value = headers.get(name.lower())
    if not value:
        raise unauthenticated(f"missing header {name}", f"thiếu tiêu đề {name}")
    return value


def verify_kiosk_request(
    ctx: Context, method: str, path_query: str, headers: dict[str, str]
) -> KioskCaller:
    """Check a kiosk's signed request (headers only; the caller checks the body's hash).

    ``headers`` has lower-case names. Records the nonce: a second use is refused.
    """
    kiosk_id = _header(headers, "X-Kiosk-Id")
    timestamp = _header(headers, "X-Timestamp")
    nonce = _header(headers, "X-Nonce")
    content_sha256 = _header(headers, "X-Content-SHA256").lower()
    match = _AUTH_RE.match(_header(headers, "Authorization").strip())
    if not match:
        raise unauthenticated(
            f"Authorization must be '{AUTH_SCHEME} <64 hex digits>'",
            f"tiêu đề Authorization phải có dạng '{AUTH_SCHEME} <64 chữ số hex>'",
        )
    if not KIOSK_ID_RE.match(kiosk_id):
        raise unauthenticated("X-Kiosk-Id is not a kiosk id", "X-Kiosk-Id không hợp lệ")
    if not _NONCE_RE.match(nonce):
        raise unauthenticated(
            "X-Nonce must be 16 to 128 letters, digits, '_' or '-'", "X-Nonce không hợp lệ"
        )
    if not _HEX64_RE.match(content_sha256):
        raise unauthenticated(
            "X-Content-SHA256 must be 64 hex digits", "X-Content-SHA256 không hợp lệ"
        )
    try:
        moment = int(timestamp)
    except ValueError:
        raise unauthenticated(
            "X-Timestamp must be Unix seconds", "X-Timestamp phải là số giây Unix"
        ) from None
    now = ctx.clock()
    skew = ctx.settings.clock_skew_s
    if abs(now - moment) > skew:
        raise unauthenticated(
            f"stale request: X-Timestamp is {int(moment - now):+d} s from the server's clock "
            f"(allowed ±{skew} s); check the kiosk's clock (NTP)",
            f"yêu cầu quá hạn: đồng hồ của ki-ốt lệch {int(moment - now):+d} giây so với máy "
            f"chủ (cho phép ±{skew} giây); kiểm tra đồng bộ giờ (NTP)",
            code="stale_request",
        )
    session = ctx.session()
    try:
        with session.begin():
            kiosk = session.get(Kiosk, kiosk_id)
            if kiosk is None or kiosk.disabled:
                raise unauthenticated(
                    f"unknown or disabled kiosk {kiosk_id!r}",
                    f"ki-ốt {kiosk_id!r} chưa được đăng ký hoặc đã bị khoá",
                )
            secret = ctx.secret_box.open(kiosk.secret_enc, kiosk_id)
            expected = request_signature(
                secret, method, path_query, str(moment), nonce, content_sha256
            )
            if not hmac.compare_digest(expected, match.group(1)):
                raise unauthenticated(
                    "bad signature: wrong kiosk secret, or the request was changed on the way",
                    "chữ ký sai: khoá bí mật của ki-ốt không đúng hoặc yêu cầu đã bị thay đổi",
                )
            session.add(Nonce(kiosk_id=kiosk_id, nonce=nonce, seen_at=now))
            session.flush()
            kiosk.last_seen_at = now
            if secrets.randbelow(64) == 0:  # now and then, forget nonces past the window
                session.execute(delete(Nonce).where(Nonce.seen_at < now - 2 * skew))
    except IntegrityError:
        log.warning("replayed request from kiosk %s (nonce %s)", kiosk_id, nonce)
        raise unauthenticated(
            "replayed request: this X-Nonce was already used; every request needs a fresh one",
            "yêu cầu bị gửi lặp lại: X-Nonce này đã được dùng",
            code="replayed_request",
        ) from None
    finally:
        session.close()
    return KioskCaller(kiosk_id, content_sha256)


def check_body(caller: KioskCaller, body: bytes) -> None:
    """The body must be the one the signature covers."""
    import hashlib

    if hashlib.sha256(body).hexdigest() != caller.content_sha256:
        raise unauthenticated(
            "the body does not match X-Content-SHA256", "nội dung không khớp X-Content-SHA256"
        )


def check_own(caller: KioskCaller, kiosk_id: str) -> None:
    """A kiosk may only act as itself."""
    if caller.kiosk_id != kiosk_id:
        raise ApiError(
            403,
            "forbidden",
            f"kiosk {caller.kiosk_id} may not act for kiosk {kiosk_id}",
            f"ki-ốt {caller.kiosk_id} không được thao tác thay ki-ốt {kiosk_id}",
        )


# --- staff -----------------------------------------------------------------------------------


def check_staff_token(settings: Settings, token: str) -> bool:
    """Whether ``token`` is the staff token (never true while none is configured)."""
    return bool(settings.staff_token) and hmac.compare_digest(
        token.encode(), settings.staff_token.encode()
    )


def require_staff_bearer(settings: Settings, authorization: str | None) -> None:
    if not settings.staff_token:
        raise unauthenticated(
            "staff access is disabled: set BACKOFFICE_STAFF_TOKEN",
            "chưa bật quyền cán bộ: đặt BACKOFFICE_STAFF_TOKEN",
        )
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not check_staff_token(settings, token.strip()):
        raise unauthenticated(
            "a staff Bearer token is needed", "cần mã truy cập của cán bộ (Bearer)"
        )
