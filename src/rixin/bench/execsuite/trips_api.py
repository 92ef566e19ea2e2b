"""trips: flight and hotel search and booking; bookings take seats and rooms, cancelling gives them back."""

from __future__ import annotations

import copy
from typing import Any

from rixin.bench.execsuite.base import Api, canonical, lookup, parse_date

_FLIGHT = ("id", "origin", "destination", "date", "departs", "arrives", "price_eur", "seats_left")
SEED_FLIGHTS: list[tuple[Any, ...]] = [
    ("FL101", "Lisbon", "Madrid", "2025-08-04", "07:15", "09:30", 89, 40),
    ("FL102", "Lisbon", "Madrid", "2025-08-04", "13:40", "15:55", 124, 12),
    ("FL103", "Lisbon", "Madrid", "2025-08-04", "19:05", "21:20", 76, 3),
    ("FL110", "Madrid", "Lisbon", "2025-08-08", "18:30", "18:50", 95, 25),
    ("FL201", "Paris", "Berlin", "2025-08-05", "08:00", "09:50", 142, 30),
    ("FL202", "Paris", "Berlin", "2025-08-05", "17:20", "19:10", 118, 8),
    ("FL210", "Berlin", "Paris", "2025-08-09", "20:10", "22:00", 131, 20),
    ("FL301", "Rome", "Paris", "2025-08-06", "06:45", "08:55", 99, 15),
    ("FL302", "Rome", "Paris", "2025-08-06", "12:10", "14:20", 157, 50),
    ("FL303", "Rome", "Paris", "2025-08-07", "09:30", "11:40", 88, 6),
    ("FL401", "Berlin", "Rome", "2025-08-12", "10:00", "12:05", 110, 2),
    ("FL402", "Berlin", "Rome", "2025-08-12", "15:45", "17:50", 134, 18),
]
_HOTEL = ("id", "city", "name", "stars", "price_per_night_eur", "rooms_left")
SEED_HOTELS: list[tuple[Any, ...]] = [
    ("HT-LIS-1", "Lisbon", "Casa do Rio", 4, 140, 5),
    ("HT-LIS-2", "Lisbon", "Hotel Miradouro", 3, 95, 8),
    ("HT-MAD-1", "Madrid", "Gran Vía Suites", 4, 160, 3),
    ("HT-MAD-2", "Madrid", "Hostal Sol", 2, 60, 10),
    ("HT-BER-1", "Berlin", "Spree Loft", 3, 110, 6),
    ("HT-BER-2", "Berlin", "Hotel Tiergarten", 5, 260, 2),
    ("HT-PAR-1", "Paris", "Le Petit Canal", 3, 150, 4),
    ("HT-PAR-2", "Paris", "Maison Montmartre", 4, 210, 7),
    ("HT-ROM-1", "Rome", "Albergo Trastevere", 3, 120, 5),
]
SEED_BOOKINGS: list[dict[str, Any]] = [
    {"id": "BK-7001", "kind": "flight", "flight_id": "FL210", "passengers": 2, "total_eur": 262, "status": "confirmed"},
    {
        "id": "BK-7002",
        "kind": "hotel",
        "hotel_id": "HT-PAR-1",
        "check_in": "2025-08-05",
        "nights": 4,
        "rooms": 1,
        "total_eur": 600,
        "status": "confirmed",
    },
    {
        "id": "BK-7003",
        "kind": "hotel",
        "hotel_id": "HT-ROM-1",
        "check_in": "2025-08-06",
        "nights": 2,
        "rooms": 1,
        "total_eur": 240,
        "status": "cancelled",
    },
]


class TripsApi(Api):
    name = "trips"
    methods = ("search_flights", "book_flight", "search_hotels", "book_hotel", "cancel_booking")
    mutating = frozenset({"book_flight", "book_hotel", "cancel_booking"})

    def __init__(self) -> None:
        self.flights = {row[0]: dict(zip(_FLIGHT, row, strict=True)) for row in SEED_FLIGHTS}
        self.hotels = {row[0]: dict(zip(_HOTEL, row, strict=True)) for row in SEED_HOTELS}
        self.bookings: dict[str, dict[str, Any]] = {b["id"]: copy.deepcopy(b) for b in SEED_BOOKINGS}
        self._seed_ids = set(self.bookings)
        self._next = 7101

    def state(self) -> dict[str, Any]:
        return {
            "bookings": canonical(self.bookings.values(), self._seed_ids),
            "seats_left": {k: f["seats_left"] for k, f in self.flights.items()},
            "rooms_left": {k: h["rooms_left"] for k, h in self.hotels.items()},
        }

    def _add(self, booking: dict[str, Any]) -> dict[str, Any]:
        booking = {"id": f"BK-{self._next}", **booking, "status": "confirmed"}
        self._next += 1
        self.bookings[booking["id"]] = booking
        return dict(booking)

    @staticmethod
    def _city(value: str, known: set[str], what: str) -> str:
        for city in known:
            if city.lower() == value.strip().lower():
                return city
        raise ValueError(f"unknown {what} {value!r}; known cities: {', '.join(sorted(known))}")

    def search_flights(self, origin: str, destination: str, date: str) -> list[dict[str, Any]]:
        """Search direct flights between two cities on a day, earliest departure first.

        Args:
            origin: The city to fly from, e.g. "Lisbon".
            destination: The city to fly to, e.g. "Madrid".
            date: The day of the flight, as YYYY-MM-DD.
        """
        cities = {f["origin"] for f in self.flights.values()} | {f["destination"] for f in self.flights.values()}
        start, end = self._city(origin, cities, "origin"), self._city(destination, cities, "destination")
        day = parse_date(date)
        found = [
            dict(f)
            for f in self.flights.values()
            if f["origin"] == start and f["destination"] == end and f["date"] == day
        ]
        return sorted(found, key=lambda f: str(f["departs"]))

    def book_flight(self, flight_id: str, passengers: int) -> dict[str, Any]:
        """Book seats on a flight.

        Args:
            flight_id: The id of the flight, e.g. "FL101".
            passengers: How many seats to book (1 to 9).
        """
        flight = self.flights[lookup(self.flights, flight_id, "flight_id")]
        if not 1 <= passengers <= 9:
            raise ValueError(f"passengers must be between 1 and 9, got {passengers}")
        if passengers > flight["seats_left"]:
            raise ValueError(f"flight {flight['id']} has only {flight['seats_left']} seat(s) left")
        flight["seats_left"] -= passengers
        total = flight["price_eur"] * passengers
        return self._add({"kind": "flight", "flight_id": flight["id"], "passengers": passengers, "total_eur": total})

    def search_hotels(self, city: str, check_in: str, nights: int) -> list[dict[str, Any]]:
        """Search hotels with free rooms in a city, cheapest first, with the total price for the stay.

        Args:
            city: The city, e.g. "Paris".
            check_in: The day of arrival, as YYYY-MM-DD.
            nights: How many nights to stay (1 to 30).
        """
        place = self._city(city, {h["city"] for h in self.hotels.values()}, "city")
        parse_date(check_in, "check_in")
        if not 1 <= nights <= 30:
            raise ValueError(f"nights must be between 1 and 30, got {nights}")
        found = [
            {**h, "nights": nights, "total_per_room_eur": h["price_per_night_eur"] * nights}
            for h in self.hotels.values()
            if h["city"] == place and h["rooms_left"] > 0
        ]
        return sorted(found, key=lambda h: int(h["price_per_night_eur"]))

    def book_hotel(self, hotel_id: str, check_in: str, nights: int, rooms: int) -> dict[str, Any]:
        """Book rooms in a hotel.

        Args:
            hotel_id: The id of the hotel, e.g. "HT-LIS-1".
            check_in: The day of arrival, as YYYY-MM-DD.
            nights: How many nights to stay (1 to 30).
            rooms: How many rooms to book (at least 1).
        """
        hotel = self.hotels[lookup(self.hotels, hotel_id, "hotel_id")]
        day = parse_date(check_in, "check_in")
        if not 1 <= nights <= 30:
            raise ValueError(f"nights must be between 1 and 30, got {nights}")
        if rooms < 1:
            raise ValueError(f"rooms must be at least 1, got {rooms}")
        if rooms > hotel["rooms_left"]:
            raise ValueError(f"hotel {hotel['id']} has only {hotel['rooms_left']} room(s) left")
        hotel["rooms_left"] -= rooms
        total = hotel["price_per_night_eur"] * nights * rooms
        booking = {"kind": "hotel", "hotel_id": hotel["id"], "check_in": day, "nights": nights, "rooms": rooms}
        return self._add({**booking, "total_eur": total})

    def cancel_booking(self, booking_id: str) -> dict[str, Any]:
        """Cancel a flight or hotel booking, giving its seats or rooms back.

        Args:
            booking_id: The id of the booking, e.g. "BK-7001".
        """
        booking = self.bookings[lookup(self.bookings, booking_id, "booking_id")]
        if booking["status"] == "cancelled":
            raise ValueError(f"booking {booking['id']} is already cancelled")
        booking["status"] = "cancelled"
        if booking["kind"] == "flight":
            self.flights[booking["flight_id"]]["seats_left"] += booking["passengers"]
        else:
            self.hotels[booking["hotel_id"]]["rooms_left"] += booking["rooms"]
        return dict(booking)
