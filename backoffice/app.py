"""The FastAPI application of the reference back office: ``create_app(settings)``.

The OpenAPI document is served at ``/api/v1/openapi.json`` and kept in the repository as
backoffice/openapi.json (a test checks they are equal). After changing the API, regenerate it::

    .venv/bin/python -m backoffice.app --openapi > backoffice/openapi.json
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from backoffice import api, staff
from backoffice.context import Context
from backoffice.errors import ApiError, install_handlers, unavailable
from backoffice.settings import Settings
from backoffice.storage import StorageError

log = logging.getLogger(__name__)

OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.json"
DESCRIPTION = """\
The back-office API of motcua-kiosk, the self-service kiosk of a Vietnamese one-stop-shop
(Bộ phận Một cửa): kiosks submit dossiers (hồ sơ), look them up, read a citizen's papers on
file after proving the citizen's presence with the chip of their card, report their status and
fetch the commands staff queue for them.

Errors are JSON `{"error": code, "message": English, "message_vi": Vietnamese}` (plus
`problems` for a refused dossier). Dossier codes follow Thông tư 01/2018/TT-VPCP:
`AGENCY-YYMMDD-NNNN`.
"""

SECURITY_SCHEMES = {
    "KioskSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": (
            "Every kiosk request is signed with the kiosk's secret. Headers: X-Kiosk-Id; "
            "X-Timestamp (Unix seconds, within ±300 s of the server's clock); X-Nonce (16-128 "
            "of [A-Za-z0-9_-], never reused); X-Content-SHA256 (hex SHA-256 of the body bytes "
            "as sent, of the empty string without a body); Authorization: "
            "`KIOSK-HMAC-SHA256 <hex>`, the HMAC-SHA256 under the secret of "
            "`METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nCONTENT-SHA256`. A reused nonce is "
            "refused with 401 `replayed_request`, a timestamp out of the window with 401 "
            "`stale_request`."
        ),
    },
    "StaffBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "The staff/admin token of the server's settings (BACKOFFICE_STAFF_TOKEN).",
    },
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    context: Context | None = None,
) -> FastAPI:
    """The application over the database, storage and catalog ``settings`` name."""
    ctx = context or Context.open(settings, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.close()

    app = FastAPI(
        title="motcua-kiosk back office",
        version=api.API_VERSION,
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_handlers(app)

    @app.exception_handler(OperationalError)
    async def _db_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error: %s", exc)
        return unavailable(f"the database cannot be used now: {exc.orig}").response()

    @app.exception_handler(StorageError)
    async def _storage_down(_request: Request, exc: StorageError) -> JSONResponse:
        log.error("storage error: %s", exc)
        return unavailable(f"the storage cannot be used now: {exc}").response()

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return ApiError(
            500,
            "internal_error",
            f"unexpected error: {type(exc).__name__}",
            "lỗi không mong đợi ở máy chủ",
        ).response()

    app.include_router(api.router)
    staff.install(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document (it does not depend on the settings)."""
    with tempfile.TemporaryDirectory() as tmp:
        import base64
        import os

        key = base64.b64encode(os.urandom(32)).decode()
        app = create_app(Settings.for_folder(Path(tmp), secrets_key=key))
        try:
            return app.openapi()
        finally:
            app.state.ctx.close()


def main(argv: list[str]) -> int:
    import json

    if argv != ["--openapi"]:
        print(
            "usage: python -m backoffice.app --openapi > backoffice/openapi.json", file=sys.stderr
        )
        return 2
    print(json.dumps(openapi_document(), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
