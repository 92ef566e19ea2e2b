"""The BFCL checker, on hand-made cases (one per rule and per error code), and its self-check on BFCL's golds."""

from __future__ import annotations

from typing import Any

import pytest

from rixin.bench.bfcl import BFCL_CATEGORIES, load_category, to_json_schema
from rixin.bench.checker import CODES, KINDS, Call, canonical_calls, check_item, normalize_string

# -- hand-made functions (BFCL's own type names) ----------------------------------------------------------------
BOOK = {
    "name": "book_room",
    "description": "Book a hotel room.",
    "parameters": {
        "type": "dict",
        "properties": {
            "city": {"type": "string"},
            "nights": {"type": "integer"},
            "budget": {"type": "float"},
            "breakfast": {"type": "boolean"},
            "guests": {"type": "array", "items": {"type": "string"}},
            "dates": {"type": "tuple", "items": {"type": "string"}},
            "preferences": {"type": "dict", "properties": {"floor": {"type": "integer"}, "view": {"type": "string"}}},
            "notes": {"type": "string"},
            "anything": {"type": "any"},
        },
        "required": ["city", "nights"],
    },
}
CANCEL = {
    "name": "cancel_room",
    "description": "Cancel a booking.",
    "parameters": {"type": "dict", "properties": {"booking": {"type": "string"}}, "required": ["booking"]},
}
SCALE = {
    "name": "scale",
    "description": "Scale a number.",
    "parameters": {"type": "dict", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
}
FUNCTIONS = [BOOK, CANCEL, SCALE]


def book_gold(**overrides: list[Any]) -> list[dict[str, dict[str, list[Any]]]]:
    params: dict[str, list[Any]] = {
        "city": ["New York", "NYC"],
        "nights": [3],
        "budget": [150.0, ""],
        "breakfast": [True, ""],
        "guests": [["Ann Lee", "Bo"], ""],
        "dates": [["2025-07-01", "2025-07-04"], ""],
        "preferences": [{"floor": [3, ""], "view": ["sea", "ocean"]}, ""],
        "notes": ["", "late check-in"],
        "anything": [["a", 1], ""],
    }
    params.update(overrides)
    return [{"book_room": params}]


def book(**arguments: Any) -> Call:
    return Call("book_room", {"city": "New York", "nights": 3, **arguments})


def judge(category: str, *calls: Call, gold: Any = None, unparsable: bool = False) -> tuple[bool, str | None]:
    verdict = check_item(category, list(calls), FUNCTIONS, book_gold() if gold is None else gold, unparsable=unparsable)
    if verdict.passed:
        assert (verdict.error_code, verdict.kind) == (None, None)
    else:
        assert verdict.kind == CODES[verdict.error_code or ""], verdict
        assert verdict.detail
    return verdict.passed, verdict.error_code


def test_codes_and_kinds() -> None:
    assert KINDS == ("selection", "argument", "non_executable")
    assert CODES == {
        "unparsable_output": "non_executable",
        "no_call": "selection",
        "unexpected_call": "selection",
        "wrong_count": "selection",
        "wrong_function": "selection",
        "missing_required": "argument",
        "unexpected_param": "argument",
        "wrong_type": "argument",
        "wrong_value": "argument",
    }


# -- one call: names, parameters, types ---------------------------------------------------------------------------
def test_minimal_right_call_passes() -> None:
    assert judge("simple_python", book()) == (True, None)


def test_name_must_match_exactly() -> None:
    for name in ("Book_Room", "book-room", "book_room ", "functions.book_room"):
        assert judge("simple_python", Call(name, {"city": "NYC", "nights": 3})) == (False, "wrong_function"), name


def test_wrong_function_names_what_was_wanted() -> None:
    verdict = check_item("simple_python", [Call("cancel_room", {"booking": "B1"})], FUNCTIONS, book_gold())
    assert (verdict.error_code, verdict.kind) == ("wrong_function", "selection")
    assert "cancel_room" in verdict.detail and "book_room" in verdict.detail


def test_missing_required_parameter() -> None:
    assert judge("simple_python", Call("book_room", {"city": "NYC"})) == (False, "missing_required")
    # required by the schema even if the gold would let it go
    assert judge("simple_python", Call("book_room", {"nights": 3}), gold=book_gold(city=["NYC", ""])) == (
        False,
        "missing_required",
    )


def test_missing_parameter_the_gold_needs() -> None:
    # optional in the schema, but the answer has no "" among its accepted values
    assert judge("simple_python", book(), gold=book_gold(budget=[150.0])) == (False, "missing_required")


def test_unexpected_parameter_not_in_schema() -> None:
    assert judge("simple_python", book(pets=True)) == (False, "unexpected_param")


def test_unexpected_parameter_in_schema_but_not_in_gold() -> None:
    gold = book_gold()
    del gold[0]["book_room"]["notes"]
    assert judge("simple_python", book(), gold=gold) == (True, None)
    assert judge("simple_python", book(notes="late check-in"), gold=gold) == (False, "unexpected_param")


def test_int_accepted_for_float() -> None:
    assert judge("simple_python", book(budget=150)) == (True, None)
    assert judge("simple_python", book(budget=150.0)) == (True, None)
    assert judge("simple_python", book(budget=151)) == (False, "wrong_value")


def test_float_rejected_for_int() -> None:
    assert judge("simple_python", book(nights=3.0)) == (False, "wrong_type")


def test_bool_is_not_an_int_nor_a_float() -> None:
    assert judge("simple_python", Call("scale", {"x": True}), gold=[{"scale": {"x": [1]}}]) == (False, "wrong_type")
    assert judge("simple_python", Call("scale", {"x": 1}), gold=[{"scale": {"x": [1]}}]) == (True, None)
    assert judge("simple_python", book(budget=True)) == (False, "wrong_type")
    # and a number is not a bool
    assert judge("simple_python", book(breakfast=1)) == (False, "wrong_type")
    assert judge("simple_python", book(breakfast=True)) == (True, None)
    assert judge("simple_python", book(breakfast=False)) == (False, "wrong_value")


def test_string_type_is_checked() -> None:
    assert judge("simple_python", Call("book_room", {"city": 7, "nights": 3})) == (False, "wrong_type")


def test_tuple_counts_as_list() -> None:
    assert judge("simple_python", book(guests=("Ann Lee", "Bo"))) == (True, None)  # "array" takes a tuple
    assert judge("simple_python", book(dates=["2025-07-01", "2025-07-04"])) == (True, None)  # "tuple" takes a list
    assert judge("simple_python", book(dates=("2025-07-01", "2025-07-04"))) == (True, None)
    assert judge("simple_python", book(guests="Ann Lee, Bo")) == (False, "wrong_type")


def test_array_items_are_type_checked() -> None:
    assert judge("simple_python", book(guests=["Ann Lee", 2])) == (False, "wrong_type")


def test_any_type_takes_anything_but_the_value_still_counts() -> None:
    assert judge("simple_python", book(anything=["A", 1])) == (True, None)
    assert judge("simple_python", book(anything={"a": 1})) == (False, "wrong_value")


# -- values ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "city",
    [
        "new york",  # case
        "NEWYORK",  # spaces
        "  New   York ",
        "New-York",  # punctuation , . / - _ * ^
        "New_York",
        "New.York",
        "New/York",
        "New,York",
        "New*York",
        "New^York",
        "N.Y.C.",
        "n y c",
    ],
)
def test_string_normalisation_accepts(city: str) -> None:
    assert judge("simple_python", Call("book_room", {"city": city, "nights": 3})) == (True, None)


@pytest.mark.parametrize("city", ["New Yorkk", "New York!", "New:York", "Newark", "New (York)"])
def test_string_normalisation_rejects(city: str) -> None:
    assert judge("simple_python", Call("book_room", {"city": city, "nights": 3})) == (False, "wrong_value")


def test_single_quote_reads_as_double_quote() -> None:
    gold = book_gold(notes=['say "hi"', ""])
    assert judge("simple_python", book(notes="say 'hi'"), gold=gold) == (True, None)
    assert judge("simple_python", book(notes='Say "HI"'), gold=gold) == (True, None)
    assert judge("simple_python", book(notes="say `hi`"), gold=gold) == (False, "wrong_value")


def test_normalize_string() -> None:
    assert normalize_string("A b,c.d/e-f_g*h^i'j") == 'abcdefghi"j'


def test_list_order_matters() -> None:
    assert judge("simple_python", book(guests=["Ann Lee", "Bo"])) == (True, None)
    assert judge("simple_python", book(guests=["Bo", "Ann Lee"])) == (False, "wrong_value")
    assert judge("simple_python", book(guests=["Ann Lee"])) == (False, "wrong_value")
    assert judge("simple_python", book(guests=["Ann Lee", "Bo", "Cy"])) == (False, "wrong_value")


def test_list_items_are_normalised() -> None:
    assert judge("simple_python", book(guests=["ann-lee", " BO "])) == (True, None)
    assert judge("simple_python", book(anything=["A", 1.0])) == (True, None)  # numbers inside lists too


def test_list_must_equal_one_accepted_list() -> None:
    gold = book_gold(guests=[["Ann"], ["Ann", "Bo"]])
    assert judge("simple_python", book(guests=["Ann"]), gold=gold) == (True, None)
    assert judge("simple_python", book(guests=["ann", "bo"]), gold=gold) == (True, None)
    assert judge("simple_python", book(guests=["Bo"]), gold=gold) == (False, "wrong_value")


def test_dict_value_accepted() -> None:
    assert judge("simple_python", book(preferences={"floor": 3, "view": "Sea"})) == (True, None)
    assert judge("simple_python", book(preferences={"floor": 3, "view": "ocean"})) == (True, None)


def test_dict_may_not_add_keys() -> None:
    assert judge("simple_python", book(preferences={"floor": 3, "view": "sea", "quiet": True})) == (
        False,
        "wrong_value",
    )


def test_dict_optional_key_with_empty_string() -> None:
    assert judge("simple_python", book(preferences={"view": "sea"})) == (True, None)  # floor accepts ""
    assert judge("simple_python", book(preferences={"floor": 3})) == (False, "wrong_value")  # view does not
    assert judge("simple_python", book(preferences={"floor": 4, "view": "sea"})) == (False, "wrong_value")


def test_dict_with_nested_accepted_lists() -> None:
    gold = book_gold(anything=[{"rooms": [["single", "double"], ["double"]], "size": [2]}])
    assert judge("simple_python", book(anything={"rooms": ["Single", "DOUBLE"], "size": 2}), gold=gold) == (True, None)
    assert judge("simple_python", book(anything={"rooms": ["double"], "size": 2}), gold=gold) == (True, None)
    assert judge("simple_python", book(anything={"rooms": ["double", "single"], "size": 2}), gold=gold) == (
        False,
        "wrong_value",
    )
    assert judge("simple_python", book(anything=["double"]), gold=gold) == (False, "wrong_value")


def test_list_of_dicts() -> None:
    gold = book_gold(anything=[[{"name": ["Ann"], "age": [30, ""]}, {"name": ["Bo"], "age": [4]}]])
    good = [{"name": "ann", "age": 30}, {"name": "BO", "age": 4}]
    assert judge("simple_python", book(anything=good), gold=gold) == (True, None)
    assert judge("simple_python", book(anything=[{"name": "Ann"}, {"name": "Bo", "age": 4}]), gold=gold) == (True, None)
    assert judge("simple_python", book(anything=good[::-1]), gold=gold) == (False, "wrong_value")


def test_omitted_optional_parameter_only_with_empty_string() -> None:
    assert judge("simple_python", book(), gold=book_gold(notes=["", "x"])) == (True, None)
    assert judge("simple_python", book(), gold=book_gold(notes=["x"])) == (False, "missing_required")
    # "" is a marker, not a value the model may write in place of a real one
    assert judge("simple_python", book(notes="anything"), gold=book_gold(notes=["", "x"])) == (False, "wrong_value")
    assert judge("simple_python", book(notes="x"), gold=book_gold(notes=["", "x"])) == (True, None)


# -- call counts, categories -----------------------------------------------------------------------------------
def test_multiple_wants_exactly_one_call() -> None:
    assert judge("multiple", book()) == (True, None)
    assert judge("multiple", book(), book()) == (False, "wrong_count")
    assert judge("multiple", book(), Call("cancel_room", {"booking": "B1"})) == (False, "wrong_count")


PARALLEL_GOLD = [
    {"book_room": {"city": ["Paris"], "nights": [2]}},
    {"book_room": {"city": ["Rome"], "nights": [4]}},
    {"cancel_room": {"booking": ["B7"]}},
]
PARIS = Call("book_room", {"city": "Paris", "nights": 2})
ROME = Call("book_room", {"city": "rome", "nights": 4})
CANCEL_B7 = Call("cancel_room", {"booking": "b7"})


@pytest.mark.parametrize("category", ["parallel", "parallel_multiple"])
def test_parallel_in_any_order(category: str) -> None:
    import itertools

    for order in itertools.permutations([PARIS, ROME, CANCEL_B7]):
        assert judge(category, *order, gold=PARALLEL_GOLD) == (True, None), order


def test_parallel_wrong_count() -> None:
    assert judge("parallel", PARIS, ROME, gold=PARALLEL_GOLD) == (False, "wrong_count")
    assert judge("parallel", PARIS, ROME, CANCEL_B7, PARIS, gold=PARALLEL_GOLD) == (False, "wrong_count")


def test_parallel_wrong_function() -> None:
    twice = Call("book_room", {"city": "Oslo", "nights": 1})
    assert judge("parallel", PARIS, ROME, twice, gold=PARALLEL_GOLD) == (False, "wrong_function")


def test_parallel_one_wrong_value_reports_the_near_miss() -> None:
    verdict = check_item(
        "parallel", [PARIS, Call("book_room", {"city": "Rome", "nights": 5}), CANCEL_B7], FUNCTIONS, PARALLEL_GOLD
    )
    assert (verdict.error_code, verdict.kind) == ("wrong_value", "argument")
    assert verdict.detail.startswith("book_room.")  # one failed pair with the same name explains it
    # the same call twice cannot serve two golds
    assert judge("parallel", PARIS, PARIS, CANCEL_B7, gold=PARALLEL_GOLD) == (False, "wrong_value")


def test_parallel_needs_a_real_bipartite_matching() -> None:
    # gold 1 accepts x=1 or x=2, gold 2 only x=1; call A (x=1) fits both, call B (x=2) only gold 1.
    gold = [{"scale": {"x": [1, 2]}}, {"scale": {"x": [1]}}]
    a, b = Call("scale", {"x": 1}), Call("scale", {"x": 2})
    # A first-fit assignment in either direction gives A to gold 1 and then has nothing for the other:
    assert _greedy_by_call([a, b], gold) is False
    assert _greedy_by_gold([a, b], gold) is False
    # but A→gold 2, B→gold 1 is a perfect matching
    assert judge("parallel", a, b, gold=gold) == (True, None)
    assert judge("parallel", b, a, gold=gold) == (True, None)
    assert judge("parallel", b, b, gold=gold) == (False, "wrong_value")


def _fits(call: Call, gold: dict[str, dict[str, list[Any]]]) -> bool:
    name, params = next(iter(gold.items()))
    return check_item("simple_python", [call], FUNCTIONS, [{name: params}]).passed


def _greedy_by_call(calls: list[Call], golds: list[dict[str, dict[str, list[Any]]]]) -> bool:
    free = list(range(len(golds)))
    for call in calls:
        match = next((g for g in free if _fits(call, golds[g])), None)
        if match is None:
            return False
        free.remove(match)
    return True


def _greedy_by_gold(calls: list[Call], golds: list[dict[str, dict[str, list[Any]]]]) -> bool:
    free = list(range(len(calls)))
    for gold in golds:
        match = next((c for c in free if _fits(calls[c], gold)), None)
        if match is None:
            return False
        free.remove(match)
    return True


def test_irrelevance_passes_only_without_calls() -> None:
    assert check_item("irrelevance", [], FUNCTIONS, None).passed
    assert check_item("irrelevance", None, FUNCTIONS, None).passed
    assert check_item("irrelevance", [], FUNCTIONS, None, unparsable=True).passed
    verdict = check_item("irrelevance", [book()], FUNCTIONS, None)
    assert (verdict.passed, verdict.error_code, verdict.kind) == (False, "unexpected_call", "selection")
    assert "book_room" in verdict.detail


def test_no_call_and_unparsable_output() -> None:
    for category in ("simple_python", "multiple", "parallel", "parallel_multiple"):
        assert judge(category) == (False, "no_call")
        assert judge(category, unparsable=True) == (False, "unparsable_output")
    verdict = check_item("simple_python", None, FUNCTIONS, book_gold(), unparsable=True)
    assert (verdict.error_code, verdict.kind) == ("unparsable_output", "non_executable")
    # a call that was read wins over the flag
    assert judge("simple_python", book(), unparsable=True) == (True, None)


def test_every_code_is_reachable() -> None:
    seen = {
        judge("simple_python", unparsable=True)[1],
        judge("simple_python")[1],
        check_item("irrelevance", [book()], FUNCTIONS, None).error_code,
        judge("multiple", book(), book())[1],
        judge("simple_python", Call("cancel_room", {"booking": "x"}))[1],
        judge("simple_python", Call("book_room", {"city": "NYC"}))[1],
        judge("simple_python", book(pets=1))[1],
        judge("simple_python", book(nights="3"))[1],
        judge("simple_python", book(nights=4))[1],
    }
    assert seen == set(CODES)


# -- BFCL schemas as JSON Schema ---------------------------------------------------------------------------------
def test_to_json_schema() -> None:
    bfcl = {
        "type": "dict",
        "properties": {
            "price": {"type": "float", "description": "EUR"},
            "point": {"type": "tuple", "items": {"type": "float"}},
            "whatever": {"type": "any", "description": "anything"},
            "tags": {"type": "array", "items": {"type": "string"}, "optional": True},
            "filters": {
                "type": "dict",
                "properties": {"max": {"type": "integer"}, "inner": {"type": "dict", "properties": {}}},
                "required": ["max"],
                "optional": True,
            },
            "rows": {"type": "array", "items": {"type": "dict", "properties": {"w": {"type": "float"}}}},
            "flag": {"type": "boolean", "default": False, "enum": [True, False]},
        },
        "required": ["price"],
    }
    assert to_json_schema(bfcl) == {
        "type": "object",
        "properties": {
            "price": {"type": "number", "description": "EUR"},
            "point": {"type": "array", "items": {"type": "number"}},
            "whatever": {"description": "anything"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "filters": {
                "type": "object",
                "properties": {"max": {"type": "integer"}, "inner": {"type": "object", "properties": {}}},
                "required": ["max"],
            },
            "rows": {"type": "array", "items": {"type": "object", "properties": {"w": {"type": "number"}}}},
            "flag": {"type": "boolean", "default": False, "enum": [True, False]},
        },
        "required": ["price"],
    }
    # a property called "type" or "optional" is a name, not a keyword
    named = {"type": "dict", "properties": {"type": {"type": "string"}, "optional": {"type": "float"}}}
    assert to_json_schema(named) == {
        "type": "object",
        "properties": {"type": {"type": "string"}, "optional": {"type": "number"}},
    }


# -- canonical calls ------------------------------------------------------------------------------------------
def test_canonical_calls() -> None:
    gold = [
        {
            "book_room": {
                "city": ["New York", "NYC"],
                "nights": [3],
                "budget": ["", 150.0],
                "guests": [["Ann", "Bo"], ""],
                "preferences": [{"floor": ["", 3], "view": ["sea", "ocean"]}],
                "anything": [[{"a": [1, 2], "b": ["", "x"]}, {"a": [3]}]],
            }
        },
        {"cancel_room": {"booking": ["B1"]}},
    ]
    assert canonical_calls(gold) == [
        Call(
            "book_room",
            {
                "city": "New York",
                "nights": 3,
                "guests": ["Ann", "Bo"],
                "preferences": {"view": "sea"},
                "anything": [{"a": 1}, {"a": 3}],
            },
        ),
        Call("cancel_room", {"booking": "B1"}),
    ]
    assert check_item("parallel_multiple", canonical_calls(gold), FUNCTIONS, gold).passed
    assert check_item("simple_python", canonical_calls(book_gold()), FUNCTIONS, book_gold()).passed


# -- the golds of the real BFCL data ------------------------------------------------------------------------------
# Golds that contradict their own schema (BFCL data, not the checker): a required parameter whose answer
# accepts omission, a string where the schema wants an array of floats, a parameter the schema lacks, and
# strings where the schema wants an array of integers.
KNOWN_BAD_GOLDS = {
    "simple_python_200": "missing_required",
    "parallel_multiple_21": "wrong_type",
    "parallel_multiple_26": "unexpected_param",
    "parallel_multiple_94": "wrong_type",
}


def test_bfcl_golds_pass_their_own_checker() -> None:
    failing: dict[str, str | None] = {}
    counts = {}
    for category in BFCL_CATEGORIES:
        items = load_category(category)
        counts[category] = len(items)
        assert items and len({i.id for i in items}) == len(items)
        for item in items:
            assert item.category == category and item.messages and item.functions
            if category == "irrelevance":
                assert item.gold is None
                assert check_item(category, [], item.functions, item.gold).passed
                continue
            assert item.gold, item.id
            for tool in item.tools():  # every schema converts to JSON Schema
                assert tool["function"]["parameters"]["type"] == "object", item.id
            verdict = check_item(category, canonical_calls(item.gold), item.functions, item.gold)
            if not verdict.passed:
                failing[item.id] = verdict.error_code
    assert all(n >= 200 for n in counts.values()), counts
    assert failing == KNOWN_BAD_GOLDS
    assert len(failing) <= 5
