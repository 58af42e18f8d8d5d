"""Test helper: the real reference back office in a subprocess, on a loopback port, over a
temporary SQLite file.

    server = BackofficeServer(tmp_path / "bo", pki_dir=pki)   # settings written there
    secret = server.add_kiosk("KIOSK-01")                     # before or after start
    server.start()                                            # waits until it answers
    ... HttpBackOffice(server.url, "KIOSK-01", secret) ...
    server.kill()  /  server.stop()  /  server.start()        # same port again

The listening socket is bound here and handed to the server (``serve --fd``), so there is no
race for the port and a restart gets the same one. ``pid`` lets a test watch the server's
memory; ``context()`` opens the same database and storage in-process to check what was stored.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from kiosk import paths

STAFF_TOKEN = "staff-token-for-tests-0123456789"


class BackofficeServer:
    def __init__(
        self,
        folder: Path,
        *,
        pki_dir: Path | None = None,
        require_active_auth: bool = True,
        procedures_dir: Path | None = None,
        max_attachment_bytes: int | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config = self.folder / "backoffice.toml"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.folder / "server.log"
        key = base64.b64encode(os.urandom(32)).decode()
        lines = [
            f'data_dir = "{self.folder}"',
            'agency_code = "000.00.08.H21"',
            f'procedures_dir = "{procedures_dir or paths.CONFIG_DIR / "procedures"}"',
            f'holidays_file = "{paths.CONFIG_DIR / "holidays.toml"}"',
            'trust_dir = ""',
            f'staff_token = "{STAFF_TOKEN}"',
            f'secrets_key = "{key}"',
            f"require_active_auth = {str(require_active_auth).lower()}",
        ]
        if pki_dir is not None:
            lines += [f'test_pki_dir = "{pki_dir}"', "allow_test_csca = true"]
        if max_attachment_bytes is not None:
            lines.append(f"max_attachment_bytes = {max_attachment_bytes}")
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def settings(self) -> Any:
        from backoffice.settings import load_settings

        return load_settings(self.config, env={})

    def context(self) -> Any:
        from backoffice.context import Context

        return Context.open(self.settings())

    def add_kiosk(self, kiosk_id: str) -> str:
        from backoffice.fleet import add_kiosk

        ctx = self.context()
        try:
            return add_kiosk(ctx, kiosk_id, rotate=True)
        finally:
            ctx.close()

    def start(self, timeout_s: float = 30.0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
        fd = sock.fileno()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kiosk.cli.backoffice",
                    "backoffice",
                    "serve",
                    "--config",
                    str(self.config),
                    "--fd",
                    str(fd),
                ],
                pass_fds=[fd],
                env=env,
                stdout=log,
                stderr=log,
                cwd=paths.PROJECT_ROOT,
            )
        sock.close()
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the back office exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the back office did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> BackofficeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- sample dossiers -------------------------------------------------------------------------


def sample_declaration(procedure: Any) -> dict[str, Any]:
    """Answers to the procedure's form as the kiosk's form engine makes them from typing: they
    pass the back office's checks, which are the kiosk's own (formats, dates, place names)."""
    from kiosk.demo.citizens import sample_draft
    from kiosk.forms.spec import FormSpec

    form = FormSpec.from_definition(procedure.form)
    answers, problems = form.convert_and_validate(sample_draft(form))
    assert problems == {}, problems
    return answers


def sample_pdf(path: Path, text: str = "trang") -> Path:
    """A small one-page PDF file (valid structure, a line of text)."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def pick_procedure(catalog: Any, *, with_on_file_kind: bool = False) -> Any:
    """The first procedure (by code), or the first with a required document usually on file."""
    for procedure in sorted(catalog.procedures(), key=lambda p: p.code):
        kinds = [getattr(d, "on_file_kind", None) for d in procedure.documents if d.required]
        if with_on_file_kind and not any(kinds):
            continue
        return procedure
    raise LookupError("no procedure of the catalog has a required document usually on file")


def sample_dossier(
    catalog: Any,
    kiosk_id: str,
    folder: Path,
    *,
    procedure: Any = None,
    applicant_id: str = "001090012345",
    pages: int = 1,
    **overrides: Any,
) -> Any:
    """A dossier every check of the back office accepts: a filled declaration and a small PDF
    for each required document."""
    from datetime import datetime

    from kiosk.dossier.model import Applicant, Attachment, DossierSubmission
    from kiosk.infra.clock import VIETNAM_TZ

    procedure = procedure or pick_procedure(catalog)
    folder.mkdir(parents=True, exist_ok=True)
    attachments = []
    for doc in procedure.documents:
        if not doc.required:
            continue
        files = []
        for n in range(pages):
            tag = os.urandom(4).hex()  # every scan differs
            files.append(sample_pdf(folder / f"{doc.id}-{n}-{tag}.pdf", f"{doc.id} {n} {tag}"))
        attachments.append(Attachment(doc.id, doc.title_vi, files))
    fields: dict[str, Any] = {
        "procedure_code": procedure.code,
        "kiosk_id": kiosk_id,
        "applicant": Applicant(applicant_id, "Nguyễn Văn An"),
        "declaration": sample_declaration(procedure),
        "attachments": attachments,
        "created_at": datetime.now(VIETNAM_TZ),
    }
    fields.update(overrides)
    return DossierSubmission(**fields)
