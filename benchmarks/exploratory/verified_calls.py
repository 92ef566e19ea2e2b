"""Pilot: how fast, and how often, can the embedded 1.5B write verified training calls for the 0.5B?

Tuning the 0.5B (docs/results.md §30) needs calls that owe nothing to the benchmarks. This pilot takes the tools of
rixin's own example library (`rixin/calling/examples.json`, written by hand) and, per tool, asks the 1.5B for
(1) a new call — arguments as JSON, kept only if they validate against the tool's schema and differ from the
library's — and (2) a request a user might type for exactly that call, kept only if every argument value is
written in it (numbers as numbers, strings ignoring case) and the tool's name is not. What it prints: the share
kept at each check and the seconds per kept example. Output: JSON lines (request, tools, calls) in --out.

    RIXIN_THREADS=2 .venv/bin/python benchmarks/exploratory/verified_calls.py --per-tool 3 --out /tmp/calls.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from rixin.calling.enumerations import scalars
from rixin.models import load_model

ARGUMENTS_PROMPT = (
    "Here is a function:\n{tool}\n\nWrite the arguments of one realistic call of it, with values a real user "
    "might need, different from these: {avoid}. Reply with one JSON object of arguments only."
)
INVENT_PROMPT = (
    "Invent one function that an app for {domain} could offer to an assistant. Reply with one JSON object only: "
    '{{"name": snake_case name, "description": one sentence, "parameters": a JSON Schema object with "type": '
    '"object", "properties" (each with "type" and "description"; "enum" where the values are a fixed set) and '
    '"required"}}. Different from: {avoid}.'
)
DOMAINS = [
    "weather forecasts",
    "personal finance",
    "cooking",
    "public transport",
    "hotel booking",
    "fitness tracking",
    "music streaming",
    "a library catalogue",
    "car rental",
    "currency exchange",
    "photo editing",
    "calendar scheduling",
    "email",
    "online shopping",
    "a pharmacy",
    "real estate listings",
    "job search",
    "language learning",
    "a cinema",
    "flight status",
    "home automation",
    "parcel tracking",
    "a bank account",
    "restaurant reservations",
    "a news reader",
    "a podcast player",
    "gardening",
    "a pet clinic",
    "a school timetable",
    "tax estimates",
    "a parking garage",
    "a museum",
    "a sports league",
    "unit conversion",
    "geometry",
    "statistics",
    "chemistry lessons",
    "astronomy",
    "a city's open data",
    "a hiking guide",
]
NAME = re.compile(r"^[a-z][a-z0-9_]{2,40}$")


def invented_tool(text: str) -> dict[str, Any] | None:
    """The tool a reply describes, if it is a well-formed one: a name, a description, typed and described
    properties, `required` naming only properties."""
    value = first_object(text)
    if value is None or not isinstance(value.get("name"), str) or not NAME.match(value["name"]):
        return None
    parameters = value.get("parameters")
    if not isinstance(value.get("description"), str) or not isinstance(parameters, dict):
        return None
    properties = parameters.get("properties")
    if parameters.get("type") != "object" or not isinstance(properties, dict) or not properties:
        return None
    try:
        jsonschema.Draft202012Validator.check_schema(parameters)
    except jsonschema.SchemaError:
        return None
    for spec in properties.values():
        if not isinstance(spec, dict) or "type" not in spec or not spec.get("description"):
            return None
    if not set(parameters.get("required", [])) <= set(properties):
        return None
    function = {"name": value["name"], "description": value["description"], "parameters": parameters}
    return {"type": "function", "function": function}


COMBINE_PROMPT = (
    "Write these requests as one message a user might type, in natural words, keeping every detail of each:\n"
    "{requests}\nReply with the message only."
)


REQUEST_SYSTEM = (
    "You play a user of an assistant that calls functions. Given the call the assistant made, you write the "
    "message the user typed: plain words, one or two sentences, every argument value written in it as in the call, "
    "no function name, no code."
)


def call_text(name: str, arguments: dict[str, Any]) -> str:
    return f"{name}(" + ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items()) + ")"


def demonstrations(library: list[dict[str, Any]], count: int) -> list[dict[str, str]]:
    """Turns that show the task on the library's own single-call examples (in English)."""
    turns: list[dict[str, str]] = []
    for example in library:
        if len(example["calls"]) == 1 and example["request"].isascii() and len(turns) < 2 * count:
            call = example["calls"][0]
            turns.append({"role": "user", "content": "Call: " + call_text(call["name"], call["arguments"])})
            turns.append({"role": "assistant", "content": example["request"]})
    return turns


def chat(model: Any, messages: list[dict[str, str]], max_tokens: int) -> str:
    reply = model.create_chat_completion(
        messages=messages, temperature=0.7, max_tokens=max_tokens, seed=len(json.dumps(messages))
    )
    return str(reply["choices"][0]["message"]["content"] or "").strip()


def first_object(text: str) -> dict[str, Any] | None:
    match = re.search(r"\{.*\}", text, re.S)
    if not match:
        return None
    try:
        value = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def values_written(arguments: dict[str, Any], request: str) -> bool:
    """Every scalar value of the call is in the request: strings whole and ignoring case, numbers as numbers."""
    lowered = request.lower()
    numbers = {float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", request.replace(",", ""))}
    for value in scalars(arguments):
        if isinstance(value, bool):
            continue  # a flag is said in words, not written
        elif isinstance(value, int | float):
            if float(value) not in numbers:
                return False
        elif not str(value).strip() or not re.search(rf"(?<!\w){re.escape(str(value).lower())}(?!\w)", lowered):
            return False  # an empty string says nothing; "GOOGL" is not written in "Google"
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--per-tool", type=int, default=3)
    parser.add_argument("--tools", type=int, default=0, help="at most this many of the library's tools (0: all)")
    parser.add_argument("--skip-library", action="store_true", help="calls for invented tools only")
    parser.add_argument("--singles", type=Path, nargs="*", default=[], help="kept single calls to combine too")
    parser.add_argument("--only-singles", action="store_true", help="write the --singles that pass the check; no model")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--show", action="store_true", help="print what each check rejected")
    parser.add_argument("--combine", type=int, default=0, help="requests made of two or three kept ones")
    parser.add_argument("--invent", type=int, default=0, help="tools the model invents per domain (0: none)")
    args = parser.parse_args()
    singles: list[dict[str, Any]] = []
    for path in args.singles:
        for line in path.read_text().splitlines():
            example = json.loads(line)
            calls = example["calls"]
            if len(calls) == 1 and values_written(calls[0]["arguments"], example["request"]):
                singles.append(example)
    if args.only_singles:
        args.out.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in singles))
        print(f"{len(singles)} single calls pass the check")
        return
    library = json.loads(resources.files("rixin.calling").joinpath("examples.json").read_text())
    tools: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for example in library:
        for tool in example["tools"]:
            function = tool["function"]
            known = [c["arguments"] for c in example["calls"] if c["name"] == function["name"]]
            entry = tools.setdefault(function["name"], (tool, []))
            entry[1].extend(known)
    names = [] if args.skip_library else sorted(tools)[: args.tools or None]
    model = load_model(args.model)
    shown = demonstrations(library, 3)
    invented = {"asked": 0, "well-formed": 0}
    for domain in DOMAINS if args.invent else ():
        made: list[str] = []
        for _ in range(args.invent):
            invented["asked"] += 1
            text = chat(model, [{"role": "user", "content": INVENT_PROMPT.format(domain=domain, avoid=made)}], 400)
            tool = invented_tool(text)
            if tool is None or tool["function"]["name"] in tools:
                if args.show:
                    print("not a tool:", text[:200])
                continue
            invented["well-formed"] += 1
            made.append(tool["function"]["name"])
            tools[tool["function"]["name"]] = (tool, [])
            names.append(tool["function"]["name"])
    if args.invent:
        print(f"invented tools: asked {invented['asked']}, well-formed {invented['well-formed']}")
    counts = {"asked": 0, "arguments valid": 0, "request verified": 0}
    started = time.perf_counter()
    with args.out.open("w") as out:
        for name in names:
            tool, known = tools[name]
            function = tool["function"]
            for _ in range(args.per_tool):
                counts["asked"] += 1
                asked = ARGUMENTS_PROMPT.format(tool=json.dumps(function), avoid=json.dumps(known))
                text = chat(model, [{"role": "user", "content": asked}], 160)
                arguments = first_object(text)
                if arguments is None or arguments in known:
                    if args.show:
                        print("no new arguments:", text[:200])
                    continue
                try:
                    jsonschema.validate(arguments, function["parameters"])
                except (jsonschema.ValidationError, jsonschema.SchemaError) as error:
                    if args.show:
                        print("invalid:", arguments, error.message[:120])
                    continue
                counts["arguments valid"] += 1
                written = call_text(name, arguments)
                turns = [{"role": "system", "content": REQUEST_SYSTEM}, *shown]
                request = chat(model, [*turns, {"role": "user", "content": "Call: " + written}], 80).strip('"')
                if not values_written(arguments, request) or name.lower() in request.lower():
                    if args.show:
                        print("request rejected:", written, "|", request[:200])
                    continue
                counts["request verified"] += 1
                known.append(arguments)
                call = {"name": name, "arguments": arguments}
                singles.append({"request": request, "tools": [tool], "calls": [call]})
                out.write(json.dumps(singles[-1], ensure_ascii=False))
                out.write("\n")
                out.flush()
        combined = {"asked": 0, "verified": 0}
        rng = random.Random(0)
        for _ in range(args.combine):
            if len(singles) < 2:
                break
            combined["asked"] += 1
            parts = rng.sample(singles, rng.choice([2, 2, 3]) if len(singles) > 2 else 2)
            listed = "\n".join(f"- {p['request']}" for p in parts)
            message = chat(model, [{"role": "user", "content": COMBINE_PROMPT.format(requests=listed)}], 160)
            message = message.strip('"')
            said = all(values_written(p["calls"][0]["arguments"], message) for p in parts)
            if not said or "\n" in message or message.lower().startswith(("sure", "here", "i'll", "i will")):
                if args.show:
                    print("combined request rejected:", message[:200])
                continue
            combined["verified"] += 1
            tools_used = list({p["tools"][0]["function"]["name"]: p["tools"][0] for p in parts}.values())
            calls = [p["calls"][0] for p in parts]
            out.write(json.dumps({"request": message, "tools": tools_used, "calls": calls}, ensure_ascii=False))
            out.write("\n")
        if args.combine:
            print(f"combined requests: asked {combined['asked']}, verified {combined['verified']}")
    elapsed = time.perf_counter() - started
    print(f"{len(names)} tools: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    kept = counts["request verified"]
    print(f"{elapsed:.0f} s in all; {elapsed / max(kept, 1):.1f} s per kept example")


if __name__ == "__main__":
    main()
