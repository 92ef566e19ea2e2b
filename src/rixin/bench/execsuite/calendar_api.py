"""calendar: one person's events; no two events may overlap."""

from __future__ import annotations

import copy
from typing import Any

from rixin.bench.execsuite.base import Api, canonical, clock, lookup, parse_date, parse_time

DAY_START, DAY_END = 9 * 60, 18 * 60  # working hours searched by find_free_slot

SEED: list[dict[str, Any]] = [
    {"id": "e1", "title": "Team standup", "date": "2025-07-14", "start": "09:00", "duration_minutes": 30},
    {"id": "e2", "title": "Design review", "date": "2025-07-14", "start": "10:00", "duration_minutes": 90},
    {"id": "e3", "title": "Lunch with Priya", "date": "2025-07-14", "start": "12:30", "duration_minutes": 60},
    {"id": "e4", "title": "Dentist", "date": "2025-07-15", "start": "16:00", "duration_minutes": 45},
    {"id": "e5", "title": "Quarterly planning", "date": "2025-07-16", "start": "09:00", "duration_minutes": 180},
    {"id": "e6", "title": "1:1 with Marco", "date": "2025-07-16", "start": "14:00", "duration_minutes": 30},
    {"id": "e7", "title": "Gym", "date": "2025-07-17", "start": "07:00", "duration_minutes": 60},
    {"id": "e8", "title": "Board call", "date": "2025-07-18", "start": "11:00", "duration_minutes": 60},
]


class CalendarApi(Api):
    name = "calendar"
    methods = ("list_events", "create_event", "move_event", "cancel_event", "find_free_slot")
    mutating = frozenset({"create_event", "move_event", "cancel_event"})

    def __init__(self) -> None:
        self.events: dict[str, dict[str, Any]] = {e["id"]: copy.deepcopy(e) for e in SEED}
        self._seed_ids = set(self.events)
        self._next = len(SEED) + 1

    def state(self) -> dict[str, Any]:
        return {"events": canonical(self.events.values(), self._seed_ids)}

    def _view(self, event: dict[str, Any]) -> dict[str, Any]:
        end = parse_time(event["start"]) + event["duration_minutes"]
        return {**event, "end": clock(end)}

    def _check_free(self, day: str, start: int, minutes: int, ignore: str | None = None) -> None:
        for other in self.events.values():
            begin = parse_time(other["start"])
            end = begin + other["duration_minutes"]
            if other["id"] != ignore and other["date"] == day and start < end and begin < start + minutes:
                span = f"{other['start']}-{clock(end)}"
                raise ValueError(f"overlaps event {other['id']} {other['title']!r} ({span}) on {day}")

    def list_events(self, date: str) -> list[dict[str, Any]]:
        """List the events on one day, earliest first.

        Args:
            date: The day, as YYYY-MM-DD.
        """
        day = parse_date(date)
        found = [self._view(e) for e in self.events.values() if e["date"] == day]
        return sorted(found, key=lambda e: str(e["start"]))

    def create_event(self, title: str, date: str, start: str, duration_minutes: int) -> dict[str, Any]:
        """Add an event to the calendar; it may not overlap an existing event.

        Args:
            title: A short title for the event.
            date: The day, as YYYY-MM-DD.
            start: The start time, 24-hour HH:MM.
            duration_minutes: How long the event lasts, in minutes (5 to 720).
        """
        if not title.strip():
            raise ValueError("title must not be empty")
        day, begin = parse_date(date), parse_time(start, "start")
        if not 5 <= duration_minutes <= 720:
            raise ValueError(f"duration_minutes must be between 5 and 720, got {duration_minutes}")
        if begin + duration_minutes > 24 * 60:
            raise ValueError("the event must end on the day it starts")
        self._check_free(day, begin, duration_minutes)
        event_id = f"e{self._next}"
        self._next += 1
        self.events[event_id] = {
            "id": event_id,
            "title": title.strip(),
            "date": day,
            "start": clock(begin),
            "duration_minutes": duration_minutes,
        }
        return self._view(self.events[event_id])

    def move_event(self, event_id: str, new_date: str, new_start: str) -> dict[str, Any]:
        """Move an event to another day and/or start time, keeping its duration.

        Args:
            event_id: The id of the event, e.g. "e3".
            new_date: The new day, as YYYY-MM-DD.
            new_start: The new start time, 24-hour HH:MM.
        """
        key = lookup(self.events, event_id, "event_id")
        event = self.events[key]
        day, begin = parse_date(new_date, "new_date"), parse_time(new_start, "new_start")
        if begin + event["duration_minutes"] > 24 * 60:
            raise ValueError("the event must end on the day it starts")
        self._check_free(day, begin, event["duration_minutes"], ignore=key)
        event.update(date=day, start=clock(begin))
        return self._view(event)

    def cancel_event(self, event_id: str) -> dict[str, Any]:
        """Cancel an event, removing it from the calendar.

        Args:
            event_id: The id of the event, e.g. "e3".
        """
        event = self.events.pop(lookup(self.events, event_id, "event_id"))
        return {"cancelled": event["id"], "title": event["title"]}

    def find_free_slot(self, date: str, duration_minutes: int) -> dict[str, Any]:
        """Find the earliest free period of the given length on a day, within working hours 09:00-18:00.

        Args:
            date: The day, as YYYY-MM-DD.
            duration_minutes: How long the free period must be, in minutes.
        """
        day = parse_date(date)
        if not 5 <= duration_minutes <= DAY_END - DAY_START:
            raise ValueError(f"duration_minutes must be between 5 and {DAY_END - DAY_START}, got {duration_minutes}")
        busy = [e for e in self.events.values() if e["date"] == day]
        candidates = sorted({DAY_START, *(parse_time(e["start"]) + e["duration_minutes"] for e in busy)})
        for begin in candidates:
            if begin < DAY_START or begin + duration_minutes > DAY_END:
                continue
            try:
                self._check_free(day, begin, duration_minutes)
            except ValueError:
                continue
            return {"date": day, "start": clock(begin), "end": clock(begin + duration_minutes), "free": True}
        return {"date": day, "free": False, "message": f"no free {duration_minutes}-minute slot in working hours"}
