"""Comparisons across tool results (`compare_results`): which records are lowest and highest, and where the engine
writes them."""

from __future__ import annotations

import json

from rixin.calling.results import compare_results, with_comparison
from rixin.types import Message

TRAINS = [
    {"id": "T1", "departs": "07:10", "fare": 40, "operator": "North"},
    {"id": "T2", "departs": "12:30", "fare": 25, "operator": "North"},
    {"id": "T3", "departs": "18:45", "fare": 25, "operator": "South"},
]


def test_each_comparable_field_names_its_lowest_and_highest_records() -> None:
    text = compare_results([json.dumps(TRAINS)])
    assert text is not None
    assert "earliest departs: T1 (07:10); latest departs: T3 (18:45)" in text
    assert "lowest fare: T2, T3 (25); highest fare: T1 (40)" in text  # a tie names every record
    assert "operator" not in text  # words are not compared
    assert "3 results" in text


def test_single_objects_of_one_round_are_compared_together() -> None:
    rounds = [json.dumps({"id": f"h{n}", "year_built": year}) for n, year in ((1, 1990), (2, 2015), (3, 1972))]
    text = compare_results(rounds)
    assert text is not None and "highest year_built: h2 (2015)" in text


def test_nothing_to_compare() -> None:
    assert compare_results([json.dumps(TRAINS[:1])]) is None  # one record
    assert compare_results(["not json", json.dumps({"error": "no such city"})]) is None
    assert compare_results([json.dumps([{"fare": 1}, {"fare": 2}])]) is None  # no ids to name them by
    same = [{"id": "a", "fare": 3}, {"id": "b", "fare": 3}]
    assert compare_results([json.dumps(same)]) is None  # nothing differs
    booleans = [{"id": "a", "open": True}, {"id": "b", "open": False}]
    assert compare_results([json.dumps(booleans)]) is None


def test_the_comparison_goes_under_the_latest_round_only() -> None:
    old = Message(role="tool", tool_call_id="0", name="search", content=json.dumps(TRAINS))
    newer = [
        Message(role="tool", tool_call_id="1", name="get", content=json.dumps(TRAINS[0])),
        Message(role="tool", tool_call_id="2", name="get", content=json.dumps(TRAINS[1])),
    ]
    conversation = [
        Message(role="user", content="book the cheapest train"),
        Message(role="assistant", content=None),
        old,
        Message(role="assistant", content=None),
        *newer,
    ]
    shown = with_comparison(conversation)
    assert shown[:-1] == conversation[:-1]
    assert "2 results" in (shown[-1].content or "") and "lowest fare: T2 (25)" in (shown[-1].content or "")
    assert conversation[-1].content == newer[-1].content  # the conversation itself is not changed
    assert with_comparison(conversation[:1]) == conversation[:1]  # no results, nothing written


def test_only_a_request_for_an_extreme_gets_the_comparison() -> None:
    results = Message(role="tool", tool_call_id="1", name="search", content=json.dumps(TRAINS))
    for request, compared in (
        ("Book the cheapest train.", True),
        ("订最早的那班火车。", True),
        ("Which one leaves latest?", True),
        ("Cancel whatever leaves at 12:30.", False),  # one record is wanted, found by its value
    ):
        conversation = [Message(role="user", content=request), Message(role="assistant", content=None), results]
        shown = with_comparison(conversation)
        assert ("Compared across" in (shown[-1].content or "")) is compared, request
