"""The staff page (trang cán bộ): server-rendered HTML in Vietnamese.

``/staff`` asks for the staff token once and keeps a session cookie (HttpOnly, SameSite=Strict,
8 hours; its value is an expiry signed with HMAC under the staff token, so changing the token
ends every session). Every form carries a CSRF field derived from the session. Pages: the
dossiers (filters, pages of 50), one dossier (declaration, attachments, history, move it to a
next state with a note for the citizen), a citizen's papers on file (add a PDF), and the fleet
of kiosks (``/staff/kiosks``): each kiosk's last heartbeat, devices, paper, outbox, today's
figures, mode, last screenshot and alerts (backoffice/fleet_alerts.py), a command to queue,
the recent commands.

Only the fleet page has a script (static/fleet.js, no framework, nothing from another site):
every few seconds it fetches ``/staff/kiosks.json`` (the same rows, rendered by the same
template, behind the same session) and swaps the cells that changed, so an operator sees a
kiosk turn to an alert without reloading. Without the script the page is the same, as of
its loading.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from backoffice import dossiers, fleet, presence
from backoffice.auth import KIOSK_ID_RE, check_staff_token
from backoffice.context import Context
from backoffice.errors import ApiError
from backoffice.fleet_alerts import fleet_counts, kiosk_summary, time_vi
from backoffice.storage import StorageError
from kiosk.infra.clock import VIETNAM_TZ
from kiosk.infra.text import format_vnd

HERE = Path(__file__).resolve().parent
COOKIE = "motcua_staff"
SESSION_S = 8 * 3600
PAGE = 50
FLEET_REFRESH_S = 5  # the fleet page's refresh; ``?refresh=N`` (1 to 300) for another
STATE_VI = {
    "received": "Đã tiếp nhận",
    "in_progress": "Đang giải quyết",
    "needs_more": "Cần bổ sung giấy tờ",
    "result_ready": "Đã có kết quả",
    "returned": "Đã trả kết quả",
}

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["STATE_VI"] = STATE_VI
templates.env.filters["vnd"] = lambda n: format_vnd(int(n))


def _ctx(request: Request) -> Context:
    return request.app.state.ctx


def _sign(token: str, text: str) -> str:
    return hmac.new(token.encode(), text.encode(), hashlib.sha256).hexdigest()


def _session(request: Request) -> str | None:
    """The valid session cookie, or None."""
    token = _ctx(request).settings.staff_token
    value = request.cookies.get(COOKIE, "")
    expiry, _, mac = value.partition(".")
    if not token or not expiry.isdigit() or int(expiry) < time.time():
        return None
    if not hmac.compare_digest(mac, _sign(token, f"session:{expiry}")):
        return None
    return value


def _csrf(request: Request, session: str) -> str:
    return _sign(_ctx(request).settings.staff_token, f"csrf:{session}")


class _NotLoggedIn(Exception):
    pass


def _need_session(request: Request) -> str:
    session = _session(request)
    if session is None:
        raise _NotLoggedIn
    return session


async def _form(request: Request, session: str) -> Any:
    form = await request.form(max_files=1, max_fields=20)
    if not hmac.compare_digest(str(form.get("csrf", "")), _csrf(request, session)):
        raise ApiError(403, "forbidden", "bad CSRF token", "phiên làm việc không hợp lệ")
    return form


def _page(request: Request, name: str, session: str | None, **context: Any) -> HTMLResponse:
    context["csrf"] = _csrf(request, session) if session else ""
    return templates.TemplateResponse(request, name, context)


def _back(url: str, **flash: str) -> RedirectResponse:
    if flash:
        url += ("&" if "?" in url else "?") + urlencode(flash)
    return RedirectResponse(url, status_code=303)


def _fleet(ctx: Context) -> tuple[list[dict[str, Any]], datetime]:
    """Every kiosk as the fleet page shows it, and the time it was read."""
    now = datetime.fromtimestamp(ctx.clock(), VIETNAM_TZ)
    return [kiosk_summary(k, now) for k in fleet.list_kiosks(ctx)], now


def install(app: FastAPI) -> None:
    """Add the staff pages and their static files to ``app``."""
    app.mount("/staff/static", StaticFiles(directory=str(HERE / "static")), name="staff-static")

    @app.exception_handler(_NotLoggedIn)
    async def _login_first(request: Request, _exc: _NotLoggedIn) -> Response:
        return _back("/staff")

    @app.get("/staff", include_in_schema=False)
    async def staff_home(request: Request) -> Response:
        if _session(request):
            return _back("/staff/dossiers")
        enabled = bool(_ctx(request).settings.staff_token)
        return _page(
            request, "login.html", None, enabled=enabled, error=request.query_params.get("error")
        )

    @app.post("/staff/login", include_in_schema=False)
    async def staff_login(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        settings = _ctx(request).settings
        if not check_staff_token(settings, str(form.get("token", ""))):
            return _back("/staff", error="Mã truy cập không đúng.")
        expiry = str(int(time.time()) + SESSION_S)
        response = _back("/staff/dossiers")
        response.set_cookie(
            COOKIE,
            f"{expiry}.{_sign(settings.staff_token, f'session:{expiry}')}",
            max_age=SESSION_S,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/staff/logout", include_in_schema=False)
    async def staff_logout(request: Request) -> Response:
        response = _back("/staff")
        response.delete_cookie(COOKIE)
        return response

    @app.get("/staff/dossiers", include_in_schema=False)
    def staff_dossiers(request: Request) -> Response:
        session = _need_session(request)
        q = request.query_params
        try:
            day_from = date.fromisoformat(q["from"]) if q.get("from") else None
            day_to = date.fromisoformat(q["to"]) if q.get("to") else None
        except ValueError:
            day_from = day_to = None
        page = max(int(q.get("page", "1")) if q.get("page", "1").isdigit() else 1, 1)
        ctx = _ctx(request)
        result = dossiers.list_dossiers(
            ctx,
            kiosk=q.get("kiosk") or None,
            procedure=q.get("procedure") or None,
            state=q.get("state") or None,
            received_from=day_from,
            received_to=day_to,
            limit=PAGE,
            offset=(page - 1) * PAGE,
        )
        filters = {k: q.get(k, "") for k in ("kiosk", "procedure", "state", "from", "to")}
        return _page(
            request,
            "dossiers.html",
            session,
            result=result,
            filters=filters,
            page=page,
            pages=max(1, -(-result["total"] // PAGE)),
            query=urlencode({k: v for k, v in filters.items() if v}),
            procedures=ctx.catalog.procedures("vi"),
        )

    @app.get("/staff/dossiers/{code}", include_in_schema=False)
    def staff_dossier(request: Request, code: str) -> Response:
        session = _need_session(request)
        detail = dossiers.dossier_detail(_ctx(request), code)
        try:
            procedure = _ctx(request).catalog.get(detail["procedure_code"])
        except Exception:  # noqa: BLE001 - a procedure since removed from the catalog
            procedure = None
        return _page(
            request,
            "dossier.html",
            session,
            d=detail,
            procedure=procedure,
            flash=request.query_params.get("msg"),
        )

    @app.post("/staff/dossiers/{code}/status", include_in_schema=False)
    async def staff_move(request: Request, code: str) -> Response:
        session = _need_session(request)
        form = await _form(request, session)
        try:
            await run_in_threadpool(
                dossiers.advance,
                _ctx(request),
                code,
                str(form.get("state", "")),
                str(form.get("note", "")),
                "staff page",
            )
        except ApiError as e:
            return _back(f"/staff/dossiers/{code}", msg=e.message_vi)
        return _back(f"/staff/dossiers/{code}", msg="Đã cập nhật trạng thái.")

    @app.get("/staff/dossiers/{code}/files/{sha256}", include_in_schema=False)
    def staff_file(request: Request, code: str, sha256: str) -> Response:
        _need_session(request)
        path = dossiers.attachment_path(_ctx(request), code, sha256)
        return FileResponse(path, media_type="application/pdf")

    @app.get("/staff/papers", include_in_schema=False)
    def staff_papers(request: Request) -> Response:
        session = _need_session(request)
        citizen = request.query_params.get("citizen", "").strip()
        papers = presence.list_papers(_ctx(request), citizen) if citizen else []
        return _page(
            request,
            "papers.html",
            session,
            citizen=citizen,
            papers=papers,
            kinds=presence.PAPER_KINDS,
            flash=request.query_params.get("msg"),
        )

    @app.post("/staff/papers", include_in_schema=False)
    async def staff_add_paper(request: Request) -> Response:
        session = _need_session(request)
        form = await _form(request, session)
        ctx = _ctx(request)
        citizen = str(form.get("citizen", "")).strip()
        upload = form.get("file")
        back = f"/staff/papers?{urlencode({'citizen': citizen})}"
        if upload is None or isinstance(upload, str):
            return _back(back, msg="Chưa chọn tệp PDF.")
        writer = ctx.blobs.writer(ctx.settings.max_attachment_bytes)
        head = b""
        try:
            while chunk := await upload.read(1 << 20):
                head = head or chunk[:8]
                writer.write(chunk)
            presence.check_paper(
                citizen, str(form.get("kind", "")), str(form.get("title", "")), head
            )
            digest = await run_in_threadpool(writer.commit)
        except ApiError as e:
            writer.discard()
            return _back(back, msg=e.message_vi)
        except StorageError:
            writer.discard()
            return _back(back, msg="Tệp quá lớn hoặc không lưu được.")
        await run_in_threadpool(
            presence.record_paper,
            ctx,
            citizen,
            str(form.get("kind")),
            str(form.get("title")),
            digest,
            writer.size,
            "staff",
        )
        return _back(back, msg="Đã thêm giấy tờ.")

    @app.get("/staff/kiosks", include_in_schema=False)
    def staff_kiosks(request: Request) -> Response:
        session = _need_session(request)
        ctx = _ctx(request)
        rows, now = _fleet(ctx)
        refresh = request.query_params.get("refresh", "")
        return _page(
            request,
            "kiosks.html",
            session,
            kiosks=rows,
            counts=fleet_counts(rows),
            updated=time_vi(now),
            refresh_s=min(max(int(refresh), 1), 300) if refresh.isdigit() else FLEET_REFRESH_S,
            commands=fleet.recent_commands(ctx),
            known=fleet.KNOWN_COMMANDS,
            flash=request.query_params.get("msg"),
        )

    @app.get("/staff/kiosks.json", include_in_schema=False)
    def staff_kiosks_json(request: Request) -> Response:
        """The fleet page's rows for its script: each kiosk's summary and its row's HTML."""
        session = _session(request)
        if session is None:  # a script cannot follow the login page: say so plainly
            return JSONResponse(
                {
                    "error": "not_logged_in",
                    "message_vi": "Phiên làm việc đã hết hạn: hãy tải lại trang và đăng nhập.",
                },
                status_code=401,
                headers={"Cache-Control": "no-store"},
            )
        rows, now = _fleet(_ctx(request))
        row_html = templates.get_template("fleet_row.html").module.kiosk_row  # type: ignore[attr-defined]
        csrf = _csrf(request, session)
        for row in rows:
            row["html"] = str(row_html(row, csrf, fleet.KNOWN_COMMANDS))
        return JSONResponse(
            {
                "generated_at": now.isoformat(timespec="seconds"),
                "updated": time_vi(now),
                "counts": fleet_counts(rows),
                "kiosks": rows,
            },
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/staff/kiosks/{kiosk_id}/screenshot", include_in_schema=False)
    def staff_screenshot(request: Request, kiosk_id: str) -> Response:
        """The kiosk's last screenshot (PNG; 404: none yet)."""
        _need_session(request)
        found = fleet.screenshot(_ctx(request), kiosk_id) if KIOSK_ID_RE.match(kiosk_id) else None
        if found is None:
            return Response(status_code=404)
        png, _received_at, sha256 = found
        return Response(
            png,
            media_type="image/png",
            headers={"Cache-Control": "private, max-age=300", "ETag": f'"{sha256}"'},
        )

    @app.post("/staff/kiosks/{kiosk_id}/commands", include_in_schema=False)
    async def staff_command(request: Request, kiosk_id: str) -> Response:
        session = _need_session(request)
        form = await _form(request, session)
        command = str(form.get("command", ""))
        # the form's message fields go only with the command that takes them (out-of-service)
        args = {
            name: str(form.get(name))
            for name in fleet.COMMAND_ARGS.get(command, ())
            if str(form.get(name) or "").strip()
        }
        try:
            await run_in_threadpool(
                fleet.queue_command, _ctx(request), kiosk_id, command, args, "staff page"
            )
        except ApiError as e:
            return _back("/staff/kiosks", msg=e.message_vi)
        return _back("/staff/kiosks", msg=f"Đã gửi lệnh cho ki-ốt {kiosk_id}.")
