"""Turn domain errors and validation failures into one JSON error shape: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.core.errors import ParlorError

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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ParlorError)
    async def _parlor_error(request: Request, exc: ParlorError) -> JSONResponse:
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(jsonable_encoder({"error": validation_error(exc.errors())}), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": {"code": code, "message": str(exc.detail)}}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": {"code": "internal", "message": "internal error"}}, status_code=500)
