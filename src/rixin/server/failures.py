"""Exceptions raised while generating, as HTTP errors: the client's mistakes are 4xx, an unreachable upstream
endpoint 502, and only our own faults 500."""

from __future__ import annotations

import logging

import pydantic
from jinja2.exceptions import TemplateError

from rixin.errors import EndpointError, EndpointUnreachableError, ToolSchemaError
from rixin.server.errors import APIError, bad_request
from rixin.server.worker import GenerationCancelledError

log = logging.getLogger("rixin.server")


def generation_error(error: BaseException, *, has_format: bool = False) -> APIError:
    from rixin.calling.constrain import GrammarError

    if isinstance(error, APIError):  # a check made in the worker (an approval answered meanwhile)
        return error
    if isinstance(error, ToolSchemaError):
        return bad_request(f"Invalid tools: {error}", "tools", "invalid_tool_schema")
    if isinstance(error, GrammarError):
        param = "response_format" if has_format else "tools"
        return bad_request(f"The schema cannot be used for constrained generation: {error}", param, "invalid_schema")
    if isinstance(error, GenerationCancelledError):
        return APIError(499, "The client closed the request.", code="client_closed_request")
    if isinstance(error, EndpointUnreachableError):
        return APIError(502, f"The upstream model endpoint is unreachable: {error}", code="upstream_unreachable")
    if isinstance(error, EndpointError):
        return APIError(502, f"The upstream model endpoint failed: {error}", code="upstream_error")
    if isinstance(error, pydantic.ValidationError):
        return bad_request(f"Invalid request: {error.errors()[0].get('msg', error)}", None)
    if isinstance(error, TemplateError):
        return bad_request(f"The model's chat template rejected the conversation: {error}", "messages")
    if isinstance(error, ValueError) and "does not fit the context" in str(error):
        return bad_request(
            f"This model's context is too small for the request: {error}", "messages", "context_length_exceeded"
        )
    log.error("generation failed", exc_info=(type(error), error, error.__traceback__))
    return APIError(500, f"The server had an error while generating: {type(error).__name__}: {error}")
