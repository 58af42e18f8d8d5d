"""The MAC a back office puts on each command it hands a kiosk, shared with the reference server.

A command is authenticated apart from the HTTPS answer that carries it (a proxy, a cache, a
compromised front end or a row slipped into the commands table cannot make a kiosk act)::

    mac = hex HMAC-SHA256(the kiosk's secret, command_message(...))

    command_message = b"motcua-kiosk/command/1\\n" + canonical JSON of
        {"args": {...}, "command": "restart", "created_at": "2026-12-07T09:30:00+07:00",
         "id": 42, "kiosk_id": "KIOSK-01"}

The canonical JSON has sorted keys, no spaces, ``ensure_ascii=False``, UTF-8; ``created_at`` is
the text exactly as the server sent it. The back office computes ``command_mac``; the kiosk
checks it with ``HttpBackOffice.mac_is_valid`` (constant-time), which holds the secret. The
secret is the one the kiosk's requests are signed with (kiosk/delivery/signing.py); the prefix
keeps a command's MAC from ever being mistaken for a request signature, whose message is plain
text lines. The kiosk id in the message binds a command to one kiosk: a command MAC'd for
another kiosk does not verify there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, Final

DOMAIN: Final = b"motcua-kiosk/command/1\n"


def command_message(
    command_id: int, kiosk_id: str, command: str, args: Mapping[str, Any], created_at: str
) -> bytes:
    """The bytes a command's MAC covers."""
    body = {
        "args": dict(args),
        "command": command,
        "created_at": created_at,
        "id": int(command_id),
        "kiosk_id": kiosk_id,
    }
    text = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return DOMAIN + text.encode("utf-8")


def command_mac(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` under the kiosk's ``secret``."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
