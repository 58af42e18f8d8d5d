"""Calling numbers aloud: "Mời số I-N không một hai đến quầy số ba" with espeak-ng.

``announcement_text(number, counter)`` spells the ticket: letters by their Vietnamese names
(I "i", N "en nờ", U "u", B "bê", C "xê", …) and digits one by one ("không một hai"), so "IN-012"
can never be heard as a word or as "mười hai"; the counter is said as a number ("quầy số mười
hai"). ``Announcer`` speaks on its own worker thread: ``announce()`` returns at once, each
announcement is said ``repeat`` times, and a missing or failing espeak-ng is logged (once) and
never raised, so the queue keeps working silently. ``synthesize_wav()`` writes the speech to a
WAV file instead (``espeak-ng -w``), for tests and for a board that plays the sound itself.

Needs the Debian package ``espeak-ng`` (it carries the Vietnamese voices vi,
vi-vn-x-central and vi-vn-x-south).

Exceptions::

    KioskError
     └── VoiceError     (operator) espeak-ng is missing or failed (only synthesize_wav raises)
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import threading
import unicodedata
from contextlib import suppress
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.tickets.config import VoiceConfig

log = logging.getLogger(__name__)

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_LETTERS = {
    "A": "a",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "Đ": "đê",
    "E": "e",
    "F": "ép",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "J": "gi",
    "K": "ca",
    "L": "e lờ",
    "M": "em mờ",
    "N": "en nờ",
    "O": "o",
    "P": "pê",
    "Q": "quy",
    "R": "e rờ",
    "S": "ét xì",
    "T": "tê",
    "U": "u",
    "V": "vê",
    "W": "vê kép",
    "X": "ích xì",
    "Y": "i dài",
    "Z": "dét",
}
_TIMEOUT_S = 30.0
_QUEUE_SIZE = 32


class VoiceError(KioskError):
    """espeak-ng is missing or failed."""

    msgid = "This kiosk is not set up correctly. Please ask the staff at the counter for help."


def spell_ticket(number: str) -> str:
    """ "IN-U03" → "i, en nờ, u, không, ba": letters by name, digits one by one."""
    words: list[str] = []
    for ch in unicodedata.normalize("NFC", number.upper()):
        if ch.isdigit():
            words.append(_DIGITS[int(ch)])
        elif ch in _LETTERS:
            words.append(_LETTERS[ch])
    return ", ".join(words)


def say_number(n: int) -> str:
    """A counter number (0 to 99) in Vietnamese words: 3 "ba", 10 "mười", 15 "mười lăm",
    21 "hai mươi mốt", 24 "hai mươi tư"."""
    if not 0 <= n <= 99:
        raise ValueError(f"counter number {n} is outside 0..99")
    tens, unit = divmod(n, 10)
    if tens == 0:
        return _DIGITS[unit]
    head = "mười" if tens == 1 else f"{_DIGITS[tens]} mươi"
    if unit == 0:
        return head
    if unit == 5:
        tail = "lăm"
    elif unit == 1 and tens >= 2:
        tail = "mốt"
    elif unit == 4 and tens >= 2:
        tail = "tư"
    else:
        tail = _DIGITS[unit]
    return f"{head} {tail}"


def announcement_text(number: str, counter: int) -> str:
    """What is said: "Mời số i, en nờ, không, một, hai, đến quầy số ba." (NFC)."""
    text = f"Mời số {spell_ticket(number)}. Đến quầy số {say_number(counter)}."
    return unicodedata.normalize("NFC", text)


def board_text(number: str, counter: int) -> str:
    """What is shown with the voice: "Mời số IN-012 đến quầy số 3"."""
    return f"Mời số {number} đến quầy số {counter}"


def espeak_command(config: VoiceConfig, text: str, wav: Path | None = None) -> list[str]:
    """The espeak-ng command line for ``text`` (to the speakers, or to ``wav``)."""
    cmd = [config.command, "-v", config.voice, "-s", str(config.speed_wpm)]
    if wav is not None:
        cmd += ["-w", str(wav)]
    return [*cmd, "--", text]


def synthesize_wav(text: str, wav: Path, config: VoiceConfig | None = None) -> Path:
    """Write ``text`` spoken by espeak-ng to ``wav``; VoiceError if it cannot."""
    config = config or VoiceConfig()
    wav = Path(wav)
    try:
        done = subprocess.run(
            espeak_command(config, text, wav),
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as e:
        raise VoiceError(
            f"{config.command} is not installed (Debian: apt install espeak-ng)"
        ) from e
    except subprocess.TimeoutExpired as e:
        raise VoiceError(f"{config.command} took longer than {_TIMEOUT_S:g} s") from e
    if done.returncode != 0 or not wav.exists() or wav.stat().st_size <= 44:
        detail = done.stderr.decode(errors="replace").strip()
        raise VoiceError(f"{config.command} failed (exit {done.returncode}): {detail}")
    return wav


def voice_available(config: VoiceConfig | None = None) -> bool:
    """True when the configured synthesiser is on the PATH."""
    return shutil.which((config or VoiceConfig()).command) is not None


class Announcer:
    """Says calls on a worker thread; quiet (logged) when espeak-ng is missing or fails."""

    def __init__(self, config: VoiceConfig | None = None) -> None:
        self.config = config or VoiceConfig()
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=_QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._warned = False
        self.spoken: list[str] = []  # what was said, newest last (for status and tests)

    def announce(self, number: str, counter: int) -> None:
        """Queue "Mời số … đến quầy số …"; returns at once."""
        if not self.config.enabled:
            return
        self.say(announcement_text(number, counter))

    def say(self, text: str) -> None:
        """Queue any text; dropped (logged) when the queue is full."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="announcer", daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait(text)
        except queue.Full:
            log.warning("announcement dropped, %d waiting: %s", _QUEUE_SIZE, text)

    def close(self, timeout: float = 5.0) -> None:
        """Finish what is queued (up to ``timeout``) and stop the worker."""
        if self._thread is None:
            return
        with suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)
        self._thread = None

    def _work(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            for _ in range(self.config.repeat):
                if not self._speak(text):
                    break
            self.spoken.append(text)
            del self.spoken[:-50]

    def _speak(self, text: str) -> bool:
        try:
            done = subprocess.run(
                espeak_command(self.config, text),
                capture_output=True,
                timeout=_TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError:
            if not self._warned:
                log.warning(
                    "%s is not installed (apt install espeak-ng): calls are not announced",
                    self.config.command,
                )
                self._warned = True
            return False
        except (OSError, subprocess.TimeoutExpired) as e:
            log.warning("announcement failed: %s", e)
            return False
        if done.returncode != 0:
            log.warning(
                "%s exited %d: %s",
                self.config.command,
                done.returncode,
                done.stderr.decode(errors="replace").strip(),
            )
            return False
        return True
