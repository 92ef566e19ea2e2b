"""YAML that remembers where each value was written: errors about an agent file name its line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml  # type: ignore[import-untyped, unused-ignore]

from rixin.errors import RixinError

Path_ = tuple[str | int, ...]


class AgentConfigError(RixinError):
    """An agent definition that cannot be used; the message names the file, the line and the field."""


def load_yaml(text: str, label: str) -> tuple[Any, dict[Path_, int]]:
    """The document's data, and the 1-based line of every mapping key and list item by its path."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{label}, line {mark.line + 1}" if mark is not None else label
        raise AgentConfigError(f"{where}: not valid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise AgentConfigError(f"{label}: not valid YAML: {error}") from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {(): 1}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _walk(node: Any, path: Path_, lines: dict[Path_, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines)


def line_of(lines: dict[Path_, int], path: Sequence[str | int]) -> int:
    """The line of `path`, or of its nearest written ancestor (a missing field: the mapping that lacks it)."""
    probe = tuple(path)
    while probe not in lines:
        probe = probe[:-1]
    return lines[probe]


def field_name(path: Sequence[str | int]) -> str:
    """`mcp_servers[0].command` for ("mcp_servers", 0, "command")."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
