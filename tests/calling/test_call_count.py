"""The call-count nudge (`CallListConstraint`): where it applies and what it changes, on llguidance's byte
tokenizer (token = byte), so no model is needed."""

from __future__ import annotations

import llguidance
import numpy as np
import pytest

from rixin.calling.constrain import CallListConstraint, tool_call_grammar
from rixin.tools import tool_from_openai

TOOL = tool_from_openai(
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        },
    }
)
TOKENIZER = llguidance.LLTokenizer("byte")
VOCAB = 262


def constraint(bias: float) -> CallListConstraint:
    lark = tool_call_grammar(
        [TOOL], open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=4, as_list=True
    )
    return CallListConstraint(TOKENIZER, lark, VOCAB, greedy=True, continue_bias=bias)


def feed(c: CallListConstraint, text: str) -> None:
    for byte in text.encode():
        assert c.accept(byte), text


CALL = '{"name": "lookup", "arguments": {"q": "a]}, [{b"}}'


def test_the_choice_point_is_after_a_call_at_list_level_only() -> None:
    c = constraint(3.0)
    feed(c, "<tool_call>\n[")
    assert not c.at_list_end_choice()
    feed(c, CALL[:-1])
    assert not c.at_list_end_choice()  # inside the call object; brackets inside the string do not count
    feed(c, "}")
    assert c.at_list_end_choice()
    feed(c, ", ")
    assert not c.at_list_end_choice()


@pytest.mark.parametrize(("bias", "expected"), [(0.0, "]"), (3.0, ",")])
def test_the_bias_turns_a_close_decision_into_one_more_call(bias: float, expected: str) -> None:
    c = constraint(bias)
    feed(c, "<tool_call>\n[" + CALL)
    logits = np.zeros(VOCAB, dtype=np.float32)
    logits[ord("]")] = 2.0  # the model slightly prefers to stop
    logits[ord(",")] = 0.0
    logits[ord("x")] = 9.0  # not allowed here: must be masked, whatever the bias
    c.mask(logits)
    assert np.isneginf(logits[ord("x")])
    assert chr(int(np.argmax(logits))) == expected


def test_no_bias_away_from_the_choice_point() -> None:
    c = constraint(5.0)
    feed(c, '<tool_call>\n[{"name": "lookup", "arguments": {"q": "')
    logits = np.zeros(VOCAB, dtype=np.float32)
    logits[ord("a")] = 1.0
    c.mask(logits)
    assert logits[ord(",")] <= 0.0  # a comma inside a string value gets no push
