"""Errors that carry a message meant for a person (the CLI prints them without a traceback)."""

from __future__ import annotations


class RixinError(Exception):
    """Base class: the message is complete and readable on its own."""


class ModelNotFoundError(RixinError):
    """An unknown model name, a missing GGUF file or an unreachable endpoint."""


class EndpointUnreachableError(ModelNotFoundError):
    """An OpenAI-compatible endpoint that does not answer (connection refused, timeout)."""


class EndpointError(RixinError):
    """An endpoint that answered a request with an HTTP error."""


class ModelIntegrityError(RixinError):
    """A model file that is not what it should be: an assembled file whose sha256 does not match the pinned value,
    or an adapter llama.cpp cannot load."""


class ToolSchemaError(RixinError):
    """A tool definition that is not a valid function schema; the message names the tool and the problem."""


class ToolCallError(RixinError):
    """A call that could not be produced or validated after every repair attempt."""


class ToolArgumentsError(RixinError):
    """Arguments that do not satisfy a tool's schema; the message lists every problem found."""
