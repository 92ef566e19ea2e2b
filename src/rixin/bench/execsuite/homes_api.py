"""homes: a home search with viewing bookings and a list of favourite homes."""

from __future__ import annotations

import copy
from typing import Any

from rixin.bench.execsuite.base import Api, canonical, lookup, parse_date

_FIELDS = ("id", "city", "neighborhood", "price_eur", "bedrooms", "bathrooms", "area_m2", "status")
SEED_HOMES: list[tuple[Any, ...]] = [  # _FIELDS, then year_built and a description
    ("h1", "Lisbon", "Alfama", 420000, 2, 1, 78, "available", 1920, "Restored townhouse flat with river views."),
    ("h2", "Lisbon", "Campo de Ourique", 615000, 3, 2, 120, "available", 1965, "Bright corner flat, lift."),
    ("h3", "Lisbon", "Belém", 385000, 1, 1, 55, "available", 1998, "Compact flat near the gardens."),
    ("h4", "Lisbon", "Parque das Nações", 890000, 4, 3, 185, "available", 2012, "Penthouse with terrace."),
    ("h5", "Porto", "Boavista", 310000, 2, 1, 85, "available", 1989, "Quiet street, close to the metro."),
    ("h6", "Porto", "Foz do Douro", 540000, 3, 2, 140, "available", 2008, "Five minutes from the beach."),
    ("h7", "Porto", "Bonfim", 265000, 1, 1, 60, "sold", 1935, "Granite building, high ceilings."),
    ("h8", "Valencia", "Ruzafa", 295000, 2, 1, 90, "available", 1950, "Balconies over a lively street."),
    ("h9", "Valencia", "El Carmen", 360000, 3, 2, 110, "available", 1910, "Old-town flat, original tiles."),
    ("h10", "Valencia", "Benimaclet", 245000, 2, 1, 75, "available", 1978, "Near the university, sunny."),
    ("h11", "Seville", "Triana", 330000, 3, 2, 105, "available", 2003, "Patio and roof terrace."),
    ("h12", "Seville", "Nervión", 275000, 2, 2, 88, "under_offer", 1995, "Garage space included."),
]
SEED_FAVORITES = ["h2"]
SEED_VIEWINGS = [{"id": "v1", "home_id": "h2", "date": "2025-07-19"}]


class HomesApi(Api):
    name = "homes"
    methods = ("search_homes", "get_home", "book_viewing", "save_favorite")
    mutating = frozenset({"book_viewing", "save_favorite"})

    def __init__(self) -> None:
        self.homes: dict[str, dict[str, Any]] = {}
        for row in SEED_HOMES:
            home = dict(zip(_FIELDS, row[: len(_FIELDS)], strict=True))
            home.update(year_built=row[-2], description=row[-1])
            self.homes[home["id"]] = home
        self.favorites: list[str] = list(SEED_FAVORITES)
        self.viewings: list[dict[str, Any]] = copy.deepcopy(SEED_VIEWINGS)
        self._seed_ids = {v["id"] for v in self.viewings}
        self._next = len(self.viewings) + 1

    def state(self) -> dict[str, Any]:
        return {"favorites": sorted(self.favorites), "viewings": canonical(self.viewings, self._seed_ids)}

    def search_homes(self, city: str, max_price: int | None = None, min_bedrooms: int = 0) -> list[dict[str, Any]]:
        """Search homes for sale in a city, cheapest first.

        Args:
            city: The city, e.g. "Lisbon".
            max_price: The highest price in euros to include; no limit when omitted.
            min_bedrooms: The fewest bedrooms a home may have.
        """
        if max_price is not None and max_price <= 0:
            raise ValueError(f"max_price must be positive, got {max_price}")
        if min_bedrooms < 0:
            raise ValueError(f"min_bedrooms must not be negative, got {min_bedrooms}")
        wanted = city.strip().lower()
        if wanted not in {h["city"].lower() for h in self.homes.values()}:
            cities = sorted({h["city"] for h in self.homes.values()})
            raise ValueError(f"no listings in {city!r}; cities with listings: {', '.join(cities)}")
        found = [
            {k: h[k] for k in _FIELDS}
            for h in self.homes.values()
            if h["city"].lower() == wanted
            and (max_price is None or h["price_eur"] <= max_price)
            and h["bedrooms"] >= min_bedrooms
        ]
        return sorted(found, key=lambda h: int(h["price_eur"]))

    def get_home(self, home_id: str) -> dict[str, Any]:
        """Get every detail of one home, including the year it was built and a description.

        Args:
            home_id: The id of the home, e.g. "h4".
        """
        return dict(self.homes[lookup(self.homes, home_id, "home_id")])

    def book_viewing(self, home_id: str, date: str) -> dict[str, Any]:
        """Book a viewing of a home on a day.

        Args:
            home_id: The id of the home, e.g. "h4".
            date: The day of the viewing, as YYYY-MM-DD.
        """
        home = self.homes[lookup(self.homes, home_id, "home_id")]
        day = parse_date(date)
        if home["status"] == "sold":
            raise ValueError(f"home {home['id']} is sold and cannot be viewed")
        if any(v["home_id"] == home["id"] and v["date"] == day for v in self.viewings):
            raise ValueError(f"a viewing of {home['id']} on {day} is already booked")
        viewing = {"id": f"v{self._next}", "home_id": home["id"], "date": day}
        self._next += 1
        self.viewings.append(viewing)
        return {**viewing, "status": "booked"}

    def save_favorite(self, home_id: str) -> dict[str, Any]:
        """Save a home to the favourites list (saving it again changes nothing).

        Args:
            home_id: The id of the home, e.g. "h4".
        """
        key = lookup(self.homes, home_id, "home_id")
        if key not in self.favorites:
            self.favorites.append(key)
        return {"saved": key, "favorites": sorted(self.favorites)}
