"""OpenAI-style errors: `{"error": {"message", "type", "param", "code"}}`, with 4xx for every bad request."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("rixin.server")

_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_exceeded",
    502: "server_error",
    503: "server_error",
}


class APIError(Exception):
    """An error answered to the client as an OpenAI error object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.type = type or _TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.param, self.code)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def bad_request(message: str, param: str | None = None, code: str | None = "invalid_value") -> APIError:
    return APIError(400, message, param=param, code=code)


def not_found(message: str, param: str | None = None, code: str | None = "not_found") -> APIError:
    return APIError(404, message, param=param, code=code)


# -- request validation → OpenAI's wording --------------------------------------------------------------------
def param_path(loc: Sequence[Any], body: Any) -> str | None:
    """`("body", "messages", 0, "user", "content", "str")` → `messages[0].content`: the parts of a pydantic error
    location that name something in the request, dropping union tags and member types."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    path = ""
    node = body
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path, node = f"{path}[{part}]", node[part]
        elif isinstance(node, Mapping) and isinstance(part, str) and (part in node or last):
            path, node = f"{path}.{part}" if path else part, node.get(part)
        elif node is None and isinstance(part, str) and last:
            path = f"{path}.{part}" if path else part
    return path or None


def validation_error(errors: Sequence[Any], body: Any) -> APIError:
    if not errors:
        return bad_request("Invalid request.")
    first = errors[0]
    kind = str(first.get("type", ""))
    loc = first.get("loc", ())
    message = str(first.get("msg", "invalid value"))
    if kind in ("json_invalid", "json_type") or (tuple(loc) == ("body",) and not isinstance(body, dict)):
        return bad_request(
            "We could not parse the JSON body of your request: it must be one JSON object "
            f"(send Content-Type: application/json). {message}",
            code="invalid_json",
        )
    param = param_path(loc, body)
    if kind == "missing":
        return bad_request(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    if kind == "extra_forbidden":
        return bad_request(f"Unrecognized request argument supplied: {param}", param, "unknown_parameter")
    if kind.endswith("_type") or kind in ("union_tag_invalid", "union_tag_not_found", "is_instance_of"):
        return bad_request(f"Invalid type for '{param}': {message}.", param, "invalid_type")
    return bad_request(f"Invalid value for '{param}': {message}.", param, "invalid_value")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def api_error(_request: Request, error: APIError) -> JSONResponse:
        return error.response()

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_error(error.errors(), error.body).response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else str(error.detail)
        if error.status_code == 404 and message == "Not Found":
            message = "Unknown request URL. Please check the URL and method."
        code = {404: "unknown_url", 405: "method_not_allowed", 413: "request_too_large"}.get(error.status_code)
        return APIError(error.status_code, message, code=code, headers=error.headers).response()

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error while serving a request")
        return APIError(
            500, f"The server had an error while processing your request: {type(error).__name__}"
        ).response()
