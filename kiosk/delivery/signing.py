"""How a kiosk signs its requests to the back office, shared with the reference server.

Every request carries ``X-Kiosk-Id``, ``X-Timestamp``, ``X-Nonce``, ``X-Content-SHA256`` and
``Authorization: KIOSK-HMAC-SHA256 <hex>``, the HMAC-SHA256 with the kiosk's secret of
``method \\n path+query \\n timestamp \\n nonce \\n content-sha256``. The client
(kiosk/delivery/http_client.py) builds the headers; backoffice/auth.py checks them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

AUTH_SCHEME = "KIOSK-HMAC-SHA256"


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def request_signature(
    secret: str, method: str, path_query: str, timestamp: str, nonce: str, content_sha256: str
) -> str:
    """Hex HMAC-SHA256 of ``method \\n path+query \\n timestamp \\n nonce \\n content-sha256``."""
    message = "\n".join([method.upper(), path_query, timestamp, nonce, content_sha256])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_headers(
    kiosk_id: str,
    secret: str,
    method: str,
    path_query: str,
    content_sha256: str = EMPTY_SHA256,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The authentication headers of one request."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(18)
    sig = request_signature(secret, method, path_query, stamp, nonce, content_sha256)
    return {
        "X-Kiosk-Id": kiosk_id,
        "X-Timestamp": stamp,
        "X-Nonce": nonce,
        "X-Content-SHA256": content_sha256,
        "Authorization": f"{AUTH_SCHEME} {sig}",
    }
