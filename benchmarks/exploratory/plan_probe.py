"""Hand-written requests with a known number of calls, through the engine with the demo tools, for a few
values of `plan_end_penalty` (docs/results.md §13: the three-call request whose prose plan counted 2 before
names in prose plans were read; no count changed with penalties 2 and 4).

    python benchmarks/exploratory/plan_probe.py [--model NAME]
"""

from __future__ import annotations

import sys

from rixin.calling import CallingOptions, open_model, with_options
from rixin.cli.demo_tools import convert_currency, get_weather
from rixin.types import Message

REQUESTS = [
    ("What's the weather in Oslo, Lima and Hanoi, and convert 50 USD to EUR?", 4),
    ("Convert 10 EUR to JPY and 20 GBP to USD, then tell me the weather in Cairo.", 3),
    ("How warm is it in Madrid?", 1),
    ("Convert 300 CHF to SEK.", 1),
    ("Weather in Paris and Rome in fahrenheit, please.", 2),
]


def main() -> None:
    model = sys.argv[sys.argv.index("--model") + 1] if "--model" in sys.argv else None
    base = open_model(model, CallingOptions())
    for penalty in (0.0, 2.0, 4.0):
        engine = with_options(base, plan_end_penalty=penalty)
        counts = []
        for request, wanted in REQUESTS:
            result = engine.chat([Message(role="user", content=request)], tools=[get_weather, convert_currency])
            counts.append(f"{len(result.message.tool_calls or [])}/{wanted}")
        print(f"plan_end_penalty={penalty:g}: calls made / wanted: {'  '.join(counts)}")


if __name__ == "__main__":
    main()
