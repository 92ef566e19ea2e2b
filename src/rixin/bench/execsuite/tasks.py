"""The tasks of rixin's execution-checked suite, written for rixin (not taken from any public benchmark).

A task's `solution` is a list of turns, each a list of (function, arguments) calls; later turns of the
multi-step tasks use results of earlier turns that the prompt does not give. The solution serves only to
derive the expected final state and for the self-check: it is never shown to a model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rixin.bench.execsuite.base import Api, ExecEnv
from rixin.bench.execsuite.calendar_api import CalendarApi
from rixin.bench.execsuite.homes_api import HomesApi
from rixin.bench.execsuite.sheet_api import SheetApi
from rixin.bench.execsuite.trips_api import TripsApi

EXEC_CATEGORIES: tuple[str, ...] = ("exec_single", "exec_parallel", "exec_multi_step", "exec_irrelevance")
API_CLASSES: dict[str, type[Api]] = {cls.name: cls for cls in (CalendarApi, HomesApi, TripsApi, SheetApi)}

CallSpec = tuple[str, dict[str, Any]]
Turn = tuple[CallSpec, ...]


@dataclass(frozen=True, eq=False)
class ExecTask:
    id: str
    category: str
    api: str
    """The API the request is about."""
    prompt: str
    solution: tuple[Turn, ...]
    """Turns of calls that fulfil the request; empty for irrelevance tasks. For the self-check only."""
    extra_apis: tuple[str, ...] = ()
    """Other APIs whose tools are offered too, to test selection."""

    @property
    def apis(self) -> tuple[str, ...]:
        return (self.api, *self.extra_apis)

    def fresh(self) -> ExecEnv:
        """A new world for one run: fresh API instances, tools bound to them, an empty call log."""
        return ExecEnv([API_CLASSES[name]() for name in self.apis])

    def run_solution(self) -> ExecEnv:
        """A fresh world with the solution applied."""
        env = self.fresh()
        for turn in self.solution:
            for name, arguments in turn:
                env.execute(name, arguments)
        return env

    def expected_state(self) -> dict[str, Any]:
        return self.run_solution().state()


def _task(number: str, category: str, prompt: str, solution: list[list[CallSpec]], extra: tuple[str, ...]) -> ExecTask:
    api = number.rsplit("_", 1)[0]
    turns = tuple(tuple(turn) for turn in solution)
    return ExecTask(f"exec_{number}", category, api, prompt, turns, extra)


def single(number: str, prompt: str, call: CallSpec, extra: tuple[str, ...] = ()) -> ExecTask:
    return _task(number, "exec_single", prompt, [[call]], extra)


def parallel(number: str, prompt: str, *calls: CallSpec, extra: tuple[str, ...] = ()) -> ExecTask:
    return _task(number, "exec_parallel", prompt, [list(calls)], extra)


def multi(number: str, prompt: str, *turns: list[CallSpec], extra: tuple[str, ...] = ()) -> ExecTask:
    return _task(number, "exec_multi_step", prompt, list(turns), extra)


def irrelevant(number: str, prompt: str, extra: tuple[str, ...] = ()) -> ExecTask:
    return _task(number, "exec_irrelevance", prompt, [], extra)


def c(name: str, **arguments: Any) -> CallSpec:
    return (name, arguments)


TASKS: list[ExecTask] = [
    # ---------------------------------------------------------------------------------------- calendar
    single(
        "calendar_001",
        "Put 'Budget sync' on my calendar for 2025-07-15 at 11:00, 45 minutes long.",
        c("create_event", title="Budget sync", date="2025-07-15", start="11:00", duration_minutes=45),
    ),
    single("calendar_002", "The board call is off — cancel calendar event e8.", c("cancel_event", event_id="e8")),
    single(
        "calendar_003",
        "Move event e6 to 17 July 2025 at 15:30.",
        c("move_event", event_id="e6", new_date="2025-07-17", new_start="15:30"),
    ),
    single(
        "calendar_004",
        "请在2025年7月18日下午3点安排一个60分钟的会议，标题为“Vendor demo”。",
        c("create_event", title="Vendor demo", date="2025-07-18", start="15:00", duration_minutes=60),
    ),
    single(
        "calendar_005",
        "Block two hours from 1pm on Thursday, July 17th 2025 for 'Offsite prep'.",
        c("create_event", title="Offsite prep", date="2025-07-17", start="13:00", duration_minutes=120),
        extra=("trips",),
    ),
    single(
        "calendar_006",
        "Reschedule e1 so it starts at 09:15 on 2025-07-15 instead.",
        c("move_event", event_id="e1", new_date="2025-07-15", new_start="09:15"),
    ),
    parallel(
        "calendar_007",
        "Cancel both e3 and e6, please.",
        c("cancel_event", event_id="e3"),
        c("cancel_event", event_id="e6"),
    ),
    parallel(
        "calendar_008",
        "Add two events on 2025-07-21: 'Sprint kickoff' at 09:30 for an hour, and 'Retro' at 16:00 for 45 minutes.",
        c("create_event", title="Sprint kickoff", date="2025-07-21", start="09:30", duration_minutes=60),
        c("create_event", title="Retro", date="2025-07-21", start="16:00", duration_minutes=45),
    ),
    parallel(
        "calendar_009",
        "把事件 e1 移到2025年7月22日09:00，同时把 e8 移到2025年7月22日14:00。",
        c("move_event", event_id="e1", new_date="2025-07-22", new_start="09:00"),
        c("move_event", event_id="e8", new_date="2025-07-22", new_start="14:00"),
    ),
    multi(
        "calendar_010",
        "Find the first free hour on 2025-07-14 and book 'Call with landlord' into it.",
        [c("find_free_slot", date="2025-07-14", duration_minutes=60)],
        [c("create_event", title="Call with landlord", date="2025-07-14", start="11:30", duration_minutes=60)],
    ),
    multi(
        "calendar_011",
        "Cancel whatever I have at 12:30 on 2025-07-14.",
        [c("list_events", date="2025-07-14")],
        [c("cancel_event", event_id="e3")],
    ),
    multi(
        "calendar_012",
        "My quarterly planning on 16 July 2025 has to move to the 17th, same start time.",
        [c("list_events", date="2025-07-16")],
        [c("move_event", event_id="e5", new_date="2025-07-17", new_start="09:00")],
    ),
    multi(
        "calendar_013",
        "2025年7月16日找一个30分钟的空档，安排“代码评审”。",
        [c("find_free_slot", date="2025-07-16", duration_minutes=30)],
        [c("create_event", title="代码评审", date="2025-07-16", start="12:00", duration_minutes=30)],
    ),
    multi(
        "calendar_014",
        "When is the earliest 90-minute gap on 18 July 2025? Block it as 'Deep work'.",
        [c("find_free_slot", date="2025-07-18", duration_minutes=90)],
        [c("create_event", title="Deep work", date="2025-07-18", start="09:00", duration_minutes=90)],
    ),
    multi(
        "calendar_015",
        "Whatever is the last thing on my calendar on 2025-07-15, push it to 17:00 the same day.",
        [c("list_events", date="2025-07-15")],
        [c("move_event", event_id="e4", new_date="2025-07-15", new_start="17:00")],
    ),
    irrelevant("calendar_016", "Tell me a short joke about meetings that run too long."),
    irrelevant("calendar_017", "Invite alice@example.com to event e2.", extra=("homes",)),
    irrelevant("calendar_018", "明天北京的天气怎么样？"),
    # ------------------------------------------------------------------------------------------- homes
    single("homes_001", "Save home h5 to my favourites.", c("save_favorite", home_id="h5"), extra=("sheet",)),
    single("homes_002", "Book me a viewing of h9 on 2025-07-20.", c("book_viewing", home_id="h9", date="2025-07-20")),
    single("homes_003", "帮我预约2025年7月23日看房，房源编号 h1。", c("book_viewing", home_id="h1", date="2025-07-23")),
    single(
        "homes_004",
        "I'd like to see listing h12 on Saturday 26 July 2025 — can you book that?",
        c("book_viewing", home_id="h12", date="2025-07-26"),
    ),
    single("homes_005", "Add h11 to my saved homes.", c("save_favorite", home_id="h11")),
    single(
        "homes_006",
        "Schedule a visit to home h4 on the 2nd of August 2025.",
        c("book_viewing", home_id="h4", date="2025-08-02"),
        extra=("calendar",),
    ),
    parallel(
        "homes_007",
        "Save homes h3 and h8 as favourites.",
        c("save_favorite", home_id="h3"),
        c("save_favorite", home_id="h8"),
    ),
    parallel(
        "homes_008",
        "Book viewings for both h5 and h6 on 2025-07-24.",
        c("book_viewing", home_id="h5", date="2025-07-24"),
        c("book_viewing", home_id="h6", date="2025-07-24"),
    ),
    parallel(
        "homes_009",
        "把 h1、h9 和 h10 都加入收藏。",
        c("save_favorite", home_id="h1"),
        c("save_favorite", home_id="h9"),
        c("save_favorite", home_id="h10"),
    ),
    multi(
        "homes_010",
        "Find the cheapest home in Porto with at least 2 bedrooms and book a viewing of it for 2025-07-25.",
        [c("search_homes", city="Porto", min_bedrooms=2)],
        [c("book_viewing", home_id="h5", date="2025-07-25")],
    ),
    multi(
        "homes_011",
        "Look up every home in Valencia under €300,000 and save all of them to my favourites.",
        [c("search_homes", city="Valencia", max_price=300000)],
        [c("save_favorite", home_id="h8"), c("save_favorite", home_id="h10")],
    ),
    multi(
        "homes_012",
        "Of the Lisbon homes priced at most 700,000 euros, which has the largest floor area? "
        "Book a viewing of it on 2025-07-27.",
        [c("search_homes", city="Lisbon", max_price=700000)],
        [c("book_viewing", home_id="h2", date="2025-07-27")],
    ),
    multi(
        "homes_013",
        "Show me the homes in Seville with three or more bedrooms and book a viewing of the match for 2025-07-28.",
        [c("search_homes", city="Seville", min_bedrooms=3)],
        [c("book_viewing", home_id="h11", date="2025-07-28")],
    ),
    multi(
        "homes_014",
        "Book a viewing for 2025-07-30 of the most recently built home in Porto.",
        [c("search_homes", city="Porto")],
        [c("get_home", home_id="h5"), c("get_home", home_id="h6"), c("get_home", home_id="h7")],
        [c("book_viewing", home_id="h6", date="2025-07-30")],
    ),
    multi(
        "homes_015",
        "帮我在 Valencia 找价格最低的房子，然后预约2025年8月1日去看房。",
        [c("search_homes", city="Valencia")],
        [c("book_viewing", home_id="h10", date="2025-08-01")],
    ),
    irrelevant("homes_016", "Remove h2 from my favourites.", extra=("calendar",)),
    irrelevant("homes_017", "What mortgage interest rate should I expect on a 30-year loan?"),
    irrelevant("homes_018", "帮我写一首关于大海的短诗。"),
    # ------------------------------------------------------------------------------------------- trips
    single("trips_001", "Book flight FL202 for 2 passengers.", c("book_flight", flight_id="FL202", passengers=2)),
    single("trips_002", "Please cancel booking BK-7001.", c("cancel_booking", booking_id="BK-7001")),
    single(
        "trips_003",
        "Reserve one room at hotel HT-LIS-2, checking in on 2025-08-04 for 3 nights.",
        c("book_hotel", hotel_id="HT-LIS-2", check_in="2025-08-04", nights=3, rooms=1),
    ),
    single("trips_004", "帮我订 FL301 航班，一位乘客。", c("book_flight", flight_id="FL301", passengers=1)),
    single(
        "trips_005",
        "Book 2 rooms at HT-BER-1 from 5 August 2025 for four nights.",
        c("book_hotel", hotel_id="HT-BER-1", check_in="2025-08-05", nights=4, rooms=2),
    ),
    single(
        "trips_006",
        "I won't need the Paris hotel after all: cancel reservation BK-7002.",
        c("cancel_booking", booking_id="BK-7002"),
        extra=("calendar",),
    ),
    single("trips_007", "Get me three seats on flight FL110.", c("book_flight", flight_id="FL110", passengers=3)),
    parallel(
        "trips_008",
        "Book FL101 for one passenger and FL110 for one passenger.",
        c("book_flight", flight_id="FL101", passengers=1),
        c("book_flight", flight_id="FL110", passengers=1),
    ),
    parallel(
        "trips_009",
        "Book one room at HT-MAD-2 from 2025-08-04 for 4 nights, and one room at HT-LIS-1 from 2025-08-08 "
        "for 2 nights.",
        c("book_hotel", hotel_id="HT-MAD-2", check_in="2025-08-04", nights=4, rooms=1),
        c("book_hotel", hotel_id="HT-LIS-1", check_in="2025-08-08", nights=2, rooms=1),
    ),
    parallel(
        "trips_010",
        "取消预订 BK-7001 和 BK-7002。",
        c("cancel_booking", booking_id="BK-7001"),
        c("cancel_booking", booking_id="BK-7002"),
    ),
    multi(
        "trips_011",
        "Find the cheapest flight from Lisbon to Madrid on 2025-08-04 and book it for one passenger.",
        [c("search_flights", origin="Lisbon", destination="Madrid", date="2025-08-04")],
        [c("book_flight", flight_id="FL103", passengers=1)],
        extra=("calendar",),
    ),
    multi(
        "trips_012",
        "Two of us need to get from Rome to Paris on 6 August 2025 — book the cheapest flight.",
        [c("search_flights", origin="Rome", destination="Paris", date="2025-08-06")],
        [c("book_flight", flight_id="FL301", passengers=2)],
    ),
    multi(
        "trips_013",
        "Book the cheapest hotel in Madrid for 4 nights from 2025-08-04, one room.",
        [c("search_hotels", city="Madrid", check_in="2025-08-04", nights=4)],
        [c("book_hotel", hotel_id="HT-MAD-2", check_in="2025-08-04", nights=4, rooms=1)],
    ),
    multi(
        "trips_014",
        "Find the hotel with the most stars in Berlin for 2 nights from 2025-08-05 and book one room there.",
        [c("search_hotels", city="Berlin", check_in="2025-08-05", nights=2)],
        [c("book_hotel", hotel_id="HT-BER-2", check_in="2025-08-05", nights=2, rooms=1)],
    ),
    multi(
        "trips_015",
        "查一下2025年8月5日从巴黎（Paris）到柏林（Berlin）的航班，订最便宜的那班，两位乘客。",
        [c("search_flights", origin="Paris", destination="Berlin", date="2025-08-05")],
        [c("book_flight", flight_id="FL202", passengers=2)],
    ),
    multi(
        "trips_016",
        "Fly three of us from Berlin to Rome on 2025-08-12 on the earliest flight that still has enough seats.",
        [c("search_flights", origin="Berlin", destination="Rome", date="2025-08-12")],
        [c("book_flight", flight_id="FL402", passengers=3)],
    ),
    multi(
        "trips_017",
        "On 2025-08-05 book me (one person) on the cheapest flight from Paris to Berlin, and one room in the "
        "cheapest Berlin hotel for that night only.",
        [
            c("search_flights", origin="Paris", destination="Berlin", date="2025-08-05"),
            c("search_hotels", city="Berlin", check_in="2025-08-05", nights=1),
        ],
        [
            c("book_flight", flight_id="FL202", passengers=1),
            c("book_hotel", hotel_id="HT-BER-1", check_in="2025-08-05", nights=1, rooms=1),
        ],
    ),
    irrelevant("trips_018", "Do I need a visa to travel from Brazil to Germany?", extra=("homes",)),
    irrelevant("trips_019", "Change the passenger name on booking BK-7001 to Maria Silva."),
    irrelevant("trips_020", "How many Japanese yen is 250 euros today?"),
    # ------------------------------------------------------------------------------------------- sheet
    single("sheet_001", "Set cell E2 to 'reorder soon'.", c("write_cell", cell="E2", value="reorder soon")),
    single("sheet_002", "Write 60 into B3.", c("write_cell", cell="B3", value=60)),
    single(
        "sheet_003",
        "Sort the rows by column C, highest value first.",
        c("sort_by_column", column="C", descending=True),
    ),
    single(
        "sheet_004",
        "在表格末尾添加一行：Glue，50，0.9，Colorly。",
        c("add_row", values=["Glue", 50, 0.9, "Colorly"]),
    ),
    single(
        "sheet_005",
        "Sort the sheet alphabetically (A to Z) by column A.",
        c("sort_by_column", column="A", descending=False),
        extra=("trips",),
    ),
    single("sheet_006", "The staplers got cheaper: change C4 to 11.99.", c("write_cell", cell="C4", value=11.99)),
    parallel(
        "sheet_007",
        "Put 0 in B4 and 'discontinued' in E4.",
        c("write_cell", cell="B4", value=0),
        c("write_cell", cell="E4", value="discontinued"),
    ),
    parallel(
        "sheet_008",
        "把 D3 改成 Inkwell，同时把 D5 改成 Colorly。",
        c("write_cell", cell="D3", value="Inkwell"),
        c("write_cell", cell="D5", value="Colorly"),
    ),
    parallel(
        "sheet_009",
        "Fill E5 with 'bulk' and E6 with 'seasonal'.",
        c("write_cell", cell="E5", value="bulk"),
        c("write_cell", cell="E6", value="seasonal"),
    ),
    multi(
        "sheet_010",
        "Put the total of B2:B7 into B8.",
        [c("sum_range", range="B2:B7")],
        [c("write_cell", cell="B8", value=433)],
        extra=("homes",),
    ),
    multi(
        "sheet_011",
        "Read C3 and write double its value into E3.",
        [c("read_cell", cell="C3")],
        [c("write_cell", cell="E3", value=6.4)],
    ),
    multi(
        "sheet_012",
        "Copy whatever is in D6 into E2.",
        [c("read_cell", cell="D6")],
        [c("write_cell", cell="E2", value="Colorly")],
    ),
    multi(
        "sheet_013",
        "计算 C2:C7 的总和，并把结果写入 C8。",
        [c("sum_range", range="C2:C7")],
        [c("write_cell", cell="C8", value=21.95)],
    ),
    multi(
        "sheet_014",
        "Add a row for 'Erasers' with the same number of units as in B6, unit price 0.5 and supplier PaperCo.",
        [c("read_cell", cell="B6")],
        [c("add_row", values=["Erasers", 36, 0.5, "PaperCo"])],
    ),
    multi(
        "sheet_015",
        "Write the number of units in B5 minus the number in B2 into E5.",
        [c("read_cell", cell="B5"), c("read_cell", cell="B2")],
        [c("write_cell", cell="E5", value=80)],
    ),
    irrelevant("sheet_016", "Make a bar chart of units per item."),
    irrelevant("sheet_017", "What is the capital of Australia?", extra=("trips",)),
    irrelevant("sheet_018", "把 B 列的字体改成红色。"),
]


def load_tasks() -> list[ExecTask]:
    return list(TASKS)
