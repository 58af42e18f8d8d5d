"""Plug a simulated chip into pcscd through vsmartcard's virtual reader (vpcd).

Debian's ``vsmartcard-vpcd`` adds a PC/SC reader ("Virtual PCD") to pcscd that waits for a
virtual card on TCP port 35963 (0x8C7B). This module is that card's side of the link: it
connects to vpcd and answers what vpcd relays, so the whole real path — pyscard → pcscd → vpcd
driver → here — is exercised with the simulated CCCD.

The vpcd protocol: every message is a 2-byte big-endian length and a payload. A 1-byte payload
is a control code — 0 power off, 1 power on, 2 reset (no answer), 4 "send the ATR" (answered
with the ATR); anything longer is a command APDU, answered with the response APDU. Closing the
connection is the card leaving the reader.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Protocol

from devices.base import CardRemoved

log = logging.getLogger(__name__)

VPCD_PORT = 0x8C7B  # 35963, /etc/reader.conf.d/vpcd
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4


class VirtualChip(Protocol):
    atr: bytes

    def process(self, apdu: bytes) -> bytes: ...

    def power_on(self) -> bytes: ...


class VpcdLinkError(ConnectionError):
    """vpcd is not reachable (pcscd not running, or no vpcd reader configured)."""


def _read_exact(sock: socket.socket, count: int) -> bytes | None:
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data.extend(chunk)
    return bytes(data)


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(len(payload).to_bytes(2, "big") + payload)


class VpcdCard:
    """One simulated chip attached to vpcd until ``stop()`` or until the card leaves."""

    def __init__(self, chip: VirtualChip, host: str = "127.0.0.1", port: int = VPCD_PORT) -> None:
        self.chip = chip
        self.host = host
        self.port = port
        self.apdus = 0
        self._sock: socket.socket | None = None
        self._stop = threading.Event()

    def connect(self, timeout_s: float = 5.0) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        except OSError as exc:
            raise VpcdLinkError(
                f"cannot reach vpcd at {self.host}:{self.port} ({exc}); is pcscd running with "
                "the vsmartcard-vpcd driver?"
            ) from exc
        self._sock.settimeout(0.5)
        log.info("virtual card inserted into vpcd at %s:%d", self.host, self.port)

    def serve(self) -> str:
        """Answer vpcd until stopped; returns why it ended ("stopped", "removed", "closed")."""
        if self._sock is None:
            self.connect()
        sock = self._sock
        assert sock is not None
        try:
            while not self._stop.is_set():
                try:
                    head = _read_exact(sock, 2)
                except TimeoutError:
                    continue
                if head is None:
                    return "closed"
                sock.settimeout(5.0)
                payload = _read_exact(sock, int.from_bytes(head, "big"))
                sock.settimeout(0.5)
                if payload is None:
                    return "closed"
                if len(payload) == 1:
                    self._control(sock, payload[0])
                    continue
                try:
                    answer = self.chip.process(payload)
                except CardRemoved:
                    log.info("virtual card left the reader after %d APDUs", self.apdus)
                    return "removed"
                self.apdus += 1
                _send(sock, answer)
            return "stopped"
        finally:
            self.close()

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == CTRL_ATR:
            _send(sock, self.chip.atr)
        elif code in (CTRL_ON, CTRL_RESET):
            self.chip.power_on()
        elif code == CTRL_OFF:
            pass
        else:
            log.warning("unknown vpcd control code %d", code)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
