"""The API's errors: one JSON shape, ``{"error", "message", "message_vi"}``, the right status.

``ApiError`` carries the status, a stable machine code (the kiosk's client switches on it), an
English and a Vietnamese message for the log and the staff, and optional extra fields
(``problems`` for a refused dossier). ``install_handlers(app)`` makes FastAPI's own errors
(unknown route, bad query parameter, wrong method) answer in the same shape.

Codes::

    400 bad_request               a header or body that cannot be read
    401 unauthenticated           missing, unknown or wrong credentials; stale timestamp;
        replayed_request          a nonce already used
    403 forbidden                 a kiosk asking for another kiosk's data, a spent token
    404 not_found                 no such dossier, document, kiosk or command
    409 invalid_transition        (staff) that state cannot follow the current one
    413 too_large                 an attachment or the request above the limit
    422 invalid_request           a parameter or body that does not validate
        invalid_dossier_code      a malformed dossier code
        dossier_rejected          the dossier is refused; ``problems`` says why
        idempotency_conflict      the Idempotency-Key was used for another dossier
        presence_refused          the chip's proof does not hold
    503 unavailable               the database or the storage cannot be used right now
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """An error answer of the API."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        message_vi: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.message_vi = message_vi
        self.headers = headers
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "message": self.message,
            "message_vi": self.message_vi,
            **self.extra,
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def unauthenticated(message: str, message_vi: str, code: str = "unauthenticated") -> ApiError:
    return ApiError(401, code, message, message_vi)


def forbidden(message: str, message_vi: str) -> ApiError:
    return ApiError(403, "forbidden", message, message_vi)


def not_found(message: str, message_vi: str) -> ApiError:
    return ApiError(404, "not_found", message, message_vi)


def rejected(problems: list[str]) -> ApiError:
    return ApiError(
        422,
        "dossier_rejected",
        "the dossier is refused: " + "; ".join(problems),
        "Hồ sơ không được tiếp nhận: " + "; ".join(problems),
        problems=problems,
    )


def unavailable(message: str) -> ApiError:
    return ApiError(
        503,
        "unavailable",
        message,
        "Hệ thống tạm thời không lưu được dữ liệu, vui lòng thử lại sau.",
        headers={"Retry-After": "30"},
    )


_BY_STATUS = {
    400: ("bad_request", "Yêu cầu không đọc được."),
    401: ("unauthenticated", "Chưa xác thực."),
    403: ("forbidden", "Không có quyền."),
    404: ("not_found", "Không tìm thấy."),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ."),
    413: ("too_large", "Dữ liệu gửi lên quá lớn."),
    422: ("invalid_request", "Yêu cầu không hợp lệ."),
}


def install_handlers(app: FastAPI) -> None:
    """Every error of ``app`` answers ``{"error", "message", "message_vi"}``."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, vi = _BY_STATUS.get(exc.status_code, ("error", "Lỗi."))
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return ApiError(exc.status_code, code, message, vi, headers=exc.headers).response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()))
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return ApiError(
            422,
            "invalid_request",
            "the request does not validate: " + "; ".join(problems),
            "Yêu cầu không hợp lệ: " + "; ".join(problems),
            problems=problems,
        ).response()
