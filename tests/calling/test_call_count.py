"""The call-count nudge (`CallListConstraint`): where it applies and what it changes, on llguidance's byte
tokenizer (token = byte), so no model is needed."""

from __future__ import annotations

import llguidance
import numpy as np
import pytest

from rixin.calling.constrain import CallListConstraint, GrammarConstraint, tool_call_grammar
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


NUMBER_TOOL = tool_from_openai(
    {
        "type": "function",
        "function": {
            "name": "walk",
            "parameters": {"type": "object", "properties": {"km": {"type": "number"}}, "required": ["km"]},
        },
    }
)


def number_constraint(max_digits: int | None) -> GrammarConstraint:
    lark = tool_call_grammar(
        [NUMBER_TOOL], open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=1
    )
    return GrammarConstraint(TOKENIZER, lark, VOCAB, greedy=True, max_number_digits=max_digits)


def allowed_after(c: GrammarConstraint, text: str) -> set[str]:
    for byte in text.encode():
        assert c.accept(byte), text
    logits = np.zeros(VOCAB, dtype=np.float32)
    c.mask(logits)
    return {chr(t) for t in np.flatnonzero(logits > -np.inf) if t < 128}


def test_a_number_ends_after_its_digit_limit() -> None:
    opening = '<tool_call>\n{"name": "walk", "arguments": {"km": '
    assert allowed_after(number_constraint(4), opening + "100") >= {"0", "5", ".", "}"}
    # At the limit only what ends the number is left; a string's digits do not count.
    assert allowed_after(number_constraint(4), opening + "1000") == {"}"}
    assert allowed_after(number_constraint(4), opening + "10.00") == {"}"}
    assert "0" in allowed_after(number_constraint(None), opening + "1" + "0" * 30)


def test_after_a_decimal_point_a_digit_is_still_allowed() -> None:
    opening = '<tool_call>\n{"name": "walk", "arguments": {"km": '
    assert allowed_after(number_constraint(4), opening + "1000.") == set("0123456789")


def test_digits_inside_a_string_do_not_count() -> None:
    lark = tool_call_grammar(
        [TOOL], open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=1
    )
    c = GrammarConstraint(TOKENIZER, lark, VOCAB, greedy=True, max_number_digits=4)
    assert "1" in allowed_after(c, '<tool_call>\n{"name": "lookup", "arguments": {"q": "' + "1" * 30)


LIST_TOOL = tool_from_openai(
    {
        "type": "function",
        "function": {
            "name": "price",
            "parameters": {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": {"type": "string"}},
                    "grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                },
                "required": ["items"],
            },
        },
    }
)
LIST_OPENING = '<tool_call>\n{"name": "price", "arguments": {'


def list_constraint(max_repeats: int | None) -> GrammarConstraint:
    lark = tool_call_grammar(
        [LIST_TOOL], open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=1
    )
    return GrammarConstraint(TOKENIZER, lark, VOCAB, greedy=True, max_repeated_items=max_repeats)


def test_a_list_of_equal_items_ends_at_the_limit() -> None:
    items = LIST_OPENING + '"items": ['
    assert "," in allowed_after(list_constraint(3), items + '"a", "a"')
    assert allowed_after(list_constraint(3), items + '"a", "a", "a"') == {"]"}
    assert "," in allowed_after(list_constraint(None), items + '"a", ' * 20 + '"a"')


def test_only_equal_items_in_a_row_count() -> None:
    items = LIST_OPENING + '"items": ['
    assert "," in allowed_after(list_constraint(3), items + '"a", "a", "b", "a", "a"')
    assert "," in allowed_after(list_constraint(3), items + '"a, a", "a", "a"')  # a comma inside a string
    assert "," in allowed_after(list_constraint(3), items + '"a]", "a", "a"')


def test_nested_lists_count_their_own_items() -> None:
    grid = LIST_OPENING + '"items": ["x"], "grid": ['
    # [0, 0] three times ends the outer list; the inner [0, 0, 0] is at the limit on its own
    assert "," not in allowed_after(list_constraint(3), grid + "[0, 0], [0, 0], [0, 0]")
    assert "," in allowed_after(list_constraint(3), grid + "[0, 0], [0, 1], [0, 0]")
    assert allowed_after(list_constraint(3), grid + "[5, 5, 5") >= {"]", "0"}  # the item may still grow
    assert "," not in allowed_after(list_constraint(3), grid + "[5, 5, 5")


def test_a_number_may_go_on_where_an_equal_item_would_end() -> None:
    grid = LIST_OPENING + '"items": ["x"], "grid": [['
    assert allowed_after(list_constraint(2), grid + "5, 5") >= {"0", "]"}  # 55 is another item


def text_constraint(max_repeats: int | None) -> GrammarConstraint:
    lark = tool_call_grammar(
        [LIST_TOOL], open_tag="<tool_call>", close_tag="</tool_call>", tags_are_tokens=False, max_calls=1
    )
    return GrammarConstraint(TOKENIZER, lark, VOCAB, greedy=True, max_repeated_text=max_repeats)


def test_a_string_looping_over_one_stretch_ends_at_the_limit() -> None:
    sentence = "The novel is known for its use of the famous characters of the age. "  # 69 characters
    looping = LIST_OPENING + '"items": ["' + sentence * 3
    assert "T" in allowed_after(text_constraint(4), looping)  # its last 60 characters occur three times
    assert allowed_after(text_constraint(4), looping + sentence) == {'"'}  # four times: only the close
    assert "T" in allowed_after(text_constraint(None), looping + sentence * 5)
    # a long string without a repeated stretch goes on
    varied = LIST_OPENING + '"items": ["' + " ".join(f"word{i}" for i in range(200))
    assert " " in allowed_after(text_constraint(4), varied)
