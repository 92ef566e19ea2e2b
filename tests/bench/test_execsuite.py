from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from rixin.bench.checker import CODES
from rixin.bench.execsuite import API_CLASSES, EXEC_CATEGORIES, ExecEnv, ExecTask, judge, load_tasks
from rixin.types import FunctionCall, ToolCall

TASKS = load_tasks()
BY_ID = {t.id: t for t in TASKS}
MINIMUMS = {"exec_single": 24, "exec_parallel": 12, "exec_multi_step": 16, "exec_irrelevance": 12}


def run(task: ExecTask, *calls: tuple[str, dict[str, Any]]) -> ExecEnv:
    env = task.fresh()
    for name, arguments in calls:
        env.execute(name, arguments)
    return env


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_solution_executes_and_passes(task: ExecTask) -> None:
    env = task.run_solution()
    assert all(ok for _, _, ok in env.calls), env.calls
    assert judge(task, env).passed
    json.dumps(env.state())  # a plain JSON snapshot


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_empty_run(task: ExecTask) -> None:
    verdict = judge(task, task.fresh())
    if task.category == "exec_irrelevance":
        assert verdict.passed
    else:
        assert (verdict.error_code, verdict.kind) == ("no_call", "selection")
        unparsable = judge(task, task.fresh(), unparsable=True)
        assert (unparsable.error_code, unparsable.kind) == ("unparsable_output", "non_executable")


def test_task_set_shape() -> None:
    counts = Counter(t.category for t in TASKS)
    for category, minimum in MINIMUMS.items():
        assert counts[category] >= minimum, (category, counts)
    assert set(counts) <= set(EXEC_CATEGORIES)
    assert len({t.id for t in TASKS}) == len(TASKS)
    assert {t.api for t in TASKS} == set(API_CLASSES) and len(API_CLASSES) >= 4
    assert all(t.id.startswith(f"exec_{t.api}_") for t in TASKS)
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in t.prompt) for t in TASKS) >= 5
    assert sum(bool(t.extra_apis) for t in TASKS) >= 3


def test_solution_shapes_fit_categories() -> None:
    for task in TASKS:
        env = task.fresh()
        turns = task.solution
        if task.category == "exec_irrelevance":
            assert turns == (), task.id
        elif task.category == "exec_single":
            assert len(turns) == 1 and len(turns[0]) == 1, task.id
        elif task.category == "exec_parallel":
            assert len(turns) == 1 and len(turns[0]) >= 2, task.id
        else:  # reads first, then a change that needs what was read
            assert len(turns) >= 2, task.id
            assert all(name not in env.mutating for turn in turns[:-1] for name, _ in turn), task.id
            assert any(name in env.mutating for name, _ in turns[-1]), task.id
        if task.category != "exec_irrelevance":  # the task changes something, so the state can tell
            assert task.expected_state() != task.fresh().state(), task.id


def test_multi_step_needs_a_result_the_prompt_lacks() -> None:
    for task in (t for t in TASKS if t.category == "exec_multi_step"):
        values = [str(v) for name, args in task.solution[-1] for v in args.values() if not isinstance(v, list)]
        values += [str(v) for name, args in task.solution[-1] for v in args.values() if isinstance(v, list) for v in v]
        assert any(v not in task.prompt for v in values), task.id


@pytest.mark.parametrize("task", [t for t in TASKS if t.category == "exec_irrelevance"], ids=lambda t: t.id)
def test_irrelevance_fails_with_any_call(task: ExecTask) -> None:
    read = next(
        t for t in task.fresh().tools if t.name in ("list_events", "search_homes", "read_cell", "search_flights")
    )
    arguments = {
        "list_events": {"date": "2025-07-14"},
        "search_homes": {"city": "Lisbon"},
        "read_cell": {"cell": "A1"},
        "search_flights": {"origin": "Lisbon", "destination": "Madrid", "date": "2025-08-04"},
    }[read.name]
    verdict = judge(task, run(task, (read.name, arguments)))
    assert (verdict.error_code, verdict.kind) == ("unexpected_call", "selection")


def test_tools_are_strict_and_unique() -> None:
    for task in TASKS:
        env = task.fresh()
        tools = env.tools
        assert len({t.name for t in tools}) == len(tools), task.id
        assert {t.name for t in tools if not t.read_only} == env.mutating & {t.name for t in tools}, task.id
        for t in tools:
            params = t.to_openai()["function"]["parameters"]
            assert params["type"] == "object" and params["additionalProperties"] is False, t.name
            assert t.description and all("description" in p for p in params["properties"].values()), t.name
    offered = [t.name for cls in API_CLASSES.values() for t in cls().tools()]
    assert len(offered) == len(set(offered))  # any two APIs can be offered together


@pytest.mark.parametrize(
    ("task_id", "calls", "code", "kind"),
    [
        # the wrong time
        (
            "exec_calendar_001",
            [
                (
                    "create_event",
                    {"title": "Budget sync", "date": "2025-07-15", "start": "12:00", "duration_minutes": 45},
                )
            ],
            "wrong_value",
            "argument",
        ),
        # a viewing where a favourite was wanted
        ("exec_homes_001", [("book_viewing", {"home_id": "h5", "date": "2025-07-20"})], "wrong_function", "selection"),
        # booked a flight without looking: not the cheapest
        ("exec_trips_011", [("book_flight", {"flight_id": "FL101", "passengers": 1})], "wrong_value", "argument"),
        # only one of the two parallel calls
        ("exec_homes_007", [("save_favorite", {"home_id": "h3"})], "wrong_value", "argument"),
        # read but never wrote
        ("exec_sheet_010", [("sum_range", {"range": "B2:B7"})], "wrong_function", "selection"),
        # arguments the API rejects: an unknown home, a sold home, a bad date, too many seats, a bad cell
        ("exec_homes_001", [("save_favorite", {"home_id": "h99"})], "not_executable_call", "non_executable"),
        (
            "exec_homes_002",
            [("book_viewing", {"home_id": "h7", "date": "2025-07-20"})],
            "not_executable_call",
            "non_executable",
        ),
        (
            "exec_homes_002",
            [("book_viewing", {"home_id": "h9", "date": "2025-02-30"})],
            "not_executable_call",
            "non_executable",
        ),
        (
            "exec_trips_001",
            [("book_flight", {"flight_id": "FL401", "passengers": 3})],
            "not_executable_call",
            "non_executable",
        ),
        ("exec_sheet_002", [("write_cell", {"cell": "Z99", "value": 60})], "not_executable_call", "non_executable"),
        # arguments the schema rejects, and a function that does not exist
        (
            "exec_trips_001",
            [("book_flight", {"flight_id": "FL202", "passengers": "two"})],
            "not_executable_call",
            "non_executable",
        ),
        ("exec_trips_002", [("delete_booking", {"booking_id": "BK-7001"})], "not_executable_call", "non_executable"),
        # a tool of an API the task does not offer
        ("exec_sheet_002", [("save_favorite", {"home_id": "h1"})], "not_executable_call", "non_executable"),
    ],
)
def test_failure_codes(task_id: str, calls: list[tuple[str, dict[str, Any]]], code: str, kind: str) -> None:
    verdict = judge(BY_ID[task_id], run(BY_ID[task_id], *calls))
    assert not verdict.passed
    assert (verdict.error_code, verdict.kind) == (code, kind), verdict
    assert verdict.detail
    assert CODES.get(code, kind) == kind


def test_rejected_call_reports_error_and_changes_nothing() -> None:
    env = BY_ID["exec_calendar_001"].fresh()
    before = env.state()
    ok, text = env.execute(
        "create_event", {"title": "X", "date": "2025-07-14", "start": "10:30", "duration_minutes": 30}
    )
    assert not ok and "overlaps event e2" in json.loads(text)["error"]
    ok, text = env.execute("move_event", {"event_id": "e404", "new_date": "2025-07-14", "new_start": "08:00"})
    assert not ok and "unknown event_id" in json.loads(text)["error"]
    assert env.state() == before
    assert [ok for _, _, ok in env.calls] == [False, False]


def test_lenient_but_state_based_pass() -> None:
    task = BY_ID["exec_calendar_008"]
    # other order, other spelling, a failed call and extra reads along the way: the state is right
    env = run(
        task,
        ("list_events", {"date": "2025-07-21"}),
        ("create_event", {"title": "retro", "date": "2025-07-21", "start": "16:00", "duration_minutes": 45}),
        ("create_event", {"title": "Sprint kickoff", "date": "2025-07-21", "start": "25:00", "duration_minutes": 60}),
        ("create_event", {"title": "Sprint Kickoff", "date": "2025-07-21", "start": "9:30", "duration_minutes": 60}),
    )
    assert judge(task, env).passed
    # numbers typed as text are stored as numbers, as in a spreadsheet
    sheet = BY_ID["exec_sheet_010"]
    assert judge(sheet, run(sheet, ("write_cell", {"cell": "b8", "value": "433"}))).passed


def test_failed_call_with_right_state_passes_but_wrong_state_is_non_executable() -> None:
    task = BY_ID["exec_trips_001"]
    right = run(
        task,
        ("book_flight", {"flight_id": "FL999", "passengers": 2}),
        ("book_flight", {"flight_id": "fl202", "passengers": 2}),
    )
    assert judge(task, right).passed
    wrong = run(
        task,
        ("book_flight", {"flight_id": "FL202", "passengers": 12}),
        ("book_flight", {"flight_id": "FL202", "passengers": 1}),
    )
    assert judge(task, wrong).error_code == "not_executable_call"


def test_envs_are_independent() -> None:
    task = BY_ID["exec_trips_010"]
    first, second = task.fresh(), task.fresh()
    assert first.execute("cancel_booking", {"booking_id": "BK-7001"})[0]
    assert first.state() != second.state()
    assert second.state() == task.fresh().state()
    assert second.execute("cancel_booking", {"booking_id": "BK-7001"})[0]  # still confirmed in the second world
    for cls in API_CLASSES.values():  # no API shares mutable seed data between instances
        a, b = cls(), cls()
        for name, value in vars(a).items():
            if isinstance(value, dict | list):
                assert value is not getattr(b, name)
                assert value == getattr(b, name)


def test_tools_are_bound_to_their_own_env() -> None:
    task = BY_ID["exec_sheet_002"]
    first, second = task.fresh(), task.fresh()
    write = next(t for t in first.tools if t.name == "write_cell")
    write.invoke({"cell": "B3", "value": 60})
    assert first.state()["sheet"]["rows"][2][1] == 60
    assert second.state()["sheet"]["rows"][2][1] == 45


def test_tool_message_feeds_results_back() -> None:
    task = BY_ID["exec_trips_011"]
    env = task.fresh()
    call = ToolCall.make("search_flights", {"origin": "Lisbon", "destination": "Madrid", "date": "2025-08-04"})
    message = env.tool_message(call)
    assert message.role == "tool" and message.tool_call_id == call.id
    flights = json.loads(message.content or "")
    cheapest = min(flights, key=lambda f: f["price_eur"])["id"]
    env.tool_message(ToolCall.make("book_flight", {"flight_id": cheapest, "passengers": 1}))
    assert judge(task, env).passed
    bad = ToolCall(function=FunctionCall(name="book_flight", arguments="{not json"))
    assert "error" in json.loads(env.tool_message(bad).content or "")
    assert env.calls[-1] == ("book_flight", {}, False)


def test_api_behaviour() -> None:
    env = ExecEnv([cls() for cls in API_CLASSES.values()])

    def call(name: str, **arguments: Any) -> Any:
        ok, text = env.execute(name, arguments)
        assert ok, text
        return json.loads(text)

    assert call("find_free_slot", date="2025-07-14", duration_minutes=60)["start"] == "11:30"
    assert call("find_free_slot", date="2025-07-19", duration_minutes=540)["start"] == "09:00"
    assert call("find_free_slot", date="2025-07-16", duration_minutes=300)["free"] is False
    assert [h["id"] for h in call("search_homes", city="porto", min_bedrooms=2)] == ["h5", "h6"]
    assert call("get_home", home_id="H6")["year_built"] == 2008
    assert call("sum_range", range="C2:C7")["sum"] == 21.95
    call("sort_by_column", column="B", descending=True)
    assert call("read_cell", cell="A2")["value"] == "Folders"
    assert call("add_row", values=["Glue", "50", 0.9])["values"] == ["Glue", 50, 0.9, None, None]
    booked = call("book_hotel", hotel_id="HT-BER-2", check_in="2025-08-05", nights=2, rooms=2)
    assert (
        booked["total_eur"] == 1040
        and call("search_hotels", city="Berlin", check_in="2025-08-05", nights=1)[0]["id"] == "HT-BER-1"
    )
    call("cancel_booking", booking_id=booked["id"])
    assert env.state()["trips"]["rooms_left"]["HT-BER-2"] == 2
    assert not env.execute("cancel_booking", {"booking_id": "BK-7003"})[0]  # already cancelled
    assert not env.execute("search_homes", {"city": "Lisbon", "max_price": -5})[0]
