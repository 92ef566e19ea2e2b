"""Tools from files: a JSON file of OpenAI tool dicts, or the Tool objects of a Python module."""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from rixin.errors import ToolSchemaError
from rixin.tools.schema import Tool, as_tools


def load_tools_file(path: str | Path) -> list[Tool]:
    """A JSON list of tool dicts, `{"tools": [...]}`, or one tool dict; every error names the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ToolSchemaError(f"{path}: cannot read tools file: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise ToolSchemaError(f"{path}: not UTF-8 text: {e}") from e
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as e:
        raise ToolSchemaError(f"{path}: not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from e
    if isinstance(data, dict) and "tools" in data:
        data = data["tools"]
        if not isinstance(data, list):
            raise ToolSchemaError(f"{path}: 'tools' must be a list, got {type(data).__name__}")
    elif isinstance(data, dict):
        data = [data]
    elif not isinstance(data, list):
        shape = type(data).__name__
        raise ToolSchemaError(f'{path}: expected a list of tools, {{"tools": [...]}} or one tool, got {shape}')
    bad = next((i for i, item in enumerate(data) if not isinstance(item, dict)), None)
    if bad is not None:  # as_tools would also accept callables; a JSON file can only hold objects
        raise ToolSchemaError(f"{path}: tool #{bad}: expected a JSON object, got {type(data[bad]).__name__}")
    try:
        return as_tools(data)
    except ToolSchemaError as e:
        raise ToolSchemaError(f"{path}: {e}") from e


def import_source_file(path: str | Path) -> ModuleType:
    """Import a .py file under a unique module name; ToolSchemaError (naming the file) when that fails."""
    file = Path(path)
    if not file.is_file():
        raise ToolSchemaError(f"{path}: no such file")
    # A unique name, so two files called tools.py do not replace each other in sys.modules.
    module_name = f"rixin_user_tools_{uuid.uuid4().hex[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise ToolSchemaError(f"{path}: cannot import (not a Python source file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # pydantic and dataclasses look modules up here while importing
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[module_name]
        raise ToolSchemaError(f"{path}: cannot import: {type(e).__name__}: {e}") from e
    return module


def tools_from_module(path: str | Path) -> list[Tool]:
    """Import a .py file and return its module-level Tool objects, in definition order."""
    module = import_source_file(path)
    found: dict[int, Tool] = {}  # keyed by id: one Tool bound to two names is still one tool
    for value in vars(module).values():
        if isinstance(value, Tool):
            found.setdefault(id(value), value)
    try:
        return as_tools(found.values())
    except ToolSchemaError as e:
        raise ToolSchemaError(f"{path}: {e}") from e
