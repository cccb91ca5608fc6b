"""Turn domain errors and validation failures into one JSON error shape: {"error": {"code", "message", "request_id"}}.

The request id (X-Request-ID, see backend.api.request_id) in the body lets a player's bug report, an nginx
log line and the backend's log lines be matched up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.core import logs
from backend.core.errors import NotFound, ParlorError

log = logging.getLogger(__name__)


def validation_error(errors: Sequence[Any], where: str = "body") -> dict[str, Any]:
    """The error of a request that failed validation: every refused field with pydantic's reason. REST reports
    `loc` from "body"; a WebSocket command from "data", the frame's field that holds the move."""
    fields = [
        {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": err.get("type")} for err in errors
    ]
    if where != "body":
        for field in fields:
            field["loc"] = [where, *field["loc"]]
    message = "; ".join(f"{'.'.join(str(p) for p in f['loc'][1:]) or where}: {f['msg']}" for f in fields)
    return {"code": "validation_error", "message": message, "fields": fields}


def _error(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    request_id = logs.current("request_id")
    if request_id is not None:
        body = {**body, "request_id": request_id}
    log.log(
        logging.WARNING if status >= 500 else logging.INFO,
        "refused: %s %s",
        status,
        body.get("code"),
        extra={"status": status, "code": body.get("code")},
    )
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ParlorError)
    async def _parlor_error(request: Request, exc: ParlorError) -> JSONResponse:
        return _error(exc.to_dict(), exc.status)  # the class's status, as a socket closes with its close_code

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(jsonable_encoder(validation_error(exc.errors())), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # an unknown path is answered as an unknown room or player is; 405 has no domain error of its own
        code = {NotFound.status: NotFound.code, 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error({"code": code, "message": str(exc.detail)}, exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # answered by Starlette's outermost middleware, outside the one that adds the header to responses
        request_id = logs.current("request_id")
        headers = {"X-Request-ID": request_id} if request_id else None
        return _error({"code": "internal", "message": "internal error"}, 500, headers)
