"""The HTTP side of the error hierarchy: one table from error class to status, one shape.

Every 4xx/5xx answer of the server is ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from drago.errors import (
    BackendError,
    Busy,
    ConfigError,
    Conflict,
    DatabaseUnavailable,
    DragoError,
    Forbidden,
    InvalidBody,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    PushRejected,
    RequestTimeout,
    ServerUnavailable,
    SignatureError,
    Unauthorized,
    UnsafeValue,
)
from drago.server.logs import logfmt_value

log = logging.getLogger("drago.server")

#: Browsers must take every answer for its declared type, never sniff one.
NOSNIFF = {"X-Content-Type-Options": "nosniff"}

#: Most specific class first; the first match wins.
STATUS: tuple[tuple[type[DragoError], int], ...] = (
    (ConfigError, 422),
    (InvalidBody, 422),
    (InvalidRequest, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (RequestTimeout, 408),
    (SignatureError, 422),
    (PushRejected, 403),
    (BackendError, 502),
    (Busy, 503),
    (ServerUnavailable, 503),
    (DatabaseUnavailable, 503),
    (UnsafeValue, 422),
)

#: Error codes for statuses Starlette raises itself (unknown route, wrong method...).
HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
}


def status_of(error: DragoError) -> int:
    for cls, status in STATUS:
        if isinstance(error, cls):
            return status
    return 400


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    # Also set here: an unexpected error is answered outside every middleware.
    return JSONResponse(body, status_code=status, headers={**(headers or {}), **NOSNIFF})


def drago_error_response(error: DragoError) -> JSONResponse:
    status = status_of(error)
    headers = {"WWW-Authenticate": 'Bearer realm="drago"'} if status == 401 else None
    return error_response(status, error.code, error.message, error.details, headers)


async def handle_drago_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DragoError)
    return drago_error_response(exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404:
        message = f"no such resource: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    if exc.status_code < 400:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return error_response(exc.status_code, code, message, None, exc.headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    # Method and path are the client's: written as the access log writes them
    # (quoted when not plain printable text), so they cannot forge a line.
    method, path = logfmt_value(request.method), logfmt_value(request.scope["path"])
    log.error("unexpected error on %s %s", method, path, exc_info=exc)
    return error_response(500, "internal_error", "internal server error (see the server log)")


EXCEPTION_HANDLERS = {
    DragoError: handle_drago_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
