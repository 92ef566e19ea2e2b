"""Counting calls from the model's plan: only lines that bring a value the request contains count."""

from __future__ import annotations

from typing import Literal

import pytest

from rixin.calling.constrain import plan_grammar, tool_call_grammar
from rixin.calling.plan import (
    ToolHints,
    before_dependent,
    count_planned_calls,
    grounded,
    plan_stalled,
    plan_values,
    planned_call_done,
    planned_tool,
)
from rixin.tools import as_tools, tool


def test_values_are_quoted_strings_and_numbers() -> None:
    assert plan_values("`f(city=\"Paris\", unit='celsius', days=3, ratio=0.5)`") == ["Paris", "celsius", "3", "0.5"]
    assert plan_values("f(x2, y_3) and v1.2") == []  # digits inside names are not values
    assert plan_values('f("a 3 b")') == ["a 3 b"]  # numbers inside quotes stay part of the string


def test_a_plan_in_prose_brings_its_names() -> None:
    assert plan_values("Get the current weather for Cairo") == ["Cairo"]  # the first word is the sentence's
    assert plan_values(" `Convert 10 EUR to JPY`") == ["10", "EUR", "JPY"]
    assert plan_values("2. Find flights from New York to Rio de Janeiro") == ["New York", "Rio", "Janeiro"]
    request = "Convert 10 EUR to JPY and 20 GBP to USD, then tell me the weather in Cairo."
    plan = " Convert 10 EUR to JPY\n2. Convert 20 GBP to USD\n3. Get the current weather for Cairo\n"
    plan += "4. Get the weather for Oslo"
    assert count_planned_calls(plan, request) == 3  # measured: the 0.5B planned this, and 2 were counted before


def test_a_number_that_ends_a_sentence_is_a_value_and_a_line_number_is_not() -> None:
    assert plan_values("2. Calculate the GCD of 12 and 18.") == ["12", "18", "GCD"]
    assert plan_values("3. f(3.5)") == ["3.5"]
    assert grounded("18", "Find the GCD of 12 and 18.")
    # Both lines hold 12 and 18: one call (the full stop once hid "18" in the first line, so the second counted).
    plan = " Calculate the GCD of 12 and 18.\n2. Calculate the GCD of 18 and 12.\n"
    assert count_planned_calls(plan, "Find the greatest common divisor (GCD) of 12 and 18") == 1


@pytest.mark.parametrize(
    ("value", "request_text", "expected"),
    [
        ("Paris", "weather in paris?", True),
        ("Par", "weather in Paris?", False),
        ("5", "radius 15", False),
        ("5.0", "a radius of 5 cm", True),
        ("1000", "invest 1,000 dollars", True),
        ("New York", "flights to New York City", True),
        ("USD", "convert 20 EUR to JPY", False),
    ],
)
def test_grounding_is_whole_word_and_numbers_by_value(value: str, request_text: str, expected: bool) -> None:
    assert grounded(value, request_text) is expected


def test_invented_and_repeated_lines_do_not_count() -> None:
    request = "Convert 20 EUR to JPY"
    plan = ' convert("20 EUR", "EUR", "JPY")\n2. convert("20 EUR", "USD", "JPY")\n3. convert("20 EUR", "GBP", "JPY")'
    assert count_planned_calls(plan, request) == 1


def test_each_line_with_a_new_grounded_value_counts() -> None:
    request = "Convert 100 USD to EUR, and tell me the weather in Rome, Oslo and Cairo."
    plan = (
        ' convert(100, "USD", "EUR")\n2. weather("Rome")\n3. weather("Oslo")\n4. weather("Cairo")\n5. weather("Rome")'
    )
    assert count_planned_calls(plan, request) == 4
    assert count_planned_calls(' weather(city="London")\n2. convert(100, "USD", "EUR")', "How warm is London?") == 1


def test_a_new_combination_of_known_values_counts_unless_one_line_already_holds_it() -> None:
    request = "Who were the president and the vice president in 1980 and in 1975?"
    plan = (
        " f(year=1980, position='president')\n2. f(year=1980, position='vice president')\n"
        "3. f(year=1975, position='president')\n4. f(year=1975, position='vice president')\n"
        "5. f(year=1975, position='vice president')\n6. f(year=1980)"
    )
    assert count_planned_calls(plan, request) == 4
    assert count_planned_calls(plan, request, combinations=False) == 3  # line 4 brings no single new value
    by_year = "California's population in 1980 and 1990, and its real GDP in the same years"
    gdp = ' p("California", 1980)\n2. p("California", 1990)\n3. g("California", 1980, "real")\n'
    gdp += '4. g("California", 1990, "real")'
    assert count_planned_calls(gdp, by_year) == 4  # line 4 holds line 2's values and more: still its own call
    legs = "Directions from Oslo to Bergen, then from Bergen to Trondheim, then back from Trondheim to Oslo"
    trip = ' d("Oslo", "Bergen")\n2. d("Bergen", "Trondheim")\n3. d("Trondheim", "Oslo")\n4. d("Oslo", "Rome")'
    assert count_planned_calls(trip, legs) == 3  # "Rome" is invented; "Oslo" alone is part of line 1


def test_a_plan_with_nothing_grounded_leaves_the_count_to_the_model() -> None:
    assert count_planned_calls(" look it up\n2. answer", "What is the capital of France?") is None


def test_plan_and_exact_count_grammars() -> None:
    assert "{0,2}" in plan_grammar(3)  # up to three lines (their language: tests/calling/test_engine_units.py)

    @tool
    def f(a: int) -> int:
        """F.

        Args:
            a: a number
        """
        return a

    exact = tool_call_grammar([f], open_tag="<t>", close_tag="</t>", tags_are_tokens=False, max_calls=3, min_calls=3)
    assert '(", " call){2,2}' in exact
    with pytest.raises(ValueError, match="min_calls"):
        tool_call_grammar([f], open_tag="<t>", close_tag="</t>", tags_are_tokens=False, max_calls=2, min_calls=3)


def test_an_echoed_tool_result_is_recognised_as_no_answer() -> None:
    from rixin.calling.families import GENERIC, HERMES

    assert HERMES.echoes_result("  <tool_response>\nerror: KeyError")
    assert not HERMES.echoes_result("The result was <tool_response>")
    assert GENERIC.render_tool_result("x").startswith(GENERIC.result_open)


def test_a_plan_stalls_at_the_first_line_that_adds_nothing() -> None:
    from rixin.calling.plan import plan_stalled

    request = "Weather in Paris and Tokyo"
    assert not plan_stalled([], request)
    assert not plan_stalled([' w("Paris")'], request)
    assert not plan_stalled([' w("Paris")', '2. w("Tokyo")'], request)
    assert plan_stalled([' w("Paris")', '2. w("Tokyo")', '3. w("Paris")'], request)
    assert plan_stalled([' w("Paris", "Tokyo")', '2. w("Tokyo")'], request)  # part of one earlier line
    assert plan_stalled([' w("Paris")', '2. w("Tokyo")', '3. w("Paris", "Tokyo")'], request)  # merges 1 and 2
    assert not plan_stalled([" look it up"], request)  # a line with no value may be a heading
    assert plan_stalled([" look it up", "2. answer"], request)


def test_the_next_planned_call_is_a_tool_not_yet_called_with_a_value_from_the_conversation() -> None:
    from rixin.calling.plan import next_call_planned

    context = 'Find the cheapest flight from Oslo to Rome on 2025-08-04 and book it.\n[{"id": "FL201"}]'
    tools = {"search_flights", "book_flight"}
    done = [("search_flights", {"oslo", "rome", "2025-08-04"})]
    search_again = ' search_flights(origin="Oslo", destination="Rome", date="2025-08-04")'
    book = '2. book_flight(flight_id="FL201", passengers=1)'
    assert next_call_planned(f"{search_again}\n{book}", context, tools, done) == "book_flight"
    assert next_call_planned(search_again, context, tools, done) is None  # already made
    assert next_call_planned(' book_flight(flight_id="FL999")', context, tools, done) is None  # an invented id
    assert next_call_planned(' cancel_booking(booking_id="FL201")', context, tools, done) is None  # not a tool
    assert next_call_planned(" Book the cheapest flight, FL201", context, tools, done) is None  # no call in it
    assert next_call_planned(' search_flights(origin="Rome", destination="Oslo")', context, tools, done) is None
    back = ' search_flights(origin="Rome", destination="Oslo", date="2025-08-11")'
    assert next_call_planned(back, context + " back on 2025-08-11", tools, done) == "search_flights"


@pytest.mark.parametrize(
    ("line", "tool"),
    [
        ('search_flights(origin="Rome")', "search_flights"),
        ('`search_flights(origin="Rome")`', "search_flights"),
        ('2. search_flights(origin="Rome")', "search_flights"),
        ("book_flight(flight_id=1)", None),  # not among the tools
        ("Search flights from Rome", None),  # prose names no tool
        ("`search_flights` with arguments origin=Rome", None),
    ],
)
def test_planned_tool_reads_the_tool_a_line_calls(line: str, tool: str | None) -> None:
    assert planned_tool(line, {"search_flights", "get_weather"}) == tool


def test_a_heading_does_not_stall_the_plan_but_two_in_a_row_do() -> None:
    from rixin.calling.plan import plan_stalled

    request = "Displacement of a car at 15 m/s for 7 s, and of one at 20 m/s for 10 s?"
    assert not plan_stalled([" Calculate the displacement of each car:"], request)
    assert not plan_stalled([" Calculate the displacement of each car:", "2. displacement(15, 7)"], request)
    assert plan_stalled([" <tools>", "2. First, the cars."], request)
    assert plan_stalled([" d(15, 7)", "2. d(15, 7)"], request)  # a repeat still stalls


def test_numbers_listed_with_commas_are_grounded() -> None:
    assert grounded("5", "Find the factorial of 5,10 and 15.")
    assert grounded("10", "Find the factorial of 5,10 and 15.")
    assert grounded("1000", "invest 1,000 dollars")


def test_a_plan_as_calls_brings_the_names_in_its_arguments() -> None:
    # measured on the 1.5B: a one-letter value in a planned call was no value, so its line did not count
    assert plan_values("f(C)") == ["C"]
    assert plan_values("2. `tune(D, mode=Minor)`") == ["D", "Minor"]
    assert plan_values("get_weather(city=Cairo)") == ["Cairo"]
    request = "Print the grade reports of students A and B."
    assert count_planned_calls(" report.grades(A)\n2. report.grades(B)\n3. report.grades(C)", request) == 2


def test_an_argument_name_is_no_value_even_capitalised() -> None:
    assert plan_values("magnetic_field.calculate(I=10, r=0.01)") == ["10", "0.01"]
    assert plan_values("lowest_price(city: Austin, Product: Yamaha Guitar)") == ["Austin", "Yamaha Guitar"]
    assert plan_values("f(start=12:30)") == ["12", "30"]  # a time's colon is no argument name
    # "I" of the request is the pronoun: two tools over the same values are one call
    request = "Calculate the magnetic field where current I is 10 Amperes and r is 0.01 meter."
    plan = "electric_field.calculate(Q=10, r=0.01)\n2. magnetic_field.calculate(I=10, r=0.01)"
    assert count_planned_calls(plan, request) == 1


def test_values_the_request_spells_in_different_cases_are_different_values() -> None:
    request = "Give the frequency of the genotypes (AA), (Aa) and (aa) for an allele frequency of 0.7."
    plan = (
        ' f(p=0.7, genotype="AA")\n2. f(p=0.7, genotype="Aa")\n3. f(p=0.7, genotype="aa")\n4. f(p=0.7, genotype="AA")'
    )
    assert count_planned_calls(plan, request) == 3
    # a value written in another case than the request's is the request's value
    assert count_planned_calls(' f(city="Paris")\n2. f(city="paris")', "Weather in Paris?") == 1


def test_a_value_the_request_lacks_brings_its_comma_separated_parts() -> None:
    request = "Find a store with a Kawai piano in San Francisco, California, and Chicago, Illinois."
    plan = ' f(location="San Francisco, CA", item="Kawai piano")\n2. f(location="Chicago, IL", item="Kawai piano")'
    assert count_planned_calls(plan, request) == 2
    assert count_planned_calls(' f(location="Springfield, IL")', request) is None  # no part is grounded


def test_numbers_are_grounded_by_value_without_sign_and_as_percentages() -> None:
    assert grounded("-7", "Solve 2x^2 - 7x + 3 = 0.")  # the sign stands apart in the request
    assert grounded("2", "Solve 2x^2 - 7x + 3 = 0.")  # a coefficient: a letter follows the number
    assert grounded("0.045", "at an annual rate of 4.5%") and grounded("4.5", "at an annual rate of 4.5%")
    assert grounded("70", "I weigh 70kg")
    assert not grounded("2", "Read cell B2") and not grounded("3", "play the mp3")
    assert plan_values("Weigh 70kg at 1.75m") == ["70", "1.75"]


def test_numbers_with_commas_are_read_as_thousands_or_as_lists() -> None:
    assert grounded("2000000", "a net income of $2,000,000") and not grounded("0", "a net income of $2,000,000")
    assert grounded("5", "the factorials of 5,10 and 15") and grounded("10", "the factorials of 5,10 and 15")


def test_lines_that_differ_only_in_a_sign_are_one_call() -> None:
    request = "Find the roots of 5x^2 + 20x - 25 = 0."
    assert count_planned_calls(" roots(a=5, b=20, c=-25)\n2. roots(a=5, b=20, c=25)", request) == 1
    request = "Find the roots of 2x^2 + 3x - 4 = 0 and of x^2 - 6x + 9 = 0."
    assert count_planned_calls(" roots(a=2, b=3, c=-4)\n2. roots(a=1, b=-6, c=9)", request) == 2


def test_keyed_values_are_the_ids_after_an_argument_name() -> None:
    line = "2. save_favorite(home_id=h10, note: x, days=3, booking: bk7)"
    assert plan_values(line) == ["3"]
    assert plan_values(line, keyed=True) == ["3", "h10", "bk7"]
    assert plan_values("f(x2, y_3)", keyed=True) == []  # no argument name: a variable, not a value
    assert plan_values('f({"origin": "Rome", "n": 2})', keyed=True) == ["Rome", "2"]  # keys are no values


def test_the_plan_is_cut_before_a_line_that_needs_another_calls_result() -> None:
    names = {"read_cell", "write_cell"}
    plan = ' read_cell("C3")\n2. write_cell("E3", 2 * read_cell("C3"))\n3. read_cell("D4")'
    assert before_dependent(plan, names) == ' read_cell("C3")'
    assert before_dependent(' write_cell("E3", "read_cell(C3)")', names) == ' write_cell("E3", "read_cell(C3)")'
    assert before_dependent(' write_cell("E3", round(2.5))', names) == ' write_cell("E3", round(2.5))'
    independent = ' read_cell("C3")\n2. write_cell("E3", 6.4)\n'
    assert before_dependent(independent, names) is independent  # nothing cut: the same plan


def test_a_planned_line_repeating_a_call_made_is_done() -> None:
    names = {"search_homes", "save_favorite"}
    context = 'Save every home in Valencia under 300000.\n[{"id": "h8"}, {"id": "h10"}]'
    made = [("search_homes", {"valencia", "300000"}), ("save_favorite", {"h10"})]
    assert planned_call_done('search_homes(city="Valencia", max_price=300000)', context, names, made)
    assert planned_call_done("save_favorite(home_id=h10)", context, names, made)
    assert not planned_call_done("save_favorite(home_id=h8)", context, names, made)
    assert not planned_call_done('search_homes(city="Seville")', "Seville\n" + context, names, made)
    assert not planned_call_done('search_homes(city="Porto")', context, names, made)  # nothing found: not done


def _hints(*tools: object, tools_apart: bool = True, options_apart: bool = True) -> ToolHints:
    return ToolHints.of(as_tools(tools), tools_apart=tools_apart, options_apart=options_apart)


def test_calls_of_two_tools_the_request_names_apart_count_apart() -> None:
    @tool
    def weather_forecast(city: str) -> str:
        """The weather forecast for a city."""
        return city

    @tool
    def air_pollution(city: str) -> str:
        """The air pollution level of a city."""
        return city

    request = "Give me the weather forecast for Oslo and its air pollution level."
    plan = ' weather_forecast(city="Oslo")\n2. air_pollution(city="Oslo")'
    hints = _hints(weather_forecast, air_pollution)
    assert count_planned_calls(plan, request) == 1  # without the tools: the second line holds no new value
    assert count_planned_calls(plan, request, hints=hints) == 2
    assert count_planned_calls(plan, request, hints=_hints(weather_forecast, air_pollution, tools_apart=False)) == 1
    # One clause naming both is no sign that both are wanted; nor is a request that names only one.
    assert count_planned_calls(plan, "What is the weather forecast with air pollution for Oslo?", hints=hints) == 1
    assert count_planned_calls(plan, "Give me the weather forecast for Oslo.", hints=hints) == 1
    # The second line stops the plan no more once it counts.
    assert not plan_stalled(plan.splitlines(), request, hints=hints)
    assert plan_stalled(plan.splitlines(), request)


def test_a_second_tool_named_only_by_shared_or_generic_words_does_not_count() -> None:
    @tool
    def mortgage_payment(amount: float, rate: float) -> float:
        """Monthly payment of a mortgage."""
        return amount * rate

    @tool
    def get_loan_payment(amount: float, rate: float) -> float:
        """Monthly payment of a loan."""
        return amount * rate

    request = "What is the monthly payment on my mortgage of 300000 at 4%? Then get the details."
    plan = " mortgage_payment(amount=300000, rate=0.04)\n2. get_loan_payment(amount=300000, rate=0.04)"
    assert count_planned_calls(plan, request, hints=_hints(mortgage_payment, get_loan_payment)) == 1


def test_calls_choosing_two_options_the_request_mentions_count_apart() -> None:
    @tool
    def rainfall(city: str, period: Literal["week", "month", "ten_years"]) -> float:
        """Rainfall statistics of a city."""
        return 0.0

    request = "How much rain fell in Lima over the last month and over the last ten years?"
    plan = ' rainfall(city="Lima", period="month")\n2. rainfall(city="Lima", period="ten_years")'
    assert count_planned_calls(plan, request) == 1
    assert count_planned_calls(plan, request, hints=_hints(rainfall)) == 2
    assert count_planned_calls(plan, request, hints=_hints(rainfall, options_apart=False)) == 1
    # An option the request does not mention ("week") makes no call of its own.
    invented = plan + '\n3. rainfall(city="Lima", period="week")'
    assert count_planned_calls(invented, request, hints=_hints(rainfall)) == 2


def test_options_quoted_in_a_description_and_short_forms_count() -> None:
    @tool
    def fuel_cost(vehicle: str, km: int) -> float:
        """Yearly fuel cost.

        Args:
            vehicle: The kind of vehicle: 'petrol', 'diesel' or 'EV' (an electric vehicle).
            km: Kilometres driven per year.
        """
        return 0.0

    request = "Compare the yearly fuel cost of a petrol car and of an electric vehicle, each driving 12000 km."
    plan = ' fuel_cost(vehicle="petrol", km=12000)\n2. fuel_cost(vehicle="EV", km=12000)'
    assert count_planned_calls(plan, request, hints=_hints(fuel_cost)) == 2
    # Options the request leaves open are both listed by a model; neither is mentioned: one call.
    open_plan = ' fuel_cost(vehicle="petrol", km=12000)\n2. fuel_cost(vehicle="diesel", km=12000)'
    assert (
        count_planned_calls(open_plan, "What does driving 12000 km a year cost in fuel?", hints=_hints(fuel_cost)) == 1
    )


def test_booleans_are_no_options_that_count_apart() -> None:
    @tool
    def report(city: str, detailed: bool = False) -> str:
        """A city report."""
        return city

    plan = ' report(city="Lima", detailed=False)\n2. report(city="Lima", detailed=True)'
    assert count_planned_calls(plan, "A detailed report on Lima, please.", hints=_hints(report)) == 1


def test_planned_arguments_are_read_only_from_calls_written_out_in_full() -> None:
    from rixin.calling.plan import planned_arguments

    assert planned_arguments(' f(city="Paris", days=3)') == {"city": "Paris", "days": 3}
    assert planned_arguments('2. f({"city": "Paris", "days": 3})') == {"city": "Paris", "days": 3}
    assert planned_arguments(' f(city: "Paris", at: "10:30", note: "a: b")') == {
        "city": "Paris",
        "at": "10:30",
        "note": "a: b",
    }
    assert planned_arguments(" f(x=[1, 2], flag=true, none=null, n=-3)") == {
        "x": [1, 2],
        "flag": True,
        "none": None,
        "n": -3,
    }
    assert planned_arguments(' f("Paris", 3)') is None  # positional
    assert planned_arguments(" f(city=Paris)") is None  # an unquoted word
    assert planned_arguments(" f(n=2 * 3)") is None  # an expression
    assert planned_arguments(" f(a=1) + f(b=2)") is None  # more than one call
    assert planned_arguments(" Get the weather for Paris") is None
