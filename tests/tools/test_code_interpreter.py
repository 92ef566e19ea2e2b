"""The code_interpreter tool over a real sandbox session, called the way the engine calls tools."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rixin.sandbox import Limits, open_sandbox
from rixin.tools import execute_call
from rixin.tools.code_interpreter import TOOL_NAME, CodeInterpreter
from rixin.types import ToolCall


@pytest.fixture()
def interpreter() -> Iterator[CodeInterpreter]:
    opened: list[int] = []

    def open_session():  # type: ignore[no-untyped-def]
        opened.append(1)
        return open_sandbox("local", limits=Limits(timeout_s=5))

    interpreter = CodeInterpreter(open_session)
    assert not opened  # the session starts on first use, not before
    yield interpreter
    interpreter.close()


def call(interpreter: CodeInterpreter, code: str) -> str:
    reply = execute_call([interpreter.tool], ToolCall.make(TOOL_NAME, {"code": code}))
    assert reply.role == "tool" and reply.name == TOOL_NAME
    return reply.content or ""


def test_state_persists_and_output_is_compact(interpreter: CodeInterpreter) -> None:
    assert call(interpreter, "x = 20\nprint('set')") == "stdout:\nset"
    assert call(interpreter, "x * 2 + 2") == "result:\n42"
    assert call(interpreter, "open('out.txt', 'w').write('hi')") == "result:\n2\nfiles written: /mnt/data/out.txt"
    assert interpreter.codes[0] == "x = 20\nprint('set')" and len(interpreter.runs) == 3


def test_an_error_comes_back_with_the_tables_defined_and_the_traceback_tail(interpreter: CodeInterpreter) -> None:
    text = call(
        interpreter,
        "import pandas as pd\npeople = pd.DataFrame({'province': ['a'], 'population': [1]})\npeople['name']",
    )
    assert text.startswith("tables defined now:\npeople: DataFrame, 1 rows, columns: province, population\n")
    assert text.rstrip().endswith("KeyError: 'name'")
    assert not interpreter.runs[-1].ok


def test_a_timeout_is_reported_and_the_session_goes_on(interpreter: CodeInterpreter) -> None:
    call(interpreter, "kept = 'yes'")
    assert "time limit" in call(interpreter, "while True:\n    pass")
    assert call(interpreter, "kept") == "result:\n'yes'"


def test_invalid_arguments_are_an_error_for_the_model_not_a_crash(interpreter: CodeInterpreter) -> None:
    reply = execute_call([interpreter.tool], ToolCall.make(TOOL_NAME, {"source": "1"}))
    assert reply.content and reply.content.startswith('{"error"') and "code" in reply.content
