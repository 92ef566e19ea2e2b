"""Small deterministic tools for `rixin demo` and for trying `rixin chat --tools-module` on."""

from __future__ import annotations

from typing import Literal

from rixin.tools import tool

_WEATHER = {
    "beijing": (3, "sunny"),
    "shanghai": (11, "cloudy"),
    "paris": (8, "light rain"),
    "tokyo": (12, "clear"),
    "london": (9, "overcast"),
}
_RATES_TO_USD = {"USD": 1.0, "CNY": 0.1385, "EUR": 1.08, "JPY": 0.0067, "GBP": 1.27}


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict[str, object]:
    """Get the current weather for a city.

    Args:
        city: The city's name, e.g. "Paris".
        unit: Temperature unit.
    """
    known = _WEATHER.get(city.strip().lower())
    if known is None:
        raise ValueError(f"no weather data for {city!r}; known cities: {', '.join(sorted(_WEATHER))}")
    celsius, sky = known
    temperature = celsius if unit == "celsius" else round(celsius * 9 / 5 + 32, 1)
    return {"city": city, "temperature": temperature, "unit": unit, "sky": sky}


@tool
def convert_currency(amount: float, from_currency: str, to_currency: str) -> dict[str, object]:
    """Convert an amount of money between currencies (USD, CNY, EUR, JPY, GBP).

    Args:
        amount: The amount to convert.
        from_currency: ISO code of the source currency, e.g. "USD".
        to_currency: ISO code of the target currency, e.g. "CNY".
    """
    rates = {code: rate for code, rate in _RATES_TO_USD.items()}
    source, target = from_currency.upper(), to_currency.upper()
    if source not in rates or target not in rates:
        raise ValueError(f"unsupported currency; supported: {', '.join(rates)}")
    return {"amount": round(amount * rates[source] / rates[target], 2), "currency": target}
