"""The citizen's papers on file: asked of the back office once the chip proved the citizen is
here, offered on the documents step instead of capturing the paper again.

The steps, each one call the flow makes (kiosk/flow/kiosk_flow.py)::

    request_challenge(backoffice)          before the card read: the back office's 8-byte
                                           challenge, or None (no papers on file this time)
    ChipService.read(..., aa_challenge=)   the chip signs it in the session that reads DG13,
                                           DG15 and EF.SOD → ``outcome.presence``
    fetch(backoffice, presence, id)        after "this is me": prove_presence, then
                                           documents_on_file → ``PapersOnFile``
    papers_for(requirement, papers)        the documents step: the papers matching a document,
    label(paper)                           shown with their title and date
    use(session, requirement, paper_id)    "Use the copy on file" (the dossier's on_file_ref)
    capture_instead(session, requirement)  back to capturing the paper

Papers on file are a convenience, never a requirement: a back office that is down, slow or that
refuses the proof (a card without Active Authentication where the server requires it, an expired
challenge, a copied card) gives ``PapersOnFile`` with ``available = False`` and the reason in the
log; the citizen captures the papers as before. Nothing here raises to the screens except
``use`` given a paper that was not offered (a programming error).

Errors::

    KioskError
     └── PaperNotOffered   ``use`` with a paper that is not one of the citizen's papers for
                           that document, or outside the documents step
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import date
from typing import Any

from kiosk.errors import KioskError
from kiosk.infra.text import format_date, nfc
from kiosk.session.state import Step

log = logging.getLogger(__name__)

CHALLENGE_WAIT_S = 3.0  # the card read does not wait longer than this for the challenge


class PaperNotOffered(KioskError):
    """A paper that is not one of the citizen's papers on file for this document."""


@dataclass(frozen=True)
class PapersOnFile:
    """What the back office holds for the citizen, or why nothing is shown (``reason``, for
    the log only: the citizen simply captures the papers)."""

    papers: tuple[Any, ...] = ()  # kiosk.delivery.http_client.PaperOnFile, newest first
    available: bool = False
    reason: str = ""
    assurance: str | None = None  # "active" or "passive", from the presence proof


def not_available(reason: str, level: int = logging.INFO) -> PapersOnFile:
    log.log(level, "papers on file not available: %s", reason)
    return PapersOnFile(reason=reason)


# --- before and after the card read --------------------------------------------------------


def request_challenge(backoffice: Any, *, wait_s: float = CHALLENGE_WAIT_S) -> bytes | None:
    """The back office's presence challenge, for the chip to sign during the read; None when
    this back office keeps no papers, is unreachable, or does not answer within ``wait_s``
    (the read then goes on as before, without papers on file)."""
    ask = getattr(backoffice, "presence_challenge", None)
    if ask is None:
        log.info("papers on file: %s keeps no papers", type(backoffice).__name__)
        return None
    future = _challenge_worker().submit(ask)
    try:
        return bytes(future.result(timeout=wait_s).challenge)
    except FutureTimeout:
        log.warning("papers on file: no presence challenge within %.1f s", wait_s)
    except KioskError as exc:  # BackOfficeError and its tree
        log.warning("papers on file: no presence challenge: %s", exc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # not the API's answer
        log.warning("papers on file: unexpected answer to the challenge request: %r", exc)
    return None


_worker: ThreadPoolExecutor | None = None
_worker_lock = threading.Lock()


def _challenge_worker() -> ThreadPoolExecutor:
    """One long-lived thread asks for challenges: the HTTP client keeps one connection for it
    (a thread per read would leave a client session behind each time)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="presence-challenge")
        return _worker


def fetch(backoffice: Any, presence: Any, id_number: str) -> PapersOnFile:
    """Prove the citizen's presence with the chip's answer, then list their papers on file.

    ``presence`` is ``ChipOutcome.presence`` (kiosk/identity/chip_service.py); it is wiped once
    sent,
    whatever the answer. Never raises: every failure is a ``PapersOnFile`` not available.
    """
    if presence is None:
        return not_available("the card read carries no presence proof (no challenge)")
    if getattr(presence, "wiped", False):
        return not_available("the presence proof was already used")
    if not hasattr(backoffice, "prove_presence"):
        presence.wipe()
        return not_available(f"{type(backoffice).__name__} keeps no papers")
    try:
        proof = backoffice.prove_presence(
            id_number,
            challenge=presence.challenge,
            aa_signature=presence.aa_signature,
            dg15=presence.dg15,
            dg14=presence.dg14,
            sod=presence.sod,
            dg13=presence.dg13,
        )
        papers = backoffice.documents_on_file(id_number, proof.token)
    except KioskError as exc:  # PresenceRefused, BackOfficeUnavailable, BackOfficeAuthError, …
        kind = type(exc).__name__
        if presence.aa_signature is None:
            kind += ", the card made no Active Authentication"
        return not_available(f"{kind}: {exc}", logging.WARNING)
    except (KeyError, TypeError, ValueError) as exc:  # an answer that is not the API's
        return not_available(f"unexpected answer from the back office: {exc!r}", logging.WARNING)
    finally:
        presence.wipe()
    ordered = tuple(sorted(papers, key=lambda p: str(p.date), reverse=True))
    log.info("papers on file: %d (presence proved, assurance %s)", len(ordered), proof.assurance)
    return PapersOnFile(ordered, True, "", proof.assurance)


# --- the documents step --------------------------------------------------------------------


def papers_for(requirement: Any, papers: Iterable[Any]) -> list[Any]:
    """The papers whose kind is the document's ``on_file_kind`` (newest first); none for the
    declaration or a document the administration does not keep."""
    kind = getattr(requirement, "on_file_kind", None)
    if not kind or getattr(requirement, "is_declaration", False):
        return []
    found = [p for p in papers if p.kind == kind]
    return sorted(found, key=lambda p: str(p.date), reverse=True)


def match(requirements: Iterable[Any], papers: Sequence[Any]) -> dict[str, list[Any]]:
    """Requirement id → its papers on file, for the documents that have at least one."""
    matches = {}
    for requirement in requirements:
        found = papers_for(requirement, papers)
        if found:
            matches[requirement.id] = found
    return matches


def label(paper: Any) -> str:
    """A paper as the citizen reads it: its title (NFC) and its date, dd/mm/yyyy."""
    title = nfc(str(paper.title))
    try:
        day = format_date(date.fromisoformat(str(paper.date)))
    except ValueError:
        day = str(paper.date)
    return f"{title} ({day})"


def reference(paper: Any) -> str:
    """A paper as the officer finds it in the declaration: title, date and its id on file."""
    return f"{label(paper)}, mã {paper.id}"


def session_papers(session: Any) -> tuple[Any, ...]:
    """The papers the session holds: ``session.data.papers`` is the ``PapersOnFile`` that
    ``fetch`` gave (None before, or when the card proved nothing); a plain list works too."""
    found = session.data.papers
    return tuple(getattr(found, "papers", found) or ())


def chosen_paper(session: Any, requirement_id: str) -> Any:
    """The paper on file the citizen chose for this document, or None."""
    paper_id = session.data.on_file.get(requirement_id)
    if not paper_id:
        return None
    return next((p for p in session_papers(session) if p.id == paper_id), None)


def use(session: Any, requirement: Any, paper_id: str) -> Any:
    """The document is the paper on file ``paper_id``: pages captured for it are dropped (their
    files deleted) and the dossier will carry ``on_file_ref = paper_id``. Returns the paper.
    ``requirement`` None (not a document of the procedure) is refused like a paper not offered.
    """
    if session.step is not Step.DOCUMENTS:
        raise PaperNotOffered(
            f"a paper on file is chosen at the documents step, not {session.step.value}"
        )
    if requirement is None:
        raise PaperNotOffered("not a document of the current procedure")
    offered = papers_for(requirement, session_papers(session))
    paper = next((p for p in offered if p.id == paper_id), None)
    if paper is None:
        raise PaperNotOffered(f"paper {paper_id!r} is not on file for document {requirement.id!r}")
    while session.data.pages.get(requirement.id):
        session.remove_last_page(requirement.id)
    session.data.on_file[requirement.id] = paper.id
    session.touch()
    return paper


def capture_instead(session: Any, requirement_id: str) -> None:
    """Forget the paper on file chosen for this document: the citizen captures it."""
    session.data.on_file.pop(requirement_id, None)
    session.touch()
