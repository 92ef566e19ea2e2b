"""The engine's techniques, each behind an option so that its effect can be measured alone
(`rixin bench --engine-option KEY=VALUE`; figures in docs/results.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CallingOptions:
    """Each technique can be switched off alone, so that its effect can be measured."""

    constrained: bool = True
    """Generate calls under a grammar built from the tools' JSON Schemas."""
    decide_first: bool = True
    """For `auto`: read the model's first tokens to decide between a text answer and a call."""
    parallel_as_list: bool | None = None
    """Parallel calls as one JSON list (None: the family's default)."""
    max_repairs: int = 2
    probe_tokens: int = 16
    reuse_prefix: bool = True
    max_parallel_calls: int = 8
    max_number_digits: int | None = 18
    """With `constrained`: a number in a call ends after this many digits (None: unbounded, as JSON Schema has
    it). Among 30 tools the 0.5B wrote `"distance": 1000…` for 1,600 tokens, until its limit: an output that
    does not parse, after half a minute (docs/results.md §21)."""
    max_repeated_items: int | None = 10
    """With `constrained`: a list in a call takes no more items once it holds this many equal ones in a row (None:
    unbounded). The 1.5B wrote `"items": ["pumpkin", "pumpkin", …` for "three pumpkins" until its token limit:
    an output that does not parse (docs/results.md §23)."""
    max_repeated_text: int | None = 4
    """With `constrained`: a string in a call ends once its last 60 characters occur this many times in it (None:
    unbounded). The 0.5B wrote one sentence about a novel over and over into a `detail` argument until its token
    limit, 1,600 tokens: an output that does not parse (docs/results.md §27). Code or text that repeats a
    60-character stretch four times is rare; a model looping does it within a few hundred characters."""
    parallel_bias: float = 4.0
    """Added to the log-odds of making one more call where the list of calls may end (0: off). Measured on
    Qwen2.5-Coder-0.5B (BFCL dev sample, seed 7, 15 items per category): 4.0 raised parallel from 7% to 33% and
    parallel_multiple from 0% to 13% with simple and multiple unchanged (docs/results.md;
    probe: benchmarks/exploratory/continue_margins.py)."""
    plan_calls: bool = True
    """Before parallel calls, let the model list the calls it needs (one short numbered line each, under a
    grammar); lines that bring a new value found in the request count (rixin.calling.plan), and the call list
    is then generated with exactly that many entries. Measured on Qwen2.5-Coder-0.5B (BFCL dev sample, seed 7,
    15 per category): parallel 33% → 60%, parallel_multiple 13% → 40%, simple_python and multiple unchanged
    (docs/results.md). When no planned line is grounded, the count is left to the model (`parallel_bias`)."""
    plan_combinations: bool = True
    """With `plan_calls`: a planned line also counts when its grounded values are a combination no counted line
    already holds (1980 + "vice president" after 1980 + "president" and 1975 + "president"), not only when it
    brings a value no earlier line brought. Invented lines still do not count: their grounded values are a part
    of one earlier line's."""
    plan_tools_apart: bool = True
    """With `plan_calls`: planned calls of two tools that the request names apart count apart even with the same
    values (`weather_forecast("Oslo")`, `air_pollution("Oslo")` for "the weather forecast for Oslo and its air
    pollution"): each tool's name has words the other's lacks, and one part of the request says one's, another
    part the other's (rixin.calling.plan). Before, the second line held no new value and counted for nothing,
    which also stopped the plan there: 13 of the 1.5B's 19 under-counted parallel_multiple plans (seed 0) count
    higher with this (docs/results.md §24). A second tool that the request does not name apart (`loan_payment` after
    `mortgage_payment` for "my mortgage") still counts for nothing."""
    plan_options_apart: bool = True
    """With `plan_calls`: planned calls of one tool that choose different options of an argument (its enum, or the
    values its description quotes) count apart when the request mentions both options (`period="ten_years"` after
    `period="month"` for "over the last month and the last ten years"). Booleans are not options here: the 1.5B
    lists both values of a flag where the request asked for one (docs/results.md §24)."""
    plan_end_penalty: float = 0.0
    """With `plan_calls`: subtracted from the log-odds of ending the plan (0: off). The 0.5B's plans stop at two
    lines in most of the parallel_multiple items it under-counts (docs/results.md §13); lines that add nothing
    still stop the plan and do not count."""
    plan_next: bool = False
    """For `auto` after tool results: before the model may answer, it lists the calls the request still needs
    (under the plan grammar); a line that calls a tool by name with a value from the conversation (the request
    or a result) and is not a call already made leads to a call instead of an answer. Small models describe
    the first result ("the cheapest flight is FL201") instead of making the second call (docs/results.md §9).
    Embedded models, under the constraint."""
    plan_in_prompt: bool = False
    """With `plan_calls`: the calls are generated after the plan's counted lines (in the same assistant turn),
    so that they follow the plan, rather than from the conversation alone."""
    take_planned_calls: bool = True
    """With `plan_calls`: when the counted plan lines are two or more calls of one tool, each written out in full
    (`f(city="Paris", days=3)`) and valid against the tool's schema, they are the calls; no second generation.
    Writing the calls again from the conversation, the 1.5B drifted from its own right plan: two artists merged
    into one value, ", CA" added to a city, one list of criteria given to both calls. Replayed on its seed-0 plans
    (benchmarks/exploratory/plan_as_calls_replay.py): parallel items 5 right more, none lost (docs/results.md §24).
    Plans of one call, or of several tools, are still generated again: there the plan's extra lines are often a
    wrong tool that the call stage and grounding leave out."""
    plan_as_calls: bool = False
    """With `plan_calls`: each plan line must be a call — a tool's name, "(" and the rest of the line (under the
    plan grammar) — so that its values can be counted. The 1.5B otherwise plans in headings with no values
    ("Calculate the velocity for the second day:"), which count nothing (docs/results.md §15)."""
    plan_as_calls_after_results: bool = False
    """With `plan_as_calls`: only plans made after tool results are written as calls; the first turn's plan is
    free-form (and `plan_tools` holds nothing there). On the 0.5B the plan written as calls gained execution tasks
    (steps after results) and cost BFCL items, all of them single-turn (docs/results.md §27)."""
    plan_tools: bool = False
    """With `plan_as_calls`, where the plan is about steps: the i-th call must be a call of the tool the i-th
    counted line names (under the grammar). Before any tool result, only when a planned line takes another
    planned call's result as an argument (`write_cell("E3", 2 * read_cell("C3"))`): the plan is cut there, and
    the lines before it are made (the read now, the write once its value is known). After tool results, lines
    count against the results as well, a line repeating a call already made does not count, and when every
    counted line repeats one, the model answers in words. The 1.5B planned `read_cell("C3")` and then called
    `write_cell` twice (exec_sheet_011). Held to the plan's tools on every first turn, it lost BFCL `multiple`
    items whose plan tried a second, wrong tool (docs/results.md §18)."""
    reject_call_values: bool = True
    """A call with another tool's call written into an argument as text (`write_cell(value="read_cell('B5') -
    read_cell('B2')")`) is dropped beside calls without one (its value depends on results not yet known), and
    repaired when every call has one. The 1.5B wrote such expressions into cells (exec_sheet_015); on the 0.5B's
    dev sample it changed no item (docs/results.md §18)."""
    plan_fallback: bool = False
    """With `plan_calls` and `ground_calls`: when every call rests on values nobody gave and none of them uses a
    tool the plan's counted lines name (the model skipped ahead: `book_flight(flight_id="FL101")` where its own
    plan put the flight search first), generate the calls once more, restricted to the tools those lines name
    and as many as those lines, before answering in words."""
    stop_repeats: bool = True
    """For `auto`: drop calls that repeat one whose result the model already has (same name and arguments), and
    when nothing else is left, make it answer instead. The 1.5B re-books the viewing it just booked beside its
    next call (exec suite, docs/results.md §16)."""
    shortlist: int | None = 12
    """When a request comes with more tools than this, show the model only this many, chosen by lexical
    retrieval against what the user said (rixin.calling.shortlist); tools already called stay. None: off.
    Recall of the right tools among 50 (BFCL dev seed 7): 100% for one-function requests at k = 3, 96.7% for
    multi-function requests at k = 12 (benchmarks/exploratory/shortlist_recall.py)."""
    shortlist_size: int | None = None
    """How many tools the shortlist keeps once it acts (None: as many as `shortlist`). Fewer tools are fewer
    wrong choices for a small model and a shorter prompt: on BFCL items padded to 30 tools (`rixin bench
    --tools-per-item 30`, 30 items) the 0.5B passed 20% of them keeping 12 and 33% keeping 5; the 1.5B 60%
    either way, at half the time; keeping 3 lost multi-function requests' tools (docs/results.md §19), which
    `shortlist_per_clause` brings back: 3 plus each clause's best for both embedded models (their registry
    `calling_defaults`, §21); unmeasured for models behind an endpoint, which keep 12."""
    shortlist_per_clause: int = 0
    """Once the shortlist acts, also keep this many tools for each clause of the user's last message, ranked on
    that clause alone ("…, and convert 100 USD to NOK" finds the converter that the whole request ranks below
    tools sharing words with its first task). 0: off. Among 30 tools (BFCL seed 0, 100 multi-function items),
    the best 3 kept every needed tool for 78% of them, 3 plus 1 per clause for 98% (4.1 tools on average;
    benchmarks/exploratory/shortlist_ranks.py)."""
    declared_formats: bool = True
    """Under the constraint, a string parameter whose description declares a date or time format ("as YYYY-MM-DD",
    "Format: HH:MM") is held to it, as if the schema had that `pattern` (rixin.calling.formats): the 0.5B wrote
    "2025-07-26T12:00:00Z" for a day, which the API refused."""
    known_ids: bool = True
    """Under the constraint, a string parameter named as an id ("flight_id", "eventId") whose description gives an
    example id ("e.g. \"FL101\"") is held to the ids of that shape the conversation holds — what the user wrote and
    what tools returned — where it holds any (rixin.calling.formats.with_known_ids). The 0.5B saved the
    description's home "h4" for "add h11 to my saved homes". Execution suite: the 0.5B 47 → 49, the 1.5B 64 = 64,
    none lost; BFCL's tools give no example id (docs/results.md §29)."""
    declared_fractions: bool = True
    """A number whose description declares a share's form ("as a decimal", "5% is 0.05"; or "in percentage") is
    converted to it when the user gave that share as a percentage and the model wrote the other form (7 for "7%"
    where 0.07 is declared): rixin.calling.formats.as_declared_fraction. Replayed on the seed-0 BFCL runs: the 1.5B
    +1 item (simple_python), the 0.5B unchanged, none lost (docs/results.md §27)."""
    ground_optional: bool = True
    """For `auto` and `required`: drop optional arguments whose value (a number or short name) the conversation
    never gave, so the tool's default applies instead of the model's guess (`season="2023"` where the user
    named no season). Measured on Qwen2.5-Coder-0.5B, dev seed 7: simple_python 60% → 73% (docs/results.md)."""
    one_tool_per_clause: bool = False
    """On a request's first turn: when a request of one clause (no "and", "then", second sentence) got calls of
    several tools, only the calls of the one that fits it best in words are kept, with those of tools that say
    they only read (none stands out: all kept; rixin.calling.relevance.one_clause_tool). Both models add a
    neighbouring tool's call with the same values.
    Replayed on the seed-0 BFCL runs (benchmarks/exploratory/one_tool_replay.py): the 1.5B `multiple` +4, the
    0.5B +1, none lost (docs/results.md §28)."""
    unfold_values: bool = True
    """A number another argument holds is taken off the start or end of a string argument, where a space sets it
    apart (`league="2021 La Liga"` beside `season="2021"` → "La Liga"; rixin.calling.grounding.
    without_folded_values). Replayed on every logged BFCL run: the 0.5B simple_python +1, nothing else changed
    (docs/results.md §29)."""
    ground_option_lists: bool = False
    """A list argument of enum choices cut to the choices the conversation names, and those close to its words,
    where it names at least one whole (rixin.calling.grounding.without_unsaid_options): small models list every
    choice a schema offers. Replayed on the seed-0 BFCL runs (benchmarks/exploratory/option_list_replay.py): the
    0.5B +6 items, the 1.5B +1, none lost (docs/results.md §28)."""
    lookup_first: bool = False
    """With `ground_calls`: when every call of the reply rests on values nobody gave and one of them would act
    (its tool does not say it only reads, `Tool.read_only`), generate the calls once more with only the tools
    that read (a search, a list), before answering in words: the model skipped the lookup that finds the id it
    invented (`cancel_event(event_id="e3")` for "cancel whatever I have at 12:30"). The lookup's calls are
    grounded too; an endpoint is asked again with only those tools. No effect where no tool says it only reads
    (OpenAI tool dicts without annotations). On for the 1.5B (its multi-step tasks 46.7% → 60.0%); 0.0 on the
    0.5B, which stops after the lookup (docs/results.md §22)."""
    retry_other_tools: bool = False
    """With `ground_calls`: when every call of the reply rests on values nobody gave, generate the calls once more
    without the tools those calls used (they are still shown), before answering in words. The model often skips
    the lookup a request needs and acts on an invented id (`cancel_event(event_id="e3")` for "cancel whatever I
    have at 12:30"); the lookup (`list_events`) is among the other tools. A retry's calls are grounded too. An
    endpoint is asked again with only the other tools."""
    self_check: bool = False
    """With `ground_calls`: before dropping a call whose values the request does not contain, show the model its
    call and those values once, and let it call again with the request's values or answer in words (embedded
    models)."""
    remind_request: bool = False
    """For `auto` after tool results: restate the user's request under the latest result and ask for the next
    call if the request needs one (small models otherwise describe the first result and stop)."""
    answer_when_acted: bool = False
    """For `auto` after tool results: once the calls that acted and succeeded (tools that do not say they only read)
    are at least as many as the clauses of the request, the model answers instead of calling again. With its plan
    written as calls, the 0.5B followed a booking it was asked for with `cancel_booking` on the new booking's id
    (docs/results.md §18, §27). No effect where no tool says it only reads."""
    cover_clauses: bool = False
    """After tool results, when the engine would make the model answer (its plan holds no call it has not made, or
    it repeats calls already answered): if a clause of the request ("…, and one room in the cheapest hotel") shares
    words with some tools but with none of those called so far, generate one more call, restricted to those tools.
    The 1.5B booked the flight of "a flight and a hotel" and answered, its plan never naming the hotel (clauses as
    `shortlist_per_clause` splits them; words as `ground_tools` matches them). On for the 1.5B: its multi-step
    tasks 72% → 80% (docs/results.md §26)."""
    complete_clauses: bool = False
    """Before any tool result, with parallel calls: when a clause of the request ("…, also provide the projected
    population of tigers in Nepal") fits one tool best in words (two word stems or more shared, no tie) and no call
    used it, the model continues its list of calls with only such tools; those calls are grounded as the first
    ones were. The 0.5B stops its list after the first task's calls in most of the parallel_multiple items it
    under-counts (docs/results.md §27)."""
    fan_out_lists: bool = True
    """Before any tool result, with parallel calls: where the request lists values ("the factorial of 5, 10 and
    15", "in Bangladesh and India", choices a parameter declares: "in ascending and descending order") and a call
    holds one of them as an argument while no call holds another, add the same call with each other value
    (rixin.calling.enumerations); likewise where calls alike but for that argument hold some of them, and for every
    call holding one of a run of declared choices. The 0.5B made the call for 15 alone. Replayed on the seed-0
    runs: 0.5B parallel 59% → 62%, 1.5B 77% → 79%, nothing else changed (docs/results.md §27, §29). Embedded
    models."""
    compare_results: bool = True
    """After tool results: write each comparable field's lowest and highest record (numbers, dates, times) under
    the latest round of results (rixin.calling.results). Asked for "the cheapest flight", the 1.5B booked the
    first one listed; finding an extreme is arithmetic, which the engine does, while the model still matches the
    request's words to a field (docs/results.md §25)."""
    few_shot: int = 0
    """Show this many examples from rixin's own library of verified calls, the nearest to the request
    (rixin.calling.fewshot). 0: off."""
    drop_duplicates: bool = True
    """Keep one of the calls in a reply that repeat each other exactly (same tool, same arguments): pushed to
    continue its list, a small model repeats a call (books the same flight twice). On the BFCL runs of issue 3
    (`benchmarks/exploratory/duplicate_calls_replay.py`): 3 items fixed and none broken on each model; a request
    for the same thing twice ("two numbers from the same distribution") is the case it gets wrong."""
    salvage_truncated: bool = True
    """When a call's JSON is cut off at the token limit, keep its complete calls and the call being written less
    the argument it was writing, if that is a valid call (rixin.calling.parse.salvage_truncated). The 1.5B
    listed a whole deck of cards in an optional argument until the limit, twice, where the request named one card
    (BFCL dev sample; an unparsable output before)."""
    ground_calls: bool = True
    """For `auto`, before the first tool result: drop calls whose required values (numbers, short names) the
    conversation never gave, and answer in words when none is left (rixin.calling.grounding): small models
    call a tool for nearly every request, filling in invented values when no tool fits."""
    ground_tools: bool = True
    """With `ground_calls`: a call is also dropped when its tool is unrelated to the request — it shares no word with
    it (not its name, description, nor its parameters' names, descriptions and options) and a sentence encoder
    finds its name and description less than `tool_similarity` close to it (rixin.calling.relevance). Tools that
    only read, and calls on an id the request wrote, are not checked, nor requests not in Latin script. Asked what
    no tool does, the 1.5B calls the nearest tool with the request's own values ("the time difference between two
    cities": two coordinate look-ups), which value grounding keeps. Words alone are too strict ("Is it raining?"
    shares none with `get_weather`); the encoder alone separates less well than both together (docs/results.md
    §25, benchmarks/exploratory/ground_tools_replay.py)."""
    tool_similarity: float = 0.15
    """With `ground_tools`: the cosine similarity (all-MiniLM-L6-v2) below which a tool that shares no word with the
    request is unrelated to it. On the 1.5B's seed-0 BFCL run, 0.15 caught 6 of its 27 irrelevant calls and none of
    its right calls; 0.2 caught 9 (8 items), still none, but the encoder puts "Do I need an umbrella in Oslo?" and
    `get_weather` at 0.18, and "Is it raining in Dublin right now?" at 0.27 (docs/results.md §25)."""


def tuned_options(model_name: str, **changes: Any) -> CallingOptions:
    """The options for an embedded model: the engine's defaults, then those its registry entry measured better
    for it (`EmbeddedModel.calling_defaults`), then `changes`. Raises TypeError for an unknown option."""
    from rixin.models.registry import EMBEDDED_MODELS

    entry = EMBEDDED_MODELS.get(model_name)
    return CallingOptions(**{**(entry.calling_defaults if entry else {}), **changes})
